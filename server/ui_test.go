package server

import (
	"compress/gzip"
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/web"
)

// uiFullIncident is an incident with every field set, markup in all of them.
func uiFullIncident() *index.Incident {
	x := " " + xssScript + " " + xssImg + " </mark> &lt;"
	in := &index.Incident{
		ID: "full-1", Title: "Full" + x, Published: "2019-03-10", Summary: "1. First" + x + " 2. Second",
		Timeline: "(a) one (b) two" + x, System: "System" + x, ResponsibleOrg: "Org" + x, ImpactedOrg: "Them" + x,
		SoftwareCauses: "Causes" + x, NonSoftwareCauses: "Other" + x, Impacts: "Impacts\nsecond line" + x,
		Preventions: "P" + x, Fixes: "F" + x, References: "R" + x,
		Articles: []int64{1, 2},
		Sources:  []string{"https://example.org/a?b=c", xssLink, "plain" + x},
		Taxonomy: map[string]index.Classification{},
	}
	for _, c := range index.Taxonomy {
		in.Taxonomy[c.Name] = index.Classification{Options: []string{c.Options[0].Value, xssImg}, Rationale: "Because" + x}
	}
	delete(in.Taxonomy, "cps") // not assessed
	return in
}

// uiFullResult is a result with hits, facets, years and pages, markup in
// every string.
func uiFullResult(req search.Request) *search.Result {
	res := &search.Result{Query: req.Query, Sort: search.SortRelevance, Total: 95, Page: 2, Size: 20, Pages: 5,
		Years: []search.YearCount{{Year: 2015, Count: 3}, {Year: 2019, Count: 40}}}
	for i := 0; i < 20; i++ {
		res.Hits = append(res.Hits, search.Hit{
			ID: fmt.Sprintf("h%d", i), Title: "T" + xssScript, TitleHTML: "<mark>T</mark>" + template.HTMLEscapeString(xssScript),
			Published: "2019-01-02", Articles: i, Summary: "S" + xssImg,
			Options: map[string][]string{"consequence": {"death", xssImg}, "domain": {"unknown"}},
			Fragments: []search.Fragment{{Field: "summary", Label: "Summary", HTML: []string{"a <mark>b</mark> " + template.HTMLEscapeString(xssImg)}},
				{Field: "fixes", Label: "Fixes" + xssScript, HTML: []string{"<b>not trusted</b>"}}},
		})
	}
	for _, c := range index.Taxonomy {
		f := search.Facet{Field: c.Name, Label: c.Label, Missing: 7}
		for i, o := range c.Options {
			f.Values = append(f.Values, search.FacetValue{Value: o.Value, Label: o.Label, Definition: o.Definition, Count: uint64(10 - i), Selected: i == 8})
		}
		f.Values = append(f.Values, search.FacetValue{Value: xssImg, Label: xssImg, Count: 1, Selected: true})
		res.Facets = append(res.Facets, f)
	}
	return res
}

// uiPages returns an empty and a full data value for each page template.
func uiPages() map[string][2]any {
	req := search.Request{Query: "q" + xssScript, From: "2015", To: "2019", Size: 50,
		Filters: map[string][]string{"consequence": {"death", xssImg}, "recurring": {xssScript}}}
	return map[string][2]any{
		"search":   {&searchPage{}, newSearchPage(req, uiFullResult(req))},
		"incident": {&incidentPage{}, newIncidentPage(uiFullIncident(), "/?q=x")},
		"error":    {&errorPage{}, &errorPage{pageMeta: pageMeta{Title: "404"}, Status: 404, StatusText: "Not Found", Message: xssScript}},
	}
}

