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
//     from the stored JSON: faildex before its optimisations.
//
// PostgreSQL runs as a throwaway cluster (initdb, pg_ctl) in a temporary
// directory on 127.0.0.1, as the postgres user when run as root; see
// ../../setup-postgres.sh for installing it.
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

func main() {
	dir := flag.String("dir", "bench-data", "work directory of 'faildex bench' (corpora are read from it, peer databases kept in it)")
	n := flag.Int("n", 10000, "reports")
	seed := flag.Uint64("seed", 1, "corpus seed")
	reps := flag.Int("reps", 200, "timed repetitions per class (fewer for slow classes: at most about 20 s each)")
	engines := flag.String("engines", "bleve_naive,sqlite_fts5,pg_fts,pg_naive", "engines to run")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	out, err := run(ctx, *dir, *n, *seed, *reps, strings.Split(*engines, ","))
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

func run(ctx context.Context, dir string, n int, seed uint64, reps int, engines []string) (*bench.PeerOutput, error) {
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
	var pg *postgres
	defer func() {
		if pg != nil {
			pg.stop()
		}
	}()
	for _, name := range engines {
		name = strings.TrimSpace(name)
		var p peer
		var err error
		start := time.Now()
		switch name {
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
		out.Info = append(out.Info, fmt.Sprintf("%s: ready in %.1f s (load or reuse)", name, time.Since(start).Seconds()))
		for _, c := range bench.Classes() {
			if c.Reading {
				continue // typos, completions and synonyms are faildex's own
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
	cpu0 := bench.CPUSeconds()
	for i := range d {
		t := time.Now()
		if _, _, err := p.Run(ctx, c, io.Discard); err != nil {
			return st, err
		}
		d[i] = time.Since(t)
	}
	if !strings.HasPrefix(p.Name(), "pg_") {
		st.CPU = (bench.CPUSeconds() - cpu0) * 1000 / float64(reps)
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

var errStop = errors.New("stop")
