// Package e2e runs the real faildex binary and drives it over HTTP and in a
// real browser (Debian's chromium, headless).
package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/faildex/faildex/index/indextest"
)

// binary is the faildex binary built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "faildex-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "faildex")
	cmd := exec.Command("go", "build", "-o", binary, "../cmd/faildex")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building faildex:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sharedReports returns the paths of the shared reports (the seed pages and
// the CSV file), for tests whose assertions are about those reports: it
// fails under CI without them and skips elsewhere.
func sharedReports(tb testing.TB) []string {
	tb.Helper()
	seeds, csv := indextest.Shared(tb)
	return []string{seeds, csv}
}

// instance is a running `faildex serve`.
type instance struct {
	URL   string
	Index string
	cmd   *exec.Cmd
}

// startServe runs `faildex serve --addr 127.0.0.1:0` over paths with extra
// flags, waits until it listens and stops it when the test ends.
func startServe(tb testing.TB, paths []string, flags ...string) *instance {
	tb.Helper()
	ixDir := filepath.Join(tb.TempDir(), "index")
	return serveIndex(tb, ixDir, append(flags, paths...)...)
}

// serveIndex runs `faildex serve` on an existing index directory and stops
// it when the test ends.
func serveIndex(tb testing.TB, dir string, flags ...string) *instance {
	tb.Helper()
	args := append([]string{"serve", "--index", dir, "--addr", "127.0.0.1:0"}, flags...)
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "FAILDEX_ADMIN_TOKEN=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	var logMu sync.Mutex
	var logs strings.Builder
	urlc := servingURL(stderr, func(line string) {
		logMu.Lock()
		logs.WriteString(line + "\n")
		logMu.Unlock()
	})
	inst := &instance{Index: dir, cmd: cmd}
	stopAtCleanup(tb, cmd)
	select {
	case u, ok := <-urlc:
		if !ok {
			logMu.Lock()
			defer logMu.Unlock()
			tb.Fatalf("faildex serve exited before serving:\n%s", logs.String())
		}
		inst.URL = u
	case <-time.After(60 * time.Second):
		tb.Fatal("faildex serve did not start within 60 s")
	}
	return inst
}

// servingURL reads the log of `faildex serve` from r and sends the URL of
// its "serving" line on the returned channel, which is closed when r ends.
// Each line read is passed to each, if it is not nil.
func servingURL(r io.Reader, each func(line string)) <-chan string {
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if each != nil {
				each(sc.Text())
			}
			var line struct {
				Message string `json:"message"`
				URL     string `json:"url"`
			}
			if !sent && json.Unmarshal(sc.Bytes(), &line) == nil && line.Message == "serving" {
				urlc <- line.URL
				sent = true
			}
		}
		io.Copy(io.Discard, r) // after an overlong line: keep draining
		close(urlc)
	}()
	return urlc
}

// stopAtCleanup interrupts cmd when the test ends and waits for it to exit,
// killing it if it takes more than 10 s.
func stopAtCleanup(tb testing.TB, cmd *exec.Cmd) {
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// get fetches a path of the instance and returns status and body.
func (in *instance) get(tb testing.TB, path string) (int, string) {
	tb.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(in.URL + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// chromiumPath finds Debian's chromium, skipping the test if it is absent
// (CI installs it, so there the browser tests always run).
func chromiumPath(tb testing.TB) string {
	tb.Helper()
	for _, p := range []string{os.Getenv("FAILDEX_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("chromium not found; CI must install it")
	}
	tb.Skip("chromium not installed")
	return ""
}

// newBrowser starts a headless chromium with a fresh profile and returns a
// context for chromedp actions, bounded by timeout.
func newBrowser(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(tb)),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() {
		// Close the browser gracefully first, so that it has stopped
		// writing to its profile before the temporary directory goes.
		chromedp.Cancel(ctx)
		cancelT()
		cancelC()
		cancelA()
	})
	if err := chromedp.Run(ctx); err != nil {
		tb.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// TestServeAPI checks the real binary over HTTP: it builds the index from
// the shared reports, answers a search, reads a query outside the query
// language with a notice and reports errors as JSON.
func TestServeAPI(t *testing.T) {
	inst := startServe(t, sharedReports(t))
	status, body := inst.get(t, "/api/v1/search?q=wake+word")
	if status != http.StatusOK {
		t.Fatalf("search: status %d: %s", status, body)
	}
	var res struct {
		Total uint64 `json:"total"`
		Hits  []struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"hits"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Total == 0 || !strings.Contains(res.Hits[0].Title, "Alexa") {
		t.Errorf("wake word: top hit %+v, want the Alexa incident", res.Hits)
	}
	// A quote left open is read without it, and says so.
	status, body = inst.get(t, "/api/v1/search?q=%22unbalanced")
	if status != http.StatusOK || !strings.Contains(body, `"notices":["A quote`) {
		t.Errorf("unclosed quote: status %d body %s", status, body)
	}
	status, body = inst.get(t, "/api/v1/search?q=wake&sizee=5")
	if status != http.StatusBadRequest || !strings.Contains(body, `"param":"sizee"`) {
		t.Errorf("misspelled parameter: status %d body %s", status, body)
	}
	status, body = inst.get(t, "/api/v1/search?q=wake&sort=sideways")
	if status != http.StatusBadRequest || !strings.Contains(body, `"param":"sort"`) {
		t.Errorf("bad sort: status %d body %s", status, body)
	}
}
