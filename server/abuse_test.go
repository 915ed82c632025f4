package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Bounded under abuse: every search within its deadline, a bounded number
// at once, no redirect off the site, a bounded number of connections and a
// /metrics that can be kept private.

// serveTest starts ts on 127.0.0.1 and stops it when the test ends; it
// returns the address.
func serveTest(tb testing.TB, ts *Server) string {
	tb.Helper()
	if err := ts.Listen(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ts.Serve(ctx) }()
	tb.Cleanup(func() {
		cancel()
		<-served
	})
	return strings.TrimPrefix(ts.URL(), "http://")
}

// sendRaw sends request on a new connection to addr and reads the
// response.
func sendRaw(tb testing.TB, addr, request string) *http.Response {
	tb.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		tb.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("reading the response: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// pathologicalQuery is 32 OR'ed phrases of common words.
var pathologicalQuery = strings.TrimSuffix(strings.Repeat(`"the system failed to" OR `, 32), " OR ")

// wantTooExpensive checks a 503 with Retry-After and a JSON error saying
// the search was too expensive.
func wantTooExpensive(tb testing.TB, w interface {
	Result() *http.Response
}, what string) {
	tb.Helper()
	resp := w.Result()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable {
		tb.Fatalf("%s: status %d, want 503: %s", what, resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		tb.Errorf("%s: no Retry-After", what)
	}
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		tb.Fatalf("%s: not a JSON error: %v: %s", what, err, body)
	}
	if e.Error.Status != 503 || !strings.Contains(e.Error.Message, "too expensive") {
		tb.Errorf("%s: error %+v, want 503 saying the search was too expensive", what, e.Error)
	}
}

// TestSearchTimeoutIs503 runs pathological searches with a deadline too
// short for them: each is a 503 with Retry-After and a JSON error, never a
// 400.
func TestSearchTimeoutIs503(t *testing.T) {
	ts := newTestServer(t, Config{SearchTimeout: time.Microsecond})
	for _, target := range []string{
		"/api/v1/search?q=" + url.QueryEscape(pathologicalQuery),
		"/api/v1/search?q=" + url.QueryEscape(pathologicalQuery) + "&page=50&size=100",
		"/api/v1/search?q=" + url.QueryEscape("sys* fai* sof* upd* dat* net* ser* com* con* pro*"),
		"/api/v1/search?q=" + url.QueryEscape("infrastrucutre authenticaiton vulnerabillity"),
		"/api/v1/export?q=" + url.QueryEscape(pathologicalQuery),
	} {
		wantTooExpensive(t, ts.get(t, target), target)
	}
}

// TestExportFirstByteWithinDeadline: an export whose first incident is not
// ready within the search deadline is a clean 503, not a stream cut later.
func TestExportFirstByteWithinDeadline(t *testing.T) {
	g := &blockingSearcher{}
	g.each = func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err()
	}
	ts := newTestServerOn(t, "", g, Config{SearchTimeout: 50 * time.Millisecond})
	start := time.Now()
	w := ts.get(t, "/api/v1/export?q=x")
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %s", d)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON", ct)
	}
	wantTooExpensive(t, w, "export")
}

// blockingSearcher answers every search with an empty result, after
// search, when set, returns.
type blockingSearcher struct {
	search func(ctx context.Context, req search.Request) error
	each   func(ctx context.Context) error
}

func (b *blockingSearcher) Search(ctx context.Context, req search.Request) (*search.Result, error) {
	if b.search != nil {
		if err := b.search(ctx, req); err != nil {
			return nil, err
		}
	}
	return &search.Result{Page: 1, Size: 10, Hits: []search.Hit{}, Filters: []search.ActiveFilter{}}, nil
}
func (b *blockingSearcher) Incident(ctx context.Context, id string) (*index.Incident, error) {
	return &index.Incident{ID: id, Title: "An incident", Published: "2020-01-02"}, nil
}
func (b *blockingSearcher) Each(ctx context.Context, req search.Request, fn func(*index.Incident) error) error {
	if b.each != nil {
		return b.each(ctx)
	}
	return nil
}
func (b *blockingSearcher) Suggest(context.Context, string, int) (*search.Suggestions, error) {
	return &search.Suggestions{}, nil
}
func (b *blockingSearcher) DocCount() uint64 { return 1 }
func (b *blockingSearcher) Close() error     { return nil }

