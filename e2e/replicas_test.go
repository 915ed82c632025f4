package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faildex/faildex/index/indextest"
)

// TestReplicasBehindHAProxy runs the deployment docs/deploy.md describes,
// on loopback: a writer publishes index artifacts into a directory served
// over HTTP; three `faildex serve --index-from` replicas follow it behind
// Debian's HAProxy, which checks /readyz. Under `faildex load` through
// HAProxy, the writer publishes a new artifact, then a damaged one (every
// replica must refuse it and keep serving), one replica is killed with
// SIGKILL and restarted, another is stopped with SIGTERM (a rolling
// restart) and restarted, and a last artifact is published. No request may
// fail, and every replica must end on the last artifact.
func TestReplicasBehindHAProxy(t *testing.T) {
	haproxy := haproxyPath(t)
	tmp := t.TempDir()

	// The writer's three generations, built before the run.
	writers := make([]string, 3)
	errc := make(chan error, len(writers))
	for i := range writers {
		writers[i] = filepath.Join(tmp, fmt.Sprintf("writer%d", i))
		go func(dir string) {
			cmd, out := faildexCmd(t, 60*time.Second, "index", "--index", dir, indextest.DataDir())
			if err := cmd.Run(); err != nil {
				errc <- fmt.Errorf("index %s: %v\n%s", dir, err, out)
				return
			}
			errc <- nil
		}(writers[i])
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	published := filepath.Join(tmp, "published")
	os.MkdirAll(published, 0o755)
	publish := func(writer string) string { return pack(t, writer, published+"/") }
	first := publish(writers[0])

	files := httptest.NewServer(etagFiles(published))
	defer files.Close()
	source := files.URL + "/latest.sha256"

	// Three replicas, then HAProxy in front of them.
	reps := make([]*replicaProc, 3)
	for i := range reps {
		reps[i] = &replicaProc{
			port: freePort(t), index: filepath.Join(tmp, fmt.Sprintf("replica%d", i)),
			log: filepath.Join(tmp, fmt.Sprintf("replica%d.log", i)), source: source,
		}
		reps[i].start(t)
	}
	t.Cleanup(func() {
		for _, r := range reps {
			r.stop()
		}
	})
	for _, r := range reps {
		r.waitServing(t, first, 30*time.Second)
	}
	front := freePort(t)
	cfg := filepath.Join(tmp, "haproxy.cfg")
	os.WriteFile(cfg, []byte(haproxyConfig(front, reps)), 0o644)
	hp := exec.Command(haproxy, "-db", "-f", cfg)
	hpOut := &syncBuffer{}
	hp.Stdout, hp.Stderr = hpOut, hpOut
	if err := hp.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hp.Process.Kill(); hp.Wait() })
	base := fmt.Sprintf("http://127.0.0.1:%d", front)
	waitUntil(t, 10*time.Second, "HAProxy to answer", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})

	// The load, through HAProxy, for the whole run.
	load, loadOut := faildexCmd(t, 60*time.Second, "load", "--url", base, "--clients", "8",
		"--duration", "22s", "--pathological", "0", "--json")
	var loadJSON syncBuffer
	load.Stdout = &loadJSON
	if err := load.Start(); err != nil {
		t.Fatal(err)
	}
	runStart := time.Now()
	time.Sleep(2 * time.Second)

	// 1. A new artifact.
	second := publish(writers[1])
	pickup1 := waitAllServing(t, reps, second, 20*time.Second)

	// 2. A damaged artifact: the bytes of a valid one with one flipped,
	// published under the valid one's checksum.
	stage := filepath.Join(tmp, "stage.tar")
	third := pack(t, writers[2], stage)
	b, _ := os.ReadFile(stage)
	b[len(b)/2] ^= 0x01
	damagedName := "faildex-" + third + ".tar"
	os.WriteFile(filepath.Join(published, damagedName), b, 0o644)
	os.WriteFile(filepath.Join(published, ".latest"), []byte(third+"  "+damagedName+"\n"), 0o644)
	os.Rename(filepath.Join(published, ".latest"), filepath.Join(published, "latest.sha256"))
	waitUntil(t, 20*time.Second, "every replica to refuse the damaged artifact", func() bool {
		for _, r := range reps {
			if !r.logged("artifact refused", third) {
				return false
			}
		}
		return true
	})
	for i, r := range reps {
		if got := r.checksum(); got != second {
			t.Errorf("replica %d serves %.12s after the damaged artifact, want %.12s", i, got, second)
		}
	}

	// 3. SIGKILL one replica and restart it; SIGTERM another (a rolling
	// restart: it drains first) and restart it.
	reps[1].cmd.Process.Kill()
	reps[1].cmd.Wait()
	time.Sleep(300 * time.Millisecond)
	reps[1].start(t)
	reps[1].waitServing(t, second, 20*time.Second)
	reps[2].cmd.Process.Signal(syscall.SIGTERM)
	reps[2].cmd.Wait()
	reps[2].start(t)
	reps[2].waitServing(t, second, 20*time.Second)

	// 4. The writer publishes a good artifact again.
	os.Remove(filepath.Join(published, damagedName)) // the writer replaces the bad upload
	last := publish(writers[2])
	if last != third {
		t.Fatalf("repacking gave %s, want %s (packing is deterministic)", last, third)
	}
	pickup2 := waitAllServing(t, reps, last, 20*time.Second)
	events := time.Since(runStart)

	if err := load.Wait(); err != nil {
		t.Fatalf("faildex load: %v\n%s", err, loadOut)
	}
	var rep struct {
		Requests   int            `json:"requests"`
		Throughput float64        `json:"requests_per_s"`
		P50        float64        `json:"p50_ms"`
		P99        float64        `json:"p99_ms"`
		Max        float64        `json:"max_ms"`
		Statuses   map[string]int `json:"statuses"`
		Errors     int            `json:"errors"`
		Unexpected int            `json:"unexpected"`
		Samples    []string       `json:"error_samples"`
	}
	if err := json.Unmarshal([]byte(loadJSON.String()), &rep); err != nil {
		t.Fatalf("load report: %v\n%s\n%s", err, loadJSON.String(), loadOut)
	}
	var fivexx int
	for s, n := range rep.Statuses {
		if strings.HasPrefix(s, "5") {
			fivexx += n
		}
	}
	t.Logf("replicas behind HAProxy: %d requests served in 22 s (%.0f/s), %d failed (transport errors and 5xx: %d 5xx), %d not 200; "+
		"p50 %.1f ms, p99 %.1f ms, max %.1f ms through the proxy; all 3 replicas on a new generation %s and %s after it was published "+
		"(poll 500ms); damaged artifact refused by 3/3; events (2 publications, 1 damaged, SIGKILL+restart, SIGTERM+restart) within %s; statuses %v",
		rep.Requests, rep.Throughput, rep.Errors, fivexx, rep.Unexpected, rep.P50, rep.P99, rep.Max,
		pickup1.Round(time.Millisecond), pickup2.Round(time.Millisecond), events.Round(time.Second), rep.Statuses)
	fmt.Printf("REPLICAS requests=%d failed=%d (cut by SIGKILL: %d) 5xx=%d p99_ms=%.1f pickup1=%s pickup2=%s damaged_refused=3/3\n",
		rep.Requests, rep.Errors, countCut(rep.Samples), fivexx, rep.P99, pickup1.Round(time.Millisecond), pickup2.Round(time.Millisecond))
	// A response the killed replica was writing at the instant of SIGKILL
	// arrives cut short: HAProxy has already forwarded its start and no
	// proxy can retry it. Those, at most one per client, are the only
	// failures allowed; anything else (a refused connection, a 5xx, a 503
	// from HAProxy with no replica ready) fails the test.
	cut := countCut(rep.Samples)
	t.Logf("failed requests: %d, of which %d responses cut mid-body by the SIGKILL", rep.Errors, cut)
	if rep.Requests == 0 || fivexx != 0 || rep.Errors != cut || cut > 8 || rep.Unexpected != rep.Errors {
		t.Errorf("requests failed through HAProxy: %d errors, %d 5xx, %d not 200; samples %q", rep.Errors, fivexx, rep.Unexpected, rep.Samples)
	}
	for i, r := range reps {
		if n := r.count("artifact installed"); n == 0 {
			t.Errorf("replica %d installed nothing", i)
		}
	}
	if t.Failed() {
		for i, r := range reps {
			b, _ := os.ReadFile(r.log)
			t.Logf("replica %d log (tail):\n%s", i, tail(string(b), 3000))
		}
		t.Logf("haproxy:\n%s", hpOut.String())
	}
}

