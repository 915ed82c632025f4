package bench

import (
	"fmt"
	"io"
	"time"
)

// Table writes the report as text tables: faildex in process (and over
// HTTP when measured) with each peer's p50 and the speed-up; then, with
// peers, every engine's p50, p99 and CPU per request, faildex's ratios to
// the best peer, and how each engine took in the corpus.
func (r *Report) Table(w io.Writer) {
	fmt.Fprintf(w, "faildex bench: %d reports (%.0f MB of report files, %.0f MB of text fields), seed %d, GOMAXPROCS %d, GC target %d in process, load average %.1f, %s\n",
		r.N, float64(r.CorpusBytes)/1e6, float64(r.TextBytes)/1e6, r.Seed, r.GoMaxProcs, r.GCPercent, r.LoadAvg, r.When.Format(time.RFC3339))
	if r.BuildSeconds > 0 {
		reused := ""
		if !r.Built {
			reused = " (index reused; figures of its build)"
		}
		fmt.Fprintf(w, "build: %.1f s, %.1f MB/s of report files, %.0f CPU-s (%.1f MB per CPU-second), peak RSS %.0f MB%s\n",
			r.BuildSeconds, r.BuildMBps(), r.BuildCPU, float64(r.CorpusBytes)/1e6/max(r.BuildCPU, 1e-9), r.BuildRSSMB, reused)
	}
	fmt.Fprintf(w, "index: %.1f MB, %.2fx the report files", float64(r.IndexBytes)/1e6, float64(r.IndexBytes)/float64(r.CorpusBytes))
	if r.TextBytes > 0 {
		fmt.Fprintf(w, ", %.2fx the text fields", float64(r.IndexBytes)/float64(r.TextBytes))
	}
	clients := 4 // results of before Throughputs were recorded
	if len(r.Throughputs) > 0 {
		clients = r.Throughputs[0].Clients
	}
	fmt.Fprintf(w, "\nopen + first query: %.2f s; mixed requests (%d goroutines): %.0f/s; peak RSS %.0f MB\n\n",
		r.OpenSeconds, clients, r.Throughput, r.PeakRSSMB)
	peers := map[string]map[string]Stats{}
	var names []string
	for _, s := range r.Peers {
		if peers[s.Engine] == nil {
			peers[s.Engine] = map[string]Stats{}
			names = append(names, s.Engine)
		}
		peers[s.Engine][s.Class] = s
	}
	http := map[string]Stats{}
	for _, s := range r.HTTP {
		http[s.Class] = s
	}
	fmt.Fprintf(w, "%-15s %8s %9s %9s %9s %9s", "class", "hits", "p50 ms", "p95 ms", "p99 ms", "cpu ms")
	if len(http) > 0 {
		fmt.Fprintf(w, " %9s %9s %9s", "http p50", "http p99", "http cpu")
	}
	for _, n := range names {
		fmt.Fprintf(w, " %16s", n+" p50")
	}
	if len(names) > 0 {
		fmt.Fprintf(w, " %8s", "speedup")
	}
	fmt.Fprintln(w)
	for _, s := range r.Stats {
		fmt.Fprintf(w, "%-15s %8d %9.3f %9.3f %9.3f %9.3f", s.Class, s.Total, s.P50, s.P95, s.P99, s.CPU)
		if len(http) > 0 {
			if h, ok := http[s.Class]; ok {
				fmt.Fprintf(w, " %9.3f %9.3f %9.3f", h.P50, h.P99, h.CPU)
			} else {
				fmt.Fprintf(w, " %9s %9s %9s", "-", "-", "-")
			}
		}
		best := 0.0
		for _, n := range names {
			p, ok := peers[n][s.Class]
			if !ok {
				fmt.Fprintf(w, " %16s", "-")
				continue
			}
			fmt.Fprintf(w, " %16.3f", p.P50)
			if best == 0 || p.P50 < best {
				best = p.P50
			}
		}
		if len(names) > 0 {
			if best > 0 && s.P50 > 0 {
				fmt.Fprintf(w, " %7.1fx", best/s.P50)
			} else {
				fmt.Fprintf(w, " %8s", "-")
			}
		}
		fmt.Fprintln(w)
	}
	if len(names) > 0 {
		r.peerTables(w, names, peers, http)
	}
	r.throughputTable(w)
	for _, l := range r.HTTPInfo {
		fmt.Fprintln(w, "http: "+l)
	}
	if len(r.PeerInfo) > 0 {
		fmt.Fprintln(w)
		for _, l := range r.PeerInfo {
			fmt.Fprintln(w, l)
		}
	}
	fmt.Fprintf(w, "\nlatency: engine.Search plus JSON encoding of the result, in process; cpu: CPU time per request; speedup: best peer p50 / faildex p50\n")
	if len(http) > 0 {
		fmt.Fprintf(w, "http: the same requests to a faildex server on 127.0.0.1 (one keep-alive connection, no compression), to the answer's last byte; http cpu: the server process's CPU per request\n")
	}
}

