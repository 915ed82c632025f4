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

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Explorer is what the exploring views need from a search engine beyond
// Searcher: pivots of a search by two dimensions. It is a separate
// interface so that a Searcher without it (a test double) still serves
// everything else; its routes then answer 501.
type Explorer interface {
	Pivot(ctx context.Context, req search.Request, rows, cols string) (*search.Pivot, error)
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
