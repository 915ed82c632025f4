package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"
	"github.com/rs/zerolog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// embNopSearcher is a Searcher over no incidents, for tests that only need
// a router.
type embNopSearcher struct{}

func (embNopSearcher) Search(context.Context, search.Request) (*search.Result, error) {
	return &search.Result{}, nil
}
func (embNopSearcher) Incident(context.Context, string) (*index.Incident, error) {
	return nil, index.ErrNotFound
}
func (embNopSearcher) Each(context.Context, search.Request, func(*index.Incident) error) error {
	return nil
}
func (embNopSearcher) DocCount() uint64 { return 0 }
func (embNopSearcher) Suggest(context.Context, string, int) (*search.Suggestions, error) {
	return &search.Suggestions{}, nil
}
func (embNopSearcher) Close() error { return nil }

func newEmbInternalServer(tb testing.TB) *Server {
	tb.Helper()
	s, err := New(Config{Log: zerolog.Nop(), AllowedHosts: []string{"faildex.test"}}, embNopSearcher{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// TestOpenAPIDocumentsEveryRoute checks that the OpenAPI document and the
// router agree: every /api/v1 route and every machine-readable endpoint is
// documented, and every documented path is routed.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	var doc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatal(err)
	}
	s := newEmbInternalServer(t)
	routed := map[string]bool{}
	// Routes for people and operators, not part of the documented interface.
	undocumented := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/admin/reload": true}
	err := s.router.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return nil // a prefix route (static files)
		}
		routed[tmpl] = true
		name := route.GetName()
		mine := strings.HasPrefix(tmpl, "/api/") || strings.HasPrefix(name, "feed_") || strings.HasPrefix(name, "embed") ||
			name == "opensearch" || name == "oembed" || name == "incident_bib"
		if mine && !undocumented[tmpl] {
			if _, ok := doc.Paths[tmpl]; !ok {
				t.Errorf("route %s (%s) is not in openapi.json", tmpl, name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range doc.Paths {
		if !routed[p] {
			t.Errorf("openapi.json documents %s, which is not routed", p)
		}
	}
}

// TestHeadLinks renders the discovery links of the pages a browser
// visits: OpenSearch everywhere, feeds on searches, oEmbed on incidents and
// searches.
func TestHeadLinks(t *testing.T) {
	s := newEmbInternalServer(t)
	ts, err := s.ui.templates()
	if err != nil {
		t.Fatal(err)
	}
	render := func(target string) string {
		r := httptest.NewRequest("GET", "http://faildex.test"+target, nil)
		var buf bytes.Buffer
		if err := ts.byName["embed"].ExecuteTemplate(&buf, "discoverylinks", s.headLinks(r)); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	search := render("/?q=wake+word&consequence=death&page=2")
	for _, want := range []string{
		`<link rel="alternate" type="application/atom+xml" href="/feed.atom?consequence=death&amp;q=wake&#43;word"`,
		`<link rel="alternate" type="application/feed+json" href="/feed.json?consequence=death&amp;q=wake&#43;word"`,
		`<link rel="alternate" type="application/json+oembed" href="/oembed?format=json&amp;url=http%3A%2F%2Ffaildex.test%2F%3Fq%3Dwake%2Bword%26consequence%3Ddeath%26page%3D2"`,
	} {
		if !strings.Contains(search, want) {
			t.Errorf("search page head lacks\n%s\nin\n%s", want, search)
		}
	}
	incident := render("/incidents/1996-ariane-5-flight-501")
	if !strings.Contains(incident, `href="/oembed?format=json&amp;url=http%3A%2F%2Ffaildex.test%2Fincidents%2F1996-ariane-5-flight-501"`) ||
		strings.Contains(incident, "atom") {
		t.Errorf("incident page head:\n%s", incident)
	}
	if other := render("/about"); strings.TrimSpace(other) != "" {
		t.Errorf("other page head:\n%s", other)
	}

	// Every page has the OpenSearch link (base.html's head).
	var buf bytes.Buffer
	if err := ts.byName["error"].ExecuteTemplate(&buf, "error", errorPage{Status: 404, Message: "x"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `<link rel="search" type="application/opensearchdescription+xml" href="/opensearch.xml" title="faildex">`) {
		t.Errorf("the error page has no OpenSearch link:\n%s", buf.String())
	}
}

// TestCitation checks what the incident page's "cite" block shows.
func TestCitation(t *testing.T) {
	s := newEmbInternalServer(t)
	r := httptest.NewRequest("GET", "http://faildex.test/incidents/x-1", nil)
	c := s.citation(r, &index.Incident{ID: "x-1", Title: "A & B", Published: "2001-12-31"})
	if c.BibURL != "/incidents/x-1.bib" || !strings.Contains(c.BibTeX, `title        = {{A \& B}}`) ||
		!strings.Contains(c.BibTeX, "url          = {http://faildex.test/incidents/x-1}") {
		t.Errorf("%+v", c)
	}
}

// TestFeedID checks the name-based UUIDs of feed ids against RFC 9562's
// example, and pins one id: if ids changed, feed readers would show every
// entry again.
func TestFeedID(t *testing.T) {
	dns := [16]byte{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	if got := formatUUID(uuid5(dns, "www.example.com")); got != "2ed6657d-e927-568b-95e1-2665a8aea6a2" {
		t.Errorf("uuid5(DNS, www.example.com) = %s, want RFC 9562's 2ed6657d-e927-568b-95e1-2665a8aea6a2", got)
	}
	if a, b := feedID("incident/a"), feedID("incident/b"); a == b {
		t.Errorf("two incidents share the id %s", a)
	}
	if got, want := feedID("incident/1996-ariane-5-flight-501"), "urn:uuid:6f6ee2d0-c893-5601-83e7-9700b5c8539e"; got != want {
		t.Errorf("feedID = %s, want %s", got, want)
	}
}
