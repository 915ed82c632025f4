package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/faildex/faildex/gen"
)

func runGen(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "gen", "--n N [--seed S] [--corpus DIR] --out DIR")
	n := fs.Int("n", 1000, "number of reports")
	seed, corpus := corpusFlags(fs)
	out := fs.String("out", "", "directory to write the reports into (created)")
	workers := fs.Int("workers", 2, "goroutines writing reports")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return fmt.Errorf("%w: --out is required", errUsage)
	case *n < 1:
		return fmt.Errorf("%w: --n must be at least 1", errUsage)
	}
	st, err := generate(ctx, env, *corpus, *out, *seed, *n, *workers)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d reports, %.1f MB, in %s\n", st.Reports, float64(st.Bytes)/1e6, *out)
	return nil
}

// corpusFlags adds the two flags that choose a synthetic corpus, shared by
// gen and bench: --seed and --corpus. The same seed, corpus and size give
// the same reports.
func corpusFlags(fs *flag.FlagSet) (seed *uint64, corpus *string) {
	seed = fs.Uint64("seed", 1, "random seed; the same seed, corpus and size give the same reports")
	corpus = fs.String("corpus", defaultDataDir, "directory of real reports (*.txt) the generator learns the prose from")
	return seed, corpus
}

// generate trains a model on corpus and writes n reports into out.
func generate(ctx context.Context, env *Env, corpus, out string, seed uint64, n, workers int) (gen.Stats, error) {
	m, err := gen.Train(os.DirFS(corpus))
	if err != nil {
		return gen.Stats{}, fmt.Errorf("learning from %s: %w", corpus, err)
	}
	start := time.Now()
	st, err := m.Write(ctx, out, seed, n, workers)
	if err != nil {
		return st, err
	}
	env.Log.Info().Int("reports", st.Reports).Int64("bytes", st.Bytes).Int("topics", m.Topics()).
		Str("corpus_fingerprint", m.Fingerprint).Dur("took", time.Since(start)).Msg("corpus written")
	return st, nil
}
