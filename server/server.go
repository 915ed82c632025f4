// Package server speaks HTTP: the JSON API, the HTML pages, feeds and the
// embeddable widget, over a Searcher that can be swapped without downtime.
package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"
)

// Config configures a Server.
type Config struct {
	// Addr is the address to listen on ("127.0.0.1:8080"; port 0 picks one).
	Addr string
	Log  zerolog.Logger
	// SearchTimeout bounds the work of one request (default 5 s).
	SearchTimeout time.Duration
	// HeaderTimeout bounds the time a client may take to send a request's
	// headers (default 5 s); slower clients are disconnected.
	HeaderTimeout time.Duration
	// CORSOrigins are the origins allowed to call /api/v1/* from a browser
	// ("*" for any). Empty allows none.
	CORSOrigins []string
	// FrameAncestors is the CSP frame-ancestors value of /embed (default
	// "*"); every other page allows only 'self'.
	FrameAncestors string
	// BaseURL is the public scheme and host of the server
	// ("https://faildex.example"), used for every absolute link: feeds,
	// OpenSearch, oEmbed, citations and embed snippets. When empty, a
	// request's Host header is used only if it names the listen address or
	// one of AllowedHosts; any other host gets links to the listen address.
	BaseURL string
	// AllowedHosts are further host[:port] values of the Host header that
	// absolute links may be built from when BaseURL is empty.
	AllowedHosts []string
	// AdminToken enables POST /admin/reload for requests that present it as
	// a bearer token. Empty disables the endpoint.
	AdminToken string
	// MaxSearches is the number of searching requests run at once (default
	// twice GOMAXPROCS); as many again may wait up to QueueWait (default
	// 1 s) for a slot, and others are answered 503 at once.
	MaxSearches int
	// MaxHeavySearches is the number of heavy searches (phrases, prefixes,
	// long queries, deep pages, exports) run at once, within MaxSearches
	// (default half of GOMAXPROCS, at least 1).
	MaxHeavySearches int
	QueueWait        time.Duration
	// MaxConns caps the open connections (default 1024); further clients
	// wait in the kernel's accept queue. IdleTimeout closes keep-alive
	// connections idle that long (default 30 s).
	MaxConns    int
	IdleTimeout time.Duration
	// MetricsAddr, when set, serves /metrics on that address only (meant
	// for a loopback address such as "127.0.0.1:9090"), and not on Addr.
	MetricsAddr string
	// MetricsToken, when set, is the bearer token /metrics requires.
	MetricsToken string
	// Updates, with AdminToken, takes PUT and DELETE of
	// /api/v1/incidents/{id} from requests that present the token.
	Updates Updater
	// Open opens the current index as a new Searcher; Reload uses it.
	Open func(ctx context.Context) (Searcher, error)
	// DrainDelay is how long the server keeps answering, not ready (see
	// /readyz), once told to stop, so that load balancers stop sending it
	// requests first (default 0). DrainTimeout then bounds the wait for
	// requests in flight (default 10 s).
	DrainDelay, DrainTimeout time.Duration
	// Dev re-reads templates from disk on every request.
	Dev bool
	// WebDir is the web directory read in Dev mode (default "web").
	WebDir string
}

// Server serves faildex over HTTP.
type Server struct {
	cfg     Config
	log     zerolog.Logger
	engines *holder
	router  *mux.Router
	// admission bounds the searches running at once (admission.go).
	admission *admission
	// jsonRoutes names the routes that answer JSON (see route).
	jsonRoutes map[string]bool
	handler    http.Handler
	metrics    *metrics
	ui         *ui
	corpus     corpusCache // what the current index holds, for pages

	ln        net.Listener
	metricsLn net.Listener // nil unless Config.MetricsAddr
	srv       *http.Server
	done      chan struct{}

	reloadMu sync.Mutex
	draining atomic.Bool // set once Serve is told to stop (see drain)
}

// New returns a server over s. It does not listen yet.
func New(cfg Config, s Searcher) (*Server, error) {
	if cfg.SearchTimeout <= 0 {
		cfg.SearchTimeout = 5 * time.Second
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 5 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.FrameAncestors == "" {
		cfg.FrameAncestors = "*"
	}
	if cfg.WebDir == "" {
		cfg.WebDir = "web"
	}
	if cfg.MaxSearches <= 0 {
		cfg.MaxSearches = defaultMaxSearches()
	}
	if cfg.MaxHeavySearches <= 0 {
		cfg.MaxHeavySearches = defaultMaxHeavySearches()
	}
	if cfg.QueueWait <= 0 {
		cfg.QueueWait = defaultQueueWait
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if err := checkBaseURL(&cfg); err != nil {
		return nil, err
	}
	srv := &Server{
		cfg:     cfg,
		log:     cfg.Log,
		engines: newHolder(s),
		router:  mux.NewRouter(),
		done:    make(chan struct{}),

		admission: newAdmission(cfg.MaxSearches, cfg.MaxHeavySearches, cfg.MaxSearches, cfg.QueueWait),
	}
	srv.metrics = newMetrics(srv)
	var err error
	if srv.ui, err = newUI(cfg.Dev, cfg.WebDir); err != nil {
		return nil, err
	}
	srv.routes()
	srv.handler = srv.middleware(srv.router)
	return srv, nil
}

// Handler returns the whole HTTP handler, middleware included.
func (s *Server) Handler() http.Handler { return s.handler }

// Registry returns the Prometheus registry of the server's metrics.
func (s *Server) Registry() *prometheus.Registry { return s.metrics.reg }

// Connection defaults.
const (
	DefaultMaxConns    = 1024
	DefaultIdleTimeout = 30 * time.Second
)

// Listen binds the configured address (and the metrics address, if any).
// At most Config.MaxConns connections are accepted at once.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	if s.cfg.MetricsAddr != "" {
		mln, err := net.Listen("tcp", s.cfg.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("metrics address: %w", err)
		}
		s.metricsLn = mln
	}
	s.ln = netutil.LimitListener(ln, s.cfg.MaxConns)
	return nil
}

