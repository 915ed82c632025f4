package server

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

const updateToken = "curator-secret"

// newUpdateServer serves the test index with updates enabled: a Writer on
// its directory that switches the server to each generation it writes.
func newUpdateServer(tb testing.TB) *testServer {
	tb.Helper()
	dir := buildTestIndex(tb)
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		tb.Fatal(err)
	}
	w := &index.Writer{Dir: dir, Organisations: gaz} // as the index was built
	ts := newTestServerOn(tb, dir, openTestEngine(tb, dir), Config{AdminToken: updateToken, Updates: w})
	w.OnCommit = func(string) {
		if err := ts.Reload(context.Background()); err != nil {
			tb.Errorf("reload after an update: %v", err)
		}
	}
	return ts
}

// send sends a request with a body through the whole handler.
func (ts *testServer) send(tb testing.TB, method, target, contentType string, body []byte, token string) *httptest.ResponseRecorder {
	tb.Helper()
	r := httptest.NewRequest(method, target, bytes.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	ts.Handler().ServeHTTP(w, r)
	return w
}

// bundledReport returns a bundled report (not in the test index) and its id.
func bundledReport(tb testing.TB) (id string, body []byte) {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no bundled reports: %v", err)
	}
	f := files[len(files)/2]
	b, err := os.ReadFile(f)
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSuffix(filepath.Base(f), ".txt"), b
}

func TestPutAndDeleteIncident(t *testing.T) {
	ts := newUpdateServer(t)
	id, report := bundledReport(t)
	target := "/api/v1/incidents/" + id
	before := totalOf(t, ts, "/api/v1/search")

	// Curators only.
	if w := ts.send(t, http.MethodPut, target, "text/plain", report, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("PUT without a token: %d, want 401", w.Code)
	}
	if w := ts.send(t, http.MethodPut, target, "text/plain", report, "wrong"); w.Code != http.StatusUnauthorized {
		t.Errorf("PUT with a wrong token: %d, want 401", w.Code)
	}
	if w := ts.send(t, http.MethodDelete, "/api/v1/incidents/"+id, "", nil, ""); w.Code != http.StatusUnauthorized {
		t.Errorf("DELETE without a token: %d, want 401", w.Code)
	}

	// A report in the page form is created and searchable at once.
	w := ts.send(t, http.MethodPut, target, "text/plain; charset=utf-8", report, updateToken)
	var res UpdateResult
	decode(t, w, &res)
	if w.Code != http.StatusCreated || res.Outcome != index.Created || w.Header().Get("Location") != target {
		t.Fatalf("PUT of a new report: %d %+v Location %q, want 201 created", w.Code, res, w.Header().Get("Location"))
	}
	var in index.Incident
	decode(t, ts.get(t, target), &in)
	if in.ID != id || in.Title == "" {
		t.Fatalf("GET after PUT: %+v", in)
	}
	if got := totalOf(t, ts, "/api/v1/search"); got != before+1 {
		t.Errorf("incidents after PUT: %d, want %d", got, before+1)
	}
	titleWord := distinctiveWord(t, ts, in.Title)
	if !hitsInclude(t, ts, "/api/v1/search?q="+titleWord, id) {
		t.Errorf("search %q does not find the incident put", titleWord)
	}
	if feed := ts.get(t, "/feed.json?q="+titleWord).Body.String(); !strings.Contains(feed, id) {
		t.Errorf("the JSON feed of %q lacks the incident put", titleWord)
	}
	if exp := ts.get(t, "/api/v1/export?format=ndjson").Body.String(); !strings.Contains(exp, `"id":"`+id+`"`) {
		t.Error("the export lacks the incident put")
	}

	// The same report again changes nothing.
	w = ts.send(t, http.MethodPut, target, "text/plain", report, updateToken)
	decode(t, w, &res)
	if w.Code != http.StatusOK || res.Outcome != index.Unchanged {
		t.Errorf("PUT of the same report: %d %+v, want 200 unchanged", w.Code, res)
	}

	// The JSON form, laid out on many lines, replaces it.
	in.Title = "Curated zanzibarian retitling"
	body, _ := json.MarshalIndent(in, "", "  ")
	w = ts.send(t, http.MethodPut, target, "application/json", body, updateToken)
	decode(t, w, &res)
	if w.Code != http.StatusOK || res.Outcome != index.Replaced {
		t.Fatalf("PUT of JSON: %d %+v %s, want 200 replaced", w.Code, res, w.Body)
	}
	if !hitsInclude(t, ts, "/api/v1/search?q=zanzibarian", id) {
		t.Error("the new title is not searchable")
	}
	var after index.Incident
	decode(t, ts.get(t, target), &after)
	if after.Title != in.Title {
		t.Errorf("title after PUT of JSON: %q, want %q", after.Title, in.Title)
	}

	// Deleted: gone from search, 410 on its pages, 404 when deleted again.
	w = ts.send(t, http.MethodDelete, target, "", nil, updateToken)
	decode(t, w, &res)
	if w.Code != http.StatusOK || res.Outcome != index.Deleted {
		t.Fatalf("DELETE: %d %+v", w.Code, res)
	}
	if hitsInclude(t, ts, "/api/v1/search?q=zanzibarian", id) {
		t.Error("a deleted incident is still found")
	}
	if got := totalOf(t, ts, "/api/v1/search"); got != before {
		t.Errorf("incidents after DELETE: %d, want %d", got, before)
	}
	if w := ts.get(t, target); w.Code != http.StatusGone {
		t.Errorf("GET of a deleted incident: %d, want 410", w.Code)
	}
	if w := ts.get(t, "/incidents/"+id); w.Code != http.StatusGone {
		t.Errorf("the page of a deleted incident: %d, want 410", w.Code)
	}
	if w := ts.send(t, http.MethodDelete, target, "", nil, updateToken); w.Code != http.StatusNotFound {
		t.Errorf("DELETE of a deleted incident: %d, want 404", w.Code)
	}
	if w := ts.get(t, "/api/v1/incidents/never-existed"); w.Code != http.StatusNotFound {
		t.Errorf("GET of an id never seen: %d, want 404", w.Code)
	}
}

