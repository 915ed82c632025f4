package server

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rs/zerolog/hlog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Export streaming: how often the response is flushed, how far each flush
// pushes the write deadline, and the longest an export may run.
const (
	exportFlushEvery    = 200 // incidents
	exportFlushInterval = time.Second
	exportWriteWindow   = 30 * time.Second
	exportMaxDuration   = 30 * time.Minute
)

// exportFormats are the export formats and their media types.
var exportFormats = map[string]string{
	"ndjson": "application/x-ndjson; charset=utf-8",
	"csv":    "text/csv; charset=utf-8; header=present",
}

// handleExport serves /api/v1/export: every incident matching the search
// parameters (not one page), in the search's order, as NDJSON (faildex's
// canonical JSON Lines, what `faildex export` writes) or CSV (the database's
// CSV columns, which `faildex index` reads back).
//
// The response is streamed: incidents are read from the index a page at a
// time and flushed every few hundred, so memory stays constant however many
// match, and each flush extends the write deadline past the server's
// WriteTimeout. The request's search deadline applies until the first
// incident is ready (a 503 otherwise); after it the export ends when the
// client stops reading. An error after the first byte aborts
// the response, so a client never mistakes a truncated export for a
// complete one.
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	v := r.URL.Query()
	if len(v["format"]) > 1 {
		return &httpError{status: http.StatusBadRequest, msg: "format: given more than once", param: "format"}
	}
	format := strings.ToLower(strings.TrimSpace(v.Get("format")))
	if format == "" {
		format = "ndjson"
	}
	ctype, ok := exportFormats[format]
	if !ok {
		return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("format: unknown format %q; use csv or ndjson", index.Truncate(format, 20)), param: "format"}
	}
	req, err := search.FromValues(v, "format")
	if err != nil {
		return err
	}
	req.Page, req.Size = 0, 0
	// Validate the request and count its results before the first byte.
	probe := req.Clone()
	probe.Size = 1
	res, err := eng.Search(r.Context(), probe)
	if err != nil {
		return err
	}

	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": exportFilename(req, format)}))
	h.Set("X-Total-Count", strconv.FormatUint(res.Total, 10))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return nil
	}

	// The first incident must come within the request's deadline, or the
	// export is answered 503 like a search too expensive to finish; after
	// it, the export runs on without the deadline and without its
	// admission slot, for as long as the client reads.
	ctx, cancel := context.WithCancelCause(context.WithoutCancel(r.Context()))
	defer cancel(nil)
	ctx, cancelMax := context.WithTimeout(ctx, exportMaxDuration)
	defer cancelMax()
	var firstByte *time.Timer
	if deadline, ok := r.Context().Deadline(); ok {
		firstByte = time.AfterFunc(time.Until(deadline), func() { cancel(search.ErrTooExpensive) })
		defer firstByte.Stop()
	}
	started := false
	start := func() error {
		if started {
			return nil
		}
		if firstByte != nil && !firstByte.Stop() {
			return search.ErrTooExpensive
		}
		started = true
		w.WriteHeader(http.StatusOK)
		releaseSlot(r)
		return nil
	}
	sw := newStreamWriter(w)
	var rec exportRecorder
	switch format {
	case "csv":
		c := newCSVExport(sw)
		sw.flusher = func() error { c.cw.Flush(); return c.cw.Error() }
		rec = c
	default:
		rec = &ndjsonExport{w: sw}
	}
	n := 0
	err = eng.Each(ctx, req, func(in *index.Incident) error {
		if err := start(); err != nil {
			return err
		}
		if err := rec.write(in); err != nil {
			return err
		}
		n++
		return sw.maybeFlush()
	})
	if !started {
		if err == nil {
			err = start()
		} else if errors.Is(context.Cause(ctx), search.ErrTooExpensive) {
			err = search.ErrTooExpensive
		}
		if err != nil {
			// No byte written: a clean error answer, in JSON.
			for _, k := range []string{"Content-Type", "Content-Disposition", "X-Total-Count", "Cache-Control"} {
				h.Del(k)
			}
			return err
		}
	}
	if err == nil {
		err = rec.close()
	}
	if err == nil {
		err = sw.flush()
	}
	if err != nil {
		hlog.FromRequest(r).Warn().Err(err).Int("written", n).Msg("export aborted")
		panic(http.ErrAbortHandler)
	}
	return nil
}

// exportRecorder writes incidents in one export format.
type exportRecorder interface {
	write(*index.Incident) error
	close() error
}

type ndjsonExport struct{ w io.Writer }

func (e *ndjsonExport) write(in *index.Incident) error { return index.WriteJSONL(e.w, in) }
func (e *ndjsonExport) close() error                   { return nil }

// csvExport writes the database's CSV columns: the incident's fields, then
// the tagged organisations (two columns, names joined by "; "), one
// "<Category> Option" column per category (options joined by "; ") and
// one "<Category> Rationale" column per category.
type csvExport struct {
	cw     *csv.Writer
	header bool
	row    []string
}

func newCSVExport(w io.Writer) *csvExport {
	return &csvExport{cw: csv.NewWriter(w)}
}

