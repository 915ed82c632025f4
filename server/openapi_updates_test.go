package server_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// TestOpenAPIUpdates validates the answers to curators' PUT and DELETE of
// an incident, successes and refusals, against the OpenAPI document.
func TestOpenAPIUpdates(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "index")
	seeds, _ := indextest.Shared(t)
	if _, err := index.Build(ctx, dir, []string{seeds}, index.BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	eng, err := search.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	open := func(ctx context.Context) (server.Searcher, error) { return search.Open(ctx, dir) }
	w := &index.Writer{Dir: dir}
	srv, err := server.New(server.Config{Log: zerolog.Nop(), AdminToken: "t0ken", Updates: w, Open: open}, eng)
	if err != nil {
		t.Fatal(err)
	}
	w.OnCommit = func(string) { srv.Reload(ctx) }
	files, _ := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	report, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSuffix(filepath.Base(files[0]), ".txt")
	o := loadOpenAPI(t)
	tmpl := "/api/v1/incidents/{id}"
	steps := []struct {
		method, target, ctype, token string
		body                         []byte
		status                       int
	}{
		{"PUT", "/api/v1/incidents/" + id, "text/plain", "", report, 401},
		{"PUT", "/api/v1/incidents/" + id, "text/plain", "t0ken", report, 201},
		{"PUT", "/api/v1/incidents/" + id, "text/plain", "t0ken", report, 200},
		{"PUT", "/api/v1/incidents/other-id", "application/json", "t0ken", []byte(`{"id":"` + id + `","title":"x","published":"2020-01-01"}`), 400},
		{"PUT", "/api/v1/incidents/" + id, "image/png", "t0ken", report, 415},
		{"DELETE", "/api/v1/incidents/" + id, "", "t0ken", nil, 200},
		{"GET", "/api/v1/incidents/" + id, "", "", nil, 410},
		{"DELETE", "/api/v1/incidents/" + id, "", "t0ken", nil, 404},
	}
	for _, s := range steps {
		r := httptest.NewRequest(s.method, "http://"+testHost+s.target, bytes.NewReader(s.body))
		if s.ctype != "" {
			r.Header.Set("Content-Type", s.ctype)
		}
		if s.token != "" {
			r.Header.Set("Authorization", "Bearer "+s.token)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, r)
		what := s.method + " " + s.target
		if rec.Code != s.status {
			t.Errorf("%s: status %d, want %d: %.300s", what, rec.Code, s.status, rec.Body.String())
			continue
		}
		sch := o.operationResponseSchema(t, strings.ToLower(s.method), tmpl, rec.Code, rec.Header().Get("Content-Type"))
		validate(t, sch, what, rec.Body.Bytes())
	}
}
