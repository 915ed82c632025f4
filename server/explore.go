package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog/hlog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Explorer is what the exploring views need from a search engine beyond
// Searcher: pivots of a search by two dimensions, the incidents similar
// to one, and searches of a category's options. It is a separate
// interface so that a Searcher without it (a test double) still serves
// everything else; its routes then answer 501.
type Explorer interface {
	Pivot(ctx context.Context, req search.Request, rows, cols string) (*search.Pivot, error)
	Similar(ctx context.Context, id string, n int) (*search.SimilarResult, error)
	FacetValues(ctx context.Context, req search.Request, category, prefix string) (*search.FacetValues, error)
}

var _ Explorer = (*search.Engine)(nil)

var errNoExplorer = &httpError{status: http.StatusNotImplemented, msg: "this index cannot answer explorations"}

// explorer returns eng as an Explorer, or errNoExplorer.
func explorer(eng Searcher) (Explorer, error) {
	ex, ok := eng.(Explorer)
	if !ok {
		return nil, errNoExplorer
	}
	return ex, nil
}

// pivotParams are the parameters of a pivot beyond the search's.
var pivotParams = []string{"rows", "cols", "format"}

// pivotRequest reads a pivot's search and dimensions from URL parameters;
// rows and cols default to defRows and defCols when absent.
func pivotRequest(v url.Values, defRows, defCols string) (req search.Request, rows, cols string, err error) {
	for _, name := range pivotParams {
		if len(v[name]) > 1 {
			return req, "", "", &httpError{status: http.StatusBadRequest, msg: name + ": given more than once", param: name}
		}
	}
	if req, err = search.FromValues(v, pivotParams...); err != nil {
		return req, "", "", err
	}
	rows, cols = strings.TrimSpace(v.Get("rows")), strings.TrimSpace(v.Get("cols"))
	if _, ok := v["rows"]; !ok {
		rows = defRows
	}
	if _, ok := v["cols"]; !ok {
		cols = defCols
	}
	return req, rows, cols, nil
}

// handlePivot answers /api/v1/pivot?rows=A&cols=B&<search>: the search's
// incidents counted by two dimensions, as JSON or (format=csv) CSV.
func (s *Server) handlePivot(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	ex, err := explorer(eng)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	req, rows, cols, err := pivotRequest(v, "", "")
	if err != nil {
		return err
	}
	format := strings.ToLower(strings.TrimSpace(v.Get("format")))
	if format != "" && format != "json" && format != "csv" {
		return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("format: unknown format %q; use json or csv", index.Truncate(format, 20)), param: "format"}
	}
	pv, err := ex.Pivot(r.Context(), req, rows, cols)
	if err != nil {
		return err
	}
	w.Header().Set("X-Total-Count", strconv.FormatUint(pv.Total, 10))
	if format != "csv" {
		return writeJSON(w, r, http.StatusOK, pv)
	}
	var buf bytes.Buffer
	if err := writePivotCSV(&buf, pv); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8; header=present")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "faildex-" + pv.Rows.Field + "-by-" + pv.Cols.Field + ".csv"}))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
	return nil
}

// writePivotCSV writes a pivot as CSV: a header of the column values and
// "total", one line per row value with its counts and total, then a line of
// the column totals and the search's total. Values are written as the API
// names them (NotAssessed for incidents not assessed).
func writePivotCSV(buf *bytes.Buffer, pv *search.Pivot) error {
	cw := csv.NewWriter(buf)
	head := []string{pv.Rows.Field + `\` + pv.Cols.Field}
	for _, c := range pv.Cols.Values {
		head = append(head, csvCell(c.Value))
	}
	cw.Write(append(head, "total"))
	for i, rv := range pv.Rows.Values {
		line := []string{csvCell(rv.Value)}
		for _, n := range pv.Counts[i] {
			line = append(line, strconv.FormatUint(n, 10))
		}
		cw.Write(append(line, strconv.FormatUint(rv.Total, 10)))
	}
	foot := []string{"total"}
	for _, c := range pv.Cols.Values {
		foot = append(foot, strconv.FormatUint(c.Total, 10))
	}
	cw.Write(append(foot, strconv.FormatUint(pv.Total, 10)))
	cw.Flush()
	return cw.Error()
}

// csvCell keeps a value that a spreadsheet would read as a formula a
// string, by prefixing an apostrophe.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// handleSimilar answers /api/v1/incidents/{id}/similar?size=N: the
// incidents most similar to one, each with the words and options they
// share.
func (s *Server) handleSimilar(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	ex, err := explorer(eng)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	if len(v["size"]) > 1 {
		return &httpError{status: http.StatusBadRequest, msg: "size: given more than once", param: "size"}
	}
	n := search.DefaultSimilar
	if raw := strings.TrimSpace(v.Get("size")); raw != "" {
		if n, err = strconv.Atoi(raw); err != nil || n < 1 || n > search.MaxSimilar {
			return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("size: must be a whole number from 1 to %d", search.MaxSimilar), param: "size"}
		}
	}
	res, err := ex.Similar(r.Context(), mux.Vars(r)["id"], n)
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, res)
}

// similarView is one similar incident on an incident page.
type similarView struct {
	Href, Title, Published, Date string
	Terms                        []string // shared words
	Options                      []string // shared options' labels
}

// similarShown bounds the shared words and options an incident page lists
// per similar incident.
const similarShown = 4

// similarViews returns the incidents similar to id for its page; none when
// the engine cannot tell or fails (the page is still served).
func (s *Server) similarViews(r *http.Request, eng Searcher, id string) []similarView {
	ex, ok := eng.(Explorer)
	if !ok {
		return nil
	}
	res, err := ex.Similar(r.Context(), id, search.DefaultSimilar)
	if err != nil {
		hlog.FromRequest(r).Warn().Err(err).Str("id", id).Msg("similar incidents")
		return nil
	}
	var out []similarView
	for _, it := range res.Similar {
		v := similarView{Href: incidentPath(it.ID), Title: it.Title, Published: it.Published, Date: displayDate(it.Published)}
		v.Terms = it.SharedTerms[:min(similarShown, len(it.SharedTerms))]
		for _, o := range it.SharedOptions[:min(similarShown, len(it.SharedOptions))] {
			v.Options = append(v.Options, o.Label)
		}
		out = append(out, v)
	}
	return out
}

// handleFacetValues answers /api/v1/facets/{category}?prefix=P&<search>:
// the category's options matching the prefix, with their counts in the
// search.
func (s *Server) handleFacetValues(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	ex, err := explorer(eng)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	if len(v["prefix"]) > 1 {
		return &httpError{status: http.StatusBadRequest, msg: "prefix: given more than once", param: "prefix"}
	}
	req, err := search.FromValues(v, "prefix")
	if err != nil {
		return err
	}
	res, err := ex.FacetValues(r.Context(), req, mux.Vars(r)["category"], v.Get("prefix"))
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, res)
}