// peerTables writes every engine's p50, p99 and CPU per request, faildex's
// ratios to the best peer, and the engines' loads.
func (r *Report) peerTables(w io.Writer, names []string, peers map[string]map[string]Stats, http map[string]Stats) {
	engines := names
	if len(http) > 0 {
		engines = append([]string{HTTPEngine}, names...)
	}
	get := func(e, class string) (Stats, bool) {
		if e == HTTPEngine {
			s, ok := http[class]
			return s, ok
		}
		s, ok := peers[e][class]
		return s, ok
	}
	fmt.Fprintf(w, "\np50 / p99 / cpu ms per request (cpu: the answering process; * other matching rules or the nearest equivalent, see notes)\n%-15s %22s", "class", "faildex")
	for _, e := range engines {
		fmt.Fprintf(w, " %22s", e)
	}
	fmt.Fprintln(w)
	cell := func(s Stats) string {
		cpu := "-"
		if s.CPU > 0 {
			cpu = fmt.Sprintf("%.2f", s.CPU)
		}
		mark := ""
		if s.Approx {
			mark = "*"
		}
		return fmt.Sprintf("%.2f / %.2f / %s%s", s.P50, s.P99, cpu, mark)
	}
	for _, s := range r.Stats {
		ran := false
		for _, n := range names {
			if _, ok := peers[n][s.Class]; ok {
				ran = true
			}
		}
		if !ran {
			continue
		}
		fmt.Fprintf(w, "%-15s %22s", s.Class, cell(s))
		for _, e := range engines {
			if p, ok := get(e, s.Class); ok {
				fmt.Fprintf(w, " %22s", cell(p))
			} else {
				fmt.Fprintf(w, " %22s", "-")
			}
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "\nfaildex / best peer (under 1: faildex ahead; best p50 and best CPU of the peers, each named)\n%-15s %20s %20s %20s %20s\n",
		"class", "p50 in process", "p50 http", "cpu in process", "cpu http")
	for _, s := range r.Stats {
		var bestLat, bestCPU Stats
		for _, n := range names {
			p, ok := peers[n][s.Class]
			if !ok {
				continue
			}
			if p.P50 > 0 && (bestLat.Engine == "" || p.P50 < bestLat.P50) {
				bestLat = p
			}
			if p.CPU > 0 && (bestCPU.Engine == "" || p.CPU < bestCPU.CPU) {
				bestCPU = p
			}
		}
		if bestLat.Engine == "" {
			continue
		}
		ratio := func(ours float64, best Stats, v float64) string {
			if ours <= 0 || v <= 0 {
				return "-"
			}
			return fmt.Sprintf("%.2f (%s)", ours/v, best.Engine)
		}
		h := http[s.Class]
		fmt.Fprintf(w, "%-15s %20s %20s %20s %20s\n", s.Class,
			ratio(s.P50, bestLat, bestLat.P50), ratio(h.P50, bestLat, bestLat.P50),
			ratio(s.CPU, bestCPU, bestCPU.CPU), ratio(h.CPU, bestCPU, bestCPU.CPU))
	}

	if len(r.PeerLoads) > 0 {
		fmt.Fprintf(w, "\n%-15s %9s %9s %9s %10s %9s  %s\n", "load", "seconds", "MB/s", "CPU-s", "index MB", "x files", "note")
		if r.BuildSeconds > 0 {
			fmt.Fprintf(w, "%-15s %9.1f %9.2f %9.1f %10.1f %9.2f  %s\n", "faildex", r.BuildSeconds, r.BuildMBps(), r.BuildCPU,
				float64(r.IndexBytes)/1e6, float64(r.IndexBytes)/float64(r.CorpusBytes), "index.Build from the report files, all cores")
		}
		for _, l := range r.PeerLoads {
			sec, mbps, cpu := "reused", "-", "-"
			if l.Seconds > 0 {
				sec, mbps = fmt.Sprintf("%.1f", l.Seconds), fmt.Sprintf("%.2f", l.MBps())
			}
			if l.CPUSeconds > 0 {
				cpu = fmt.Sprintf("%.1f", l.CPUSeconds)
			}
			ratio := "-"
			if l.Bytes > 0 {
				ratio = fmt.Sprintf("%.2f", float64(l.IndexBytes)/float64(l.Bytes))
			}
			fmt.Fprintf(w, "%-15s %9s %9s %9s %10.1f %9s  %s\n", l.Engine, sec, mbps, cpu, float64(l.IndexBytes)/1e6, ratio, l.Note)
		}
	}
}