// TestAdmission holds the only search slot and fills the queue: the next
// search is a 503 with Retry-After at once, a queued one after the queue
// wait, and cheap requests are answered meanwhile.
func TestAdmission(t *testing.T) {
	hold := make(chan struct{})
	entered := make(chan struct{}, 8)
	g := &blockingSearcher{search: func(ctx context.Context, req search.Request) error {
		if req.Query == "" {
			return nil // the landing page
		}
		entered <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
		}
		return nil
	}}
	ts := newTestServerOn(t, "", g, Config{MaxSearches: 1, QueueWait: 300 * time.Millisecond, SearchTimeout: 10 * time.Second})
	var wg sync.WaitGroup
	defer func() {
		close(hold)
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if w := ts.get(t, "/api/v1/search?q=first"); w.Code != http.StatusOK {
			t.Errorf("the admitted search: status %d", w.Code)
		}
	}()
	<-entered
	queued := make(chan *http.Response, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		queued <- ts.get(t, "/api/v1/search?q=second").Result()
	}()
	// Wait until the second search is queued.
	for deadline := time.Now().Add(5 * time.Second); len(ts.admission.queue) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the second search never queued")
		}
	}
	start := time.Now()
	w := ts.get(t, "/api/v1/search?q=third")
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a search beyond the queue waited %s; want an answer at once", d)
	}
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("a search beyond the queue: status %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if e := apiErr(t, w); !strings.Contains(e.Message, "busy") {
		t.Errorf("message %q", e.Message)
	}
	for _, cheap := range []string{"/healthz", "/readyz", "/", "/incidents/x-1", "/api/v1/incidents/x-1", "/static/style.css", "/api/v1/facets"} {
		start := time.Now()
		if w := ts.get(t, cheap); w.Code != http.StatusOK {
			t.Errorf("%s: status %d while searches queue", cheap, w.Code)
		}
		if d := time.Since(start); d > 200*time.Millisecond {
			t.Errorf("%s took %s while searches queue", cheap, d)
		}
	}
	resp := <-queued
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a queued search past the queue wait: status %d; want 503 with Retry-After", resp.StatusCode)
	}
	if got := gauge(t, ts.get(t, "/metrics").Body.String(), "faildex_searches_rejected_total"); got != 2 {
		t.Errorf("faildex_searches_rejected_total %v, want 2", got)
	}
}

// TestNoRedirectOffSite: CONNECT and requests in absolute form are never
// redirected to the host they name.
func TestNoRedirectOffSite(t *testing.T) {
	ts := newTestServerOn(t, "", &blockingSearcher{}, Config{Addr: "127.0.0.1:0"})
	addr := serveTest(t, ts.Server)
	for _, tc := range []struct {
		name, request string
		status        int
		location      string
	}{
		{"CONNECT", "CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n", 405, ""},
		{"CONNECT to a path", "CONNECT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405, ""},
		// net/http answers "OPTIONS *" itself, before any handler.
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200, ""},
		{"absolute form with dot segments", "GET http://evil.example/static/../healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 301, "/healthz"},
		{"double slash", "GET //evil.example/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 301, "/evil.example/"},
		{"dot segments", "GET /static/../healthz?a=b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 301, "/healthz?a=b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := sendRaw(t, addr, tc.request)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if loc := resp.Header.Get("Location"); loc != tc.location {
				t.Errorf("Location %q, want %q", loc, tc.location)
			}
			if tc.status == 405 && resp.Header.Get("Allow") == "" {
				t.Error("a 405 without Allow")
			}
		})
	}
}

// TestMaxConns: with two connections open, a third waits until the idle
// timeout closes one of them.
func TestMaxConns(t *testing.T) {
	ts := newTestServerOn(t, "", &blockingSearcher{}, Config{Addr: "127.0.0.1:0", MaxConns: 2, IdleTimeout: 500 * time.Millisecond})
	addr := serveTest(t, ts.Server)
	keepAlive := "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
	var idle []net.Conn
	for range 2 {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(conn, keepAlive)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		idle = append(idle, conn)
	}
	start := time.Now()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second) // the kernel accepts it; the server does not yet
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("a third connection was served after %s, before the idle ones were closed", d)
	}
	// The idle connections were closed by the server.
	for i, c := range idle {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if n, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Errorf("idle connection %d still open (read %d, %v)", i, n, err)
		}
	}
}