// pack runs `faildex pack` and returns the artifact's checksum.
func pack(tb testing.TB, index, out string) string {
	tb.Helper()
	cmd := exec.Command(binary, "pack", "--index", index, "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil || len(strings.Fields(string(b))) != 2 {
		tb.Fatalf("faildex pack: %v %s\n%s", err, b, stderr.String())
	}
	return strings.Fields(string(b))[0]
}

// haproxyPath returns the path of Debian's haproxy; without it the test
// fails under CI and is skipped elsewhere.
func haproxyPath(tb testing.TB) string {
	tb.Helper()
	p, err := exec.LookPath("haproxy")
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		tb.Fatal("haproxy is not installed (apt-get install haproxy); CI must run this test")
	}
	tb.Skip("haproxy is not installed (apt-get install haproxy)")
	return ""
}

// haproxyConfig is deploy/haproxy.cfg's configuration, on loopback, with
// checks frequent enough for a test: a replica answering /readyz 503 is out
// of rotation within 2 checks, and a request whose connection fails or
// closes without an answer is retried on another replica.
func haproxyConfig(front int, reps []*replicaProc) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global
    maxconn 2000

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    default-server inter 200ms fall 2 rise 2

frontend faildex
    bind 127.0.0.1:%d
    default_backend replicas

