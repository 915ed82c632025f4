package server

import (
	"net/http"
	"path/filepath"
	"time"

	"github.com/faildex/faildex/index"
)

// errNotReady answers requests that come before the first generation is
// open (a replica still fetching its index).
var errNotReady = &httpError{status: http.StatusServiceUnavailable, msg: "the index is not open yet"}

// readiness is the body of /readyz. Checksum is the SHA-256 of the
// artifact the generation was unpacked from ("" for one built here); Age
// is the time since the generation was built, which bounds how stale a
// replica's answers are.
type readiness struct {
	Status     string    `json:"status"`
	Documents  uint64    `json:"documents"`
	Generation string    `json:"generation,omitempty"`
	Checksum   string    `json:"checksum,omitempty"`
	Built      time.Time `json:"built,omitzero"`
	AgeSeconds float64   `json:"age_s,omitempty"`
}

// handleReady answers /readyz: 200 while a non-empty generation is open
// and the server is not draining, else 503. /healthz, by contrast, only
// says the process answers.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return &httpError{status: http.StatusServiceUnavailable, msg: "draining: the server is shutting down"}
	}
	eng, release, err := s.engines.acquire()
	if err != nil {
		return err
	}
	defer release()
	if eng.DocCount() == 0 {
		return &httpError{status: http.StatusServiceUnavailable, msg: "the index is empty"}
	}
	body := readiness{Status: "ready", Documents: eng.DocCount()}
	if g, ok := eng.(interface{ Index() *index.Index }); ok {
		ix := g.Index()
		body.Generation = filepath.Base(ix.Gen)
		body.Checksum = index.ArtifactSum(ix.Gen)
		body.Built = ix.Manifest.Built
		body.AgeSeconds = time.Since(ix.Manifest.Built).Round(time.Millisecond).Seconds()
	}
	return writeJSON(w, r, http.StatusOK, body)
}

// drain starts a graceful stop: /readyz turns 503 at once, responses ask
// clients to close their connections, and the server keeps answering for
// Config.DrainDelay so that load balancers, seeing it not ready, stop
// sending it requests before it stops listening.
func (s *Server) drain() {
	s.draining.Store(true)
	if s.srv != nil {
		s.srv.SetKeepAlivesEnabled(false)
	}
	if d := s.cfg.DrainDelay; d > 0 {
		s.log.Info().Dur("delay", d).Msg("draining: not ready; still answering")
		time.Sleep(d)
	}
}
