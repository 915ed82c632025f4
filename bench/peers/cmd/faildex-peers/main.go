// Command faildex-peers times the query classes of 'faildex bench' on other
// engines over the same synthetic corpus, and prints the results as JSON
// (bench.PeerOutput) for 'faildex bench --peers' to merge into its table:
//
//   - pg_naive: PostgreSQL queried as the Failures Database queries it
//     (ILIKE on the summary, exact match on the option strings);
//   - pg_fts: PostgreSQL done properly (tsvector + GIN, options as text[]
//     with GIN indexes, facet counts with GROUP BY over unnest);
//   - sqlite_fts5: SQLite FTS5 (modernc.org/sqlite, pure Go), facet counts
//     with GROUP BY over json_each;
//   - bleve_naive: bleve with its own facets (no bitmaps), hits decoded
//     from the stored JSON: faildex before its optimisations;
//   - sphinx: Sphinx 2.2, a private searchd on 127.0.0.1 queried over
//     SphinxQL, FACET clauses for the counts (sphinx.go);
//   - xapian: Xapian 1.4 through Debian's python3-xapian, driven from a
//     small Python program (xapian_peer.py) over a pipe, ValueCountMatchSpy
//     for the counts (xapian.go).
//
// With --mix D, each of sphinx, xapian and bleve_naive also serves the
// throughput mix (bench.RunMix) for D after its classes: --clients clients
// at once, each with its own connection to searchd, its own Python process
// on the Xapian database, or its own goroutine on the bleve index; the
// results go in the output's "throughput".
//
// PostgreSQL runs as a throwaway cluster (initdb, pg_ctl) in a temporary
// directory on 127.0.0.1, as the postgres user when run as root; see
// ../../setup-postgres.sh for installing it, and ../../setup-sphinx.sh and
// ../../setup-xapian.sh for the other two.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/faildex/faildex/bench"
	"github.com/faildex/faildex/index"
)

// peer is one engine under test.
type peer interface {
	Name() string
	// Run answers one request of a class, writing what a server would send
	// to w, and returns the total and the facet counts (nil when the
	// engine's facets mean something else).
	Run(ctx context.Context, c bench.Class, w io.Writer) (total uint64, counts map[string]uint64, err error)
	// Approx reports whether the class's totals are expected to differ from
	// faildex's (other stemming or matching rules).
	Approx(c bench.Class) bool
	Close() error
}

// Optional abilities of a peer.
type (
	// chooser decides which classes the peer answers; without it, a peer
	// answers every search class but those reading what people type
	// (typos, completions, synonyms), which are faildex's own.
	chooser interface{ Supports(c bench.Class) bool }
	// cpuMeter measures the CPU time of the process that answers, when it
	// is not this one (searchd, the Python process).
	cpuMeter interface{ CPUSeconds() (float64, error) }
	// loader says how the peer took in the corpus.
	loader interface{ Load() bench.PeerLoad }
)

// supports reports whether p answers class c.
func supports(p peer, c bench.Class) bool {
	if c.Exploring() {
		return false
	}
	if ch, ok := p.(chooser); ok {
		return ch.Supports(c)
	}
	return !c.Reading
}

// reload makes the peers that keep their load (sphinx, xapian) load anew.
var reload bool

// loadStamp is what a kept load was made from and how it went.
type loadStamp struct {
	N     int            `json:"n"`
	Seed  uint64         `json:"seed"`
	Bytes int64          `json:"bytes"`
	Load  bench.PeerLoad `json:"load"`
}

const stampName = "load.json"

// keptLoad returns the figures of a load kept in work of the same corpus.
func keptLoad(work string, n int, seed uint64, bytes int64) (bench.PeerLoad, bool) {
	if reload {
		return bench.PeerLoad{}, false
	}
	var st loadStamp
	b, err := os.ReadFile(filepath.Join(work, stampName))
	if err != nil || json.Unmarshal(b, &st) != nil || st.N != n || st.Seed != seed || st.Bytes != bytes {
		return bench.PeerLoad{}, false
	}
	st.Load.Note += " (kept from an earlier run; figures of that load)"
	return st.Load, true
}

// keepLoad records a finished load in work.
func keepLoad(work string, n int, seed uint64, l bench.PeerLoad) error {
	b, _ := json.Marshal(loadStamp{N: n, Seed: seed, Bytes: l.Bytes, Load: l})
	return os.WriteFile(filepath.Join(work, stampName), b, 0o644)
}

// errUnsupported is returned for a class a peer has no equivalent of.
var errUnsupported = errors.New("no equivalent of this class")

// encodeResult writes what a server would send.
func encodeResult(w io.Writer, out *result) error {
	return json.NewEncoder(w).Encode(out)
}

