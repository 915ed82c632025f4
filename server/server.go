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
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
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
	// Open opens the current index as a new Searcher; Reload uses it.
	Open func(ctx context.Context) (Searcher, error)
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
	// jsonRoutes names the routes that answer JSON (see route).
	jsonRoutes map[string]bool
	handler    http.Handler
	metrics    *metrics
	ui         *ui
	corpus     corpusCache // what the current index holds, for pages

	ln   net.Listener
	srv  *http.Server
	done chan struct{}

	reloadMu sync.Mutex
}

// New returns a server over s. It does not listen yet.
func New(cfg Config, s Searcher) (*Server, error) {
	if cfg.SearchTimeout <= 0 {
		cfg.SearchTimeout = 5 * time.Second
	}
	if cfg.HeaderTimeout <= 0 {
		cfg.HeaderTimeout = 5 * time.Second
	}
	if cfg.FrameAncestors == "" {
		cfg.FrameAncestors = "*"
	}
	if cfg.WebDir == "" {
		cfg.WebDir = "web"
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

// Listen binds the configured address.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
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

// Serve serves until ctx is cancelled, then shuts down gracefully, letting
// requests in flight finish (up to 10 s), and closes the engine.
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
		WriteTimeout:      s.cfg.SearchTimeout + 10*time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          nil,
	}
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(s.ln) }()
	select {
	case err := <-errc:
		s.engines.close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
	// "Bearer TOKEN"; the scheme is case-insensitive (RFC 9110 11.1) and
	// required: a bare token is refused.
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.AdminToken)) != 1 {
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
