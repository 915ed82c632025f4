package server_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// exportAll returns `faildex export` of the index in dir: every incident as
// JSON Lines, in id order.
func exportAll(tb testing.TB, dir string) string {
	tb.Helper()
	ix, err := index.Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer ix.Close()
	var buf bytes.Buffer
	if _, err := ix.ExportJSONL(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// download GETs url and returns the response, with its body read.
func download(tb testing.TB, url string) (*http.Response, []byte) {
	tb.Helper()
	resp, err := http.Get(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("reading %s: %v", url, err)
	}
	return resp, body
}

// TestExportRoundTrip exports every incident as NDJSON and as CSV, as a
// user would with curl, and re-indexes both files with faildex's own
// reader: the re-built indexes hold exactly the same incidents.
func TestExportRoundTrip(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	base := f.listen(t)
	want := exportAll(t, f.dir)
	wantN := strings.Count(want, "\n")

	for _, tt := range []struct {
		format, ctype, file string
	}{
		{"ndjson", "application/x-ndjson; charset=utf-8", "faildex-all.ndjson"},
		{"csv", "text/csv; charset=utf-8; header=present", "faildex-all.csv"},
	} {
		t.Run(tt.format, func(t *testing.T) {
			resp, body := download(t, base+"/api/v1/export?format="+tt.format)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tt.ctype {
				t.Errorf("Content-Type %q, want %q", ct, tt.ctype)
			}
			if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename=`+tt.file {
				t.Errorf("Content-Disposition %q, want attachment of %s", cd, tt.file)
			}
			if n := resp.Header.Get("X-Total-Count"); n != fmt.Sprint(wantN) {
				t.Errorf("X-Total-Count %s, want %d", n, wantN)
			}
			path := filepath.Join(t.TempDir(), tt.file)
			if err := os.WriteFile(path, body, 0o644); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "reindexed")
			gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
			if err != nil {
				t.Fatal(err)
			}
			st, err := index.Build(context.Background(), dir, []string{path}, index.BuildOptions{
				Strict:        true,
				Organisations: gaz,
				Problem:       func(p index.Problem) { t.Errorf("re-indexing the export: %v", p.Error()) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if st.Indexed != wantN {
				t.Errorf("re-indexed %d incidents, want %d", st.Indexed, wantN)
			}
			if diff := cmp.Diff(want, exportAll(t, dir)); diff != "" {
				t.Errorf("faildex export after re-indexing the %s export differs (-want +got):\n%s", tt.format, diff)
			}
		})
	}
}

// TestExportCSVColumns checks the CSV layout: the database's columns, one
// option column and one rationale column per category, options joined by
// "; ", and fields with commas, quotes and line breaks quoted.
func TestExportCSVColumns(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	w := f.get(t, "/api/v1/export?format=csv&q=edge+case")
	mustStatus(t, w, http.StatusOK)
	if cd := w.Header().Get("Content-Disposition"); cd != "attachment; filename=faildex-edge-case.csv" {
		t.Errorf("Content-Disposition %q", cd)
	}
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 {
		t.Fatalf("%d records, want a header and one row", len(recs))
	}
	header, row := recs[0], recs[1]
	wantHeader := []string{"Incident ID", "Related Article IDs", "Published", "Title", "Summary", "Timeline", "System",
		"Responsible Organization", "Impacted Organization", "Software Causes", "Non-software Causes", "Impacts",
		"Preventions", "Fixes", "References", "Sources", "Responsible Organisations", "Impacted Organisations"}
	name := func(c index.Category) string {
		if c.Name == "cps" {
			return "CPS"
		}
		return strings.ToUpper(c.Name[:1]) + c.Name[1:]
	}
	for _, c := range index.Taxonomy {
		wantHeader = append(wantHeader, name(c)+" Option")
	}
	for _, c := range index.Taxonomy {
		wantHeader = append(wantHeader, name(c)+" Rationale")
	}
	if diff := cmp.Diff(wantHeader, header); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	col := map[string]string{}
	for i, h := range header {
		col[h] = row[i]
	}
	for k, v := range map[string]string{
		"Incident ID":         edgeID,
		"Related Article IDs": "",
		// A leading '=' would run as a formula in a spreadsheet: the cell
		// gets an apostrophe, which re-indexing removes (TestExportRoundTrip).
		"Summary":               "'=SUM(A1:A2) starts this cell; it has commas, \"double quotes\", a ; semicolon,\nand a second line.",
		"Sources":               "first, with comma\nsecond \"quoted\"",
		"Consequence Option":    "harm; property",
		"Consequence Rationale": "Rationale with \"quotes\", commas; semicolons\nand lines.",
		"CPS Option":            "unknown",
		"CPS Rationale":         "{CPS} 100%",
		"Phase Option":          "",
	} {
		if col[k] != v {
			t.Errorf("%s = %q, want %q", k, col[k], v)
		}
	}
	// The raw text quotes exactly the fields that need it.
	if !strings.Contains(w.Body.String(), `"Rationale with ""quotes"", commas; semicolons`+"\n"+`and lines."`) {
		t.Errorf("rationale not quoted as RFC 4180 says:\n%s", w.Body.String())
	}

	// No match: just the header.
	w = f.get(t, "/api/v1/export?format=csv&q=zzzzqqq")
	mustStatus(t, w, http.StatusOK)
	if got := strings.Count(w.Body.String(), "\n"); got != 1 || !strings.HasPrefix(w.Body.String(), "Incident ID,") {
		t.Errorf("empty export: %q", w.Body.String())
	}
}

// TestExportFiltered checks that an export covers the whole result set of
// its search, in the search's order, whatever its page and size say.
func TestExportFiltered(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	w := f.get(t, "/api/v1/export?q=ransomware&consequence=death&page=3&size=1")
	mustStatus(t, w, http.StatusOK)
	if cd := w.Header().Get("Content-Disposition"); cd != "attachment; filename=faildex-ransomware-consequence-death.ndjson" {
		t.Errorf("Content-Disposition %q", cd)
	}
	var ids []string
	sc := bufio.NewScanner(w.Body)
	for sc.Scan() {
		var in index.Incident
		if err := json.Unmarshal(sc.Bytes(), &in); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	if diff := cmp.Diff([]string{ransomID}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}

	// The same order as the search, across pages.
	var res search.Result
	w = f.get(t, "/api/v1/search?consequence=property&sort=oldest&size=100")
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, h := range res.Hits {
		want = append(want, h.ID)
	}
	w = f.get(t, "/api/v1/export?consequence=property&sort=oldest&format=ndjson")
	ids = nil
	for _, line := range strings.Split(strings.TrimSpace(w.Body.String()), "\n") {
		var in index.Incident
		if err := json.Unmarshal([]byte(line), &in); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
	}
	if len(want) < 5 {
		t.Fatalf("only %d incidents with consequence property", len(want))
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Errorf("export order differs from the search's (-want +got):\n%s", diff)
	}
}

// TestExportErrors checks that bad requests fail before the first byte,
// with the API's JSON errors.
func TestExportErrors(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	for _, tt := range []struct {
		target string
		param  string
	}{
		{"/api/v1/export?format=xml", "format"},
		{"/api/v1/export?format=csv&format=ndjson", "format"},
		{"/api/v1/export?sort=nope", "sort"},
		{"/api/v1/export?consequence=nope", "consequence"},
		{"/api/v1/export?from=yesterday", "from"},
	} {
		w := f.get(t, tt.target)
		var e struct {
			Error struct {
				Status int    `json:"status"`
				Param  string `json:"param"`
			} `json:"error"`
		}
		if w.Code != http.StatusBadRequest || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Param != tt.param {
			t.Errorf("%s: status %d body %s, want a 400 about %s", tt.target, w.Code, w.Body.String(), tt.param)
		}
		if cd := w.Header().Get("Content-Disposition"); cd != "" {
			t.Errorf("%s: error sent as an attachment", tt.target)
		}
	}
	w := f.do(t, http.MethodHead, "/api/v1/export?format=csv")
	mustStatus(t, w, http.StatusOK)
	if w.Body.Len() != 0 || w.Header().Get("X-Total-Count") != "35" {
		t.Errorf("HEAD: body %d bytes, X-Total-Count %q", w.Body.Len(), w.Header().Get("X-Total-Count"))
	}
}

// genSearcher is a Searcher whose Each generates incidents on the fly, to
// export far more than any test index holds.
type genSearcher struct {
	n       int
	summary string
	// each, if set, runs before incident i is passed on; an error ends Each.
	each    func(i int) error
	emitted atomic.Int64
}

func (g *genSearcher) Search(ctx context.Context, req search.Request) (*search.Result, error) {
	return &search.Result{Total: uint64(g.n), Page: 1, Size: 1}, nil
}

func (g *genSearcher) Incident(ctx context.Context, id string) (*index.Incident, error) {
	return nil, index.ErrNotFound
}

func (g *genSearcher) Each(ctx context.Context, req search.Request, fn func(*index.Incident) error) error {
	for i := 0; i < g.n; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if g.each != nil {
			if err := g.each(i); err != nil {
				return err
			}
		}
		in := &index.Incident{
			ID: fmt.Sprintf("gen-%07d", i), Title: fmt.Sprintf("Generated incident %d", i), Published: "2020-01-02",
			Summary: g.summary, Articles: []int64{int64(i)},
			Taxonomy: map[string]index.Classification{"consequence": {Options: []string{"delay"}, Rationale: g.summary}},
		}
		if err := fn(in); err != nil {
			return err
		}
		g.emitted.Add(1)
	}
	return nil
}

func (g *genSearcher) DocCount() uint64 { return uint64(g.n) }
func (g *genSearcher) Suggest(context.Context, string, int) (*search.Suggestions, error) {
	return &search.Suggestions{}, nil
}
func (g *genSearcher) Close() error { return nil }

// TestExportStreamsInConstantMemory exports 40 MB and checks that the heap
// stays small while it streams, and that the first lines reach the client
// long before the last incident is read.
func TestExportStreamsInConstantMemory(t *testing.T) {
	const n = 10000
	g := &genSearcher{n: n, summary: strings.Repeat("a slow and careful failure ", 75)} // 2 KB, twice per incident
	firstLine := make(chan struct{})
	var base, peak uint64
	g.each = func(i int) error {
		switch {
		case i == 0:
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			base = ms.HeapInuse
		case i == 1000:
			// The client must have received data before Each goes on.
			select {
			case <-firstLine:
			case <-time.After(10 * time.Second):
				return errors.New("no line reached the client after 1000 incidents")
			}
		case i%1000 == 0:
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak {
				peak = ms.HeapInuse
			}
		}
		return nil
	}
	srv := newEmbServer(t, server.Config{}, g)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/api/v1/export?format=ndjson")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadBytes('\n'); err != nil {
		t.Fatal(err)
	}
	close(firstLine)
	lines := 1
	var bytesRead int64
	for {
		line, err := br.ReadSlice('\n')
		bytesRead += int64(len(line))
		if err == io.EOF {
			break
		}
		if err != nil && err != bufio.ErrBufferFull {
			t.Fatal(err)
		}
		if err == nil {
			lines++
		}
	}
	if lines != n {
		t.Fatalf("%d lines, want %d", lines, n)
	}
	if bytesRead < 40<<20 {
		t.Fatalf("only %d bytes streamed", bytesRead)
	}
	if grew := int64(peak) - int64(base); grew > 16<<20 {
		t.Errorf("the heap grew by %d MB while streaming %d MB; exports must not buffer", grew>>20, bytesRead>>20)
	}
}

// TestExportOutlivesDeadlines streams an export for longer than the
// server's write timeout and the request's search deadline: each flush
// pushes the write deadline forward. Only the first incident must come
// within the search deadline.
func TestExportOutlivesDeadlines(t *testing.T) {
	const n = 30
	g := &genSearcher{n: n, summary: "slow"}
	g.each = func(i int) error {
		if i > 0 {
			time.Sleep(80 * time.Millisecond) // 2.3 s in all
		}
		return nil
	}
	srv := newEmbServer(t, server.Config{SearchTimeout: 100 * time.Millisecond}, g)
	ts := httptest.NewUnstartedServer(srv.Handler())
	ts.Config.WriteTimeout = time.Second
	ts.Start()
	defer ts.Close()
	resp, body := download(t, ts.URL+"/api/v1/export?format=csv")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != n+1 {
		t.Errorf("%d rows, want %d", len(recs)-1, n)
	}
}

// TestExportAbortsOnError checks that a failure in the middle of an export
// breaks the response instead of ending it cleanly, so that a truncated file
// is never taken for a complete one.
func TestExportAbortsOnError(t *testing.T) {
	g := &genSearcher{n: 5000, summary: "x"}
	g.each = func(i int) error {
		if i == 3000 {
			return errors.New("disk on fire")
		}
		return nil
	}
	srv := newEmbServer(t, server.Config{}, g)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/api/v1/export")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Error("the body ended cleanly after the export failed")
	}
}

// TestExportStopsWhenClientLeaves checks that an export stops reading the
// index soon after its client goes away.
func TestExportStopsWhenClientLeaves(t *testing.T) {
	g := &genSearcher{n: 1_000_000, summary: strings.Repeat("x", 4000)}
	srv := newEmbServer(t, server.Config{}, g)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/api/v1/export")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 1<<20); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		before := g.emitted.Load()
		time.Sleep(200 * time.Millisecond)
		if g.emitted.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the export went on after the client left (%d incidents)", g.emitted.Load())
		}
	}
	if got := g.emitted.Load(); got >= int64(g.n) {
		t.Errorf("all %d incidents were exported to a client that left", got)
	}
}