// TestPutCSV puts one record of the database's CSV export.
func TestPutCSV(t *testing.T) {
	ts := newUpdateServer(t)
	_, csvPath := indextest.Shared(t)
	raw, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var one bytes.Buffer
	cw := csv.NewWriter(&one)
	cw.Write(rows[0])
	cw.Write(rows[1])
	cw.Flush()
	var id string
	index.Read(index.FormatCSV, "one.csv", bytes.NewReader(one.Bytes()), index.Handler{
		Record: func(r index.Record) error { id = r.Incident.ID; return nil }, Problem: func(index.Problem) {}})
	if id == "" {
		t.Fatal("the CSV record has no id")
	}
	w := ts.send(t, http.MethodPut, "/api/v1/incidents/"+id, "text/csv", one.Bytes(), updateToken)
	var res UpdateResult
	decode(t, w, &res)
	// The test index already holds the CSV's incidents.
	if w.Code != http.StatusOK || res.Outcome != index.Unchanged {
		t.Errorf("PUT of a CSV record already indexed: %d %+v, want 200 unchanged", w.Code, res)
	}
	cw.Write(rows[2])
	cw.Flush()
	w = ts.send(t, http.MethodPut, "/api/v1/incidents/"+id, "text/csv", one.Bytes(), updateToken)
	if e := apiErr(t, w); w.Code != http.StatusBadRequest || !strings.Contains(e.Message, "more than one") {
		t.Errorf("PUT of two CSV records: %d %+v", w.Code, e)
	}
}

func TestPutRefusals(t *testing.T) {
	ts := newUpdateServer(t)
	id, report := bundledReport(t)
	target := "/api/v1/incidents/" + id
	cases := []struct {
		name, target, ct string
		body             []byte
		status           int
		param, msg       string
	}{
		{"ids differ", "/api/v1/incidents/another-id", "application/json", mustJSON(t, index.Incident{ID: id, Title: "x", Published: "2020-01-01"}), 400, "id", "not the id of the URL"},
		{"invalid id", "/api/v1/incidents/" + strings.Repeat("x", 200), "text/plain", report, 400, "id", "not a valid incident id"},
		{"not a report format", target, "application/pdf", report, 415, "Content-Type", "not a report format"},
		{"no content type", target, "", report, 415, "Content-Type", "not a report format"},
		{"not JSON", target, "application/json", []byte("{title: x"), 400, "", "not one JSON object"},
		{"rejected report", target, "text/plain", []byte("Incident: a title and nothing else\n"), 400, "", "line"},
		{"empty", target, "application/x-ndjson", nil, 400, "", "no incident"},
		{"too large", target, "text/plain", bytes.Repeat([]byte("a"), putBodyLimit+10), 413, "", "at most"},
	}
	for _, c := range cases {
		w := ts.send(t, http.MethodPut, c.target, c.ct, c.body, updateToken)
		e := apiErr(t, w)
		if w.Code != c.status || e.Param != c.param || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: %d %+v, want %d naming %q with %q", c.name, w.Code, e, c.status, c.param, c.msg)
		}
	}
	if w := ts.get(t, target); w.Code != http.StatusNotFound {
		t.Errorf("after refused PUTs, GET: %d, want 404", w.Code)
	}
}

func TestUpdatesDisabled(t *testing.T) {
	ts := newTestServer(t, Config{}) // no token, no updater
	id, report := bundledReport(t)
	w := ts.send(t, http.MethodPut, "/api/v1/incidents/"+id, "text/plain", report, "anything")
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("PUT on a server without updates: %d, want 405", w.Code)
	}
}

func mustJSON(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// hitsInclude reports whether the first page of a search holds id.
func hitsInclude(tb testing.TB, ts *testServer, target, id string) bool {
	tb.Helper()
	var res struct {
		Hits []struct {
			ID string `json:"id"`
		} `json:"hits"`
	}
	decode(tb, ts.get(tb, target), &res)
	for _, h := range res.Hits {
		if h.ID == id {
			return true
		}
	}
	return false
}

// distinctiveWord returns a word of title (5 letters or more) that no
// incident of the index has yet, so that finding it finds the new one.
func distinctiveWord(tb testing.TB, ts *testServer, title string) string {
	tb.Helper()
	for _, w := range strings.FieldsFunc(strings.ToLower(title), func(r rune) bool { return r < 'a' || r > 'z' }) {
		if len(w) < 5 {
			continue
		}
		var res struct {
			Total uint64 `json:"total"`
		}
		decode(tb, ts.get(tb, "/api/v1/search?q="+w), &res)
		if res.Total == 1 {
			return w
		}
	}
	tb.Fatalf("no word of %q is the new incident's alone", title)
	return ""
}