func main() {
	dir := flag.String("dir", "bench-data", "work directory of 'faildex bench' (corpora are read from it, peer databases kept in it)")
	n := flag.Int("n", 10000, "reports")
	seed := flag.Uint64("seed", 1, "corpus seed")
	reps := flag.Int("reps", 200, "timed repetitions per class (fewer for slow classes: at most about 20 s each)")
	flag.BoolVar(&reload, "rebuild", false, "load sphinx and xapian anew even when a load of this corpus is kept")
	flag.StringVar(&sphinxRanker, "sphinx-ranker", sphinxRanker, "Sphinx's ranker for word queries (proximity_bm25, bm25, none, ...)")
	mix := flag.Duration("mix", 0, "also run the throughput mix (bench.RunMix) on each engine for this long, with --clients concurrent clients (sphinx, xapian and bleve_naive; 0: no mix)")
	flag.IntVar(&mixClients, "clients", mixClients, "concurrent clients of the throughput mix, each its own connection or process")
	engines := flag.String("engines", "sphinx,xapian,bleve_naive,sqlite_fts5,pg_fts,pg_naive", "engines to run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if mixClients < 1 {
		fmt.Fprintln(os.Stderr, "faildex-peers: --clients must be at least 1")
		os.Exit(2)
	}
	out, err := run(ctx, *dir, *n, *seed, *reps, *mix, strings.Split(*engines, ","))
	if err != nil {
		fmt.Fprintln(os.Stderr, "faildex-peers:", err)
		os.Exit(1)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	enc.Encode(out)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "peers: "+format+"\n", args...)
}

// loadIncidents reads the first n reports of the corpus.
func loadIncidents(dir string, seed uint64, n int) ([]index.Incident, error) {
	paths, _, err := bench.CorpusPaths(bench.CorpusDir(dir, seed), n)
	if err != nil {
		return nil, err
	}
	var ins []index.Incident
	err = index.ReadPaths(paths, index.Handler{
		Record: func(r index.Record) error {
			ins = append(ins, r.Incident)
			return nil
		},
		Problem: func(p index.Problem) {
			if !p.Warning {
				logf("rejected %v", p.Error())
			}
		},
	})
	if err == nil && len(ins) != n {
		err = fmt.Errorf("read %d reports, want %d", len(ins), n)
	}
	return ins, err
}

