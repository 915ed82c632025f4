package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The pathological attack (`faildex load --pathological`): few clients, each
// sending only the most expensive searches the query language allows,
// while probes measure whether cheap requests stay fast and a sampler
// follows the server's memory.

// pathoFlag is --pathological: alone it selects the attack; with a value
// (--pathological=0.1, or --pathological 0.1, see joinPathoArg) it is the
// share of hostile requests in the realistic mix.
type pathoFlag struct {
	attack   bool
	fraction float64
}

func (p *pathoFlag) IsBoolFlag() bool { return true }

func (p *pathoFlag) String() string {
	if p == nil {
		return ""
	}
	if p.attack {
		return "attack"
	}
	return strconv.FormatFloat(p.fraction, 'g', -1, 64)
}

func (p *pathoFlag) Set(s string) error {
	if s == "true" || s == "attack" {
		p.attack = true
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("want a fraction from 0 to 1, or no value for the attack")
	}
	p.attack, p.fraction = false, f
	return nil
}

// joinPathoArg rewrites "--pathological 0.1" as "--pathological=0.1": the
// flag also stands alone, so the flag package would not take the next
// argument as its value.
func joinPathoArg(args []string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		if (a == "--pathological" || a == "-pathological") && i+1 < len(args) {
			if _, err := strconv.ParseFloat(args[i+1], 64); err == nil {
				out = append(out, a+"="+args[i+1])
				i++
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// attackQueries are the shapes of the attack: each is expensive in its own
// way.
var attackQueries = func() []struct{ name, query string } {
	or := func(parts []string) string { return strings.Join(parts, " OR ") }
	same := make([]string, 32)
	for i := range same {
		same[i] = `"the system failed to"`
	}
	phrases := []string{
		`"the system failed to"`, `"software update caused"`, `"data was exposed"`, `"the company said"`,
		`"was not able to"`, `"the error caused"`, `"a bug in the"`, `"customers were unable to"`,
	}
	var mixed []string
	for len(mixed) < 32 {
		mixed = append(mixed, phrases...)
	}
	prefixes := "sys* fai* sof* upd* dat* net* ser* com* con* pro* acc* cus* err* sec* ope* res* " +
		"air* ban* pow* net* mar* man* inf* app* tra* rep* sta* inc* eng* dev* tec* use*"
	typos := "infrastrucutre authenticaiton vulnerabillity comunications misconfiguratoin " +
		"synchronizaton transportaiton reliabillity maintenence implementaiton certificaiton " +
		"availabilty responsibilty administraton interuptions investigaton"
	return []struct{ name, query string }{
		{"32 OR'ed phrases (the same)", "q=" + url.QueryEscape(or(same))},
		{"32 OR'ed phrases (8 kinds)", "q=" + url.QueryEscape(or(mixed[:32]))},
		{"32 prefixes", "q=" + url.QueryEscape(prefixes)},
		{"deep page of 32 phrases", "q=" + url.QueryEscape(or(mixed[:32])) + "&page=100&size=100"},
		{"deep page of common words", "q=" + url.QueryEscape("system OR software OR failure OR data OR update") + "&page=100&size=100"},
		{"16 long words with typos", "q=" + url.QueryEscape(typos)},
		{"suggest of typos", "suggest:q=" + url.QueryEscape(typos+" infr")},
		{"export of 32 phrases", "export:q=" + url.QueryEscape(or(mixed[:32]))},
	}
}()

// attackTarget is the path of an attack query.
func attackTarget(q string) string {
	switch {
	case strings.HasPrefix(q, "suggest:"):
		return "/api/v1/suggest?" + strings.TrimPrefix(q, "suggest:")
	case strings.HasPrefix(q, "export:"):
		return "/api/v1/export?" + strings.TrimPrefix(q, "export:")
	}
	return "/api/v1/search?" + q
}

type attackConfig struct {
	base     string
	clients  int
	duration time.Duration
	deadline time.Duration // the server's --timeout
	settle   time.Duration // wait before reading the RSS after
	pid      int
}

// attackReport is what an attack measured. Latencies are in milliseconds.
type attackReport struct {
	URL        string         `json:"url"`
	Clients    int            `json:"clients"`
	Duration   float64        `json:"duration_s"`
	DeadlineMS float64        `json:"deadline_ms"`
	Requests   int            `json:"pathological_requests"`
	Statuses   map[string]int `json:"statuses"`
	MaxMS      float64        `json:"pathological_max_ms"`
	Late       int            `json:"late"` // answered after deadline + 1 s, or not at all
	Shapes     []shapeReport  `json:"shapes"`
	Probes     []probeReport  `json:"probes"`
	IdleRSSMB  float64        `json:"idle_rss_mb"`
	PeakRSSMB  float64        `json:"peak_rss_mb"`
	AfterRSSMB float64        `json:"after_rss_mb"`
	AfterS     float64        `json:"after_s"`
	// The anonymous share (heap, stacks) of the resident size, which the
	// searches allocate; the rest is the index's files, mapped and cached.
	PeakAnonMB  float64 `json:"peak_anon_mb,omitempty"`
	AfterAnonMB float64 `json:"after_anon_mb,omitempty"`
	RSSFrom     string  `json:"rss_from"`
	ServerUp    bool    `json:"server_up_after"`
}

type shapeReport struct {
	Name     string         `json:"name"`
	N        int            `json:"n"`
	P50      float64        `json:"p50_ms"`
	Max      float64        `json:"max_ms"`
	Statuses map[string]int `json:"statuses"`
}

type probeReport struct {
	Path   string  `json:"path"`
	N      int     `json:"n"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
	Max    float64 `json:"max_ms"`
	Failed int     `json:"failed"` // not answered 200
}

// Client bounds of the attack: its requests may legitimately run long on a
// server without deadlines, and that is what it measures.
const attackReqTimeout = 3 * time.Minute

func runAttack(ctx context.Context, cfg attackConfig) (*attackReport, error) {
	tr := &http.Transport{MaxIdleConns: cfg.clients + 4, MaxIdleConnsPerHost: cfg.clients + 4, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: attackReqTimeout}
	if status, msg := doRequest(ctx, client, http.MethodGet, cfg.base+"/healthz", ""); status != http.StatusOK {
		return nil, fmt.Errorf("the server does not answer: %d %s", status, msg)
	}
	rss := newRSSReader(client, cfg)
	rep := &attackReport{URL: cfg.base, Clients: cfg.clients, DeadlineMS: ms(cfg.deadline), Statuses: map[string]int{}, RSSFrom: rss.from()}
	rep.IdleRSSMB = rss.read(ctx)

	actx, cancel := context.WithTimeout(ctx, cfg.duration)
	defer cancel()
	start := time.Now()
	type result struct {
		shape  int
		d      time.Duration
		status int
	}
	var mu sync.Mutex
	var results []result
	var wg sync.WaitGroup
	for c := 0; c < cfg.clients; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for i := c; actx.Err() == nil; i++ {
				shape := i % len(attackQueries)
				t := time.Now()
				// A request started is finished, even past the end of the
				// run: its latency is the point.
				status, _ := doRequest(context.WithoutCancel(actx), client, http.MethodGet, cfg.base+attackTarget(attackQueries[shape].query), "")
				mu.Lock()
				results = append(results, result{shape, time.Since(t), status})
				mu.Unlock()
			}
		}(c)
	}
	// Probes: one client per probe, one request every 50 ms.
	probes := []string{"/healthz", "/api/v1/search?q=outage"}
	probeTimes := make([][]time.Duration, len(probes))
	probeFailed := make([]int, len(probes))
	var pwg sync.WaitGroup
	pclient := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}, Timeout: attackReqTimeout}
	for i, p := range probes {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-actx.Done():
					return
				case <-tick.C:
				}
				t := time.Now()
				status, _ := doRequest(context.WithoutCancel(actx), pclient, http.MethodGet, cfg.base+p, "")
				probeTimes[i] = append(probeTimes[i], time.Since(t))
				if status != http.StatusOK {
					probeFailed[i]++
				}
			}
		}()
	}
	// Memory, every 100 ms until the clients are done.
	done := make(chan struct{})
	peak := make(chan [2]float64, 1)
	go func() {
		var p [2]float64
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			p[0] = max(p[0], rss.read(ctx))
			p[1] = max(p[1], rss.anon())
			select {
			case <-done:
				peak <- p
				return
			case <-t.C:
			}
		}
	}()
	pwg.Wait()
	wg.Wait()
	close(done)
	p := <-peak
	rep.PeakRSSMB, rep.PeakAnonMB = max(p[0], rss.peak()), p[1]
	rep.Duration = time.Since(start).Seconds()

	limit := cfg.deadline + time.Second
	byShape := make([][]time.Duration, len(attackQueries))
	shapeStatus := make([]map[string]int, len(attackQueries))
	var all []time.Duration
	for _, r := range results {
		key := strconv.Itoa(r.status)
		if r.status == 0 {
			key = "transport error"
		}
		rep.Statuses[key]++
		if shapeStatus[r.shape] == nil {
			shapeStatus[r.shape] = map[string]int{}
		}
		shapeStatus[r.shape][key]++
		if r.d > limit || r.status == 0 {
			rep.Late++
		}
		byShape[r.shape] = append(byShape[r.shape], r.d)
		all = append(all, r.d)
	}
	rep.Requests = len(results)
	rep.MaxMS = percentile(all, 100)
	for i, q := range attackQueries {
		rep.Shapes = append(rep.Shapes, shapeReport{Name: q.name, N: len(byShape[i]), P50: percentile(byShape[i], 50), Max: percentile(byShape[i], 100), Statuses: shapeStatus[i]})
	}
	for i, p := range probes {
		rep.Probes = append(rep.Probes, probeReport{Path: p, N: len(probeTimes[i]), P50: percentile(probeTimes[i], 50),
			P99: percentile(probeTimes[i], 99), Max: percentile(probeTimes[i], 100), Failed: probeFailed[i]})
	}

	settle := time.NewTimer(cfg.settle)
	defer settle.Stop()
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-settle.C:
	}
	rep.AfterRSSMB, rep.AfterAnonMB, rep.AfterS = rss.read(ctx), rss.anon(), cfg.settle.Seconds()
	status, _ := doRequest(ctx, client, http.MethodGet, cfg.base+"/healthz", "")
	rep.ServerUp = status == http.StatusOK
	return rep, nil
}

// rssReader reads the server's resident size: VmRSS (and VmHWM for the
// peak) from /proc with a pid, else process_resident_memory_bytes from
// /metrics.
type rssReader struct {
	client *http.Client
	cfg    attackConfig
}

func newRSSReader(client *http.Client, cfg attackConfig) *rssReader {
	return &rssReader{client: client, cfg: cfg}
}

func (r *rssReader) from() string {
	if r.cfg.pid > 0 {
		return fmt.Sprintf("/proc/%d/status VmRSS, VmHWM", r.cfg.pid)
	}
	return "/metrics process_resident_memory_bytes"
}

// read returns the resident size in MB, 0 when unknown.
func (r *rssReader) read(ctx context.Context) float64 {
	if r.cfg.pid > 0 {
		v, _ := procStatus(r.cfg.pid, "VmRSS:")
		return float64(v) / (1 << 20)
	}
	v, _ := residentBytes(ctx, r.client, r.cfg.base)
	return v / (1 << 20)
}

// anon returns the anonymous resident size in MB (0 without a pid).
func (r *rssReader) anon() float64 {
	if r.cfg.pid <= 0 {
		return 0
	}
	v, _ := procStatus(r.cfg.pid, "RssAnon:")
	return float64(v) / (1 << 20)
}

// peak returns the kernel's record of the peak resident size in MB (0
// without a pid).
func (r *rssReader) peak() float64 {
	if r.cfg.pid <= 0 {
		return 0
	}
	v, _ := procStatus(r.cfg.pid, "VmHWM:")
	return float64(v) / (1 << 20)
}

// procStatus returns a kB field of /proc/PID/status in bytes.
func procStatus(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func (r *attackReport) print(w io.Writer) {
	fmt.Fprintf(w, "pathological attack on %s: %d clients for %.1f s, server deadline %.0f ms\n", r.URL, r.Clients, r.Duration, r.DeadlineMS)
	fmt.Fprintf(w, "pathological %d requests (%s); max %.0f ms; answered after deadline+1 s or not at all: %d\n", r.Requests, statusCounts(r.Statuses), r.MaxMS, r.Late)
	for _, s := range r.Shapes {
		fmt.Fprintf(w, "  %-30s n=%-4d p50 %7.0f ms, max %7.0f ms  %v\n", s.Name, s.N, s.P50, s.Max, s.Statuses)
	}
	for _, p := range r.Probes {
		fmt.Fprintf(w, "probe %-24s n=%-4d p50 %.1f ms, p99 %.1f ms, max %.1f ms, not 200: %d\n", p.Path, p.N, p.P50, p.P99, p.Max, p.Failed)
	}
	fmt.Fprintf(w, "server RSS   idle %.0f MB, peak %.0f MB, %.0f s after %.0f MB (%s)\n", r.IdleRSSMB, r.PeakRSSMB, r.AfterS, r.AfterRSSMB, r.RSSFrom)
	if r.PeakAnonMB > 0 {
		fmt.Fprintf(w, "  of which anonymous (heap, stacks): peak %.0f MB, after %.0f MB; the rest is the index's mapped files\n", r.PeakAnonMB, r.AfterAnonMB)
	}
	fmt.Fprintf(w, "server up    %v\n", r.ServerUp)
}