// MetricsURL returns the base URL of the metrics listener, or "" when
// /metrics is served on the main address.
func (s *Server) MetricsURL() string {
	if s.metricsLn == nil {
		return ""
	}
	return "http://" + s.metricsLn.Addr().String()
}

// metricsHandler serves /metrics, behind Config.MetricsToken when set.
func (s *Server) metricsHandler() http.Handler {
	h := s.metrics.handler()
	if s.cfg.MetricsToken == "" {
		return h
	}
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if !bearer(r, s.cfg.MetricsToken) {
			w.Header().Set("WWW-Authenticate", "Bearer")
			return &httpError{status: http.StatusUnauthorized, msg: "a valid metrics token is required"}
		}
		h.ServeHTTP(w, r)
		return nil
	})
}

// bearer reports whether r presents token as "Bearer TOKEN"; the scheme is
// case-insensitive (RFC 9110 11.1) and required: a bare token is refused.
func bearer(r *http.Request, token string) bool {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(token)) == 1
}

// URL returns the base URL of a listening server ("http://127.0.0.1:port").
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	return "http://" + s.ln.Addr().String()
}

// Limits of the HTTP server.
const (
	maxHeaderBytes = 16 << 10
	maxURLBytes    = 4096
)

// Serve serves until ctx is cancelled, then shuts down gracefully: it stops
// being ready and keeps answering for Config.DrainDelay, stops accepting
// connections, lets requests in flight finish (up to Config.DrainTimeout)
// and closes the engine.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	s.srv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.HeaderTimeout,
		ReadTimeout:       s.cfg.HeaderTimeout + 5*time.Second,
		// A search ends within SearchTimeout (its admission wait
		// included), so its answer is written well within this.
		WriteTimeout:   s.cfg.SearchTimeout + 10*time.Second,
		IdleTimeout:    s.cfg.IdleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
		ErrorLog:       nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	if s.metricsLn != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", s.metricsHandler())
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: s.cfg.HeaderTimeout, WriteTimeout: 10 * time.Second, IdleTimeout: s.cfg.IdleTimeout}
		go msrv.Serve(s.metricsLn)
		defer msrv.Close()
	}
	select {
	case err := <-errc:
		s.engines.close()
		return err
	case <-ctx.Done():
	}
	s.drain()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.DrainTimeout)
	defer cancel()
	err := s.srv.Shutdown(sctx)
	s.engines.close()
	if err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Reload opens the index anew with Config.Open and swaps it in. Searches in
// flight finish on the old engine, which is closed after them. On failure
// the old engine keeps serving.
func (s *Server) Reload(ctx context.Context) error {
	if s.cfg.Open == nil {
		return errors.New("reload is not configured")
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	start := time.Now()
	eng, err := s.cfg.Open(ctx)
	if err != nil {
		s.metrics.reloads.WithLabelValues("failed").Inc()
		return fmt.Errorf("reload: %w; the previous index keeps serving", err)
	}
	s.engines.swap(eng)
	s.metrics.reloads.WithLabelValues("ok").Inc()
	s.log.Info().Uint64("docs", eng.DocCount()).Dur("took", time.Since(start)).Msg("index reloaded")
	return nil
}

func (s *Server) handleReload(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.AdminToken == "" {
		return errNotFound
	}
	if !bearer(r, s.cfg.AdminToken) {
		return &httpError{status: http.StatusUnauthorized, msg: "a valid admin token is required"}
	}
	if err := s.Reload(r.Context()); err != nil {
		return &httpError{status: http.StatusServiceUnavailable, msg: err.Error()}
	}
	// The engine is acquired here, not by withEngine, so that the answer
	// counts the documents of the index just swapped in.
	eng, release, err := s.engines.acquire()
	if err != nil {
		return err
	}
	defer release()
	return writeJSON(w, r, http.StatusOK, map[string]any{"status": "reloaded", "documents": eng.DocCount()})
}
