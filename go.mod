module github.com/faildex/faildex

go 1.26.8

require (
	// Facet counting: bitmaps of the documents having each option.
	github.com/RoaringBitmap/roaring/v2 v2.30.0
	// The embedded search index. v2.6.3 needs zapx/v17 v17.2.5, which the module
	// proxy here refuses (403); v2.6.1 builds as is with zapx/v17 v17.2.3, no replace.
	github.com/blevesearch/bleve/v2 v2.6.1
	github.com/blevesearch/bleve_index_api v1.4.1
	github.com/blevesearch/go-porterstemmer v1.0.3
	github.com/blevesearch/scorch_segment_api/v2 v2.4.10
	// The DevTools protocol version chromedp v0.14.2 requires; newer ones do not build with it.
	github.com/chromedp/cdproto v0.0.0-20250724212937-08a3db8b4327
	// Drives Debian's chromium in the browser tests. v0.15 and later changed the
	// API (generic actions); v0.14.2 is pinned with the cdproto it was released with.
	github.com/chromedp/chromedp v0.14.2
	// Test diffs.
	github.com/google/go-cmp v0.7.0
	github.com/gorilla/mux v1.8.1
	// gzip of pages, assets and JSON (gzhttp).
	github.com/klauspost/compress v1.17.9
	github.com/mattn/go-isatty v0.0.22
	// Feed parser of the feed tests (Atom and JSON Feed): a real reader's view.
	github.com/mmcdole/gofeed v1.4.2
	// /metrics: the standard Prometheus client, on a registry of the server's own.
	github.com/prometheus/client_golang v1.20.5
	github.com/rs/zerolog v1.35.1
	// JSON Schema 2020-12 (OpenAPI 3.1's dialect) validator of the OpenAPI
	// contract tests. Chosen over pb33f/libopenapi-validator, whose current
	// release needs module versions the proxy refuses (403: pb33f/go-yaml
	// v0.1.1, pb33f/jsonschema/v6 v6.0.3); v6.0.3 downloads and needs only
	// golang.org/x/text.
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	// The progress bar of `faildex index` on a terminal.
	github.com/schollz/progressbar/v3 v3.19.1
	golang.org/x/net v0.59.0
)

require (
	// Content hashes of incidents in the sources table (already a dependency of
	// the Prometheus client).
	github.com/cespare/xxhash/v2 v2.3.0
	// File change notifications of serve --watch (inotify). v1.9.0 is the
	// release the module proxy here served first and that builds with go 1.26.
	github.com/fsnotify/fsnotify v1.9.0
	golang.org/x/text v0.42.0
)

require (
	github.com/BurntSushi/toml v1.4.1-0.20240526193622-a339e1f7089c // indirect
	github.com/beorn7/perks v1.0.1 // indirect
	github.com/bits-and-blooms/bitset v1.24.4 // indirect
	github.com/blevesearch/geo v0.2.6 // indirect
	github.com/blevesearch/go-faiss v1.1.5 // indirect
	github.com/blevesearch/gtreap v0.1.1 // indirect
	github.com/blevesearch/mmap-go v1.2.0 // indirect
	github.com/blevesearch/segment v0.9.1 // indirect
	github.com/blevesearch/snowballstem v0.9.0 // indirect
	github.com/blevesearch/upsidedown_store_api v1.0.2 // indirect
	github.com/blevesearch/vellum v1.2.0 // indirect
	github.com/blevesearch/zapx/v11 v11.4.3 // indirect
	github.com/blevesearch/zapx/v12 v12.4.3 // indirect
	github.com/blevesearch/zapx/v13 v13.4.3 // indirect
	github.com/blevesearch/zapx/v14 v14.4.3 // indirect
	github.com/blevesearch/zapx/v15 v15.4.3 // indirect
	github.com/blevesearch/zapx/v16 v16.3.4 // indirect
	github.com/blevesearch/zapx/v17 v17.2.3 // indirect
	github.com/chromedp/sysutil v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.4.0 // indirect
	github.com/golang/snappy v1.0.0 // indirect
	github.com/json-iterator/go v1.1.12 // indirect
	github.com/mattn/go-colorable v0.1.14 // indirect
	github.com/mitchellh/colorstring v0.0.0-20190213212951-d06e56a500db // indirect
	github.com/mmcdole/goxpp/v2 v2.0.0 // indirect
	github.com/modern-go/concurrent v0.0.0-20180306012644-bacd9c7ef1dd // indirect
	github.com/modern-go/reflect2 v1.0.2 // indirect
	github.com/mschoch/smat v0.2.0 // indirect
	github.com/munnerz/goautoneg v0.0.0-20191010083416-a7dc8b61c822 // indirect
	github.com/prometheus/client_model v0.6.1 // indirect
	github.com/prometheus/common v0.55.0 // indirect
	github.com/prometheus/procfs v0.15.1 // indirect
	github.com/rivo/uniseg v0.4.7 // indirect
	github.com/rs/xid v1.6.0 // indirect
	go.etcd.io/bbolt v1.4.0 // indirect
	golang.org/x/exp/typeparams v0.0.0-20231108232855-2478ac86f678 // indirect
	golang.org/x/mod v0.41.0 // indirect
	golang.org/x/sync v0.23.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/term v0.46.0 // indirect
	golang.org/x/tools v0.51.0 // indirect
	google.golang.org/protobuf v1.36.6 // indirect
	honnef.co/go/tools v0.8.2 // indirect
)

// `go tool staticcheck ./...` (test.sh). v0.8.2 (staticcheck 2026.2.2) is the
// newest release the module proxy here serves, and is built for Go 1.26 (its
// go.mod says go 1.26.0), so it type-checks this module's go 1.26.8 code. Its
// golang.org/x/tools v0.51.0 raises x/net, x/sys, x/term and x/text to the
// versions above.
tool honnef.co/go/tools/cmd/staticcheck
