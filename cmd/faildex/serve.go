package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
	"github.com/rs/zerolog"
)

// listFlag is a repeatable, comma-separated string flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "serve", "[--index DIR] [--addr HOST:PORT] [flags] [PATH ...]")
	dir := indexDirFlag(env, fs)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	var cors listFlag
	fs.Var(&cors, "cors-origin", "origin allowed to call /api/v1 from browsers (repeatable; * for any)")
	baseURL := fs.String("base-url", env.Getenv("FAILDEX_BASE_URL"), "public scheme and host of every absolute link, e.g. https://faildex.example (env FAILDEX_BASE_URL; default: the listen address)")
	var hosts listFlag
	fs.Var(&hosts, "allow-host", "without --base-url, a further Host header (host[:port]) that absolute links may name (repeatable)")
	frame := fs.String("frame-ancestors", "*", "CSP frame-ancestors of /embed (other pages allow only 'self')")
	token := fs.String("admin-token", env.Getenv("FAILDEX_ADMIN_TOKEN"), "token for POST /admin/reload (env FAILDEX_ADMIN_TOKEN; empty disables it)")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit of one request's search")
	dev := fs.Bool("dev", false, "re-read templates from ./web on every request")
	maxSearches := fs.Int("max-searches", 0, "searches run at once; as many again wait up to 1 s, others get 503 (0: twice the cores)")
	maxHeavy := fs.Int("max-heavy-searches", 0, "heavy searches (phrases, prefixes, long queries, deep pages, exports) run at once, within --max-searches (0: half the cores, at least 1)")
	maxConns := fs.Int("max-conns", server.DefaultMaxConns, "open connections accepted at once")
	idle := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "close keep-alive connections idle this long")
	metricsAddr := fs.String("metrics-addr", "", "serve /metrics on this address only (e.g. 127.0.0.1:9090) instead of --addr")
	metricsToken := fs.String("metrics-token", env.Getenv("FAILDEX_METRICS_TOKEN"), "bearer token /metrics requires (env FAILDEX_METRICS_TOKEN; empty: none)")
	reading := addReadingFlags(fs)
	fetch := addFetchFlags(fs, "index-from")
	poll := fs.Duration("poll", 0, "with --index-from: check the source this often and switch to new artifacts (0: only at start)")
	drain := fs.Duration("drain", 0, "on SIGTERM, keep answering this long while /readyz says 503, before closing (behind a load balancer: a few health-check intervals)")
	drainTimeout := fs.Duration("drain-timeout", 10*time.Second, "on SIGTERM, the longest wait for requests in flight")
	paths, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	opts, err := reading.options()
	if err != nil {
		return err
	}
	return serve(ctx, env, serveOptions{
		dir: *dir, addr: *addr, paths: paths, cors: cors, frameAncestors: *frame,
		adminToken: *token, timeout: *timeout, dev: *dev, engine: opts,
		maxSearches: *maxSearches, maxHeavy: *maxHeavy, maxConns: *maxConns, idleTimeout: *idle,
		metricsAddr: *metricsAddr, metricsToken: *metricsToken,
		fetch: fetch, poll: *poll, drain: *drain, drainTimeout: *drainTimeout,
		baseURL: *baseURL, allowedHosts: hosts,
	})
}

type serveOptions struct {
	dir, addr      string
	paths          []string
	cors           []string
	frameAncestors string
	adminToken     string
	baseURL        string
	allowedHosts   []string
	timeout        time.Duration
	dev            bool
	engine         []search.Option // how queries are read
	maxSearches    int
	maxHeavy       int
	maxConns       int
	idleTimeout    time.Duration
	metricsAddr    string
	metricsToken   string
	// A replica reads its index from fetch's source (see follow.go).
	fetch               fetchFlags
	poll                time.Duration
	drain, drainTimeout time.Duration
}

func serve(ctx context.Context, env *Env, o serveOptions) error {
	log := env.Log
	if *o.fetch.from != "" {
		return serveReplica(ctx, env, o)
	}
	if !index.Exists(o.dir) {
		log.Info().Str("index", o.dir).Strs("paths", o.paths).Msg("no index yet; building it")
		if err := buildDefault(ctx, env, o.dir, o.paths, false, defaultGazetteer()); err != nil {
			return err
		}
	} else if len(o.paths) > 0 {
		log.Warn().Str("index", o.dir).Msg("index exists; serving it as is (run 'faildex index' to rebuild from the given paths)")
	}
	start := time.Now()
	eng, err := search.Open(ctx, o.dir, o.engine...)
	if err != nil {
		if errors.Is(err, index.ErrDamaged) {
			return fmt.Errorf("%w; rebuild it with 'faildex index --index %s'", err, o.dir)
		}
		return err
	}
	corpus, err := server.Describe(ctx, eng)
	if err != nil {
		eng.Close()
		return err
	}
	log.Info().Str("index", o.dir).Uint64("incidents", corpus.Incidents).Int("first_year", corpus.First).
		Int("last_year", corpus.Last).Msg("loaded " + corpus.String())
	srv, err := server.New(o.serverConfig(log), eng)
	if err != nil {
		eng.Close()
		return err
	}
	if err := srv.Listen(); err != nil {
		eng.Close()
		return err
	}
	log.Info().Str("url", srv.URL()).Str("metrics", srv.MetricsURL()).Uint64("documents", eng.DocCount()).Dur("startup", time.Since(start)).Msg("serving")
	if env.OnListen != nil {
		env.OnListen(srv.URL())
	}
	return run(ctx, env, srv)
}

// serverConfig is the server's configuration; the engine reopens o.dir.
func (o serveOptions) serverConfig(log zerolog.Logger) server.Config {
	return server.Config{
		Addr:             o.addr,
		Log:              log,
		SearchTimeout:    o.timeout,
		CORSOrigins:      o.cors,
		FrameAncestors:   o.frameAncestors,
		AdminToken:       o.adminToken,
		BaseURL:          o.baseURL,
		AllowedHosts:     o.allowedHosts,
		Dev:              o.dev,
		DrainDelay:       o.drain,
		DrainTimeout:     o.drainTimeout,
		MaxSearches:      o.maxSearches,
		MaxHeavySearches: o.maxHeavy,
		MaxConns:         o.maxConns,
		IdleTimeout:      o.idleTimeout,
		MetricsAddr:      o.metricsAddr,
		MetricsToken:     o.metricsToken,
		Open: func(ctx context.Context) (server.Searcher, error) {
			return search.Open(ctx, o.dir, o.engine...)
		},
	}
}

// run serves until ctx is cancelled (SIGINT, SIGTERM), reloading the index
// on SIGHUP.
func run(ctx context.Context, env *Env, srv *server.Server) error {
	log := env.Log
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if err := srv.Reload(ctx); err != nil {
					log.Error().Err(err).Msg("reload failed")
				}
			}
		}
	}()
	err := srv.Serve(ctx)
	log.Info().Msg("stopped")
	return err
}
