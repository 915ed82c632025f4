package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/replica"
)

func runPack(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "pack", "[--index DIR] --out FILE|DIR/")
	dir := indexDirFlag(env, fs)
	out := fs.String("out", "", "artifact file (its checksum goes to FILE.sha256), or an artifact directory (faildex-SUM.tar and latest.sha256)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	start := time.Now()
	info, err := index.PackFile(*dir, *out)
	if err != nil {
		return err
	}
	env.Log.Info().Str("artifact", info.Path).Str("sha256", info.Sum).Int64("bytes", info.Size).
		Int("files", info.Files).Uint64("documents", info.Count).Dur("took", time.Since(start)).Msg("packed")
	fmt.Fprintf(env.Stdout, "%s  %s\n", info.Sum, info.Path)
	return nil
}

func runUnpack(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "unpack", "--from SOURCE [--index DIR]")
	dir := indexDirFlag(env, fs)
	fetch := addFetchFlags(fs, "from")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	f, err := fetch.follower(*dir)
	if err != nil {
		return err
	}
	f.SetCurrent(index.CurrentArtifact(*dir))
	start := time.Now()
	res, err := f.Check(ctx)
	if err != nil {
		return err
	}
	if res.Installed == nil {
		env.Log.Info().Str("sha256", res.Sum).Msg("already current")
		return nil
	}
	in := res.Installed
	env.Log.Info().Str("sha256", in.Sum).Str("generation", in.Gen).Int64("bytes", in.Size).
		Uint64("documents", in.Count).Dur("took", time.Since(start)).Msg("installed")
	return nil
}

// fetchFlags are the flags of reading artifacts from a source.
type fetchFlags struct {
	from     *string
	maxBytes *int64
	timeout  *time.Duration
}

// addFetchFlags adds the source flag, named from, and the bounds of a
// download.
func addFetchFlags(fs *flag.FlagSet, from string) fetchFlags {
	return fetchFlags{
		from:     fs.String(from, "", "artifact source: a path or http(s):// URL of a checksum file (DIR/latest.sha256) or of an artifact"),
		maxBytes: fs.Int64("fetch-max-bytes", replica.DefaultMaxBytes, "largest artifact accepted"),
		timeout:  fs.Duration("fetch-timeout", replica.DefaultTimeout, "time limit of one download and install"),
	}
}

// follower returns a follower of the source for the index directory dir.
func (ff fetchFlags) follower(dir string) (*replica.Follower, error) {
	if err := replica.Validate(*ff.from); err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	if *ff.maxBytes <= 0 || *ff.timeout <= 0 {
		return nil, fmt.Errorf("%w: --fetch-max-bytes and --fetch-timeout must be positive", errUsage)
	}
	return &replica.Follower{Dir: dir, Source: *ff.from, MaxBytes: *ff.maxBytes, Timeout: *ff.timeout}, nil
}
