package server

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
	"github.com/faildex/faildex/search"
)

// countingSearcher records when its engine is closed.
type countingSearcher struct {
	Searcher
	closes *atomic.Int64
	n      atomic.Int64
}

func (c *countingSearcher) Close() error {
	if c.n.Add(1) == 1 {
		c.closes.Add(1)
	}
	return c.Searcher.Close()
}

// The reload tests need real reports but pin none of them: they index
// indextest.Reports, the shared corpus or else (outside CI) the bundled one,
// plus the hostile report.

// reloadQuery is a search with hits in either corpus.
const reloadQuery = "/api/v1/search?q=software"

// newReloadServer builds an index of indextest.Reports and serves it.
func newReloadServer(tb testing.TB, cfg Config) *testServer {
	tb.Helper()
	dir := buildIndexOf(tb, indextest.Reports(tb))
	return newTestServerOn(tb, dir, openTestEngine(tb, dir), cfg)
}

func TestReloadUnderLoad(t *testing.T) {
	dir := buildIndexOf(t, indextest.Reports(t))
	var opened, closed atomic.Int64
	var mu sync.Mutex
	var engines []*countingSearcher
	open := func(ctx context.Context) (Searcher, error) {
		e, err := search.Open(ctx, dir)
		if err != nil {
			return nil, err
		}
		opened.Add(1)
		cs := &countingSearcher{Searcher: e, closes: &closed}
		mu.Lock()
		engines = append(engines, cs)
		mu.Unlock()
		return cs, nil
	}
	first, err := open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServerOn(t, dir, first, Config{Open: open})

	want := totalOf(t, ts, reloadQuery)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var requests, failures atomic.Int64
	var failMu sync.Mutex
	var firstFailure string
	targets := []string{
		reloadQuery,
		"/api/v1/search?consequence=death",
		"/api/v1/search?q=software&sort=date&page=2&size=5",
		"/api/v1/incidents/" + hostileID,
		"/api/v1/search?q=%22unbalanced", // a 400 is the right answer
		"/readyz",
	}
	for c := 0; c < 4; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				target := targets[(c+i)%len(targets)]
				w := ts.get(t, target)
				requests.Add(1)
				bad := w.Code != http.StatusOK && !(strings.Contains(target, "unbalanced") && w.Code == http.StatusBadRequest)
				if target == targets[0] && w.Code == http.StatusOK {
					var res search.Result
					if json.Unmarshal(w.Body.Bytes(), &res) != nil || res.Total != want {
						bad = true
					}
				}
				if bad {
					failures.Add(1)
					failMu.Lock()
					if firstFailure == "" {
						firstFailure = target + ": " + w.Body.String()
					}
					failMu.Unlock()
				}
			}
		}(c)
	}
	const reloads = 12
	for i := 0; i < reloads; i++ {
		if i == 5 {
			// A new generation, as `faildex index` makes while serving; the
			// oldest generations are pruned under the open engines.
			if _, err := index.Build(context.Background(), dir, append(indextest.Reports(t), filepath.Join(dir, "..", "none")), index.BuildOptions{}); err == nil {
				t.Fatal("build of a missing path succeeded")
			}
			rebuild(t, dir)
		}
		if err := ts.Reload(context.Background()); err != nil {
			t.Errorf("reload %d: %v", i, err)
		}
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n > 0 {
		t.Errorf("%d of %d requests failed during %d reloads; first: %.300s", n, requests.Load(), reloads, firstFailure)
	}
	t.Logf("%d requests during %d reloads, %d failures", requests.Load(), reloads, failures.Load())
	if got := opened.Load(); got != reloads+1 {
		t.Errorf("%d engines opened, want %d", got, reloads+1)
	}
	// Every engine but the current one has been closed, exactly once.
	if got := closed.Load(); got != reloads {
		t.Errorf("%d engines closed, want %d", got, reloads)
	}
	mu.Lock()
	for i, e := range engines {
		if n := e.n.Load(); n > 1 || (n == 1) == (i == len(engines)-1) {
			t.Errorf("engine %d closed %d times", i, n)
		}
	}
	mu.Unlock()
	if !strings.Contains(ts.get(t, "/metrics").Body.String(), `faildex_index_reloads_total{outcome="ok"} 12`) {
		t.Error("metrics do not count 12 reloads")
	}
}

