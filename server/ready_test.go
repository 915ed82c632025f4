package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/faildex/faildex/search"
)

// TestReadyBeforeFirstGeneration: a server made without an engine (a
// replica still fetching its index) is alive but not ready, and answers
// searches 503, until a generation is opened.
func TestReadyBeforeFirstGeneration(t *testing.T) {
	dir := buildTestIndex(t)
	srv, err := New(Config{Log: zerolog.Nop(), Open: func(ctx context.Context) (Searcher, error) {
		return search.Open(ctx, dir)
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, dir: dir}
	t.Cleanup(srv.engines.close)
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/api/v1/search?q=crash": 503, "/": 503} {
		if w := ts.get(t, path); w.Code != want {
			t.Errorf("%s before the first generation: %d, want %d", path, w.Code, want)
		}
	}
	if err := srv.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := ts.get(t, "/readyz")
	var got readiness
	decode(t, w, &got)
	if w.Code != 200 || got.Status != "ready" || got.Documents == 0 || !strings.HasPrefix(got.Generation, "gen-") ||
		got.Built.IsZero() || got.AgeSeconds < 0 || got.Checksum != "" {
		t.Errorf("/readyz once open: %d %+v", w.Code, got)
	}
}

// TestDrain: once told to stop, the server says it is not ready but keeps
// answering for the drain delay, then stops.
func TestDrain(t *testing.T) {
	ts := newTestServer(t, Config{Addr: "127.0.0.1:0", DrainDelay: 600 * time.Millisecond, DrainTimeout: time.Second})
	if err := ts.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ts.Serve(ctx) }()
	get := func(path string) int {
		resp, err := http.Get(ts.URL() + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get("/readyz"); s != 200 {
		t.Fatalf("/readyz: %d", s)
	}
	stopped := time.Now()
	cancel()
	time.Sleep(100 * time.Millisecond)
	if s := get("/readyz"); s != 503 {
		t.Errorf("/readyz while draining: %d, want 503", s)
	}
	if s := get("/api/v1/search?q=crash"); s != 200 {
		t.Errorf("a search while draining: %d, want 200", s)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(stopped); d < 600*time.Millisecond {
		t.Errorf("stopped after %s, before the drain delay", d)
	}
	if s := get("/healthz"); s != 0 {
		t.Errorf("/healthz after stopping: %d, want no answer", s)
	}
}
