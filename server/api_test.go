package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
	"github.com/faildex/faildex/search"
)

// alexaSeed is a report of the shared corpus (indextest.Shared): Amazon
// Alexa records and sends a conversation.
const alexaSeed = "000_123143f11ad7b5f7"

// hostileID is the report whose every field carries markup (see
// writeHostileReport).
const hostileID = "hostile-markup-report"

// Markup planted in the hostile report; none of it may reach a response
// unescaped.
const (
	xssScript = `<script>alert(1)</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
	xssLink   = `javascript:alert(1)`
)

// writeHostileReport writes a plain-text report into dir whose title,
// postmortem fields, taxonomy options and sources carry markup, a stray
// </mark> and words ("mark", "amp", "lt") that collide with HTML.
func writeHostileReport(tb testing.TB, dir string) {
	tb.Helper()
	hostile := xssScript + " " + xssImg + " </mark> mark amp lt &amp; &lt;b&gt; " + xssLink
	report := strings.Join([]string{
		"Incident: Hostile " + hostile + " wake",
		"",
		"Published Date: 2020-02-02",
		"",
		"Postmortem Analysis",
		"Summary The summary " + hostile + " of a failure.",
		"Timeline " + hostile,
		"System The system <b>bold</b> " + hostile,
		"Responsible Organization " + hostile,
		"Impacted Organization " + hostile,
		"Software Causes " + hostile,
		"Non-software Causes " + hostile,
		"Impacts " + hostile,
		"Preventions " + hostile,
		"Fixes " + hostile,
		"References [" + xssLink + "](" + xssLink + ") " + hostile,
		"",
		"Software Taxonomy of Faults",
		"",
		"Category Option Rationale",
		"Recurring " + xssScript + ", one_organization (a) " + hostile,
		"Phase (Design/Operation) design (a) " + hostile,
		"",
		"Other Details",
		"",
		"Category Option Rationale",
		"Consequence death, " + xssImg + " (a) " + hostile,
		"Domain information (a) " + hostile,
		"",
		"Sources",
		xssLink,
		hostile,
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, hostileID+".txt"), []byte(report), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// testData returns the paths of the shared corpus, whose reports and counts
// the tests pin. Without it the test fails under CI and is skipped
// elsewhere.
func testData(tb testing.TB) []string {
	tb.Helper()
	seeds, csv := indextest.Shared(tb)
	return []string{seeds, csv}
}

// buildTestIndex builds an index of the shared corpus plus the hostile
// report into a temporary directory and returns the directory.
func buildTestIndex(tb testing.TB) string {
	tb.Helper()
	return buildIndexOf(tb, testData(tb))
}

// buildIndexOf builds an index of the reports at paths plus the hostile
// report into a temporary directory and returns the directory.
func buildIndexOf(tb testing.TB, paths []string) string {
	tb.Helper()
	extra := tb.TempDir()
	writeHostileReport(tb, extra)
	dir := filepath.Join(tb.TempDir(), "index")
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := index.Build(context.Background(), dir, append(paths, extra), index.BuildOptions{Organisations: gaz}); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// openTestEngine opens the current generation of dir.
func openTestEngine(tb testing.TB, dir string) *search.Engine {
	tb.Helper()
	eng, err := search.Open(context.Background(), dir)
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// syncBuffer is a bytes.Buffer safe for concurrent writers (the logger).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testServer is a Server over a real index with its log captured.
type testServer struct {
	*Server
	dir  string // the index directory
	logs *syncBuffer
}

// newTestServer builds the test index and serves it; cfg's Log and Open are
// filled in. The engine is closed when the test ends.
func newTestServer(tb testing.TB, cfg Config) *testServer {
	tb.Helper()
	dir := buildTestIndex(tb)
	return newTestServerOn(tb, dir, openTestEngine(tb, dir), cfg)
}

// newTestServerOn serves eng, with Config.Open reopening dir.
func newTestServerOn(tb testing.TB, dir string, eng Searcher, cfg Config) *testServer {
	tb.Helper()
	logs := &syncBuffer{}
	cfg.Log = zerolog.New(logs)
	if cfg.Open == nil && dir != "" {
		cfg.Open = func(ctx context.Context) (Searcher, error) {
			return search.Open(ctx, dir)
		}
	}
	srv, err := New(cfg, eng)
	if err != nil {
		eng.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(srv.engines.close)
	return &testServer{Server: srv, dir: dir, logs: logs}
}

// do sends one request through the whole handler, middleware included.
func (ts *testServer) do(tb testing.TB, method, target string, hdr ...string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, r)
	return w
}

// get is do with GET.
func (ts *testServer) get(tb testing.TB, target string) *httptest.ResponseRecorder {
	tb.Helper()
	return ts.do(tb, http.MethodGet, target)
}

// decode unmarshals a JSON response body, failing on anything else.
func decode(tb testing.TB, w *httptest.ResponseRecorder, v any) {
	tb.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		tb.Fatalf("Content-Type %q, want JSON; body %.300s", ct, w.Body.String())
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		tb.Fatalf("decoding %.300s: %v", w.Body.String(), err)
	}
}

// apiErr decodes an API error body.
func apiErr(tb testing.TB, w *httptest.ResponseRecorder) apiErrorBody {
	tb.Helper()
	var e apiError
	decode(tb, w, &e)
	if e.Error.Status != w.Code {
		tb.Errorf("error body status %d, response status %d", e.Error.Status, w.Code)
	}
	if e.Error.Message == "" {
		tb.Errorf("error without a message: %s", w.Body.String())
	}
	return e.Error
}

func TestAPISearch(t *testing.T) {
	ts := newTestServer(t, Config{})

	t.Run("wake word", func(t *testing.T) {
		w := ts.get(t, "/api/v1/search?q=wake+word")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		if w.Header().Get("X-Request-Id") == "" {
			t.Error("no X-Request-Id header")
		}
		var res search.Result
		decode(t, w, &res)
		if res.Total == 0 || res.Hits[0].ID != alexaSeed {
			t.Fatalf("top hit %v, want %s", hitIDs(res.Hits), alexaSeed)
		}
		if w.Header().Get("X-Total-Count") == "" {
			t.Error("no X-Total-Count header")
		}
		if res.Query != "wake word" || res.Sort != "relevance" || res.Page != 1 || res.Size != search.DefaultSize {
			t.Errorf("echoed request: query %q sort %q page %d size %d", res.Query, res.Sort, res.Page, res.Size)
		}
	})

	t.Run("facets in taxonomy order", func(t *testing.T) {
		var res search.Result
		decode(t, ts.get(t, "/api/v1/search"), &res)
		var got []string
		for _, f := range res.Facets {
			got = append(got, f.Field)
		}
		if diff := cmp.Diff(index.FacetNames(), got); diff != "" {
			t.Errorf("facet order (-want +got):\n%s", diff)
		}
		if len(res.Years) == 0 {
			t.Error("no year counts")
		}
	})

	t.Run("missing counts", func(t *testing.T) {
		// Every incident fits on one page, so the hits' options tell how
		// many are not assessed in each category.
		var res search.Result
		decode(t, ts.get(t, "/api/v1/search?size=100"), &res)
		if uint64(len(res.Hits)) != res.Total {
			t.Fatalf("%d hits of %d; the fixture must fit one page", len(res.Hits), res.Total)
		}
		for _, f := range res.Facets {
			var want uint64
			counts := map[string]uint64{}
			for _, h := range res.Hits {
				if len(h.Options[f.Field]) == 0 {
					want++
				}
				for _, o := range h.Options[f.Field] {
					counts[o]++
				}
			}
			if f.Missing != want {
				t.Errorf("%s: missing %d, want %d", f.Field, f.Missing, want)
			}
			for _, v := range f.Values {
				if v.Count != counts[v.Value] {
					t.Errorf("%s=%s: count %d, want %d", f.Field, v.Value, v.Count, counts[v.Value])
				}
			}
		}
	})

	t.Run("selected value listed at zero", func(t *testing.T) {
		// No Alexa incident is about a death; the selected option is still
		// listed, with its count without the consequence filter (zero).
		var res search.Result
		decode(t, ts.get(t, "/api/v1/search?q=alexa&consequence=death"), &res)
		if res.Total != 0 {
			t.Fatalf("total %d, want 0", res.Total)
		}
		f := facetOf(t, res, "consequence")
		v, ok := valueOf(f, "death")
		if !ok || !v.Selected || v.Count != 0 {
			t.Errorf("consequence=death: %+v (listed %v), want selected with count 0", v, ok)
		}
		if len(res.Filters) != 1 || res.Filters[0].Field != "consequence" || res.Filters[0].Value != "death" {
			t.Errorf("filters %+v", res.Filters)
		}
	})

	t.Run("disjunctive counts", func(t *testing.T) {
		var all, death search.Result
		decode(t, ts.get(t, "/api/v1/search"), &all)
		decode(t, ts.get(t, "/api/v1/search?consequence=death"), &death)
		wantDeath, _ := valueOf(facetOf(t, all, "consequence"), "death")
		if death.Total != wantDeath.Count || death.Total == 0 {
			t.Errorf("consequence=death: total %d, want %d", death.Total, wantDeath.Count)
		}
		harmAll, _ := valueOf(facetOf(t, all, "consequence"), "harm")
		harm, ok := valueOf(facetOf(t, death, "consequence"), "harm")
		if !ok || harm.Count != harmAll.Count || harm.Selected {
			t.Errorf("harm under consequence=death: %+v, want count %d unselected", harm, harmAll.Count)
		}
	})

	t.Run("params", func(t *testing.T) {
		var res search.Result
		decode(t, ts.get(t, "/api/v1/search?from=2018&to=2018-12&sort=oldest&size=3&page=1"), &res)
		if res.Sort != "oldest" || res.Size != 3 || res.From != "2018" || res.To != "2018-12" {
			t.Errorf("echo: %+v", res)
		}
		prev := ""
		for _, h := range res.Hits {
			if !strings.HasPrefix(h.Published, "2018-") {
				t.Errorf("%s published %s, outside 2018", h.ID, h.Published)
			}
			if h.Published < prev {
				t.Errorf("not oldest first: %s after %s", h.Published, prev)
			}
			prev = h.Published
		}
		for _, y := range res.Years {
			if y.Year == 2018 && y.Count < res.Total {
				t.Errorf("year 2018 count %d < total %d", y.Count, res.Total)
			}
		}
	})

	t.Run("link headers", func(t *testing.T) {
		w := ts.get(t, "/api/v1/search?size=2&page=2")
		var res search.Result
		decode(t, w, &res)
		if res.Pages < 3 {
			t.Fatalf("only %d pages", res.Pages)
		}
		links := strings.Join(w.Header().Values("Link"), ", ")
		for _, want := range []string{`</api/v1/search?size=2>; rel="prev"`, `</api/v1/search?page=3&size=2>; rel="next"`} {
			if !strings.Contains(links, want) {
				t.Errorf("Link %q lacks %s", links, want)
			}
		}
		w = ts.get(t, "/api/v1/search?size=2")
		if l := strings.Join(w.Header().Values("Link"), ", "); strings.Contains(l, `rel="prev"`) || !strings.Contains(l, `rel="next"`) {
			t.Errorf("first page Link %q", l)
		}
	})

	t.Run("HEAD", func(t *testing.T) {
		w := ts.do(t, http.MethodHead, "/api/v1/search?q=wake")
		if w.Code != http.StatusOK || w.Body.Len() != 0 {
			t.Errorf("HEAD: status %d, %d body bytes", w.Code, w.Body.Len())
		}
	})
}

func hitIDs(hits []search.Hit) []string {
	var ids []string
	for _, h := range hits {
		ids = append(ids, h.ID)
	}
	return ids
}

func facetOf(tb testing.TB, res search.Result, field string) search.Facet {
	tb.Helper()
	for _, f := range res.Facets {
		if f.Field == field {
			return f
		}
	}
	tb.Fatalf("no facet %s", field)
	return search.Facet{}
}

func valueOf(f search.Facet, value string) (search.FacetValue, bool) {
	for _, v := range f.Values {
		if v.Value == value {
			return v, true
		}
	}
	return search.FacetValue{}, false
}

func TestAPIIncident(t *testing.T) {
	ts := newTestServer(t, Config{})
	w := ts.get(t, "/api/v1/incidents/"+alexaSeed)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var in index.Incident
	decode(t, w, &in)
	if in.ID != alexaSeed || !strings.Contains(in.Title, "Alexa") || in.Published != "2018-05-24" {
		t.Errorf("incident %s %q %s", in.ID, in.Title, in.Published)
	}
	for _, id := range []string{"no-such-incident", "%3Cscript%3E", strings.Repeat("a", 300)} {
		w := ts.get(t, "/api/v1/incidents/"+id)
		if w.Code != http.StatusNotFound {
			t.Errorf("%.40s: status %d, want 404", id, w.Code)
			continue
		}
		if e := apiErr(t, w); e.Param != "id" {
			t.Errorf("%.40s: param %q, want id", id, e.Param)
		}
	}
}

func TestAPIFacets(t *testing.T) {
	ts := newTestServer(t, Config{})
	var doc FacetsDoc
	decode(t, ts.get(t, "/api/v1/facets"), &doc)
	var names []string
	for _, c := range doc.Categories {
		names = append(names, c.Name)
		if len(c.Options) == 0 {
			t.Errorf("%s has no options", c.Name)
		}
	}
	if diff := cmp.Diff(index.CategoryNames(), names); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(search.Sorts, doc.Sorts); diff != "" {
		t.Errorf("sorts (-want +got):\n%s", diff)
	}
	if len(doc.Fields) == 0 {
		t.Error("no fields")
	}
}

func TestAPIErrors(t *testing.T) {
	ts := newTestServer(t, Config{AdminToken: "secret"})
	for _, tc := range []struct {
		target string
		status int
		param  string
	}{
		{"/api/v1/search?size=0", 400, "size"},
		{"/api/v1/search?size=101", 400, "size"},
		{"/api/v1/search?page=x", 400, "page"},
		{"/api/v1/search?page=1000&size=100", 400, "page"},
		{"/api/v1/search?sort=sideways", 400, "sort"},
		{"/api/v1/search?from=2019-02-30", 400, "from"},
		{"/api/v1/search?to=99999", 400, "to"},
		{"/api/v1/search?from=2020&to=2019", 400, "to"},
		{"/api/v1/search?consequence=nope", 400, "consequence"},
		{"/api/v1/search?q=a&q=b", 400, "q"},
		{"/api/v1/search?consequnce=death", 400, "consequnce"},
		{"/api/v1/export?q=x&formt=csv", 400, "formt"},
		{"/api/v1/suggest?q=a&size=0", 400, "size"},
		{"/api/v1/suggest?q=a&size=21", 400, "size"},
		{"/api/v1/suggest?q=a&q=b", 400, "q"},
		{"/api/v1/incidents/nope", 404, "id"},
		{"/api/v1/nothing", 404, ""},
		{"/api/v2/search", 404, ""},
	} {
		w := ts.get(t, tc.target)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.target, w.Code, tc.status, w.Body)
			continue
		}
		if e := apiErr(t, w); e.Param != tc.param {
			t.Errorf("%s: param %q, want %q (message %q)", tc.target, e.Param, tc.param, e.Message)
		}
	}

	t.Run("405", func(t *testing.T) {
		for _, tc := range []struct{ method, target, allow string }{
			{http.MethodPost, "/api/v1/search", "GET, HEAD, OPTIONS"},
			{http.MethodDelete, "/api/v1/incidents/" + alexaSeed, "GET, HEAD, OPTIONS"},
			{http.MethodPut, "/api/v1/facets", "GET, HEAD, OPTIONS"},
			{http.MethodPost, "/healthz", "GET, HEAD"},
			{http.MethodGet, "/admin/reload", "POST"},
		} {
			w := ts.do(t, tc.method, tc.target)
			if w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: status %d, want 405", tc.method, tc.target, w.Code)
				continue
			}
			if got := w.Header().Get("Allow"); got != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.target, got, tc.allow)
			}
			if isAPI(tc.target) {
				apiErr(t, w)
			}
		}
	})

	// Errors found before a handler runs (a malformed query string, an
	// overlong URL) are answered in the format of the route asked for:
	// JSON on the routes that answer JSON, inside /api/ or not.
	t.Run("format follows the route", func(t *testing.T) {
		long := "?q=" + strings.Repeat("a", maxURLBytes)
		for _, tc := range []struct {
			target string
			status int
			json   bool
		}{
			{"/api/v1/search?q=%zz", 400, true},
			{"/oembed?url=%zz", 400, true},
			{"/feed.json?q=%zz", 400, true},
			{"/readyz" + long, 414, true},
			{"/feed.atom?q=%zz", 400, false},
			{"/?q=%zz", 400, false},
			{"/incidents/x" + long, 414, false},
		} {
			w := ts.get(t, tc.target)
			ct := w.Header().Get("Content-Type")
			if w.Code != tc.status {
				t.Errorf("%.40s: status %d, want %d", tc.target, w.Code, tc.status)
			}
			if tc.json {
				apiErr(t, w)
			} else if !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%.40s: Content-Type %q, want an HTML page", tc.target, ct)
			}
		}
	})

	t.Run("404 outside the API is HTML", func(t *testing.T) {
		w := ts.get(t, "/no/such/page")
		if w.Code != http.StatusNotFound || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("status %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
		}
		if !strings.Contains(w.Body.String(), "404") {
			t.Errorf("body %.200s", w.Body)
		}
	})
}

func TestOperations(t *testing.T) {
	ts := newTestServer(t, Config{})

	w := ts.get(t, "/healthz")
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "ok" {
		t.Errorf("/healthz: %d %q", w.Code, w.Body)
	}
	w = ts.get(t, "/readyz")
	var ready struct {
		Status    string `json:"status"`
		Documents uint64 `json:"documents"`
	}
	decode(t, w, &ready)
	if w.Code != http.StatusOK || ready.Status != "ready" || ready.Documents == 0 {
		t.Errorf("/readyz: %d %+v", w.Code, ready)
	}

	ts.get(t, "/api/v1/search?q=wake")
	ts.get(t, "/api/v1/search?size=1000")
	ts.get(t, "/nowhere")
	w = ts.get(t, "/metrics")
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: status %d", w.Code)
	}
	body := w.Body.String()
	for _, want := range []string{
		`faildex_http_requests_total{code="200",route="api_search"} 1`,
		`faildex_http_requests_total{code="400",route="api_search"} 1`,
		`faildex_http_requests_total{code="404",route="not_found"} 1`,
		`faildex_http_request_duration_seconds_bucket{route="api_search"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// The index gauges read the engine being served, which has documents
	// and a size on disk.
	for _, name := range []string{"faildex_index_documents", "faildex_index_size_bytes"} {
		if v := gauge(t, body, name); v <= 0 {
			t.Errorf("%s is %v, want more than 0", name, v)
		}
	}
}

// gauge returns the value of an unlabelled metric in a Prometheus text
// exposition, failing the test when it is absent.
func gauge(tb testing.TB, body, name string) float64 {
	tb.Helper()
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				tb.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	tb.Fatalf("/metrics lacks %s", name)
	return 0
}

// fakeSearcher is a Searcher whose Search runs fn.
type fakeSearcher struct {
	fn     func(ctx context.Context) (*search.Result, error)
	closed chan struct{}
	once   sync.Once
}

func newFake(fn func(ctx context.Context) (*search.Result, error)) *fakeSearcher {
	return &fakeSearcher{fn: fn, closed: make(chan struct{})}
}

func (f *fakeSearcher) Search(ctx context.Context, req search.Request) (*search.Result, error) {
	if f.fn == nil {
		return &search.Result{}, nil
	}
	return f.fn(ctx)
}

func (f *fakeSearcher) Incident(ctx context.Context, id string) (*index.Incident, error) {
	return nil, index.ErrNotFound
}

func (f *fakeSearcher) Each(ctx context.Context, req search.Request, fn func(*index.Incident) error) error {
	return nil
}

func (f *fakeSearcher) DocCount() uint64 { return 1 }
func (f *fakeSearcher) Suggest(context.Context, string, int) (*search.Suggestions, error) {
	return &search.Suggestions{}, nil
}

func (f *fakeSearcher) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func TestPanicRecovery(t *testing.T) {
	eng := newFake(func(context.Context) (*search.Result, error) { panic("engine exploded") })
	ts := newTestServerOn(t, "", eng, Config{})
	w := ts.get(t, "/api/v1/search?q=boom")
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
	e := apiErr(t, w)
	if strings.Contains(e.Message, "exploded") {
		t.Errorf("panic detail shown to the user: %q", e.Message)
	}
	id := w.Header().Get("X-Request-Id")
	logs := ts.logs.String()
	if !strings.Contains(logs, "engine exploded") || !strings.Contains(logs, `"message":"panic"`) || id == "" || !strings.Contains(logs, id) {
		t.Errorf("panic not logged with request id %q:\n%s", id, logs)
	}
	// The server still answers.
	if w := ts.get(t, "/healthz"); w.Code != http.StatusOK {
		t.Errorf("after the panic: /healthz %d", w.Code)
	}
}

func TestGracefulShutdown(t *testing.T) {
	entered := make(chan struct{})
	finish := make(chan struct{})
	eng := newFake(func(ctx context.Context) (*search.Result, error) {
		close(entered)
		<-finish
		return &search.Result{Query: "slow", Hits: []search.Hit{}, Facets: []search.Facet{}}, nil
	})
	ts := newTestServerOn(t, "", eng, Config{Addr: "127.0.0.1:0", SearchTimeout: time.Minute})
	if err := ts.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- ts.Serve(ctx) }()

	type reply struct {
		status int
		body   string
		err    error
	}
	replies := make(chan reply, 1)
	go func() {
		c := &http.Client{Timeout: time.Minute}
		resp, err := c.Get(ts.URL() + "/api/v1/search?q=slow")
		if err != nil {
			replies <- reply{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		replies <- reply{resp.StatusCode, string(b), err}
	}()
	<-entered
	cancel() // shut down while the search is in flight
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) before the request in flight finished", err)
	case <-eng.closed:
		t.Fatal("engine closed under a request in flight")
	default:
	}
	close(finish)
	r := <-replies
	if r.err != nil || r.status != http.StatusOK || !strings.Contains(r.body, `"query":"slow"`) {
		t.Errorf("in-flight request: status %d, err %v, body %.200s", r.status, r.err, r.body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	<-eng.closed // closed once idle
	c := &http.Client{Timeout: 5 * time.Second}
	if _, err := c.Get(ts.URL() + "/healthz"); err == nil {
		t.Error("still accepting connections after shutdown")
	}
}

// TestSuggestAPI drives /api/v1/suggest as a search box does, one key at a
// time.
func TestSuggestAPI(t *testing.T) {
	ts := newTestServer(t, Config{})
	var sg search.Suggestions
	w := ts.get(t, "/api/v1/suggest?q=alex")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	decode(t, w, &sg)
	if len(sg.Completions) == 0 || sg.Completions[0].Text != "alexa" || sg.Completions[0].Incidents == 0 {
		t.Errorf("completions of alex: %+v, want alexa first", sg.Completions)
	}
	if len(sg.Incidents) == 0 || !strings.Contains(sg.Incidents[0].Title, "Alexa") || !strings.Contains(sg.Incidents[0].TitleHTML, "<mark>") {
		t.Errorf("incidents for alex: %+v, want an Alexa incident with its title marked", sg.Incidents)
	}
	// The other words narrow the completions of the last one.
	w = ts.get(t, "/api/v1/suggest?q=amazon+rec&size=3")
	decode(t, w, &sg)
	if len(sg.Completions) == 0 || len(sg.Completions) > 3 || !strings.HasPrefix(sg.Completions[0].Text, "amazon rec") {
		t.Errorf("completions of amazon rec: %+v", sg.Completions)
	}
	// A finished word (trailing space) is not completed; empty input has
	// nothing to offer.
	for _, q := range []string{"alexa+", ""} {
		w = ts.get(t, "/api/v1/suggest?q="+q)
		decode(t, w, &sg)
		if len(sg.Completions) != 0 {
			t.Errorf("q=%q: completions %+v, want none", q, sg.Completions)
		}
	}
}
