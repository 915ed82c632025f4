package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"sync"
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
	token := fs.String("admin-token", env.Getenv("FAILDEX_ADMIN_TOKEN"), "token for POST /admin/reload and for PUT and DELETE of /api/v1/incidents/{id} (env FAILDEX_ADMIN_TOKEN; empty disables them)")
	watch := fs.Bool("watch", false, "keep the index up to date with the report files under PATHs: changes are applied within seconds")
	followEvery := fs.Duration("follow-index", time.Second, "check the index directory this often for a new generation (written by faildex index or delete) and switch to it (0: never)")
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
	gcPercent := fs.Int("gc-percent", defaultServeGCPercent, "the Go garbage collector's target while serving (GOGC, when set, wins; 0: Go's default of 100)")
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
		baseURL: *baseURL, allowedHosts: hosts, watch: *watch, followEvery: *followEvery,
		gcPercent: *gcPercent,
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
	// watch keeps the index up to date with the files under paths;
	// followEvery is how often the index directory is checked for a new
	// generation.
	watch       bool
	followEvery time.Duration
	gcPercent   int // the collector's target once serving (gc.go)
}

func serve(ctx context.Context, env *Env, o serveOptions) error {
	log := env.Log
	if *o.fetch.from != "" {
		return serveReplica(ctx, env, o)
	}
	if o.watch && len(o.paths) == 0 {
		return fmt.Errorf("%w: --watch needs the PATHs of the report files to watch", errUsage)
	}
	if o.followEvery < 0 {
		return fmt.Errorf("%w: --follow-index must not be negative", errUsage)
	}
	gaz := defaultGazetteer()
	if !index.Exists(o.dir) {
		log.Info().Str("index", o.dir).Strs("paths", o.paths).Msg("no index yet; building it")
		if err := buildDefault(ctx, env, o.dir, o.paths, false, gaz); err != nil {
			return err
		}
	} else if len(o.paths) > 0 && !o.watch {
		log.Warn().Str("index", o.dir).Msg("index exists; serving it as is (run 'faildex index' to rebuild from the given paths, or serve with --watch to apply what changed)")
	}
	start := time.Now()
	engs := &engines{dir: o.dir, opts: o.engine}
	eng, err := engs.open(ctx)
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
	cfg := o.serverConfig(log, engs.searcher)
	var srv *server.Server
	reload := func() {
		if err := srv.Reload(context.Background()); err != nil {
			log.Error().Err(err).Msg("reload after an update failed; the previous generation keeps serving")
		}
	}
	if o.adminToken != "" {
		cfg.Updates = &index.Writer{Dir: o.dir, Organisations: gaz, OnCommit: func(string) { reload() }}
	}
	srv, err = server.New(cfg, eng)
	if err != nil {
		eng.Close()
		return err
	}
	if err := srv.Listen(); err != nil {
		eng.Close()
		return err
	}
	// Set once the index is built or opened: building keeps Go's default.
	servingGC(env, o.gcPercent, log)
	log.Info().Str("url", srv.URL()).Str("metrics", srv.MetricsURL()).Uint64("documents", eng.DocCount()).Dur("startup", time.Since(start)).Msg("serving")
	if env.OnListen != nil {
		env.OnListen(srv.URL())
	}
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if o.followEvery > 0 {
		wg.Go(func() { followGenerations(bg, log, srv, engs, o.followEvery) })
	}
	if o.watch {
		wo := watchOptions{quiet: 500 * time.Millisecond, most: 3 * time.Second, rescan: time.Minute,
			update: index.UpdateOptions{DeleteMissing: true, Organisations: gaz}}
		wg.Go(func() {
			if err := watchReports(bg, env, o.dir, o.paths, wo, reload); err != nil {
				log.Error().Err(err).Msg("watching report files stopped")
			}
		})
	}
	err = run(ctx, env, srv)
	stop()
	wg.Wait()
	return err
}

// serverConfig is the server's configuration; open opens the engine anew.
func (o serveOptions) serverConfig(log zerolog.Logger, open func(context.Context) (server.Searcher, error)) server.Config {
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
		Open:             open,
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