// rebuild builds a new generation in dir of the index newReloadServer
// builds.
func rebuild(tb testing.TB, dir string) {
	tb.Helper()
	extra := tb.TempDir()
	writeHostileReport(tb, extra)
	if _, err := index.Build(context.Background(), dir, append(indextest.Reports(tb), extra), index.BuildOptions{}); err != nil {
		tb.Fatal(err)
	}
}

func totalOf(tb testing.TB, ts *testServer, target string) uint64 {
	tb.Helper()
	w := ts.get(tb, target)
	var res search.Result
	decode(tb, w, &res)
	if w.Code != http.StatusOK || res.Total == 0 {
		tb.Fatalf("%s: status %d, total %d", target, w.Code, res.Total)
	}
	return res.Total
}

// damage flips bytes in the middle of the largest file of the current
// generation's bleve index.
func damage(tb testing.TB, dir string) string {
	tb.Helper()
	gen, err := index.CurrentGeneration(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var biggest string
	var size int64
	filepath.WalkDir(filepath.Join(gen, "bleve"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil && info.Size() > size {
				biggest, size = p, info.Size()
			}
		}
		return nil
	})
	f, err := os.OpenFile(biggest, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 16)
	f.ReadAt(b, size/2)
	for i := range b {
		b[i] ^= 0xff
	}
	if _, err := f.WriteAt(b, size/2); err != nil {
		tb.Fatal(err)
	}
	return biggest
}

func TestReloadDamagedKeepsServing(t *testing.T) {
	ts := newReloadServer(t, Config{AdminToken: "s3cret"})
	want := totalOf(t, ts, reloadQuery)
	rebuild(t, ts.dir)
	file := damage(t, ts.dir)

	err := ts.Reload(context.Background())
	if !errors.Is(err, index.ErrDamaged) || !strings.Contains(err.Error(), "previous index keeps serving") {
		t.Errorf("reload of a damaged generation: %v", err)
	}
	if !strings.Contains(err.Error(), filepath.Base(file)) {
		t.Errorf("the error does not name the damaged file %s: %v", file, err)
	}
	if got := totalOf(t, ts, reloadQuery); got != want {
		t.Errorf("after the failed reload: total %d, want %d", got, want)
	}
	w := ts.do(t, http.MethodPost, "/admin/reload", "Authorization", "Bearer s3cret")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(apiErr(t, w).Message, "damaged") {
		t.Errorf("POST /admin/reload: %d %s", w.Code, w.Body)
	}
	if got := totalOf(t, ts, reloadQuery); got != want {
		t.Errorf("after the failed reload: total %d, want %d", got, want)
	}
	if !strings.Contains(ts.get(t, "/metrics").Body.String(), `faildex_index_reloads_total{outcome="failed"} 2`) {
		t.Error("metrics do not count 2 failed reloads")
	}

	// The next good build is picked up.
	rebuild(t, ts.dir)
	w = ts.do(t, http.MethodPost, "/admin/reload", "Authorization", "Bearer s3cret")
	if w.Code != http.StatusOK {
		t.Errorf("reload after a good build: %d %s", w.Code, w.Body)
	}
}

func TestReloadToken(t *testing.T) {
	ts := newReloadServer(t, Config{AdminToken: "s3cret"})
	for _, tc := range []struct {
		auth   string
		status int
	}{
		{"", http.StatusUnauthorized},
		{"Bearer", http.StatusUnauthorized},
		{"Bearer ", http.StatusUnauthorized},
		{"Bearer wrong", http.StatusUnauthorized},
		{"Bearer s3cret2", http.StatusUnauthorized},
		{"Basic s3cret", http.StatusUnauthorized},
		{"s3cret", http.StatusUnauthorized},
		{"bearer s3cret", http.StatusOK},
		{"Bearer s3cret", http.StatusOK},
	} {
		var hdr []string
		if tc.auth != "" {
			hdr = []string{"Authorization", tc.auth}
		}
		w := ts.do(t, http.MethodPost, "/admin/reload", hdr...)
		if w.Code != tc.status {
			t.Errorf("Authorization %q: status %d, want %d: %s", tc.auth, w.Code, tc.status, w.Body)
		}
		if w.Code != http.StatusOK {
			apiErr(t, w)
		}
	}
	if w := ts.get(t, "/admin/reload"); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /admin/reload: %d", w.Code)
	}

	// Without a token the endpoint does not exist.
	off := newTestServerOn(t, ts.dir, openTestEngine(t, ts.dir), Config{})
	if w := off.do(t, http.MethodPost, "/admin/reload", "Authorization", "Bearer "); w.Code != http.StatusNotFound {
		t.Errorf("reload without a configured token: %d", w.Code)
	}
}

