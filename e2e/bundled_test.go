package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faildex/faildex/index/indextest"
)

// bundledSummary counts the reports of the checkout's data/ and the years
// they span, read from their file names, independently of the index.
func bundledSummary(tb testing.TB) (n int, first, last string) {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil || len(names) == 0 {
		tb.Fatalf("no bundled reports in %s: %v", indextest.DataDir(), err)
	}
	for _, name := range names {
		y := filepath.Base(name)[:4]
		if first == "" || y < first {
			first = y
		}
		if y > last {
			last = y
		}
	}
	return len(names), first, last
}

// TestServeBundledCorpus runs `faildex serve` with no path from a directory
// outside the checkout: it indexes the corpus embedded in the binary, logs
// what it loaded, and the search page says what it holds and how long the
// search took.
func TestServeBundledCorpus(t *testing.T) {
	n, first, last := bundledSummary(t)
	want := fmt.Sprintf("%d incidents, %s–%s", n, first, last)

	work := t.TempDir()
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "FAILDEX_ADMIN_TOKEN=", "FAILDEX_INDEX=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, cmd)
	var mu sync.Mutex
	var logs []string
	urlc := servingURL(stderr, func(line string) { mu.Lock(); logs = append(logs, line); mu.Unlock() })
	var base string
	select {
	case u, ok := <-urlc:
		if !ok {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("serve exited:\n%s", strings.Join(logs, "\n"))
		}
		base = u
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start within 60 s")
	}
	if _, err := os.Stat(filepath.Join(work, "faildex.bleve")); err != nil {
		t.Errorf("the index was not built in the working directory: %v", err)
	}

	mu.Lock()
	var loaded map[string]any
	for _, l := range logs {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && strings.HasPrefix(fmt.Sprint(m["message"]), "loaded ") {
			loaded = m
		}
	}
	mu.Unlock()
	if loaded == nil {
		t.Fatalf("no 'loaded' line in the log:\n%s", strings.Join(logs, "\n"))
	}
	if got := loaded["message"]; got != "loaded "+want {
		t.Errorf("log says %q, want %q", got, "loaded "+want)
	}
	if loaded["incidents"] != float64(n) {
		t.Errorf("log incidents %v, want %d", loaded["incidents"], n)
	}

	inst := &instance{URL: base}
	status, body := inst.get(t, "/?q=crash")
	if status != http.StatusOK {
		t.Fatalf("search page: %d", status)
	}
	if !strings.Contains(body, want) {
		t.Errorf("the search page does not say %q", want)
	}
	if !strings.Contains(body, `id="stats">Searched `+want+` in `) || !strings.Contains(body, " ms</p>") {
		t.Errorf("the search page does not say how long the search took")
	}
	if !strings.Contains(body, `href="/api/v1/openapi.json"`) {
		t.Errorf("the footer does not link the API description")
	}
	status, body = inst.get(t, "/incidents/1996-ariane-5-flight-501")
	if status != http.StatusOK || !strings.Contains(body, want) {
		t.Errorf("incident page: status %d, corpus shown %v", status, strings.Contains(body, want))
	}
}