func run(ctx context.Context, dir string, n int, seed uint64, reps int, mix time.Duration, engines []string) (*bench.PeerOutput, error) {
	out := &bench.PeerOutput{}
	var ins []index.Incident
	load := func() ([]index.Incident, error) {
		if ins != nil {
			return ins, nil
		}
		start := time.Now()
		var err error
		ins, err = loadIncidents(dir, seed, n)
		logf("read %d reports in %s", len(ins), time.Since(start).Round(time.Millisecond))
		return ins, err
	}
	corpusBytes := func() ([]index.Incident, int64, error) {
		ins, err := load()
		if err != nil {
			return nil, 0, err
		}
		_, b, err := bench.CorpusPaths(bench.CorpusDir(dir, seed), n)
		return ins, b, err
	}
	var pg *postgres
	defer func() {
		if pg != nil {
			pg.stop()
		}
	}()
	last := -1
	for i, name := range engines {
		if strings.TrimSpace(name) != "" {
			last = i
		}
	}
	for i, name := range engines {
		name = strings.TrimSpace(name)
		var p peer
		var err error
		start := time.Now()
		switch name {
		case "sphinx":
			p, err = openSphinx(ctx, dir, seed, n, corpusBytes)
		case "xapian":
			p, err = openXapian(ctx, dir, seed, n, corpusBytes)
		case "bleve_naive":
			p, err = openBleveNaive(ctx, dir, seed, n, load)
		case "sqlite_fts5":
			p, err = openSQLite(ctx, dir, seed, n, load)
		case "pg_fts", "pg_naive":
			if pg == nil {
				if pg, err = startPostgres(ctx, dir); err != nil {
					return nil, err
				}
				out.Info = append(out.Info, "postgres: "+pg.version)
			}
			if name == "pg_fts" {
				p, err = openPGFTS(ctx, pg, n, load)
			} else {
				p, err = openPGNaive(ctx, pg, n, load)
			}
		case "":
			continue
		default:
			return nil, fmt.Errorf("unknown engine %q", name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if i == last {
			// The reports are not needed any more: the clients' garbage
			// collections need not scan them (gigabytes at 100k).
			ins = nil
			runtime.GC()
		}
		out.Info = append(out.Info, fmt.Sprintf("%s: ready in %.1f s (load or reuse)", name, time.Since(start).Seconds()))
		if l, ok := p.(loader); ok {
			out.Loads = append(out.Loads, l.Load())
		}
		if v, ok := p.(interface{ Version() string }); ok {
			out.Info = append(out.Info, name+": "+v.Version())
		}
		for _, c := range bench.Classes() {
			if !supports(p, c) {
				continue
			}
			st, err := timeClass(ctx, p, c, reps)
			if err != nil {
				p.Close()
				return nil, fmt.Errorf("%s %s: %w", name, c.Name, err)
			}
			st.N = n
			out.Stats = append(out.Stats, st)
			logf("%-12s %-15s p50 %9.3f ms  total %d", name, c.Name, st.P50, st.Total)
		}
		if _, ok := p.(concurrent); ok && mix > 0 {
			tp, err := runMix(ctx, p, bench.MixOptions{Clients: mixClients, Duration: mix})
			if err != nil {
				p.Close()
				return nil, err
			}
			out.Throughputs = append(out.Throughputs, tp)
			logf("%-12s mix, %d clients: %.0f requests/s, cpu %.3f ms per request", name, tp.Clients, tp.PerSecond, tp.CPU)
		} else if mix > 0 {
			out.Info = append(out.Info, name+": no throughput mix (its clients are not set up for concurrency here)")
		}
		if err := p.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

const classBudget = 20 * time.Second

func timeClass(ctx context.Context, p peer, c bench.Class, reps int) (bench.Stats, error) {
	st := bench.Stats{Engine: p.Name(), Class: c.Name, Approx: p.Approx(c)}
	t := time.Now()
	var err error
	if st.Total, st.Counts, err = p.Run(ctx, c, io.Discard); err != nil {
		return st, err
	}
	first := time.Since(t)
	if c.ExportLimit > 0 {
		reps = min(reps, 20)
	}
	if first > 0 {
		reps = max(3, min(reps, int(classBudget/first)))
	}
	warm := max(2, reps/10)
	if first > time.Second {
		warm = 0 // the first run was the warm-up
	}
	for i := 0; i < warm; i++ {
		if _, _, err := p.Run(ctx, c, io.Discard); err != nil {
			return st, err
		}
	}
	d := make([]time.Duration, reps)
	cpu := func() (float64, error) { return bench.CPUSeconds(), nil }
	if m, ok := p.(cpuMeter); ok {
		cpu = m.CPUSeconds
	}
	cpu0, err := cpu()
	if err != nil {
		return st, err
	}
	for i := range d {
		t := time.Now()
		if _, _, err := p.Run(ctx, c, io.Discard); err != nil {
			return st, err
		}
		d[i] = time.Since(t)
	}
	cpu1, err := cpu()
	if err != nil {
		return st, err
	}
	if !strings.HasPrefix(p.Name(), "pg_") {
		st.CPU = (cpu1 - cpu0) * 1000 / float64(reps)
	}
	st.Reps = reps
	st.P50, st.P95, st.P99, st.Mean = bench.Percentiles(d)
	return st, nil
}

// words returns the class's query as a phrase or a single word.
func words(c bench.Class) (text string, phrase bool) {
	q := c.Req.Query
	if strings.HasPrefix(q, `"`) && strings.HasSuffix(q, `"`) && len(q) > 1 {
		return strings.Trim(q, `"`), true
	}
	return q, false
}

// synonymSets holds the words of the classes that faildex widens with its
// synonyms, each with its set in search/synonyms.txt as faildex searches
// it: "down", a stop word of the English analyzer, matches nothing there.
// Peers search the set's OR, which asks what faildex asks.
var synonymSets = map[string][]string{
	bench.Synonym: {"outage", "downtime", "offline", "unavailable", "unavailability", "disruption"},
}

// widened returns the synonym set of a class's single word, or nil.
func widened(c bench.Class) []string {
	if text, phrase := words(c); !phrase {
		return synonymSets[text]
	}
	return nil
}

// page returns the class's offset and size.
func page(c bench.Class) (offset, size int) {
	size = c.Req.Size
	if size == 0 {
		size = 20
	}
	p := c.Req.Page
	if p == 0 {
		p = 1
	}
	return (p - 1) * size, size
}

// hit is what a result list shows, for peers to fill and encode.
type hit struct {
	ID        string              `json:"id"`
	Title     string              `json:"title"`
	Published string              `json:"published"`
	Summary   string              `json:"summary"`
	Score     float64             `json:"score"`
	Options   map[string][]string `json:"options"`
}

type result struct {
	Total  uint64            `json:"total"`
	Hits   []hit             `json:"hits"`
	Counts map[string]uint64 `json:"counts"`
}

func lead(in *index.Incident) string {
	s := in.Summary
	if s == "" {
		s = in.SoftwareCauses
	}
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
