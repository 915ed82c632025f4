package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/index"
)

// Updater applies curators' changes to the index: each call returns once
// the change is durable and searches see it.
type Updater interface {
	Put(ctx context.Context, in index.Incident) (index.Outcome, error)
	Delete(ctx context.Context, id string) (index.Outcome, error)
}

// putBodyLimit bounds the body of a PUT: one report at most
// index.MaxRecordBytes, with room for a CSV header or JSON syntax.
const putBodyLimit = index.MaxRecordBytes + 64<<10

// updateTimeout bounds a PUT or DELETE of an incident, which waits for
// the update before it (and for a build holding the index) to finish.
const updateTimeout = 30 * time.Second

// putFormats are the formats a PUT may send its report in, by media type.
var putFormats = map[string]index.Format{
	"application/json":     index.FormatJSONL,
	"application/x-ndjson": index.FormatJSONL,
	"application/jsonl":    index.FormatJSONL,
	"text/plain":           index.FormatText,
	"text/csv":             index.FormatCSV,
}

// UpdateResult is the body of an answer to PUT or DELETE of an incident.
type UpdateResult struct {
	ID       string        `json:"id"`
	Outcome  index.Outcome `json:"outcome"`
	URL      string        `json:"url,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
}

// updatesAllowed checks that the server takes updates and that the request
// presents the admin token.
func (s *Server) updatesAllowed(r *http.Request) error {
	if s.cfg.Updates == nil || s.cfg.AdminToken == "" {
		return &httpError{status: http.StatusForbidden, msg: "this server takes no updates (start faildex serve on an index directory with --admin-token)"}
	}
	if !bearer(r, s.cfg.AdminToken) {
		return &httpError{status: http.StatusUnauthorized, msg: "a valid admin token is required (Authorization: Bearer TOKEN)"}
	}
	return nil
}

// handlePut answers PUT /api/v1/incidents/{id}: the body is one report,
// in JSON (an incident as the API returns it), the plain-text page form or
// CSV with its header, read and checked exactly as faildex index reads
// files.
func (s *Server) handlePut(w http.ResponseWriter, r *http.Request) error {
	if err := s.updatesAllowed(r); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	if !index.ValidID(id) {
		return &httpError{status: http.StatusBadRequest, param: "id", msg: "not a valid incident id: letters, digits, '.', '_' and '-', at most 128"}
	}
	ct := r.Header.Get("Content-Type")
	media, _, _ := mime.ParseMediaType(ct)
	format, ok := putFormats[media]
	if !ok {
		return &httpError{status: http.StatusUnsupportedMediaType, param: "Content-Type",
			msg: fmt.Sprintf("Content-Type %q is not a report format; send application/json, text/plain (the page form) or text/csv", index.Truncate(ct, 60))}
	}
	var body io.Reader = http.MaxBytesReader(w, r.Body, putBodyLimit)
	if media == "application/json" {
		// One JSON object, laid out on any number of lines: made one
		// line of JSON Lines.
		b, err := io.ReadAll(body)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("a report is at most %d bytes", index.MaxRecordBytes)}
		}
		var line bytes.Buffer
		if err == nil {
			err = json.Compact(&line, b)
		}
		if err != nil {
			return &httpError{status: http.StatusBadRequest, msg: "the body is not one JSON object: " + err.Error()}
		}
		body = &line
	}
	var recs []index.Record
	var problems, warnings []string
	name := id + ".txt" // the page form takes its id from the file name
	err := index.Read(format, name, body, index.Handler{
		Record: func(rec index.Record) error {
			recs = append(recs, rec)
			if len(recs) > 1 {
				return errTooMany
			}
			return nil
		},
		Problem: func(p index.Problem) {
			msg := fmt.Sprintf("line %d: %s", p.Line, p.Msg)
			if p.Line == 0 {
				msg = p.Msg
			}
			if p.Warning {
				warnings = append(warnings, msg)
			} else {
				problems = append(problems, msg)
			}
		},
	})
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || anyTooLarge(problems):
		return &httpError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("a report is at most %d bytes", index.MaxRecordBytes)}
	case errors.Is(err, errTooMany):
		return &httpError{status: http.StatusBadRequest, msg: "the body holds more than one incident; send one"}
	case err != nil:
		return &httpError{status: http.StatusBadRequest, msg: "reading the report: " + err.Error()}
	case len(problems) > 0:
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		return &httpError{status: http.StatusBadRequest, msg: "the report was rejected: " + strings.Join(problems, "; ")}
	case len(recs) == 0:
		return &httpError{status: http.StatusBadRequest, msg: "the body holds no incident"}
	case recs[0].Incident.ID != id:
		return &httpError{status: http.StatusBadRequest, param: "id",
			msg: fmt.Sprintf("the report's id %q is not the id of the URL, %q", index.Truncate(recs[0].Incident.ID, 60), id)}
	}
	out, err := s.cfg.Updates.Put(r.Context(), recs[0].Incident)
	if err != nil {
		return updateError(err)
	}
	status := http.StatusOK
	if out == index.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/api/v1/incidents/"+id)
	}
	s.log.Info().Str("id", id).Str("outcome", string(out)).Msg("incident put")
	return writeJSON(w, r, status, UpdateResult{ID: id, Outcome: out, URL: "/api/v1/incidents/" + id, Warnings: warnings})
}

// handleDelete answers DELETE /api/v1/incidents/{id}.
func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.updatesAllowed(r); err != nil {
		return err
	}
	id := mux.Vars(r)["id"]
	out, err := s.cfg.Updates.Delete(r.Context(), id)
	if err != nil {
		return updateError(err)
	}
	if out == index.NotFound {
		return &httpError{status: http.StatusNotFound, param: "id", msg: "no incident with this id"}
	}
	s.log.Info().Str("id", id).Str("outcome", string(out)).Msg("incident deleted")
	return writeJSON(w, r, http.StatusOK, UpdateResult{ID: id, Outcome: out})
}

var errTooMany = errors.New("more than one incident")

// anyTooLarge reports whether a problem is a report over the size limit.
func anyTooLarge(problems []string) bool {
	for _, p := range problems {
		if strings.Contains(p, "over the") {
			return true
		}
	}
	return false
}

// updateError maps an error of the Updater: a build holding the index is
// a 503, an incident the index refuses a 400, anything else is the
// server's.
func updateError(err error) error {
	switch {
	case errors.Is(err, index.ErrBuildRunning), errors.Is(err, context.DeadlineExceeded):
		return &httpError{status: http.StatusServiceUnavailable, msg: "the index is busy (a build or another update holds it); try again: " + err.Error()}
	case errors.Is(err, index.ErrInvalid):
		return &httpError{status: http.StatusBadRequest, msg: err.Error()}
	}
	return err
}
