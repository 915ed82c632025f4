package search

import (
	"context"
	"encoding/json"
	"html"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/faildex/faildex/index"
)

const (
	xss      = `<script>alert(1)</script>`
	xssAttr  = `"><img src=x onerror=alert(1)>`
	xssTitle = "Recording " + xss + " " + xssAttr + " </mark> &lt; mark lt"
)

// hostileReport is a report whose every field holds markup. In the page
// form only vocabulary words can be options, so the markup written where
// options go ends up in the rationale.
func hostileReport() string {
	filler := strings.Repeat("Nothing to see in this sentence, which only pads the summary. ", 8)
	summary := "The device kept recording. " + xss + " then " + xssAttr + " and </mark> and &lt; and AT&amp;T. " +
		filler + "Much later it recorded again: " + xss + " " + filler +
		strings.Repeat("é", 120) + "recorded" + strings.Repeat("é", 120) + " end."
	return pageReport(xssTitle, "2021-01-02", summary, []string{
		"Domain information, " + xss + " (a) " + xssAttr + " </mark> &lt; recorded [1]",
		"Consequence property (a) </mark> recorded &lt; mark lt " + xss,
	}, []string{
		`[1] <a href="x">recorded</a> </mark> ` + xssAttr,
	})
}

var (
	hostileOnce sync.Once
	hostileDir  string
)