// TestTemplates checks that the embedded templates and those on disk (what
// dev mode reads) parse, and that every page renders for empty and full data
// without letting markup through.
func TestTemplates(t *testing.T) {
	for _, src := range []struct {
		name string
		fsys func() (*templateSet, error)
	}{
		{"embedded", func() (*templateSet, error) { return parseTemplates(web.FS) }},
		{"disk", func() (*templateSet, error) { return parseTemplates(os.DirFS("../web")) }},
	} {
		t.Run(src.name, func(t *testing.T) {
			ts, err := src.fsys()
			if err != nil {
				t.Fatal(err)
			}
			pages := uiPages()
			for name, data := range pages {
				for i, d := range data {
					var b strings.Builder
					if err := ts.byName[name].ExecuteTemplate(&b, name, d); err != nil {
						t.Fatalf("%s %s: %v", name, []string{"empty", "full"}[i], err)
					}
					out := b.String()
					where := fmt.Sprintf("%s (%s)", name, []string{"empty", "full"}[i])
					if !strings.HasPrefix(out, "<!doctype html>") || !strings.HasSuffix(strings.TrimSpace(out), "</html>") {
						t.Errorf("%s: not a whole document: %.200s", where, out)
					}
					for _, want := range []string{`<main id="main"`, `lang="en"`, `name="viewport"`, "/static/style.css?v="} {
						if !strings.Contains(out, want) {
							t.Errorf("%s: no %s", where, want)
						}
					}
					checkHTML(t, where, out)
					if i == 1 && strings.Contains(out, xssScript) {
						t.Errorf("%s: unescaped markup", where)
					}
				}
			}
			for _, name := range []string{"search", "incident", "error"} {
				if _, ok := ts.byName[name]; !ok {
					t.Errorf("no page %q; have %v", name, ts.files)
				}
			}
		})
	}
}

// TestTemplateContract checks that a page must define the template named
// after its file.
func TestTemplateContract(t *testing.T) {
	layout := &fstest.MapFile{Data: []byte(`{{define "base"}}<html>{{block "body" .}}{{end}}</html>{{end}}`)}
	css := &fstest.MapFile{Data: []byte("p{}")}
	good := fstest.MapFS{"static/s.css": css, "templates/base.html": layout, "templates/p.html": {Data: []byte(`{{define "p"}}{{template "base" .}}{{end}}{{define "body"}}P{{end}}`)}}
	ts, err := parseTemplates(good)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := ts.byName["p"].ExecuteTemplate(&b, "p", nil); err != nil || b.String() != "<html>P</html>" {
		t.Errorf("page p: %q, %v", b.String(), err)
	}
	if v := ts.versions["s.css"]; len(v) != 12 {
		t.Errorf("version of s.css %q", v)
	}
	bad := fstest.MapFS{"static/s.css": css, "templates/base.html": layout, "templates/q.html": {Data: []byte(`{{define "body"}}Q{{end}}`)}}
	if _, err := parseTemplates(bad); err == nil || !strings.Contains(err.Error(), `does not define the template "q"`) {
		t.Errorf("a page without its template: %v", err)
	}
}

// uiGet requests target through the whole handler, as a browser would with
// a Referer, and returns the response.
func uiGet(tb testing.TB, ts *testServer, target string, hdr ...string) (int, http.Header, string) {
	tb.Helper()
	w := ts.do(tb, http.MethodGet, target, hdr...)
	return w.Code, w.Header(), w.Body.String()
}

// uiCheck fails unless body contains every want.
func uiCheck(tb testing.TB, where, body string, want ...string) {
	tb.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			tb.Errorf("%s: no %q", where, w)
		}
	}
}

var (
	uiFacetIDs   = regexp.MustCompile(`<details class="facet" id="c-([a-z]+)"( open)?>`)
	uiHitLinks   = regexp.MustCompile(`<h2><a href="(/incidents/[^"]+)">`)
	uiCheckboxes = regexp.MustCompile(`<input type="checkbox" form="f" id="[^"]+" name="([a-z_]+)" value="([^"]+)"( checked)?><label [^>]*>[^<]*<span class="c">(\d+)</span>`)
)