func TestReloadWaitsForSearchesInFlight(t *testing.T) {
	entered := make(chan struct{})
	finish := make(chan struct{})
	old := newFake(func(ctx context.Context) (*search.Result, error) {
		close(entered)
		<-finish
		return &search.Result{Query: "old", Hits: []search.Hit{}, Facets: []search.Facet{}}, nil
	})
	next := newFake(func(ctx context.Context) (*search.Result, error) {
		return &search.Result{Query: "new", Hits: []search.Hit{}, Facets: []search.Facet{}}, nil
	})
	ts := newTestServerOn(t, "", old, Config{Open: func(context.Context) (Searcher, error) { return next, nil }})
	done := make(chan string)
	go func() { done <- ts.get(t, "/api/v1/search?q=x").Body.String() }()
	<-entered
	if err := ts.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if body := ts.get(t, "/api/v1/search?q=x").Body.String(); !strings.Contains(body, `"query":"new"`) {
		t.Errorf("after the reload: %s", body)
	}
	select {
	case <-old.closed:
		t.Fatal("the old engine was closed under a search in flight")
	default:
	}
	close(finish)
	if body := <-done; !strings.Contains(body, `"query":"old"`) {
		t.Errorf("the search in flight: %s", body)
	}
	<-old.closed // closed once its last search is done
}

// named returns a search function answering with query name, so that
// responses tell which engine served them.
func named(name string) func(context.Context) (*search.Result, error) {
	return func(context.Context) (*search.Result, error) {
		return &search.Result{Query: name, Hits: []search.Hit{}, Facets: []search.Facet{}}, nil
	}
}

// TestOverlappingReloads starts a reload while another is still opening
// its index: the second waits for the first (Open never runs twice at
// once), both succeed, the engine opened last serves, and each engine
// replaced is closed.
func TestOverlappingReloads(t *testing.T) {
	initial := newFake(named("initial"))
	var mu sync.Mutex
	var opened []*fakeSearcher
	var opening, mostOpening atomic.Int64
	entered := make(chan struct{}, 2)
	proceed := make(chan struct{})
	open := func(ctx context.Context) (Searcher, error) {
		n := opening.Add(1)
		defer opening.Add(-1)
		for m := mostOpening.Load(); n > m && !mostOpening.CompareAndSwap(m, n); m = mostOpening.Load() {
		}
		mu.Lock()
		f := newFake(named("reload " + strconv.Itoa(len(opened)+1)))
		opened = append(opened, f)
		mu.Unlock()
		entered <- struct{}{}
		<-proceed
		return f, nil
	}
	ts := newTestServerOn(t, "", initial, Config{Open: open})

	errs := make(chan error, 2)
	go func() { errs <- ts.Reload(context.Background()) }()
	<-entered // the first reload is opening its index
	go func() { errs <- ts.Reload(context.Background()) }()
	select {
	case <-entered:
		t.Fatal("the second reload opened an index while the first was opening one")
	case <-time.After(200 * time.Millisecond):
	}
	proceed <- struct{}{} // the first reload finishes
	<-entered             // then the second opens
	proceed <- struct{}{}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("reload: %v", err)
		}
	}
	if n := mostOpening.Load(); n != 1 {
		t.Errorf("%d reloads opened an index at once, want 1", n)
	}
	if body := ts.get(t, "/api/v1/search?q=x").Body.String(); !strings.Contains(body, `"query":"reload 2"`) {
		t.Errorf("after both reloads: %s", body)
	}
	for i, f := range []*fakeSearcher{initial, opened[0]} {
		select {
		case <-f.closed:
		case <-time.After(5 * time.Second):
			t.Errorf("engine %d was replaced but not closed", i)
		}
	}
	select {
	case <-opened[1].closed:
		t.Error("the serving engine was closed")
	default:
	}
}