// TestMetricsPrivate: /metrics behind a token, or on its own address only.
func TestMetricsPrivate(t *testing.T) {
	t.Run("token", func(t *testing.T) {
		ts := newTestServerOn(t, "", &blockingSearcher{}, Config{MetricsToken: "s3cret"})
		if w := ts.get(t, "/metrics"); w.Code != http.StatusUnauthorized {
			t.Errorf("without a token: %d, want 401", w.Code)
		}
		if w := ts.do(t, http.MethodGet, "/metrics", "Authorization", "Bearer nope"); w.Code != http.StatusUnauthorized {
			t.Errorf("with a wrong token: %d, want 401", w.Code)
		}
		w := ts.do(t, http.MethodGet, "/metrics", "Authorization", "Bearer s3cret")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "faildex_searches_running") {
			t.Errorf("with the token: %d", w.Code)
		}
	})
	t.Run("address", func(t *testing.T) {
		ts := newTestServerOn(t, "", &blockingSearcher{}, Config{Addr: "127.0.0.1:0", MetricsAddr: "127.0.0.1:0"})
		addr := serveTest(t, ts.Server)
		if resp := sendRaw(t, addr, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); resp.StatusCode != http.StatusNotFound {
			t.Errorf("/metrics on the main address: %d, want 404", resp.StatusCode)
		}
		resp, err := http.Get(ts.MetricsURL() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "faildex_http_requests_total") {
			t.Errorf("/metrics on the metrics address: %d", resp.StatusCode)
		}
	})
}

// TestAdmissionHeavy: heavy searches (here phrases) never take every slot:
// with the heavy slot held, another phrase is refused while a plain search
// is answered.
func TestAdmissionHeavy(t *testing.T) {
	hold := make(chan struct{})
	entered := make(chan struct{}, 8)
	g := &blockingSearcher{search: func(ctx context.Context, req search.Request) error {
		if !strings.Contains(req.Query, `"`) {
			return nil
		}
		entered <- struct{}{}
		select {
		case <-hold:
		case <-ctx.Done():
		}
		return nil
	}}
	ts := newTestServerOn(t, "", g, Config{MaxSearches: 2, MaxHeavySearches: 1, QueueWait: 100 * time.Millisecond, SearchTimeout: 10 * time.Second})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ts.get(t, "/api/v1/search?q="+url.QueryEscape(`"a phrase"`))
	}()
	<-entered
	if w := ts.get(t, "/api/v1/search?q="+url.QueryEscape(`"another phrase"`)); w.Code != http.StatusServiceUnavailable {
		t.Errorf("a second phrase: status %d, want 503", w.Code)
	}
	start := time.Now()
	if w := ts.get(t, "/api/v1/search?q=outage"); w.Code != http.StatusOK {
		t.Errorf("a plain search: status %d, want 200", w.Code)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Errorf("a plain search waited %s", d)
	}
	close(hold)
	<-done
}

func TestHeavyRequest(t *testing.T) {
	for target, want := range map[string]bool{
		"/api/v1/search?q=outage":                   false,
		"/api/v1/search?q=wake+word":                false,
		"/api/v1/search?q=a+OR+b":                   false,
		"/api/v1/search?q=%22wake+word%22":          true,
		"/api/v1/search?q=recor*":                   true,
		"/api/v1/search?q=a+b+c+d":                  true,
		"/api/v1/search?q=outage&page=3":            false,
		"/api/v1/search?q=outage&page=100&size=100": true,
		"/api/v1/search?q=outage&page=101":          true,
	} {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		if got := heavyRequest(r, false); got != want {
			t.Errorf("%s: heavy %v, want %v", target, got, want)
		}
	}
}
