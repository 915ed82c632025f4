package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/rs/zerolog/hlog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// httpError is an error with a status and a message fit for users.
type httpError struct {
	status int
	msg    string
	param  string
}

func (e *httpError) Error() string { return e.msg }

var (
	errNotFound         = &httpError{status: http.StatusNotFound, msg: "not found"}
	errMethodNotAllowed = &httpError{status: http.StatusMethodNotAllowed, msg: "method not allowed"}
)

// apiError is the JSON body of every API error.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Status  int    `json:"status"`
	Message string `json:"message"`
	Param   string `json:"param,omitempty"`
}

// classify maps an error to a status, a message for users and the
// parameter at fault. This table is the only place that decides statuses.
func classify(err error) (status int, msg, param string) {
	var he *httpError
	var se *search.Error
	switch {
	case errors.As(err, &he):
		return he.status, he.msg, he.param
	case errors.As(err, &se):
		return http.StatusBadRequest, se.Error(), se.Param
	case errors.Is(err, index.ErrGone):
		return http.StatusGone, "the incident with this id was deleted", "id"
	case errors.Is(err, index.ErrNotFound):
		return http.StatusNotFound, "no incident with this id", "id"
	case errors.Is(err, search.ErrTooExpensive), errors.Is(err, context.DeadlineExceeded):
		// Not the request's fault: the same search may finish when the
		// server is less busy, so it is a 503 (with Retry-After), not a 400.
		return http.StatusServiceUnavailable, "the search was too expensive to finish in time; narrow the query or try again later", ""
	case errors.Is(err, context.Canceled):
		return 499, "request cancelled", ""
	case errors.Is(err, errClosed):
		return http.StatusServiceUnavailable, "the server is shutting down", ""
	}
	return http.StatusInternalServerError, "internal error", ""
}

// handlerFunc is an HTTP handler that returns its error instead of writing
// it; handle turns the error into a response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle adapts h: its error is answered by writeError.
func (s *Server) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// engineHandler is a handlerFunc that is given the search engine to use.
type engineHandler func(w http.ResponseWriter, r *http.Request, eng Searcher) error

// withEngine adapts a handler that needs the search engine: it acquires the
// current engine, passes it in and releases it when h returns, so that a
// reload never closes an engine under a request; errors are answered by
// writeError, as handle's are.
func (s *Server) withEngine(h engineHandler) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		eng, release, err := s.engines.acquire()
		if err != nil {
			return err
		}
		defer release()
		return h(w, r, eng)
	})
}

// writeError answers err with the status and message classify gives it:
// as the API's JSON error body when r is answered in JSON (answersJSON),
// else as an HTML error page. Every error response is written here; a 503
// carries Retry-After. 5xx
// details are logged with the request id and hidden from users; a
// cancelled request gets no answer.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg, param := classify(err)
	s.logError(r, status, err)
	if status == 499 {
		return
	}
	if status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
		w.Header().Set("Allow", "GET, HEAD")
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfter)
	}
	if s.answersJSON(r) {
		writeJSON(w, r, status, apiError{Error: apiErrorBody{Status: status, Message: msg, Param: param}})
		return
	}
	s.ui.renderError(w, r, status, msg)
}

// logError logs the errors of 5xx responses.
func (s *Server) logError(r *http.Request, status int, err error) {
	if status >= 500 {
		hlog.FromRequest(r).Error().Err(err).Int("status", status).Msg("request failed")
	}
}

// writeJSON encodes v into a buffer first, so that an encoding failure is
// still a clean 500, then writes it. HTML characters are escaped (\u003c),
// so the JSON is safe even if a client renders it as HTML.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		hlog.FromRequest(r).Error().Err(err).Msg("encoding JSON")
		http.Error(w, `{"error":{"status":500,"message":"internal error"}}`, http.StatusInternalServerError)
		return nil
	}
	h := w.Header()
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
	return nil
}
