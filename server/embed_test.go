package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"golang.org/x/net/html"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// The embedding tests run over the real reports beside the repository plus
// testdata/extra.jsonl: a ransomware attack with a death, and an incident
// whose fields carry TeX, CSV and HTML special characters.
const (
	embExtra = "testdata/extra.jsonl"

	alexaID  = "000_123143f11ad7b5f7"
	ransomID = "2020-duesseldorf-hospital-ransomware"
	edgeID   = "tex_and_csv-edge.case"

	// testHost is the host of requests made with httptest.NewRequest.
	testHost = "faildex.test"
)

// embFixture is a Server over the embedding tests' index.
type embFixture struct {
	dir string // the index directory
	srv *server.Server
}

// embPaths returns the reports to index: the shared corpus, whose reports
// and counts the tests pin, and embExtra. Without the shared corpus the test
// fails under CI and is skipped elsewhere.
func embPaths(tb testing.TB) []string {
	tb.Helper()
	seeds, csv := indextest.Shared(tb)
	return []string{seeds, csv, embExtra}
}

// buildEmbIndex indexes paths into a temporary directory.
func buildEmbIndex(tb testing.TB, paths []string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "index")
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		tb.Fatal(err)
	}
	st, err := index.Build(context.Background(), dir, paths, index.BuildOptions{Strict: true, Organisations: gaz})
	if err != nil {
		tb.Fatal(err)
	}
	if st.Indexed == 0 {
		tb.Fatal("nothing indexed")
	}
	return dir
}

// openEmbEngine opens the index in dir; it is closed when the test ends.
func openEmbEngine(tb testing.TB, dir string) *search.Engine {
	tb.Helper()
	eng, err := search.Open(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { eng.Close() })
	return eng
}

// newEmbFixture builds the index and a server over it with cfg.
func newEmbFixture(tb testing.TB, cfg server.Config) *embFixture {
	tb.Helper()
	dir := buildEmbIndex(tb, embPaths(tb))
	return &embFixture{dir: dir, srv: newEmbServer(tb, cfg, openEmbEngine(tb, dir))}
}

