package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds of a load run, whatever the flags say.
const (
	maxLoadClients  = 500
	maxLoadDuration = 10 * time.Minute
	loadReqTimeout  = 15 * time.Second
)

func runLoad(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "load", "--url URL [--clients N] [--duration D] [--pathological [F]] [--reload-every D]")
	base := fs.String("url", "", "base URL of the server (loopback addresses only)")
	clients := fs.Int("clients", 50, "concurrent clients")
	duration := fs.Duration("duration", 60*time.Second, "how long to run")
	patho := &pathoFlag{fraction: 0.1}
	fs.Var(patho, "pathological", "fraction of pathological requests (hostile queries and parameters); alone: the attack, only the most expensive searches (32 clients), with probes of /healthz and a one-word search")
	deadline := fs.Duration("deadline", 5*time.Second, "with --pathological alone: the server's --timeout, to count answers later than it plus 1 s")
	settle := fs.Duration("settle", 10*time.Second, "with --pathological alone: how long after the attack to read the server's RSS again")
	reloadEvery := fs.Duration("reload-every", 0, "POST /admin/reload this often during the run (0: never)")
	token := fs.String("admin-token", env.Getenv("FAILDEX_ADMIN_TOKEN"), "admin token for --reload-every (env FAILDEX_ADMIN_TOKEN)")
	pid := fs.Int("pid", 0, "the server's process id, to report its peak RSS (VmHWM)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	seed := fs.Uint64("seed", 1, "random seed of the request mix")
	if err := parseNoArgs(fs, joinPathoArg(args)); err != nil {
		return err
	}
	if patho.attack {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["clients"] {
			*clients = 32
		}
		if !set["duration"] {
			*duration = 30 * time.Second
		}
	}
	switch {
	case *clients < 1 || *clients > maxLoadClients:
		return fmt.Errorf("%w: --clients must be between 1 and %d", errUsage, maxLoadClients)
	case *duration <= 0 || *duration > maxLoadDuration:
		return fmt.Errorf("%w: --duration must be positive and at most %s", errUsage, maxLoadDuration)
	case patho.fraction < 0 || patho.fraction > 1:
		return fmt.Errorf("%w: --pathological must be between 0 and 1", errUsage)
	case *reloadEvery < 0:
		return fmt.Errorf("%w: --reload-every must not be negative", errUsage)
	case *reloadEvery > 0 && *token == "":
		return fmt.Errorf("%w: --reload-every needs --admin-token or FAILDEX_ADMIN_TOKEN", errUsage)
	}
	u, err := loopbackURL(*base)
	if err != nil {
		return fmt.Errorf("%w: --url: %v", errUsage, err)
	}
	if patho.attack {
		rep, err := runAttack(ctx, attackConfig{base: u, clients: *clients, duration: *duration, deadline: *deadline, settle: *settle, pid: *pid})
		if err != nil {
			return err
		}
		return writeReport(env.Stdout, *asJSON, rep)
	}
	cfg := loadConfig{
		base: u, clients: *clients, duration: *duration, pathological: patho.fraction,
		reloadEvery: *reloadEvery, token: *token, pid: *pid, seed: *seed,
	}
	rep, err := runLoadTest(ctx, cfg)
	if err != nil {
		return err
	}
	return writeReport(env.Stdout, *asJSON, rep)
}

// writeReport writes a load or attack report as indented JSON or as text.
func writeReport(w io.Writer, asJSON bool, rep interface{ print(io.Writer) }) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	rep.print(w)
	return nil
}

// loopbackURL parses an http URL whose host is a loopback address: load is
// never sent anywhere but this machine.
func loopbackURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("%q is not an http URL", s)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("%q is not a loopback address; load tests only target this machine (127.0.0.0/8, ::1, localhost)", host)
	}
	u.Path, u.RawQuery, u.Fragment = strings.TrimRight(u.Path, "/"), "", ""
	return u.String(), nil
}

type loadConfig struct {
	base         string
	clients      int
	duration     time.Duration
	pathological float64
	reloadEvery  time.Duration
	token        string
	pid          int
	seed         uint64
}

