package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/replica"
	"github.com/faildex/faildex/server"
)

// retryNotReady is how often a replica without any generation retries its
// source.
const retryNotReady = 2 * time.Second

// serveReplica serves an index read from an artifact source: it listens at
// once (liveness), is ready only once a verified generation is open, and
// with --poll follows the source, switching to each new artifact with the
// server's zero-downtime reload.
func serveReplica(ctx context.Context, env *Env, o serveOptions) error {
	if len(o.paths) > 0 {
		return fmt.Errorf("%w: --index-from takes no report paths", errUsage)
	}
	if o.poll < 0 {
		return fmt.Errorf("%w: --poll must not be negative", errUsage)
	}
	f, err := o.fetch.follower(o.dir)
	if err != nil {
		return err
	}
	engs := &engines{dir: o.dir, opts: o.engine}
	srv, err := server.New(o.serverConfig(env.Log, engs.searcher), nil)
	if err != nil {
		return err
	}
	if err := srv.Listen(); err != nil {
		return err
	}
	servingGC(env, o.gcPercent, env.Log)
	env.Log.Info().Str("url", srv.URL()).Str("source", f.Source).Dur("poll", o.poll).Msg("listening; ready once a verified generation is open")
	if env.OnListen != nil {
		env.OnListen(srv.URL())
	}
	fctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { follow(fctx, env.Log, srv, f, o.dir, o.poll) })
	err = run(ctx, env, srv)
	stop()
	wg.Wait()
	return err
}

// follow keeps the server on the newest artifact of f's source until ctx
// ends. A generation already on disk (a restarted replica) is served at
// once, after the same verification as any open. A refused artifact is
// logged and retried at the next check; what serves keeps serving.
func follow(ctx context.Context, log zerolog.Logger, srv *server.Server, f *replica.Follower, dir string, poll time.Duration) {
	ready := false
	open := func() {
		start := time.Now()
		if err := srv.Reload(ctx); err != nil {
			log.Error().Err(err).Msg("opening the generation failed")
			return
		}
		ready = true
		f.SetCurrent(index.CurrentArtifact(dir))
		log.Info().Str("sha256", f.Current()).Dur("took", time.Since(start)).Msg("serving generation")
	}
	if index.Exists(dir) {
		open()
	}
	for {
		start := time.Now()
		res, err := f.Check(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && (errors.Is(err, index.ErrDamaged) || errors.Is(err, index.ErrTooLarge)):
			log.Error().Err(err).Str("sha256", res.Sum).Msg("artifact refused; the current generation keeps serving")
		case err != nil:
			log.Warn().Err(err).Msg("checking the source failed; the current generation keeps serving")
		case res.Installed != nil:
			in := res.Installed
			log.Info().Str("sha256", in.Sum).Int64("bytes", in.Size).Uint64("documents", in.Count).
				Time("built", in.Built).Dur("took", time.Since(start)).Msg("artifact installed")
			open()
		}
		wait := poll
		if !ready && (wait == 0 || wait > retryNotReady) {
			wait = retryNotReady
		} else if wait == 0 {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}