// newEmbServer returns a server over s with a silent logger, which trusts
// testHost as its public host unless cfg says otherwise.
func newEmbServer(tb testing.TB, cfg server.Config, s server.Searcher) *server.Server {
	tb.Helper()
	cfg.Log = zerolog.Nop()
	if cfg.BaseURL == "" && cfg.AllowedHosts == nil {
		cfg.AllowedHosts = []string{testHost}
	}
	srv, err := server.New(cfg, s)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// do sends one request to the whole handler, as if to http://faildex.test,
// with header name/value pairs ("Host" sets the request's host).
func (f *embFixture) do(tb testing.TB, method, target string, hdr ...string) *httptest.ResponseRecorder {
	tb.Helper()
	return doHandler(tb, f.srv.Handler(), method, target, hdr...)
}

func (f *embFixture) get(tb testing.TB, target string) *httptest.ResponseRecorder {
	tb.Helper()
	return f.do(tb, http.MethodGet, target)
}

func doHandler(tb testing.TB, h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(method, "http://"+testHost+target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i] == "Host" {
			r.Host = hdr[i+1]
			continue
		}
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// listen serves the fixture on a real loopback listener (for streaming,
// deadlines and clients such as feed parsers) and returns its URL.
func (f *embFixture) listen(tb testing.TB) string {
	tb.Helper()
	ts := httptest.NewServer(f.srv.Handler())
	tb.Cleanup(ts.Close)
	return ts.URL
}

// mustStatus fails the test unless w has the status.
func mustStatus(tb testing.TB, w *httptest.ResponseRecorder, want int) {
	tb.Helper()
	if w.Code != want {
		tb.Fatalf("status %d, want %d; body: %.500s", w.Code, want, w.Body.String())
	}
}

// parseHTML parses a page, failing the test on error.
func parseHTML(tb testing.TB, body string) *html.Node {
	tb.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	return doc
}

// findAll returns the elements named tag ("*" for all) under n, in
// document order.
func findAll(n *html.Node, tag string) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && (tag == "*" || n.Data == tag) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// cspDirectives splits a Content-Security-Policy into its directives.
func cspDirectives(csp string) map[string]string {
	d := map[string]string{}
	for _, part := range strings.Split(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(part), " ")
		if name != "" {
			d[name] = value
		}
	}
	return d
}

// TestEmbedPage checks /embed as a site that frames it sees it: a small,
// self-contained list of results whose links open in a new tab, a CSP of
// its own that allows the configured frame ancestors and nothing inline but
// its one nonce-bearing <style>, while every other page stays unframeable.
func TestEmbedPage(t *testing.T) {
	f := newEmbFixture(t, server.Config{FrameAncestors: "https://blog.example https://*.example.org"})
	w := f.get(t, "/embed?q=ransomware&consequence=death")
	mustStatus(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if w.Body.Len() > 8<<10 {
		t.Errorf("the widget is %d bytes; it should stay small", w.Body.Len())
	}
	csp := cspDirectives(w.Header().Get("Content-Security-Policy"))
	if got := csp["frame-ancestors"]; got != "'self' https://blog.example https://*.example.org" {
		t.Errorf("frame-ancestors %q, want faildex's own pages (the embed preview) and the configured ones", got)
	}
	if xfo := w.Header().Get("X-Frame-Options"); xfo != "" {
		t.Errorf("X-Frame-Options %q on /embed forbids framing", xfo)
	}
	if csp["default-src"] != "'none'" || strings.Contains(csp["style-src"], "unsafe-inline") || csp["script-src"] != "" {
		t.Errorf("CSP %v: want default-src 'none', no unsafe-inline and no scripts", csp)
	}

	doc := parseHTML(t, w.Body.String())
	if s := findAll(doc, "script"); len(s) != 0 {
		t.Errorf("the widget has %d <script> elements", len(s))
	}
	styles := findAll(doc, "style")
	if len(styles) != 1 {
		t.Fatalf("%d <style> elements, want 1", len(styles))
	}
	nonce := attr(styles[0], "nonce")
	if nonce == "" || csp["style-src"] != "'nonce-"+nonce+"'" {
		t.Errorf("style nonce %q, CSP style-src %q: the CSP must allow exactly that style", nonce, csp["style-src"])
	}
	for _, n := range findAll(doc, "*") {
		if attr(n, "style") != "" {
			t.Errorf("inline style attribute on <%s>", n.Data)
		}
	}
	if findAll(doc, "link") != nil || findAll(doc, "nav") != nil || findAll(doc, "header") != nil {
		t.Error("the widget has page chrome (links to stylesheets, nav or header)")
	}
	var titles []string
	for _, a := range findAll(doc, "a") {
		if attr(a, "target") != "_blank" || !strings.Contains(attr(a, "rel"), "noopener") {
			t.Errorf("link %q does not open in a new tab with rel=noopener", attr(a, "href"))
		}
		if attr(a, "class") == "title" {
			titles = append(titles, textOf(a))
			if want := "/incidents/" + ransomID; attr(a, "href") != want {
				t.Errorf("title link %q, want %q", attr(a, "href"), want)
			}
		}
	}
	if len(titles) != 1 || !strings.Contains(titles[0], "Düsseldorf") {
		t.Errorf("titles %q, want the Düsseldorf ransomware attack", titles)
	}
	if !strings.Contains(w.Body.String(), `href="/?consequence=death&amp;q=ransomware"`) {
		t.Errorf("no link to the full search:\n%s", w.Body.String())
	}

	// Every other page keeps frame-ancestors 'self'.
	for _, path := range []string{"/api/v1/search?q=x", "/feed.atom", "/opensearch.xml", "/embed.js", "/static/style.css", "/nope"} {
		w := f.get(t, path)
		if got := cspDirectives(w.Header().Get("Content-Security-Policy"))["frame-ancestors"]; got != "'self'" {
			t.Errorf("%s: frame-ancestors %q, want 'self'", path, got)
		}
	}
}

// TestEmbedFrameAncestorsDefault checks that without configuration any site
// may frame the widget.
func TestEmbedFrameAncestorsDefault(t *testing.T) {
	srv := newEmbServer(t, server.Config{}, &genSearcher{})
	w := doHandler(t, srv.Handler(), http.MethodGet, "/embed")
	mustStatus(t, w, http.StatusOK)
	if got := cspDirectives(w.Header().Get("Content-Security-Policy"))["frame-ancestors"]; got != "*" {
		t.Errorf("frame-ancestors %q, want *", got)
	}
}

// TestEmbedPageVariants covers the widget's other states: one incident,
// paging, markup in data, no results and errors shown inside the frame.
func TestEmbedPageVariants(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	tests := []struct {
		name, target string
		status       int
		want         []string // substrings of the body
		notWant      []string
	}{
		{"incident", "/embed?id=" + ransomID, 200, []string{"Düsseldorf", `datetime="2020-09-17"`, ">Death<", ">Health<", `href="/incidents/` + ransomID + `"`}, nil},
		{"markup is text", "/embed?q=edge+case", 200, []string{"&lt;b&gt;bold&lt;/b&gt;", "1 incident ·"}, []string{"<b>bold"}},
		{"no results", "/embed?q=zzzzqqq", 200, []string{"No incidents match.", "0 incidents"}, nil},
		{"bad parameter", "/embed?sort=nope", 400, []string{`role="alert"`, "unknown order"}, []string{"<ol"}},
		{"size cap", "/embed?size=51", 400, []string{"size: must be between 1 and 50"}, nil},
		{"unknown incident", "/embed?id=no-such-incident", 404, []string{"no incident with this id"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := f.get(t, tt.target)
			mustStatus(t, w, tt.status)
			body := w.Body.String()
			for _, s := range tt.want {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(body, s) {
					t.Errorf("body has %q:\n%s", s, body)
				}
			}
			if w.Header().Get("X-Frame-Options") != "" {
				t.Error("X-Frame-Options set on /embed")
			}
		})
	}

	// Pages of results are linked like the API's.
	w := f.get(t, "/embed?size=5&page=2")
	mustStatus(t, w, http.StatusOK)
	links := w.Header().Values("Link")
	if want := []string{`</embed?size=5>; rel="prev"`, `</embed?page=3&size=5>; rel="next"`}; strings.Join(links, "\n") != strings.Join(want, "\n") {
		t.Errorf("Link %q, want %q", links, want)
	}
}

// TestEmbedScript checks that /embed.js is served as a script and matches
// the static file, and that its list of categories is the taxonomy's.
func TestEmbedScript(t *testing.T) {
	srv := newEmbServer(t, server.Config{}, &genSearcher{})
	w := doHandler(t, srv.Handler(), http.MethodGet, "/embed.js")
	mustStatus(t, w, http.StatusOK)
	if ct := w.Header().Get("Content-Type"); ct != "text/javascript; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	src, err := os.ReadFile("../web/static/embed.js")
	if err != nil {
		t.Fatal(err)
	}
	if w.Body.String() != string(src) {
		t.Error("/embed.js differs from web/static/embed.js")
	}
	m := regexp.MustCompile(`var CATEGORIES = \[([^\]]*)\]`).FindStringSubmatch(string(src))
	if m == nil {
		t.Fatal("embed.js has no CATEGORIES list")
	}
	var want []string
	for _, c := range index.Taxonomy {
		want = append(want, `"`+c.Name+`"`)
	}
	if got := m[1]; got != strings.Join(want, ", ") {
		t.Errorf("embed.js CATEGORIES = [%s], want [%s]", got, strings.Join(want, ", "))
	}
	// Data reaches the DOM only as text.
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
		if strings.Contains(string(src), bad) {
			t.Errorf("embed.js uses %s", bad)
		}
	}
}

// TestCORS checks cross-origin access to /api/v1/*: only configured origins
// (or any, with *) get CORS headers, preflights are answered, and Link,
// X-Total-Count and X-Request-Id are exposed to scripts.
func TestCORS(t *testing.T) {
	dir := buildEmbIndex(t, embPaths(t))
	eng := openEmbEngine(t, dir)
	listed := newEmbServer(t, server.Config{CORSOrigins: []string{"https://blog.example", "https://wiki.example/"}}, eng)
	anyOrigin := newEmbServer(t, server.Config{CORSOrigins: []string{"*"}}, eng)
	none := newEmbServer(t, server.Config{}, eng)

	apiPaths := []string{"/api/v1/search?q=outage", "/api/v1/incidents/" + alexaID, "/api/v1/facets", "/api/v1/export?q=outage", "/api/v1/openapi.json", "/api/v1/incidents/nope", "/api/v1/no-such-endpoint", "/api/v1/search?size=0"}
	for _, path := range apiPaths {
		for _, tt := range []struct {
			name   string
			h      http.Handler
			origin string
			want   string // Access-Control-Allow-Origin
		}{
			{"listed", listed.Handler(), "https://blog.example", "https://blog.example"},
			{"listed with slash in config", listed.Handler(), "https://wiki.example", "https://wiki.example"},
			{"unlisted", listed.Handler(), "https://evil.example", ""},
			{"any", anyOrigin.Handler(), "https://evil.example", "*"},
			{"none configured", none.Handler(), "https://blog.example", ""},
		} {
			w := doHandler(t, tt.h, http.MethodGet, path, "Origin", tt.origin)
			if got := w.Header().Get("Access-Control-Allow-Origin"); got != tt.want {
				t.Errorf("%s %s: Access-Control-Allow-Origin %q, want %q", tt.name, path, got, tt.want)
			}
			if tt.want == "" {
				continue
			}
			exposed := w.Header().Get("Access-Control-Expose-Headers")
			for _, h := range []string{"Link", "X-Total-Count", "X-Request-Id"} {
				if !strings.Contains(exposed, h) {
					t.Errorf("%s %s: Access-Control-Expose-Headers %q lacks %s", tt.name, path, exposed, h)
				}
			}
			if tt.want != "*" && !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
				t.Errorf("%s %s: no Vary: Origin with a per-origin answer", tt.name, path)
			}
		}
	}

	// Preflights.
	for _, tt := range []struct {
		name   string
		h      http.Handler
		origin string
		status int
	}{
		{"listed", listed.Handler(), "https://blog.example", http.StatusNoContent},
		{"any", anyOrigin.Handler(), "https://a.example", http.StatusNoContent},
		{"unlisted", listed.Handler(), "https://evil.example", http.StatusForbidden},
		{"none configured", none.Handler(), "https://blog.example", http.StatusForbidden},
	} {
		w := doHandler(t, tt.h, http.MethodOptions, "/api/v1/search?q=x", "Origin", tt.origin,
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "accept")
		if w.Code != tt.status {
			t.Errorf("preflight %s: status %d, want %d", tt.name, w.Code, tt.status)
			continue
		}
		if tt.status != http.StatusNoContent {
			continue
		}
		h := w.Header()
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "GET") || h.Get("Access-Control-Max-Age") == "" ||
			!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "accept") || h.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("preflight %s: headers %v", tt.name, h)
		}
		if w.Body.Len() != 0 {
			t.Errorf("preflight %s: body %q", tt.name, w.Body.String())
		}
	}

	// With a list of origins, answers vary by Origin even for requests
	// without one, so caches keep them apart.
	w := doHandler(t, listed.Handler(), http.MethodGet, "/api/v1/facets")
	if !strings.Contains(strings.Join(w.Header().Values("Vary"), ","), "Origin") {
		t.Errorf("no Vary: Origin on a response without Origin: %v", w.Header())
	}
	// A plain OPTIONS request lists the methods and runs no search.
	w = doHandler(t, listed.Handler(), http.MethodOptions, "/api/v1/search?q=%22broken")
	if w.Code != http.StatusNoContent || w.Header().Get("Allow") != "GET, HEAD, OPTIONS" || w.Body.Len() != 0 {
		t.Errorf("plain OPTIONS: status %d, Allow %q, body %q", w.Code, w.Header().Get("Allow"), w.Body.String())
	}

	// Pages are not part of the API: no CORS headers even for listed origins.
	w = doHandler(t, anyOrigin.Handler(), http.MethodGet, "/embed", "Origin", "https://blog.example")
	if got := w.Header().Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("/embed: Access-Control-Allow-Origin %q", got)
	}
}