// hostileEngine indexes the hostile report and a few others with words the
// stemmer changes.
func hostileEngine(tb testing.TB) *Engine {
	tb.Helper()
	hostileOnce.Do(func() {
		hostileDir = tempDir(tb)
		writeFile(tb, filepath.Join(hostileDir, "reports", "xss-1.txt"), hostileReport())
		writeFile(tb, filepath.Join(hostileDir, "reports", "stems-1.txt"), pageReport(
			"Payments stopped for a day", "2020-03-04",
			"Every day the terminal says paying failed; the keys expired. Customers were dying to pay.",
			[]string{"Duration temporary (a) It lasted days."}, nil))
		// Long runs of three-byte runes without spaces: fragments must be
		// cut between runes.
		writeFile(tb, filepath.Join(hostileDir, "reports", "utf8-1.txt"), pageReport(
			"Euro signs", "2019-03-04",
			"a"+strings.Repeat("€", 100)+"flagged"+strings.Repeat("€", 200), nil, nil))
	})
	e, err := buildEngine(filepath.Join(tb.TempDir(), "index"), []string{filepath.Join(hostileDir, "reports")})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

// markedHTML is escaped text in which <mark> and </mark>, balanced and not
// nested, are the only markup.
var markedHTML = regexp.MustCompile(`^(?:[^<>]|<mark>[^<>]+</mark>)*$`)

func stripMarks(s string) string {
	return strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
}

// checkHTML checks one highlighted text: only marks are markup, and without
// them it unescapes to (a part of) the original text.
func checkHTML(tb testing.TB, what, h, original string, whole bool) {
	tb.Helper()
	plain := stripMarks(h)
	if strings.ContainsAny(plain, "<>") {
		tb.Errorf("%s: markup other than <mark>: %q", what, h)
	}
	if !markedHTML.MatchString(h) {
		tb.Errorf("%s: marks unbalanced or nested: %q", what, h)
	}
	if !utf8.ValidString(h) {
		tb.Errorf("%s: invalid UTF-8: %q", what, h)
	}
	text := html.UnescapeString(plain)
	if whole {
		if text != original {
			tb.Errorf("%s: unescapes to %q, want %q", what, text, original)
		}
		return
	}
	text = strings.TrimSuffix(strings.TrimPrefix(text, "… "), " …")
	if !strings.Contains(original, text) {
		tb.Errorf("%s: %q is not part of the original %q", what, text, original)
	}
}

// fieldText returns the original text a fragment was cut from.
func fieldText(in *index.Incident, f Fragment) string {
	switch f.Field {
	case index.FieldRationale:
		return in.Taxonomy[f.Category].Rationale
	case index.FieldSources:
		return strings.Join(in.Sources, "\n")
	}
	for _, tf := range index.TextFields {
		if tf.Name == f.Field {
			return *tf.Get(in)
		}
	}
	return ""
}

// checkHit checks the title and every fragment of a hit.
func checkHit(tb testing.TB, e *Engine, q string, h Hit) (marks int) {
	tb.Helper()
	in, err := e.Incident(context.Background(), h.ID)
	if err != nil {
		tb.Fatal(err)
	}
	checkHTML(tb, q+": title of "+h.ID, h.TitleHTML, in.Title, true)
	marks += strings.Count(h.TitleHTML, "<mark>")
	for _, f := range h.Fragments {
		if len(f.HTML) == 0 || len(f.HTML) > fragmentsByField {
			tb.Errorf("%s: %s %s: %d fragments", q, h.ID, f.Field, len(f.HTML))
		}
		for _, s := range f.HTML {
			checkHTML(tb, q+": "+h.ID+" "+f.Field+" "+f.Category, s, fieldText(in, f), false)
			if !strings.Contains(s, "<mark>") {
				tb.Errorf("%s: %s %s: fragment without a mark: %q", q, h.ID, f.Field, s)
			}
			marks += strings.Count(s, "<mark>")
		}
	}
	return marks
}

func TestHighlightEscapes(t *testing.T) {
	e := hostileEngine(t)
	for _, q := range []string{
		"script", "alert", "img", "src", "onerror", "mark", "amp", "lt", "x",
		"recorded", "recor*", `"alert 1"`, "title:mark", "script OR mark", "href",
		`"img src"`, "causes:mark", "rationale:lt",
	} {
		t.Run(q, func(t *testing.T) {
			res := search(t, e, Request{Query: q})
			if len(res.Hits) == 0 {
				if q == "causes:mark" {
					return // the report has no causes
				}
				t.Fatalf("%q found nothing", q)
			}
			marks := 0
			for _, h := range res.Hits {
				marks += checkHit(t, e, q, h)
			}
			if marks == 0 {
				t.Errorf("%q: nothing marked", q)
			}
		})
	}
}

func TestHighlightExact(t *testing.T) {
	e := hostileEngine(t)
	tests := []struct {
		q         string
		titleHTML string
	}{
		// The stemmed match: "recorded" marks "Recording".
		{"recorded", "<mark>Recording</mark> &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/mark&gt; &amp;lt; mark lt"},
		{"recor*", "<mark>Recording</mark> &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/mark&gt; &amp;lt; mark lt"},
		// The word "mark" in the text, never the markup made of it.
		{"mark", "Recording &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/<mark>mark</mark>&gt; &amp;lt; <mark>mark</mark> lt"},
		// "lt" in the text, not inside the escapes the highlighter writes.
		{"lt", "Recording &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/mark&gt; &amp;<mark>lt</mark>; mark <mark>lt</mark>"},
		{"script", "Recording &lt;<mark>script</mark>&gt;alert(1)&lt;/<mark>script</mark>&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/mark&gt; &amp;lt; mark lt"},
		{"alert", "Recording &lt;script&gt;<mark>alert</mark>(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=<mark>alert</mark>(1)&gt; &lt;/mark&gt; &amp;lt; mark lt"},
		// Scoped to another field: the title is only escaped.
		{"summary:alert", "Recording &lt;script&gt;alert(1)&lt;/script&gt; &#34;&gt;&lt;img src=x onerror=alert(1)&gt; &lt;/mark&gt; &amp;lt; mark lt"},
	}
	for _, tt := range tests {
		res := search(t, e, Request{Query: tt.q})
		var hit *Hit
		for i := range res.Hits {
			if res.Hits[i].ID == "xss-1" {
				hit = &res.Hits[i]
			}
		}
		if hit == nil {
			t.Errorf("%q: xss-1 not found in %v", tt.q, hitIDs(res))
			continue
		}
		if hit.TitleHTML != tt.titleHTML {
			t.Errorf("%q: TitleHTML\n got %q\nwant %q", tt.q, hit.TitleHTML, tt.titleHTML)
		}
		if tt.q == "summary:alert" {
			var fields []string
			for _, f := range hit.Fragments {
				fields = append(fields, f.Field)
			}
			if diff := cmp.Diff([]string{"summary"}, fields); diff != "" {
				t.Errorf("%q: fragments of fields (-want +got):\n%s", tt.q, diff)
			}
		}
	}
}

// TestHighlightFragments checks the windows cut from a long summary: two at
// most, with ellipses where text was cut, whole runes only.
func TestHighlightFragments(t *testing.T) {
	e := hostileEngine(t)
	res := search(t, e, Request{Query: "summary:recorded"})
	if len(res.Hits) != 1 {
		t.Fatalf("found %v", hitIDs(res))
	}
	frags := res.Hits[0].Fragments
	if len(frags) != 1 || frags[0].Field != "summary" || frags[0].Label != "Summary" {
		t.Fatalf("fragments %+v, want one summary fragment", frags)
	}
	got := frags[0].HTML
	if len(got) != 2 {
		t.Fatalf("%d fragments, want 2 (the field has three matches): %q", len(got), got)
	}
	if strings.HasPrefix(got[0], "…") || !strings.HasSuffix(got[0], " …") {
		t.Errorf("first fragment starts the text and is cut at its end: %q", got[0])
	}
	if !strings.HasPrefix(got[1], "… ") || !strings.HasSuffix(got[1], " …") {
		t.Errorf("second fragment is cut at both ends: %q", got[1])
	}
	if !strings.Contains(got[0], "kept <mark>recording</mark>.") || !strings.Contains(got[1], "it <mark>recorded</mark> again") {
		t.Errorf("fragments %q", got)
	}
	for _, s := range got {
		if len(s) > 2*fragmentBytes {
			t.Errorf("fragment of %d bytes: %q", len(s), s)
		}
	}
}

func TestHighlightRunes(t *testing.T) {
	e := hostileEngine(t)
	res := search(t, e, Request{Query: "flagged"})
	if len(res.Hits) != 1 || len(res.Hits[0].Fragments) != 1 {
		t.Fatalf("flagged: %+v", res.Hits)
	}
	checkHit(t, e, "flagged", res.Hits[0])
	got := res.Hits[0].Fragments[0].HTML
	want := []string{"… " + strings.Repeat("€", 20) + "<mark>flagged</mark>" + strings.Repeat("€", 51) + " …"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("fragments (-want +got):\n%s", diff)
	}
}

func TestSnap(t *testing.T) {
	euros := strings.Repeat("€", 40) // 120 bytes, no spaces
	tests := []struct {
		name      string
		text      string
		i         int
		back, fwd int
	}{
		{"inside a word", "alpha beta gamma", 8, 6, 10},
		{"at a space", "alpha beta gamma", 5, 0, 5},
		{"near the start, no space before", "<script>alert(1)</script> (a) x", 10, 0, 25},
		{"near the end, no space after", "x (a) <script>alert(1)</script>", 10, 6, 31},
		{"before the start", "alpha", -5, 0, 5},
		{"past the end", "alpha", 9, -1, 5},
		{"long word, on a rune", euros, 60, 60, 60},
		{"long word, inside a rune", euros, 61, 60, 63},
		{"long word, inside a rune 2", euros, 62, 60, 63},
	}
	for _, tt := range tests {
		if tt.i >= 0 {
			if got := snapForward(tt.text, tt.i); got != tt.fwd {
				t.Errorf("%s: snapForward(%q, %d) = %d, want %d", tt.name, tt.text, tt.i, got, tt.fwd)
			}
		}
		// back < 0: i is past the text, which snapBack is never given.
		if tt.back < 0 {
			continue
		}
		if got := snapBack(tt.text, tt.i); got != tt.back {
			t.Errorf("%s: snapBack(%q, %d) = %d, want %d", tt.name, tt.text, tt.i, got, tt.back)
		}
	}
}

// TestHighlightStems checks words the Porter stemmer changes at the end
// ("day" -> "dai"): they must be marked like any other.
func TestHighlightStems(t *testing.T) {
	e := hostileEngine(t)
	tests := []struct {
		q      string
		marked []string
	}{
		{"day", []string{"day", "day", "days"}},
		{"pay", []string{"pay", "paying"}},
		{"payment", []string{"Payments"}},
		{"key", []string{"keys"}},
		{"say", []string{"says"}},
		{"dying", []string{"dying"}},
	}
	markRE := regexp.MustCompile(`<mark>([^<]*)</mark>`)
	for _, tt := range tests {
		res := search(t, e, Request{Query: tt.q})
		if len(res.Hits) != 1 || res.Hits[0].ID != "stems-1" {
			t.Errorf("%q found %v, want stems-1", tt.q, hitIDs(res))
			continue
		}
		h := res.Hits[0]
		var got []string
		all := []string{h.TitleHTML}
		for _, f := range h.Fragments {
			all = append(all, f.HTML...)
		}
		for _, s := range all {
			for _, m := range markRE.FindAllStringSubmatch(s, -1) {
				got = append(got, m[1])
			}
		}
		if diff := cmp.Diff(tt.marked, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("%q marked (-want +got):\n%s", tt.q, diff)
		}
	}
}

// TestHighlightSeed checks the brief's example on a real report.
func TestHighlightSeed(t *testing.T) {
	e := fixedCorpus.engine(t)
	res := search(t, e, Request{Query: "recorded"})
	for _, h := range res.Hits {
		checkHit(t, e, "recorded", h)
		if h.ID == seed0 && !strings.Contains(h.TitleHTML, "<mark>Recording</mark>") {
			t.Errorf("seed title %q: Recording not marked", h.TitleHTML)
		}
	}
	// Without words nothing is marked or cut.
	for _, h := range search(t, e, Request{Query: "consequence:death"}).Hits {
		if strings.Contains(h.TitleHTML, "<mark>") || len(h.Fragments) != 0 {
			t.Errorf("%s: highlighted without words: %q %v", h.ID, h.TitleHTML, h.Fragments)
		}
	}
}

// TestMarkupInOptions records that option values are data, not HTML: a CSV
// option holding markup is indexed, faceted and filtered on as written, and
// whoever renders labels must escape them.
func TestMarkupInOptions(t *testing.T) {
	dir := t.TempDir()
	csvFile := writeFile(t, filepath.Join(dir, "markup.csv"),
		"Incident ID,Published,Title,Summary,Domain Option\n"+
			`m1,2020-01-01,"Title <b>bold</b>","Summary `+strings.ReplaceAll(xssAttr, `"`, `""`)+`","<b>x</b>, information"`+"\n")
	e := newTestEngine(t, csvFile)
	res := search(t, e, Request{Filters: map[string][]string{"domain": {"<b>x</b>"}}})
	if res.Total != 1 || len(res.Hits) != 1 {
		t.Fatalf("filter on the markup option: total %d", res.Total)
	}
	h := res.Hits[0]
	if diff := cmp.Diff([]string{"<b>x</b>", "information"}, h.Options["domain"]); diff != "" {
		t.Errorf("options (-want +got):\n%s", diff)
	}
	if h.TitleHTML != "Title &lt;b&gt;bold&lt;/b&gt;" {
		t.Errorf("TitleHTML %q", h.TitleHTML)
	}
	for _, f := range res.Facets {
		if f.Field != "domain" {
			continue
		}
		found := false
		for _, v := range f.Values {
			if v.Value == "<b>x</b>" {
				found = true
				if v.Label != "<b>x</b>" || !v.Selected || v.Count != 1 {
					t.Errorf("facet value %+v", v)
				}
			}
		}
		if !found {
			t.Errorf("domain facet lacks the markup option: %+v", f.Values)
		}
	}
}

// TestHitsOutliveTheirBuffers checks that a page's hits keep their text
// while later searches reuse the buffers their incidents were read into.
func TestHitsOutliveTheirBuffers(t *testing.T) {
	e := fullCorpus.engine(t)
	ctx := context.Background()
	first, err := e.Search(ctx, Request{Query: "software failure", Size: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Hits) == 0 {
		t.Fatal("no hits")
	}
	before, err := json.Marshal(first.Hits)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"outage", "bank", "radiation", "update", "system"} {
		for page := 1; page <= 3; page++ {
			if _, err := e.Search(ctx, Request{Query: q, Page: page, Size: 20}); err != nil {
				t.Fatal(err)
			}
		}
	}
	after, err := json.Marshal(first.Hits)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("hits changed after later searches:\nbefore %s\nafter  %s", before, after)
	}
}
