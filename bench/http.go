package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"time"

	"github.com/faildex/faildex/search"
)

// HTTPEngine names faildex's figures over HTTP in Report.HTTP.
const HTTPEngine = "faildex_http"

// RunHTTP times the search and suggest classes against a faildex server
// that it starts on 127.0.0.1 (a free port) on the index of cfg, which Run
// has built: cfg.Serve followed by --index and --addr. One client sends the
// requests one after the other over one keep-alive connection, without
// compression, as the peers' clients do; latency is from sending the
// request to the last byte of the answer read, and CPU is the server
// process's (from /proc), as it is searchd's for Sphinx. The results go
// into rep.HTTP, and rep.HTTPInfo says whether their totals and facet counts
// are the in-process ones.
func RunHTTP(ctx context.Context, cfg Config, rep *Report) (err error) {
	if len(cfg.Serve) == 0 {
		return errors.New("bench: no command to start a faildex server")
	}
	if cfg.Reps <= 0 {
		cfg.Reps = 200
	}
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	ixDir := IndexDir(cfg.Dir, cfg.Seed, cfg.N)
	clients := cfg.MixClients
	if clients <= 0 {
		clients = DefaultMixClients
	}
	// The mix's clients are all let in at once, heavy requests (the
	// phrase, the deep page) included: the server's admission limits
	// (by default, on two cores, one heavy search at a time and a 503 for
	// the third waiting) would turn the mix into a test of its queue.
	args := append(cfg.Serve[1:len(cfg.Serve):len(cfg.Serve)], "--index", ixDir, "--addr", addr,
		"--max-searches", strconv.Itoa(clients), "--max-heavy-searches", strconv.Itoa(clients))
	cmd := exec.Command(cfg.Serve[0], args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // the access log, as a server writes it
	logf(cfg.Log, "starting %v", append(cfg.Serve[:1:1], args...))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("bench: faildex server: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		// Stopped on every path; an interrupt lets it close the index.
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	base := "http://" + addr
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}}
	if err := waitReady(ctx, client, base, exited); err != nil {
		return err
	}
	for _, c := range Classes() {
		if c.ExportLimit > 0 || c.explore() {
			continue
		}
		st, err := timeHTTP(ctx, client, base, cmd.Process.Pid, c, cfg.Reps)
		if err != nil {
			return fmt.Errorf("bench: %s over HTTP: %w", c.Name, err)
		}
		st.N = cfg.N
		rep.HTTP = append(rep.HTTP, st)
		logf(cfg.Log, "%-15s http p50 %8.3f ms  p99 %8.3f ms  server cpu %8.3f ms  total %d", c.Name, st.P50, st.P99, st.CPU, st.Total)
	}
	rep.HTTPInfo = Agreement(rep.Stats, rep.HTTP)
	tp, err := httpMix(ctx, cfg, base, cmd.Process.Pid, clients)
	if err != nil {
		return fmt.Errorf("bench: mix over HTTP: %w", err)
	}
	rep.Throughputs = append(rep.Throughputs, tp)
	logf(cfg.Log, "mix over HTTP, %d clients: %.0f requests/s, server cpu %.3f ms per request", tp.Clients, tp.PerSecond, tp.CPU)
	return nil
}

// httpMix runs the mix against the faildex server at base (process pid):
// each client its own keep-alive connection, without compression, reading
// every answer to its last byte. CPU is the server's; the clients' is this
// process's.
func httpMix(ctx context.Context, cfg Config, base string, pid, clients int) (Throughput, error) {
	hc := make([]*http.Client, clients)
	for i := range hc {
		hc[i] = &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1, DisableCompression: true}}
	}
	defer func() {
		for _, c := range hc {
			c.CloseIdleConnections()
		}
	}()
	urls := map[string]string{}
	for _, c := range MixClasses() {
		urls[c.Name] = base + ClassURL(c)
	}
	return RunMix(ctx, MixOptions{
		Engine: HTTPEngine, Clients: clients, Duration: cfg.MixDuration,
		Do: func(ctx context.Context, i int, c Class) error {
			return getHTTP(ctx, hc[i], urls[c.Name], io.Discard)
		},
		CPU:       func() (float64, error) { return ProcCPUSeconds(pid) },
		ClientCPU: func() (float64, error) { return CPUSeconds(), nil },
	})
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago, for a server the benchmark starts.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

func waitReady(ctx context.Context, client *http.Client, base string, exited <-chan error) error {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("bench: faildex server exited before it was ready: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := client.Get(base + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return errors.New("bench: faildex server not ready after 2 minutes")
}

// ClassURL returns the path and query of the API request that asks what a
// search or suggest class asks of the engine.
func ClassURL(c Class) string {
	v := url.Values{}
	if c.Req.Query != "" {
		v.Set("q", c.Req.Query)
	}
	if c.Suggest {
		return "/api/v1/suggest?" + v.Encode()
	}
	cats := make([]string, 0, len(c.Req.Filters))
	for cat := range c.Req.Filters {
		cats = append(cats, cat)
	}
	sort.Strings(cats)
	for _, cat := range cats {
		for _, o := range c.Req.Filters[cat] {
			v.Add(cat, o)
		}
	}
	if c.Req.Page > 1 {
		v.Set("page", strconv.Itoa(c.Req.Page))
	}
	if c.Req.Size > 0 {
		v.Set("size", strconv.Itoa(c.Req.Size))
	}
	return "/api/v1/search?" + v.Encode()
}

// getHTTP sends one request and reads the whole answer into w.
func getHTTP(ctx context.Context, client *http.Client, u string, w io.Writer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s: %s", u, resp.Status, b)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

func timeHTTP(ctx context.Context, client *http.Client, base string, pid int, c Class, reps int) (Stats, error) {
	st := Stats{Engine: HTTPEngine, Class: c.Name}
	u := base + ClassURL(c)
	// The first answer is decoded for the agreement check; the timed ones
	// are read to their last byte, as a client of any server would.
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		defer pr.Close()
		if c.Suggest {
			var sg search.Suggestions
			err := json.NewDecoder(pr).Decode(&sg)
			st.Total = uint64(len(sg.Incidents))
			done <- err
			return
		}
		var res search.Result
		err := json.NewDecoder(pr).Decode(&res)
		st.Total, st.Counts = res.Total, FacetCounts(&res)
		done <- err
	}()
	err := getHTTP(ctx, client, u, pw)
	pw.CloseWithError(err)
	if derr := <-done; err == nil && derr != nil {
		err = fmt.Errorf("decoding the answer: %w", derr)
	}
	if err != nil {
		return st, err
	}
	for i := 0; i < max(3, reps/10); i++ {
		if err := getHTTP(ctx, client, u, io.Discard); err != nil {
			return st, err
		}
	}
	d := make([]time.Duration, reps)
	cpu0, err := ProcCPUSeconds(pid)
	if err != nil {
		return st, err
	}
	for i := range d {
		t := time.Now()
		if err := getHTTP(ctx, client, u, io.Discard); err != nil {
			return st, err
		}
		d[i] = time.Since(t)
	}
	cpu1, err := ProcCPUSeconds(pid)
	if err != nil {
		return st, err
	}
	st.CPU = (cpu1 - cpu0) * 1000 / float64(reps)
	st.Reps = reps
	st.P50, st.P95, st.P99, st.Mean = Percentiles(d)
	return st, nil
}