// TestPageLinks checks the RFC 8288 Link headers of paged responses: the
// search API, the feeds and the widget.
func TestPageLinks(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	tests := []struct {
		target string
		want   []string
	}{
		{"/api/v1/search?size=10", []string{`</api/v1/search?page=2&size=10>; rel="next"`}},
		{"/api/v1/search?size=10&page=2&consequence=property", []string{
			`</api/v1/search?consequence=property&size=10>; rel="prev"`,
			`</api/v1/search?consequence=property&page=3&size=10>; rel="next"`}},
		{"/api/v1/search?q=zzzzqqq", nil},
		{"/api/v1/search?size=100", nil},
		{"/feed.atom?size=10&page=4", []string{`</feed.atom?page=3&size=10>; rel="prev"`}},
		{"/feed.json?size=10&sort=title", []string{`</feed.json?page=2&size=10>; rel="next"`}},
	}
	for _, tt := range tests {
		w := f.get(t, tt.target)
		mustStatus(t, w, http.StatusOK)
		if got := w.Header().Values("Link"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s: Link\n%s\nwant\n%s", tt.target, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
		}
	}
	// Following next links visits every result exactly once.
	seen := map[string]bool{}
	next := "/api/v1/search?size=7&sort=title"
	var total int
	for pages := 0; next != ""; pages++ {
		if pages > 20 {
			t.Fatal("next links do not end")
		}
		w := f.get(t, next)
		mustStatus(t, w, http.StatusOK)
		body, _ := io.ReadAll(w.Body)
		for _, m := range regexp.MustCompile(`"id":"([^"]+)","title"`).FindAllStringSubmatch(string(body), -1) {
			if seen[m[1]] {
				t.Errorf("%s seen twice", m[1])
			}
			seen[m[1]] = true
		}
		total = len(seen)
		next = ""
		for _, l := range w.Header().Values("Link") {
			if u, ok := strings.CutSuffix(l, `>; rel="next"`); ok {
				next = strings.TrimPrefix(u, "<")
			}
		}
	}
	if total != 35 {
		t.Errorf("paging visited %d incidents, want all 35", total)
	}
}