// loadReport is what a run measured. Latencies are in milliseconds.
type loadReport struct {
	URL          string         `json:"url"`
	Clients      int            `json:"clients"`
	Duration     float64        `json:"duration_s"`
	Pathological float64        `json:"pathological"`
	Requests     int            `json:"requests"`
	Throughput   float64        `json:"requests_per_s"`
	P50          float64        `json:"p50_ms"`
	P90          float64        `json:"p90_ms"`
	P99          float64        `json:"p99_ms"`
	Max          float64        `json:"max_ms"`
	Statuses     map[string]int `json:"statuses"`
	Errors       int            `json:"errors"`        // transport errors and 5xx
	Unexpected   int            `json:"unexpected"`    // realistic requests not answered 200
	ErrorSamples []string       `json:"error_samples"` // a few, for diagnosis
	// Peak RSS of the server: VmHWM with --pid, else the largest
	// process_resident_memory_bytes seen in /metrics.
	PeakRSSMB    float64 `json:"peak_rss_mb"`
	PeakRSSFrom  string  `json:"peak_rss_from"`
	Reloads      int     `json:"reloads,omitempty"`
	ReloadFailed int     `json:"reload_failures,omitempty"`
	ReloadMaxMS  float64 `json:"reload_max_ms,omitempty"`
	// Requests in flight during a reload, and their latencies.
	SwapRequests int     `json:"swap_requests,omitempty"`
	SwapErrors   int     `json:"swap_errors,omitempty"`
	SwapP50      float64 `json:"swap_p50_ms,omitempty"`
	SwapP99      float64 `json:"swap_p99_ms,omitempty"`
	SwapMax      float64 `json:"swap_max_ms,omitempty"`
	ServerUp     bool    `json:"server_up_after"`
	// Slowest lists the request kinds (paths) with the highest p99.
	Slowest []kindLatency `json:"slowest"`
}