// csvHeader returns the columns of a CSV export.
func csvHeader() []string {
	cols := []string{"Incident ID", "Related Article IDs", "Published"}
	for _, f := range index.TextFields {
		cols = append(cols, f.Label)
	}
	cols = append(cols, "Sources", "Responsible Organisations", "Impacted Organisations")
	for _, c := range index.Taxonomy {
		cols = append(cols, csvCategoryName(c.Name)+" Option")
	}
	for _, c := range index.Taxonomy {
		cols = append(cols, csvCategoryName(c.Name)+" Rationale")
	}
	return cols
}

// csvCategoryName is a category's name in CSV headers: "Recurring", "CPS".
func csvCategoryName(name string) string {
	if name == "cps" {
		return "CPS"
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// csvRecord returns an incident's CSV row, matching csvHeader.
func csvRecord(in *index.Incident, row []string) []string {
	row = row[:0]
	arts := make([]string, len(in.Articles))
	for i, a := range in.Articles {
		arts[i] = strconv.FormatInt(a, 10)
	}
	articles := ""
	if len(arts) > 0 {
		articles = "[" + strings.Join(arts, ", ") + "]"
	}
	row = append(row, in.ID, articles, in.Published)
	for _, f := range index.TextFields {
		row = append(row, *f.Get(in))
	}
	row = append(row, strings.Join(in.Sources, "\n"), strings.Join(in.ResponsibleOrgs, "; "), strings.Join(in.ImpactedOrgs, "; "))
	for _, c := range index.Taxonomy {
		row = append(row, strings.Join(in.Options(c.Name), "; "))
	}
	for _, c := range index.Taxonomy {
		row = append(row, in.Taxonomy[c.Name].Rationale)
	}
	return row
}

func (e *csvExport) write(in *index.Incident) error {
	if !e.header {
		if err := e.writeHeader(); err != nil {
			return err
		}
	}
	e.row = csvRecord(in, e.row)
	for i, v := range e.row {
		e.row[i] = index.CSVSafe(v)
	}
	return e.cw.Write(e.row)
}

func (e *csvExport) writeHeader() error {
	e.header = true
	return e.cw.Write(csvHeader())
}

func (e *csvExport) close() error {
	if !e.header {
		if err := e.writeHeader(); err != nil {
			return err
		}
	}
	e.cw.Flush()
	return e.cw.Error()
}

// streamWriter buffers a streamed response and flushes it to the client
// every exportFlushEvery records or exportFlushInterval, whichever comes
// first, pushing the connection's write deadline forward each time.
type streamWriter struct {
	bw        *bufio.Writer
	rc        *http.ResponseController
	lastFlush time.Time
	pending   int
	// flusher, if set, flushes an inner buffer (the CSV writer's) first.
	flusher func() error
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	sw := &streamWriter{bw: bufio.NewWriterSize(w, 32<<10), rc: http.NewResponseController(w), lastFlush: time.Now()}
	sw.extend()
	return sw
}

func (sw *streamWriter) Write(p []byte) (int, error) { return sw.bw.Write(p) }

// extend pushes the write deadline forward. Writers that cannot set
// deadlines (httptest's recorder) are left as they are.
func (sw *streamWriter) extend() {
	_ = sw.rc.SetWriteDeadline(time.Now().Add(exportWriteWindow))
}

// maybeFlush flushes when enough records or time have passed since the
// last flush.
func (sw *streamWriter) maybeFlush() error {
	sw.pending++
	if sw.pending < exportFlushEvery && time.Since(sw.lastFlush) < exportFlushInterval {
		return nil
	}
	return sw.flush()
}

func (sw *streamWriter) flush() error {
	sw.pending = 0
	sw.lastFlush = time.Now()
	sw.extend()
	if sw.flusher != nil {
		if err := sw.flusher(); err != nil {
			return err
		}
	}
	if err := sw.bw.Flush(); err != nil {
		return err
	}
	if err := sw.rc.Flush(); err != nil && err != http.ErrNotSupported {
		return err
	}
	return nil
}

// exportFilename names an export after its request:
// "faildex-ransomware-consequence-death.csv".
func exportFilename(req search.Request, format string) string {
	var words []string
	add := func(s string) {
		var b strings.Builder
		for _, r := range strings.ToLower(s) {
			switch {
			case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
				b.WriteRune(r)
			default:
				if b.Len() > 0 {
					words = append(words, b.String())
					b.Reset()
				}
			}
		}
		if b.Len() > 0 {
			words = append(words, b.String())
		}
	}
	add(req.Query)
	for _, c := range index.Taxonomy {
		if vals := req.Filters[c.Name]; len(vals) > 0 {
			add(c.Name)
			for _, v := range vals {
				add(v)
			}
		}
	}
	add(req.From)
	add(req.To)
	name := "faildex"
	for _, w := range words {
		if len(name)+1+len(w) > 60 {
			break
		}
		name += "-" + w
	}
	if len(words) == 0 {
		name += "-all"
	}
	return name + "." + format
}