// TestSearchPage checks the search page over the real reports.
func TestSearchPage(t *testing.T) {
	ts := newTestServer(t, Config{})

	t.Run("all incidents", func(t *testing.T) {
		code, _, body := uiGet(t, ts, "/")
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		var got []string
		open := map[string]bool{}
		for _, m := range uiFacetIDs.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1])
			open[m[1]] = m[2] != ""
		}
		if len(got) != len(index.Taxonomy) || got[0] != "consequence" || got[1] != "domain" || got[2] != "behaviour" {
			t.Errorf("facets %v, want all 16, consequence, domain and behaviour first", got)
		}
		for _, f := range got {
			if open[f] != (f == "consequence" || f == "domain" || f == "behaviour") {
				t.Errorf("facet %s open=%v", f, open[f])
			}
		}
		if n := len(uiHitLinks.FindAllString(body, -1)); n != search.DefaultSize {
			t.Errorf("%d hits, want %d", n, search.DefaultSize)
		}
		uiCheck(t, "/", body, `<form id="f" class="search" role="search" action="/" method="get">`,
			`<svg viewBox="0 0 600 60"`, `href="/?from=2018&amp;to=2018"`, `<nav class="pager" aria-label="Pages">`,
			`href="/?page=2" rel="next"`, `<ul class="unassessed"><li><input type="checkbox" form="f" id="f-`, `<details class="more"`, `title="People lost their lives`)
		if strings.Contains(body, `class="chips"`) {
			t.Error("chips without filters")
		}
	})

	t.Run("query", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?q=wake+word")
		links := uiHitLinks.FindAllStringSubmatch(body, -1)
		if len(links) == 0 || links[0][1] != "/incidents/"+alexaSeed+"?back=q%3Dwake%2Bword" {
			t.Fatalf("hit links %v, want the Alexa seed first, with the search to go back to", links)
		}
		uiCheck(t, "wake word", body, `value="wake word"`, `<mark>wake</mark> <mark>word</mark>`, `for “wake word”</h1>`,
			`<option value="relevance" selected>`)
	})

	t.Run("facet counts match the API", func(t *testing.T) {
		const params = "consequence=death&domain=transportation"
		var res search.Result
		decode(t, ts.get(t, "/api/v1/search?"+params), &res)
		_, _, body := uiGet(t, ts, "/?"+params)
		want := map[string]string{}
		for _, f := range res.Facets {
			for _, v := range f.Values {
				want[f.Field+"="+v.Value] = fmt.Sprintf("%d %v", v.Count, v.Selected)
			}
			if f.Missing > 0 || f.MissingSelected {
				want[f.Field+"="+search.NotAssessed] = fmt.Sprintf("%d %v", f.Missing, f.MissingSelected)
			}
		}
		got := map[string]string{}
		for _, m := range uiCheckboxes.FindAllStringSubmatch(body, -1) {
			got[m[1]+"="+m[2]] = m[4] + " " + fmt.Sprint(m[3] != "")
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("facet values (-api +page):\n%s", diff)
		}
		uiCheck(t, params, body, countLabel(res.Total)+"</h1>",
			`<a href="/?domain=transportation" aria-label="Remove Consequence: Death">`,
			`<a href="/?consequence=death" aria-label="Remove Domain: Transportation">`,
			`<a class="clear" href="/">Clear all</a>`)
	})

	t.Run("links keep every parameter", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?q=software&consequence=property&from=2010&sort=date&size=5&page=2")
		uiCheck(t, "page 2", body,
			`href="/?consequence=property&amp;from=2010&amp;page=3&amp;q=software&amp;size=5&amp;sort=date" rel="next"`,
			`href="/?consequence=property&amp;from=2010&amp;q=software&amp;size=5&amp;sort=date" rel="prev"`,
			`<input type="hidden" name="size" value="5">`,
			`<option value="date" selected>`,
			`href="/?consequence=property&amp;from=2018&amp;q=software&amp;size=5&amp;sort=date&amp;to=2018"`)
	})

	t.Run("year selected", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?from=2018&to=2018")
		uiCheck(t, "2018", body, `<a id="y2018" href="/" aria-label="2018: `, `class="on"`, `Published 2018 <span`)
	})

	t.Run("empty", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?q=wake+word&consequence=death")
		// Each removal says how many incidents it brings back, as the API
		// counts them.
		var res struct{ Total uint64 }
		decode(t, ts.get(t, "/api/v1/search?q=wake+word"), &res)
		if res.Total == 0 {
			t.Fatal("wake word finds nothing")
		}
		uiCheck(t, "empty", body, "No incidents match this search.", "Remove a filter:",
			fmt.Sprintf(`<a href="/?q=wake&#43;word">Remove Consequence: Death</a> <span class="c">→ %s</span>`, lowerCount(res.Total)),
			`Search all incidents for “wake word”`)
	})

	t.Run("past the last page", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?q=wake+word&page=7")
		uiCheck(t, "page 7", body, "past the last page", `<a href="/?q=wake&#43;word">Go to the last page</a>`)
	})

	t.Run("query outside the language", func(t *testing.T) {
		code, _, body := uiGet(t, ts, "/?q="+url.QueryEscape(`"unbalanced <script>`)+"&consequence=death")
		if code != http.StatusOK {
			t.Errorf("status %d, want 200", code)
		}
		notice, results := strings.Index(body, `<p class="notice">`), strings.Index(body, `<ol class="hits"`)
		if notice < 0 || results < 0 || notice > results {
			t.Errorf("the notice (at %d) is not above the results (at %d)", notice, results)
		}
		uiCheck(t, "query outside the language", body, `value="&#34;unbalanced &lt;script&gt;"`,
			"A quote was not closed", `name="consequence" value="death"`)
		checkHTML(t, "query outside the language", body)
	})

	t.Run("did you mean and relaxed", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?q="+url.QueryEscape("alexxa recording"))
		uiCheck(t, "did you mean", body, `Did you mean <a id="dym" href="/?q=alexa&#43;recording">alexa recording</a>?`)
		_, _, body = uiGet(t, ts, "/?q="+url.QueryEscape("alexa zebrafish"))
		uiCheck(t, "relaxed", body, `id="relaxed"`, `<q>zebrafish</q>`)
		checkHTML(t, "relaxed", body)
	})

	t.Run("bad parameters", func(t *testing.T) {
		for _, q := range []string{"page=0", "size=1000", "sort=" + url.QueryEscape(xssImg), "from=" + url.QueryEscape(xssScript), "q=a&q=b", "consequence=" + url.QueryEscape("nope<b>")} {
			code, _, body := uiGet(t, ts, "/?"+q)
			if code != http.StatusBadRequest || !strings.Contains(body, `<p class="err" role="alert"`) {
				t.Errorf("%s: status %d, want 400 with the message", q, code)
			}
			checkHTML(t, q, body)
		}
	})

	t.Run("hostile report", func(t *testing.T) {
		_, _, body := uiGet(t, ts, "/?q=hostile")
		if !strings.Contains(body, "/incidents/"+hostileID) {
			t.Fatal("the hostile report is not found")
		}
		checkHTML(t, "hostile", body)
		uiCheck(t, "hostile", body, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;/mark&gt;")
	})
}