// kindLatency is the latency of one kind of request.
type kindLatency struct {
	Path  string  `json:"path"`
	N     int     `json:"n"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Patho bool    `json:"pathological"`
}

// sample is one request's outcome.
type sample struct {
	path       string
	start, end time.Time
	status     int // 0: transport error
	patho      bool
	err        string
}

// realisticQueries are the query strings of ordinary searches: each must
// be answered 200.
var realisticQueries = []string{
	"q=wake+word", "q=outage", "q=ransomware+OR+malware", "q=%22data+breach%22", "q=boeing",
	"q=software+update", "q=firmware", "q=hack", "q=bank", "q=airline", "q=recall", "q=privacy",
	"q=outage&sort=date", "q=security&page=2", "q=system+failure&size=50", "q=recor*",
	"q=title:boeing", "q=causes:firmware", "q=outage+-cloud", "q=consequence:death",
	"consequence=death", "consequence=death&consequence=harm", "domain=transportation&sort=date",
	"consequence=property&domain=finance", "from=2017&to=2019", "q=outage&from=2015&to=2021&page=2&size=10",
	"", "sort=title", "sort=articles", "sort=oldest&page=3", "q=vulnerability&objective=malicious",
}

// pathologicalQueries are hostile inputs: each must be answered with a 4xx
// or a 200, quickly.
var pathologicalQueries = []string{
	"q=*", "q=a*", "q=*ware", "q=%2F.*%2F", "q=%2F(a%7Caa)*b%2F", "q=foo~3", "q=foo~1e309", "q=foo^abc",
	"q=%22unbalanced", "q=%5C", "q=http://x", "q=10:30", "q=C:%5Cpath", "q=::1", "q=field:", "q=:value",
	"q=nosuch:x", "q=consequence:nope", "q=%00%00", "q=%FF%FE", "q=%E2%80%AEwake%E2%80%AC", "q=-hack",
	"size=-1", "size=0", "size=1000000000", "size=9223372036854775807", "page=9223372036854775807",
	"page=10001&size=1", "page=x", "q=a&q=b", "from=2019-02-30", "to=99999", "sort=nope",
	"q=" + strings.Repeat("ab+", 40), "q=" + strings.Repeat("x", 1200), "q=abc*+def*+ghi*+con*+sys*+pro*",
	"consequence=" + strings.Repeat("x,", 70),
}

// nextRequest picks a path for one request.
func nextRequest(rng *rand.Rand, patho float64, ids []string) (string, bool) {
	if rng.Float64() < patho {
		if rng.IntN(8) == 0 {
			return "/" + strings.Repeat("x", 5000), true // overlong URL: 414
		}
		return "/api/v1/search?" + pathologicalQueries[rng.IntN(len(pathologicalQueries))], true
	}
	switch n := rng.IntN(20); {
	case n < 2 && len(ids) > 0:
		return "/api/v1/incidents/" + url.PathEscape(ids[rng.IntN(len(ids))]), false
	case n == 2:
		return "/api/v1/facets", false
	default:
		return "/api/v1/search?" + realisticQueries[rng.IntN(len(realisticQueries))], false
	}
}

// runLoadTest runs cfg.clients clients against the server for cfg.duration,
// reloading and sampling its memory beside them, and reports what it saw.
func runLoadTest(ctx context.Context, cfg loadConfig) (*loadReport, error) {
	tr := &http.Transport{MaxIdleConns: cfg.clients * 2, MaxIdleConnsPerHost: cfg.clients * 2, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: loadReqTimeout}

	ids, err := incidentIDs(ctx, client, cfg.base)
	if err != nil {
		return nil, fmt.Errorf("the server does not answer: %w", err)
	}

	ctx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	results := make([][]sample, cfg.clients)
	for c := 0; c < cfg.clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			results[c] = runClient(ctx, client, cfg, uint64(c), ids)
		}(c)
	}
	// Reloads and RSS sampling run beside the clients.
	watched := make(chan watchReport, 1)
	go func() { watched <- watch(ctx, client, cfg) }()
	wg.Wait()
	w := <-watched
	elapsed := time.Since(start)

	rep := summarize(cfg, elapsed, results, w)
	if cfg.pid > 0 {
		if hwm, err := vmHWM(cfg.pid); err == nil {
			rep.PeakRSSMB, rep.PeakRSSFrom = float64(hwm)/(1<<20), fmt.Sprintf("/proc/%d/status VmHWM", cfg.pid)
		}
	}
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer hcancel()
	status, _ := doRequest(hctx, client, http.MethodGet, cfg.base+"/healthz", "")
	rep.ServerUp = status == http.StatusOK
	return rep, nil
}

// incidentIDs returns the ids of up to 100 incidents, from the server
// itself, for lookups.
func incidentIDs(ctx context.Context, client *http.Client, base string) ([]string, error) {
	var first struct {
		Hits []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}
	if err := getJSON(ctx, client, base+"/api/v1/search?size=100", &first); err != nil {
		return nil, err
	}
	var ids []string
	for _, h := range first.Hits {
		ids = append(ids, h.ID)
	}
	return ids, nil
}

// runClient sends requests one after another until ctx ends and returns
// their outcomes. Client c draws its requests from its own stream of the
// seed.
func runClient(ctx context.Context, client *http.Client, cfg loadConfig, c uint64, ids []string) []sample {
	var out []sample
	rng := rand.New(rand.NewPCG(cfg.seed, c))
	for ctx.Err() == nil {
		path, patho := nextRequest(rng, cfg.pathological, ids)
		s := sample{path: path, start: time.Now(), patho: patho}
		s.status, s.err = doRequest(ctx, client, http.MethodGet, cfg.base+path, "")
		s.end = time.Now()
		if s.status == 0 && ctx.Err() != nil {
			break // cut off by the end of the run, not by the server
		}
		if s.err != "" {
			s.err = path + ": " + s.err
		}
		out = append(out, s)
	}
	return out
}

// window is the time a reload took.
type window struct{ from, to time.Time }

// watchReport is what watch saw: the reloads and the largest resident size
// the server's metrics reported.
type watchReport struct {
	reloads      []window
	reloadFailed int
	reloadMax    time.Duration
	peakMetrics  float64
}

// watch samples the server's resident size every 500 ms and, with
// cfg.reloadEvery, reloads it that often, until ctx ends.
func watch(ctx context.Context, client *http.Client, cfg loadConfig) watchReport {
	var w watchReport
	rss := time.NewTicker(500 * time.Millisecond)
	defer rss.Stop()
	var reload <-chan time.Time
	if cfg.reloadEvery > 0 {
		t := time.NewTicker(cfg.reloadEvery)
		defer t.Stop()
		reload = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return w
		case <-rss.C:
			if v, err := residentBytes(ctx, client, cfg.base); err == nil && v > w.peakMetrics {
				w.peakMetrics = v
			}
		case <-reload:
			from := time.Now()
			status, _ := doRequest(ctx, client, http.MethodPost, cfg.base+"/admin/reload", cfg.token)
			to := time.Now()
			if ctx.Err() != nil && status == 0 {
				return w
			}
			if status != http.StatusOK {
				w.reloadFailed++
			}
			w.reloadMax = max(w.reloadMax, to.Sub(from))
			w.reloads = append(w.reloads, window{from, to})
		}
	}
}

// summarize turns the clients' samples and what watch saw into a report
// (all but the figures read after the run: VmHWM and whether the server is
// up).
func summarize(cfg loadConfig, elapsed time.Duration, results [][]sample, w watchReport) *loadReport {
	rep := &loadReport{
		URL: cfg.base, Clients: cfg.clients, Duration: elapsed.Seconds(), Pathological: cfg.pathological,
		Statuses: map[string]int{}, Reloads: len(w.reloads), ReloadFailed: w.reloadFailed,
		ReloadMaxMS: ms(w.reloadMax),
	}
	var all, swap []time.Duration
	kinds := map[string][]time.Duration{}
	pathoKind := map[string]bool{}
	for _, rs := range results {
		for _, s := range rs {
			d := s.end.Sub(s.start)
			all = append(all, d)
			kind := s.path
			if strings.HasPrefix(kind, "/api/v1/incidents/") {
				kind = "/api/v1/incidents/{id}"
			}
			kinds[kind] = append(kinds[kind], d)
			pathoKind[kind] = s.patho
			failed := rep.count(s)
			if s.during(w.reloads) {
				swap = append(swap, d)
				if failed {
					rep.SwapErrors++
				}
			}
		}
	}
	for k, ds := range kinds {
		rep.Slowest = append(rep.Slowest, kindLatency{Path: truncatePath(k), N: len(ds), P50: percentile(ds, 50), P99: percentile(ds, 99), Patho: pathoKind[k]})
	}
	sort.Slice(rep.Slowest, func(i, j int) bool { return rep.Slowest[i].P99 > rep.Slowest[j].P99 })
	rep.Slowest = rep.Slowest[:min(len(rep.Slowest), 8)]
	rep.Requests = len(all)
	rep.Throughput = float64(len(all)) / elapsed.Seconds()
	rep.P50, rep.P90, rep.P99, rep.Max = percentile(all, 50), percentile(all, 90), percentile(all, 99), percentile(all, 100)
	rep.SwapRequests = len(swap)
	rep.SwapP50, rep.SwapP99, rep.SwapMax = percentile(swap, 50), percentile(swap, 99), percentile(swap, 100)
	rep.PeakRSSMB, rep.PeakRSSFrom = w.peakMetrics/(1<<20), "/metrics process_resident_memory_bytes (sampled every 500 ms)"
	return rep
}

// count adds one sample's status to the report and reports whether it
// failed (a transport error or a 5xx).
func (r *loadReport) count(s sample) (failed bool) {
	key := strconv.Itoa(s.status)
	if s.status == 0 {
		key = "transport error"
	}
	r.Statuses[key]++
	failed = s.status == 0 || s.status >= 500
	if failed {
		r.Errors++
	}
	if !s.patho && s.status != http.StatusOK {
		r.Unexpected++
	}
	if (failed || (!s.patho && s.status != http.StatusOK)) && len(r.ErrorSamples) < 10 {
		r.ErrorSamples = append(r.ErrorSamples, fmt.Sprintf("%d %s", s.status, s.err))
	}
	return failed
}

// during reports whether the request overlapped any of the windows.
func (s sample) during(ws []window) bool {
	for _, w := range ws {
		if s.start.Before(w.to) && s.end.After(w.from) {
			return true
		}
	}
	return false
}

// send sends one request, with token as its bearer token if there is one.
func send(ctx context.Context, client *http.Client, method, target, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return client.Do(req)
}

// doRequest sends one request, reads the body and returns the status (0 on
// a transport error) and an error description.
func doRequest(ctx context.Context, client *http.Client, method, target, token string) (int, string) {
	resp, err := send(ctx, client, method, target, token)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return 0, "reading the body: " + err.Error()
	}
	if resp.StatusCode >= 500 {
		return resp.StatusCode, string(bytes.TrimSpace(body[:min(len(body), 200)]))
	}
	return resp.StatusCode, ""
}

// getJSON decodes the JSON answer of a GET that must succeed into v.
func getJSON(ctx context.Context, client *http.Client, target string, v any) error {
	resp, err := send(ctx, client, http.MethodGet, target, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d", target, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// residentBytes reads process_resident_memory_bytes from the server's
// metrics.
func residentBytes(ctx context.Context, client *http.Client, base string) (float64, error) {
	resp, err := send(ctx, client, http.MethodGet, base+"/metrics", "")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("no process_resident_memory_bytes")
}

// vmHWM returns a process's peak resident set size in bytes.
func vmHWM(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM")
}

// percentile returns the p-th percentile of ds in milliseconds (nearest
// rank); ds is sorted in place.
func percentile(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(float64(len(ds))*p/100+0.5) - 1
	i = max(0, min(i, len(ds)-1))
	return ms(ds[i])
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (r *loadReport) print(w io.Writer) {
	fmt.Fprintf(w, "load on %s: %d clients for %.1f s, %.0f%% pathological\n", r.URL, r.Clients, r.Duration, r.Pathological*100)
	fmt.Fprintf(w, "requests     %d (%.0f/s)\n", r.Requests, r.Throughput)
	fmt.Fprintf(w, "latency      p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.P50, r.P90, r.P99, r.Max)
	fmt.Fprintf(w, "statuses     %s\n", statusCounts(r.Statuses))
	fmt.Fprintf(w, "errors       %d (transport errors and 5xx); realistic requests not answered 200: %d\n", r.Errors, r.Unexpected)
	for _, s := range r.ErrorSamples {
		fmt.Fprintf(w, "  %s\n", s)
	}
	fmt.Fprintf(w, "peak RSS     %.1f MB (%s)\n", r.PeakRSSMB, r.PeakRSSFrom)
	if r.Reloads > 0 {
		fmt.Fprintf(w, "reloads      %d (%d failed), longest %.1f ms\n", r.Reloads, r.ReloadFailed, r.ReloadMaxMS)
		fmt.Fprintf(w, "during swaps %d requests, %d errors, p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", r.SwapRequests, r.SwapErrors, r.SwapP50, r.SwapP99, r.SwapMax)
	}
	fmt.Fprintf(w, "server up    %v\n", r.ServerUp)
	fmt.Fprintf(w, "slowest kinds of request (p99):\n")
	for _, k := range r.Slowest {
		mark := ""
		if k.Patho {
			mark = " (pathological)"
		}
		fmt.Fprintf(w, "  %8.1f ms p99, %7.1f ms p50, n=%-5d %s%s\n", k.P99, k.P50, k.N, k.Path, mark)
	}
}

func truncatePath(p string) string {
	if len(p) > 80 {
		return p[:77] + "..."
	}
	return p
}

// statusCounts lists status counts in the order of their names.
func statusCounts(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}
