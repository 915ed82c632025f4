package server

import (
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/faildex/faildex/search"
)

// cellLink matches a heat-map cell with a link: its href and count.
var cellLink = regexp.MustCompile(`<td class="h[1-9]"><a href="([^"]+)" title="[^"]*">(\d+)</a></td>`)

// TestExplorePage renders explore pages through the router and follows
// every cell's link to its search, whose total must be the cell's count.
func TestExplorePage(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, target := range []string{
		"/explore",
		"/explore?rows=consequence&cols=domain&q=software",
		"/explore?rows=year&cols=behaviour&objective=malicious",
		"/explore?rows=domain&cols=year&from=2016&to=2019-06",
		"/explore?rows=domain&cols=domain&domain=transportation&domain=health",
	} {
		w := ts.get(t, target)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d: %.300s", target, w.Code, w.Body.String())
		}
		body := w.Body.String()
		for _, want := range []string{`<table class="pivot">`, `<caption>`, `<th scope="col">`, `<th scope="row">`, `<tfoot>`, `<form class="pick" action="/explore" method="get">`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: no %s", target, want)
			}
		}
		links := cellLink.FindAllStringSubmatch(body, -1)
		if len(links) == 0 {
			t.Fatalf("%s: no cell links", target)
		}
		for _, m := range links {
			href := html.UnescapeString(m[1])
			if !strings.HasPrefix(href, "/?") {
				t.Fatalf("%s: cell link %q is not a search", target, href)
			}
			page := ts.get(t, href)
			if page.Code != http.StatusOK {
				t.Fatalf("%s: %s: status %d", target, href, page.Code)
			}
			var res search.Result
			decode(t, ts.get(t, "/api/v1/search"+strings.TrimPrefix(href, "/")), &res)
			if strconv.FormatUint(res.Total, 10) != m[2] {
				t.Errorf("%s: the cell of %s shows %s, its search finds %d", target, href, m[2], res.Total)
			}
		}
	}
}

// TestExploreTrends checks the small multiples of a pivot by year: one
// chart per option with incidents, each with an accessible name.
func TestExploreTrends(t *testing.T) {
	ts := newTestServer(t, Config{})
	w := ts.get(t, "/explore?rows=year&cols=behaviour")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	body := w.Body.String()
	var pv search.Pivot
	decode(t, ts.get(t, "/api/v1/pivot?rows=year&cols=behaviour"), &pv)
	n := 0
	for _, v := range pv.Cols.Values {
		if v.Total > 0 {
			n++
		}
	}
	if got := strings.Count(body, `role="img" aria-labelledby="t-`); got != n {
		t.Errorf("%d charts, want one per behaviour with incidents (%d)", got, n)
	}
	if !strings.Contains(body, `<h2 id="h-trend">Behaviour per year`) {
		t.Error("no trends heading")
	}
	// A pivot of categories offers its trends instead.
	w = ts.get(t, "/explore?rows=consequence&cols=domain")
	if strings.Contains(w.Body.String(), `id="h-trend"`) || !strings.Contains(w.Body.String(), `href="/explore?cols=domain&amp;rows=year"`) {
		t.Errorf("a pivot of categories: want no charts and a link to its trends:\n%.2000s", w.Body.String())
	}
}

func TestExplorePageErrors(t *testing.T) {
	ts := newTestServer(t, Config{})
	for _, target := range []string{"/explore?rows=nope", "/explore?cols=domain&consequnce=death", "/explore?from=never"} {
		w := ts.get(t, target)
		if w.Code != http.StatusBadRequest || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: status %d, %s; want a 400 page", target, w.Code, w.Header().Get("Content-Type"))
		}
	}
}

// TestSearchPageLinksToExplore checks the search page's link to the
// explore page of the same search.
func TestSearchPageLinksToExplore(t *testing.T) {
	ts := newTestServer(t, Config{})
	body := ts.get(t, "/?q=software&consequence=death&page=2&size=5").Body.String()
	want := `<a id="explore" href="/explore?cols=domain&amp;consequence=death&amp;q=software&amp;rows=consequence">`
	if !strings.Contains(body, want) {
		t.Errorf("no %s", want)
	}
}

func TestNarrowYear(t *testing.T) {
	for _, tc := range []struct{ from, to, year, wantFrom, wantTo string }{
		{"", "", "2018", "2018", "2018"},
		{"2018-06", "2020", "2018", "2018-06", "2018"},
		{"2016", "2019-06", "2019", "2019", "2019-06"},
	} {
		q, ok := narrow(search.Request{From: tc.from, To: tc.to}, search.PivotYear, search.PivotValue{Value: tc.year})
		if !ok || q.From != tc.wantFrom || q.To != tc.wantTo {
			t.Errorf("%s..%s narrowed to %s: %s..%s, want %s..%s", tc.from, tc.to, tc.year, q.From, q.To, tc.wantFrom, tc.wantTo)
		}
	}
}

func TestNarrowCategory(t *testing.T) {
	req := search.Request{Filters: map[string][]string{"domain": {"transportation", "health"}}}
	if q, ok := narrow(req, "domain", search.PivotValue{Value: "health"}); !ok || len(q.Filters["domain"]) != 1 {
		t.Errorf("an option of the filter: %v, %v; want the filter narrowed to it", q.Filters, ok)
	}
	if _, ok := narrow(req, "domain", search.PivotValue{Value: "finance"}); ok {
		t.Error("an option outside the filter: want no search")
	}
	if _, ok := narrow(req, "consequence", search.PivotValue{Value: search.NotAssessed, NotAssessed: true}); ok {
		t.Error("not assessed: want no search")
	}
	if len(req.Filters["domain"]) != 2 {
		t.Errorf("narrow changed its argument: %v", req.Filters)
	}
}

// TestIncidentPageSimilar checks the similar incidents listed on an
// incident page: the API's, linked, each saying what it shares.
func TestIncidentPageSimilar(t *testing.T) {
	ts := newTestServer(t, Config{})
	body := ts.get(t, "/incidents/"+alexaSeed).Body.String()
	var res search.SimilarResult
	decode(t, ts.get(t, "/api/v1/incidents/"+alexaSeed+"/similar"), &res)
	if len(res.Similar) != search.DefaultSimilar {
		t.Fatalf("%d similar incidents, want %d", len(res.Similar), search.DefaultSimilar)
	}
	if !strings.Contains(body, `<h2 id="h-similar">Similar incidents</h2>`) {
		t.Fatal("no similar incidents section")
	}
	section := body[strings.Index(body, `id="h-similar"`):]
	section = section[:strings.Index(section, "</section>")]
	for _, s := range res.Similar {
		if !strings.Contains(section, `<a href="/incidents/`+s.ID+`">`) {
			t.Errorf("no link to %s", s.ID)
		}
	}
	if strings.Count(section, `<span class="why">Shares`) != len(res.Similar) {
		t.Errorf("not every similar incident says why:\n%s", section)
	}
}