// TestIncidentPage checks the incident page over the real reports.
func TestIncidentPage(t *testing.T) {
	ts := newTestServer(t, Config{})

	t.Run("seed", func(t *testing.T) {
		code, _, body := uiGet(t, ts, "/incidents/"+alexaSeed+"?back="+url.QueryEscape("q=wake word&consequence=property&page=2"))
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		uiCheck(t, "seed", body,
			"<h1>Amazon Alexa Privacy Breach: Recording and Sending Conversations Without Consent</h1>",
			`<time datetime="2018-05-24">24 May 2018</time>`,
			`<a class="back" href="/?consequence=property&amp;page=2&amp;q=wake&#43;word">← Back to the search</a>`,
			`<link rel="canonical" href="/incidents/`+alexaSeed+`">`,
			"Postmortem analysis", "Software Taxonomy of Faults", "IoT System Layer", "Other Details",
			`<a href="/?recurring=one_organization"`, `<a href="/?consequence=property"`,
			"A similar failure happened before within the same organization.",
			"Cited articles: ", ">71241<", `href="/api/v1/incidents/`+alexaSeed+`"`,
			`<h2 id="h-cite">Cite</h2>`, "@misc{", `href="/incidents/`+alexaSeed+`.bib" download`)
		for _, c := range index.Taxonomy {
			if !strings.Contains(body, `<tr id="`+c.Name+`">`) {
				t.Errorf("no taxonomy row for %s", c.Name)
			}
		}
	})

	t.Run("hostile", func(t *testing.T) {
		code, _, body := uiGet(t, ts, "/incidents/"+hostileID)
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		checkHTML(t, "hostile incident", body)
		uiCheck(t, "hostile incident", body, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;/mark&gt;", "&amp;lt;b&amp;gt;")
	})

	t.Run("unknown", func(t *testing.T) {
		for _, id := range []string{"no-such-incident", url.PathEscape(xssScript), "a%2Fb"} {
			code, hdr, body := uiGet(t, ts, "/incidents/"+id)
			if code != http.StatusNotFound || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
				t.Errorf("%s: status %d %s, want a 404 page", id, code, hdr.Get("Content-Type"))
			}
			checkHTML(t, id, body)
			uiCheck(t, id, body, "<h1>404 Not Found</h1>")
		}
	})
}