backend replicas
    balance leastconn
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
`, front)
	for i, r := range reps {
		fmt.Fprintf(&b, "    server r%d 127.0.0.1:%d check\n", i, r.port)
	}
	return b.String()
}

// replicaProc is one `faildex serve --index-from` process, restartable on
// the same port and index directory.
type replicaProc struct {
	port       int
	index, log string
	source     string
	cmd        *exec.Cmd
	logf       *os.File
}

func (r *replicaProc) start(tb testing.TB) {
	tb.Helper()
	if r.logf != nil {
		r.logf.Close()
	}
	f, err := os.OpenFile(r.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		tb.Fatal(err)
	}
	r.logf = f
	r.cmd = exec.Command(binary, "serve", "--index-from", r.source, "--index", r.index,
		"--addr", fmt.Sprintf("127.0.0.1:%d", r.port), "--poll", "500ms", "--drain", "600ms", "--drain-timeout", "5s")
	r.cmd.Env = append(os.Environ(), "FAILDEX_ADMIN_TOKEN=")
	r.cmd.Stdout, r.cmd.Stderr = f, f
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
}

func (r *replicaProc) stop() {
	if r.cmd != nil && r.cmd.ProcessState == nil {
		r.cmd.Process.Kill()
		r.cmd.Wait()
	}
	if r.logf != nil {
		r.logf.Close()
	}
}

// checksum returns the checksum /readyz reports, or "".
func (r *replicaProc) checksum() string {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", r.port))
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var body struct {
		Checksum string `json:"checksum"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return ""
	}
	return body.Checksum
}

func (r *replicaProc) waitServing(tb testing.TB, sum string, within time.Duration) {
	tb.Helper()
	waitUntil(tb, within, fmt.Sprintf("replica on port %d to serve %.12s", r.port, sum), func() bool { return r.checksum() == sum })
}

// logged reports whether a line of the replica's log has all the words.
func (r *replicaProc) logged(words ...string) bool {
	b, _ := os.ReadFile(r.log)
	for _, line := range strings.Split(string(b), "\n") {
		all := true
		for _, w := range words {
			all = all && strings.Contains(line, w)
		}
		if all {
			return true
		}
	}
	return false
}

func (r *replicaProc) count(msg string) int {
	b, _ := os.ReadFile(r.log)
	return strings.Count(string(b), msg)
}

// waitAllServing waits until every replica serves sum and returns the
// time it took.
func waitAllServing(tb testing.TB, reps []*replicaProc, sum string, within time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	waitUntil(tb, within, fmt.Sprintf("every replica to serve %.12s", sum), func() bool {
		for _, r := range reps {
			if r.checksum() != sum {
				return false
			}
		}
		return true
	})
	return time.Since(start)
}

func waitUntil(tb testing.TB, within time.Duration, what string, ok func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			tb.Fatalf("waited %s for %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// etagFiles serves the files of dir as a static file server does, with
// strong ETags of their content (as object stores give), so that replicas'
// conditional GETs are answered 304.
func etagFiles(dir string) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f, err := os.Open(filepath.Join(dir, filepath.Base(r.URL.Path))); err == nil {
			h := sha256.New()
			io.Copy(h, f)
			f.Close()
			w.Header().Set("ETag", fmt.Sprintf(`"%x"`, h.Sum(nil)[:16]))
		}
		fs.ServeHTTP(w, r)
	})
}

// freePort returns a loopback port free at the time of the call.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
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

// countCut counts the load's error samples that are responses cut short.
func countCut(samples []string) int {
	n := 0
	for _, s := range samples {
		if strings.Contains(s, "unexpected EOF") {
			n++
		}
	}
	return n
}
