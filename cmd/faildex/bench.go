package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/faildex/faildex/bench"
)

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "bench", "[--n N[,N...]] [--peers] [--http=false] [--out DIR] [--reps R]")
	ns := fs.String("n", "10000", "corpus sizes, comma-separated (e.g. 1000,10000,50000,100000)")
	peers := fs.Bool("peers", false, "also measure Sphinx, Xapian, PostgreSQL, SQLite FTS5 and plain bleve (needs the faildex-peers program and bench/setup-*.sh; see bench/peers)")
	engines := fs.String("peer-engines", "", "with --peers, only these engines, comma-separated (sphinx,xapian,bleve_naive,sqlite_fts5,pg_fts,pg_naive)")
	overHTTP := fs.Bool("http", true, "also time faildex over HTTP: a server started on 127.0.0.1 on the same index")
	out := fs.String("out", "bench-out", "work directory: corpora, indexes and results are kept here and reused")
	reps := fs.Int("reps", 200, "timed repetitions per query class")
	seed, corpus := corpusFlags(fs)
	rebuild := fs.Bool("rebuild", false, "rebuild indexes even when they exist")
	svg := fs.String("svg", "", "write the latency-versus-size plot of every result in --out to this SVG file")
	mix := fs.Duration("mix", bench.DefaultMixDuration, "how long each engine serves the throughput mix (concurrent clients sending the search classes every engine answers)")
	mixClients := fs.Int("mix-clients", bench.DefaultMixClients, "concurrent clients of the throughput mix (each its own connection)")
	updates := fs.Int("updates", 0, "also measure live updates over HTTP on a copy of each index: this many PUTs by 32 clients while 20 clients search, after 100 timed one at a time until visible (e.g. 10000)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *mix <= 0 || *mixClients < 1 {
		return fmt.Errorf("%w: --mix and --mix-clients must be positive", errUsage)
	}
	var sizes []int
	for _, s := range strings.Split(*ns, ",") {
		if s == "" && *svg != "" {
			continue // --n "" --svg FILE: only plot the results kept in --out
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("%w: --n: %q is not a positive number", errUsage, s)
		}
		sizes = append(sizes, n)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	var serve []string
	if *overHTTP {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("bench: --http needs this program's path: %w", err)
		}
		serve = []string{exe, "serve"}
	}
	for _, n := range sizes {
		cfg := bench.Config{N: n, Seed: *seed, Dir: *out, Corpus: *corpus, Reps: *reps, Rebuild: *rebuild, Log: env.Stderr, Serve: serve, PeerEngines: *engines,
			MixClients: *mixClients, MixDuration: *mix, GCPercent: benchGCPercent(env)}
		rep, err := bench.Run(ctx, cfg)
		if err != nil {
			return err
		}
		if *overHTTP {
			if err := bench.RunHTTP(ctx, cfg, rep); err != nil {
				return err
			}
		}
		resultFile := filepath.Join(*out, fmt.Sprintf("result-n%d.json", n))
		if *peers {
			if err := bench.RunPeers(ctx, cfg, rep); err != nil {
				return err
			}
		} else if old, err := bench.LoadResult(resultFile); err == nil && len(old.Peers) > 0 {
			// Peers are slow to measure: keep their last results, marked
			// with when they were taken.
			bench.KeepPeers(rep, old)
		}
		rep.Table(env.Stdout)
		fmt.Fprintln(env.Stdout)
		if *updates > 0 {
			ur, err := bench.RunUpdates(ctx, cfg, bench.UpdateOptions{Updates: *updates, Visible: min(100, *updates)})
			if err != nil {
				return err
			}
			ur.Table(env.Stdout)
			fmt.Fprintln(env.Stdout)
			b, _ := json.MarshalIndent(ur, "", "  ")
			if err := os.WriteFile(filepath.Join(*out, fmt.Sprintf("updates-n%d.json", n)), b, 0o644); err != nil {
				return err
			}
		}
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(resultFile, b, 0o644); err != nil {
			return err
		}
	}
	if *svg != "" {
		reps, err := bench.LoadResults(*out)
		if err != nil {
			return err
		}
		f, err := os.Create(*svg)
		if err != nil {
			return err
		}
		bench.WriteSVG(f, reps)
		if err := f.Close(); err != nil {
			return err
		}
		env.Log.Info().Str("svg", *svg).Int("results", len(reps)).Msg("plot written")
	}
	return nil
}

// benchGCPercent is the collector's target for timing faildex in process:
// serve's, so that in process and over HTTP run alike, unless GOGC sets
// the process's own (0: left alone).
func benchGCPercent(env *Env) int {
	if env.Getenv("GOGC") != "" {
		return 0
	}
	return defaultServeGCPercent
}