// TestBackURL checks that the link back from an incident is always a
// same-site search.
func TestBackURL(t *testing.T) {
	for _, tc := range []struct {
		back, referer, want string
	}{
		{"", "", "/"},
		{"q=wake+word&consequence=death", "", "/?consequence=death&q=wake+word"},
		{"?q=x", "", "/?q=x"},
		{"q=x&evil=1&page=3", "", "/?page=3&q=x"},
		{"javascript:alert(1)", "", "/"},
		{"//evil.example/?q=x", "", "/"},
		{"q=x&q=y", "", "/"},
		{"%zz", "", "/"},
		{"", "http://faildex.test/?q=wake", "/?q=wake"},
		{"", "http://faildex.test/incidents/x?q=wake", "/"},
		{"", "http://evil.example/?q=wake", "/"},
		{"", "javascript:alert(1)", "/"},
		{"q=from+back", "http://faildex.test/?q=referer", "/?q=from+back"},
	} {
		target := "http://faildex.test/incidents/x"
		if tc.back != "" {
			target += "?back=" + url.QueryEscape(tc.back)
		}
		r, err := http.NewRequest(http.MethodGet, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.referer != "" {
			r.Header.Set("Referer", tc.referer)
		}
		if got := backURL(r); got != tc.want {
			t.Errorf("back %q referer %q: %q, want %q", tc.back, tc.referer, got, tc.want)
		}
	}
}

func TestSplitText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want textView
	}{
		{"", textView{}},
		{"Plain text.", textView{Paras: []string{"Plain text."}}},
		{"One.\nTwo.", textView{Paras: []string{"One.", "Two."}}},
		{"1. Only one [12].", textView{Paras: []string{"Only one [12]."}}},
		{"1. First. 2. Second on 2018-05-24. 3. Third.", textView{Items: []string{"First.", "Second on 2018-05-24.", "Third."}}},
		{"1. A 3. not next 2. B", textView{Items: []string{"A 3. not next", "B"}}},
		{"(a) x (b) y (d) z", textView{Items: []string{"x", "y (d) z"}, Letters: true}},
		{"Text (a) not at start (b) x", textView{Paras: []string{"Text (a) not at start (b) x"}}},
	} {
		if diff := cmp.Diff(tc.want, splitText(tc.in)); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestHighlighted(t *testing.T) {
	for in, want := range map[string]template.HTML{
		"a <mark>b</mark> &lt;c&gt;":   "a <mark>b</mark> &lt;c&gt;",
		"<b>x</b>":                     "&lt;b&gt;x&lt;/b&gt;",
		`<mark onclick="x">y</mark>`:   "&lt;mark onclick=&#34;x&#34;&gt;y&lt;/mark&gt;",
		"<mark>a</mark>\"><img src=x>": "&lt;mark&gt;a&lt;/mark&gt;&#34;&gt;&lt;img src=x&gt;",
	} {
		if got := highlighted(in); got != want {
			t.Errorf("highlighted(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestControlID(t *testing.T) {
	ids := map[string]bool{}
	for _, v := range []string{"death", "non-human", "no_consequence", xssImg, `"><img_src=x`, "é"} {
		id := controlID("f", "consequence", v)
		if !regexp.MustCompile(`^[a-z0-9_.-]+$`).MatchString(id) || ids[id] {
			t.Errorf("controlID(%q) = %q: not a plain, unique id", v, id)
		}
		ids[id] = true
	}
}

func TestHistogram(t *testing.T) {
	req := search.Request{Query: "x", From: "2016", To: "2017"}
	h := newHistogram(req, []search.YearCount{{Year: 2016, Count: 4}, {Year: 2017, Count: 2}, {Year: 2019, Count: 1}})
	if h.Last-h.First+1 != histMinYears || h.First > 2016 || h.Last < 2019 {
		t.Errorf("span %d-%d, want %d years around 2016-2019", h.First, h.Last, histMinYears)
	}
	var on []int
	for _, b := range h.Bars {
		if b.On {
			on = append(on, b.Year)
		}
	}
	if diff := cmp.Diff([]int{2016, 2017}, on); diff != "" {
		t.Errorf("selected bars (-want +got):\n%s", diff)
	}
	if b := h.Bars[0]; b.H != "58" || b.Y != "2" || b.Href != "/?from=2016&q=x&to=2016" || b.Label != "2016: 4 incidents" {
		t.Errorf("first bar %+v", b)
	}
	if newHistogram(req, nil) != nil {
		t.Error("a histogram without years")
	}
}

// TestStatic checks the assets' cache headers and versions, compression
// and that the static directory is not listed.
func TestStatic(t *testing.T) {
	ts := newTestServerOn(t, "", newFake(func(context.Context) (*search.Result, error) { return &search.Result{}, nil }), Config{})
	ver := ts.ui.pages.versions["style.css"]
	if ver == "" {
		t.Fatal("no version for style.css")
	}
	for _, tc := range []struct {
		target, cache string
		status        int
	}{
		{"/static/style.css?v=" + ver, "public, max-age=31536000, immutable", 200},
		{"/static/style.css", "no-cache", 200},
		{"/static/style.css?v=old", "no-cache", 200},
		{"/static/app.js?v=" + ts.ui.pages.versions["app.js"], "public, max-age=31536000, immutable", 200},
		{"/static/", "", 404},
		{"/static/nope.css", "", 404},
	} {
		w := ts.get(t, tc.target)
		if w.Code != tc.status || (tc.cache != "" && w.Header().Get("Cache-Control") != tc.cache) {
			t.Errorf("%s: %d %q, want %d %q", tc.target, w.Code, w.Header().Get("Cache-Control"), tc.status, tc.cache)
		}
	}
	if w := ts.do(t, http.MethodGet, "/static/style.css", "If-None-Match", `"`+ver+`"`); w.Code != http.StatusNotModified {
		t.Errorf("revalidation: %d, want 304", w.Code)
	}
	for _, target := range []string{"/static/style.css", "/static/app.js", "/"} {
		w := ts.do(t, http.MethodGet, target, "Accept-Encoding", "gzip")
		if w.Header().Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not compressed (%q)", target, w.Header().Get("Content-Encoding"))
			continue
		}
		zr, err := gzip.NewReader(w.Body)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(zr); err != nil {
			t.Errorf("%s: %v", target, err)
		}
	}
	if w := ts.do(t, http.MethodGet, "/static/favicon.svg", "Accept-Encoding", "gzip"); w.Code != 200 {
		t.Errorf("favicon: %d", w.Code)
	}
}

// TestDevTemplates checks that dev mode re-reads templates from disk.
func TestDevTemplates(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"templates", "static"} {
		entries, err := os.ReadDir(filepath.Join("../web", sub))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(filepath.Join("../web", sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, sub, e.Name()), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ts := newTestServerOn(t, "", newFake(func(context.Context) (*search.Result, error) { return &search.Result{}, nil }), Config{Dev: true, WebDir: dir})
	page := filepath.Join(dir, "templates", "error.html")
	if w := ts.get(t, "/no-such-page"); w.Code != 404 || !strings.Contains(w.Body.String(), "404 Not Found") {
		t.Fatalf("404 page: %d %.200s", w.Code, w.Body)
	}
	b, _ := os.ReadFile(page)
	if err := os.WriteFile(page, []byte(strings.Replace(string(b), "<h1>", "<h1>Edited ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if w := ts.get(t, "/no-such-page"); !strings.Contains(w.Body.String(), "<h1>Edited 404") {
		t.Errorf("dev mode did not re-read the template: %.300s", w.Body)
	}
	if err := os.WriteFile(page, []byte(`{{define "error"}}{{.Nope}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if w := ts.get(t, "/no-such-page"); w.Code != 404 {
		t.Errorf("a broken error template: status %d, want the plain 404", w.Code)
	}
}

// oneIncident is a Searcher that holds a single incident.
type oneIncident struct {
	*fakeSearcher
	in *index.Incident
}

func (o oneIncident) Incident(ctx context.Context, id string) (*index.Incident, error) {
	if id != o.in.ID {
		return nil, index.ErrNotFound
	}
	return o.in, nil
}

// TestIncidentPageDescription checks, through the router, that an incident
// page's description metadata (meta description and any og: or twitter:
// description) is its lead text, bounded and cut at a rune boundary however
// the text is spaced.
func TestIncidentPageDescription(t *testing.T) {
	limit := metaDescriptionBytes + len(" …")
	for _, tc := range []struct {
		name string
		in   index.Incident
		want string // the whole description, or "" to check only its bound
	}{
		{name: "no spaces", in: index.Incident{Summary: strings.Repeat("x", 5000)}},
		{name: "one short word, then none", in: index.Incident{Summary: "Short " + strings.Repeat("é", 3000)}},
		{name: "words", in: index.Incident{Summary: strings.Repeat("word ", 1000)}},
		{name: "short", in: index.Incident{Summary: "A  short\nsummary."}, want: "A short summary."},
		{name: "no summary", in: index.Incident{SoftwareCauses: "The causes."}, want: "The causes."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.ID, in.Title, in.Published = "d-1", "Description", "2020-01-02"
			ts := newTestServerOn(t, "", oneIncident{newFake(nil), &in}, Config{})
			code, _, body := uiGet(t, ts, "/incidents/d-1")
			if code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			var descs []string
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode && n.Data == "meta" {
					var key, content string
					for _, a := range n.Attr {
						switch a.Key {
						case "name", "property":
							key = a.Val
						case "content":
							content = a.Val
						}
					}
					if strings.HasSuffix(key, "description") {
						descs = append(descs, content)
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if len(descs) == 0 {
				t.Fatal("no meta description")
			}
			for _, d := range descs {
				if len(d) > limit || !utf8.ValidString(d) || d == "" {
					t.Errorf("description of %d bytes (at most %d, valid UTF-8): %.80q…", len(d), limit, d)
				}
				if tc.want != "" && d != tc.want {
					t.Errorf("description %q, want %q", d, tc.want)
				}
			}
		})
	}
}

// TestSortLabels checks that every sort order has a label in the menu, and
// that no label names an order the engine does not know.
func TestSortLabels(t *testing.T) {
	var got []string
	for _, c := range newSearchPage(search.Request{}, nil).Sorts {
		if c.Label == "" {
			t.Errorf("sort %q has no label", c.Value)
		}
		got = append(got, c.Value)
	}
	if diff := cmp.Diff(search.Sorts, got); diff != "" {
		t.Errorf("sort menu (-want +got):\n%s", diff)
	}
	if len(sortLabels) != len(search.Sorts) {
		t.Errorf("%d sort labels for %d sort orders", len(sortLabels), len(search.Sorts))
	}
}

// TestEmbedIncidentCut checks that a widget shows a bounded part of a long
// incident, with a link to the whole of it.
func TestEmbedIncidentCut(t *testing.T) {
	in := index.Incident{ID: "long-1", Title: strings.Repeat("Title ", 200), Published: "2020-01-02", Summary: strings.Repeat("word ", 200000)}
	ts := newTestServerOn(t, "", oneIncident{newFake(nil), &in}, Config{})
	code, _, body := uiGet(t, ts, "/embed?id=long-1")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if len(body) > 8<<10 {
		t.Errorf("the widget of a 1 MB summary is %d bytes", len(body))
	}
	if !strings.Contains(body, "…") || !strings.Contains(body, `href="/incidents/long-1"`) {
		t.Errorf("no cut mark or no link to the incident:\n%.2000s", body)
	}
}
