package search

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/faildex/faildex/index"
)

var update = flag.Bool("update", false, "rewrite the want parts of testdata/searches.json from current results")

const searchesFile = "testdata/searches.json"

// searchCase is one entry of testdata/searches.json: a request and what it
// must return over the fixed corpus (the seeds and the CSV).
type searchCase struct {
	Name    string      `json:"name"`
	Request caseRequest `json:"request"`
	Want    caseWant    `json:"want"`
}

type caseRequest struct {
	Q       string              `json:"q,omitempty"`
	Filters map[string][]string `json:"filters,omitempty"`
	From    string              `json:"from,omitempty"`
	To      string              `json:"to,omitempty"`
	Sort    string              `json:"sort,omitempty"`
	Page    int                 `json:"page,omitempty"`
	Size    int                 `json:"size,omitempty"`
}

func (r caseRequest) request() Request {
	return Request{Query: r.Q, Filters: r.Filters, From: r.From, To: r.To, Sort: r.Sort, Page: r.Page, Size: r.Size}
}

// caseWant is the expected result. IDs is the page of hits in order, for
// requests sorted by something other than relevance; TopID is the first hit
// of a relevance-ranked request. Facets hold every option listed (counted
// incidents, selected options even at 0), Missing the incidents not assessed
// per category (zeros left out), Years the incidents per publication year.
type caseWant struct {
	Error   *caseError                   `json:"error,omitempty"`
	IDs     []string                     `json:"ids,omitempty"`
	TopID   string                       `json:"top_id,omitempty"`
	Total   uint64                       `json:"total"`
	Facets  map[string]map[string]uint64 `json:"facets,omitempty"`
	Missing map[string]uint64            `json:"missing,omitempty"`
	Years   map[string]uint64            `json:"years,omitempty"`
}

type caseError struct {
	Param string `json:"param"`
	Pos   int    `json:"pos"`
}

// wantOf describes a result in the form of caseWant.
func wantOf(res *Result) caseWant {
	w := caseWant{Total: res.Total, Facets: map[string]map[string]uint64{}, Missing: map[string]uint64{}, Years: map[string]uint64{}}
	if res.Sort == SortRelevance {
		if len(res.Hits) > 0 {
			w.TopID = res.Hits[0].ID
		}
	} else {
		w.IDs = hitIDs(res)
	}
	for _, f := range res.Facets {
		if index.IsOrgFacet(f.Field) {
			// searches.json pins the categories; the organisation facets
			// are compared with the reports in organisations_test.go.
			continue
		}
		if len(f.Values) > 0 {
			vals := map[string]uint64{}
			for _, v := range f.Values {
				vals[v.Value] = v.Count
			}
			w.Facets[f.Field] = vals
		}
		if f.Missing > 0 {
			w.Missing[f.Field] = f.Missing
		}
	}
	for _, y := range res.Years {
		w.Years[strconv.Itoa(y.Year)] = y.Count
	}
	return w
}

func errorWant(err error) caseWant {
	var e *Error
	if !errors.As(err, &e) {
		return caseWant{Error: &caseError{Param: "not an *Error: " + err.Error(), Pos: -1}}
	}
	return caseWant{Error: &caseError{Param: e.Param, Pos: e.Pos}}
}

func TestSearches(t *testing.T) {
	e := fixedCorpus.engine(t)
	b, err := os.ReadFile(searchesFile)
	if err != nil {
		t.Fatal(err)
	}
	var cases []searchCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatalf("%s: %v", searchesFile, err)
	}
	names := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		if names[c.Name] {
			t.Errorf("%s: two searches named %q", searchesFile, c.Name)
		}
		names[c.Name] = true
		t.Run(c.Name, func(t *testing.T) {
			var got caseWant
			res, err := e.Search(context.Background(), c.Request.request())
			if err != nil {
				got = errorWant(err)
			} else {
				got = wantOf(res)
			}
			if *update {
				c.Want = got
				return
			}
			if diff := cmp.Diff(c.Want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s: Search(%+v) (-want +got):\n%s", c.Name, c.Request, diff)
			}
		})
	}
	if *update {
		out, err := json.MarshalIndent(cases, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(searchesFile, append(out, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", searchesFile)
	}
}

// hitOrder is the order a sort must produce, computed from the hits' own
// fields; ties are broken by id.
var hitOrder = map[string]func(a, b Hit) bool{
	SortDate: func(a, b Hit) bool {
		if a.Published != b.Published {
			return a.Published > b.Published
		}
		return a.ID < b.ID
	},
	SortOldest: func(a, b Hit) bool {
		if a.Published != b.Published {
			return a.Published < b.Published
		}
		return a.ID < b.ID
	},
	SortTitle: func(a, b Hit) bool {
		ta, tb := strings.ToLower(a.Title), strings.ToLower(b.Title)
		if ta != tb {
			return ta < tb
		}
		return a.ID < b.ID
	},
	SortArticles: func(a, b Hit) bool {
		if a.Articles != b.Articles {
			return a.Articles > b.Articles
		}
		if a.Published != b.Published {
			return a.Published > b.Published
		}
		return a.ID < b.ID
	},
}

// TestSortOrderAndPaging checks every sort against an order computed from
// the hits, and that pages put together are the same list whatever the page
// size: ties never move between pages.
func TestSortOrderAndPaging(t *testing.T) {
	e := fixedCorpus.engine(t)
	for _, q := range []string{"", "software", "consequence:property"} {
		for _, s := range Sorts {
			t.Run(q+"/"+s, func(t *testing.T) {
				all := search(t, e, Request{Query: q, Sort: s, Size: MaxSize})
				if int(all.Total) != len(all.Hits) {
					t.Fatalf("total %d, %d hits: the corpus must fit one page", all.Total, len(all.Hits))
				}
				if all.Total < 5 {
					t.Fatalf("only %d hits; pick a broader query", all.Total)
				}
				if less, ok := hitOrder[s]; ok {
					if !sort.SliceIsSorted(all.Hits, func(i, j int) bool { return less(all.Hits[i], all.Hits[j]) }) {
						t.Errorf("hits not in %s order: %v", s, hitIDs(all))
					}
				} else {
					for i := 1; i < len(all.Hits); i++ {
						if all.Hits[i].Score > all.Hits[i-1].Score {
							t.Errorf("hit %d (%s) scores %v, more than hit %d: %v", i, all.Hits[i].ID, all.Hits[i].Score, i-1, all.Hits[i-1].Score)
						}
					}
				}
				for _, size := range []int{1, 2, 3, 7} {
					var paged []string
					pages := 0
					for page := 1; ; page++ {
						res := search(t, e, Request{Query: q, Sort: s, Page: page, Size: size})
						if len(res.Hits) == 0 {
							break
						}
						pages++
						if res.Total != all.Total {
							t.Fatalf("page %d of size %d: total %d, want %d", page, size, res.Total, all.Total)
						}
						paged = append(paged, hitIDs(res)...)
						if page == 1 && res.Pages != int((all.Total+uint64(size)-1)/uint64(size)) {
							t.Errorf("size %d: Pages = %d for %d hits", size, res.Pages, all.Total)
						}
					}
					if diff := cmp.Diff(hitIDs(all), paged); diff != "" {
						t.Errorf("pages of %d put together (-want +got):\n%s", size, diff)
					}
				}
				// The same request twice gives the same page.
				a := search(t, e, Request{Query: q, Sort: s, Page: 2, Size: 3})
				b := search(t, e, Request{Query: q, Sort: s, Page: 2, Size: 3})
				if diff := cmp.Diff(hitIDs(a), hitIDs(b)); diff != "" {
					t.Errorf("page 2 twice (-first +second):\n%s", diff)
				}
			})
		}
	}
}

// TestSortTiesByID indexes incidents that tie on everything but their id,
// in reverse id order: every sort, relevance included, must list them by id
// on every page.
func TestSortTiesByID(t *testing.T) {
	dir := t.TempDir()
	var paths, ids []string
	for i := 9; i >= 1; i-- {
		id := fmt.Sprintf("tie-%d", i)
		ids = append([]string{id}, ids...)
		paths = append(paths, writeFile(t, filepath.Join(dir, id+".txt"), pageReport(
			"Identical outage", "2019-07-01", "The same software outage [1] [2].",
			[]string{"Duration temporary (a) It lasted an hour [1]."}, nil)))
	}
	e := newTestEngine(t, paths...)
	for _, s := range Sorts {
		for _, size := range []int{1, 2, 4, 9} {
			var got []string
			for page := 1; len(got) < len(ids) && page <= len(ids); page++ {
				res := search(t, e, Request{Query: "outage", Sort: s, Page: page, Size: size})
				got = append(got, hitIDs(res)...)
			}
			if diff := cmp.Diff(ids, got); diff != "" {
				t.Errorf("sort %s, pages of %d (-want +got):\n%s", s, size, diff)
			}
		}
	}
}

func TestSearchResultFields(t *testing.T) {
	e := fixedCorpus.engine(t)
	res := search(t, e, Request{
		Query:   "software domain:transportation",
		Filters: map[string][]string{"consequence": {"harm", "death"}},
		Page:    1, Size: 2,
	})
	wantFilters := []ActiveFilter{
		{Field: "consequence", Value: "harm", Label: "Harm"},
		{Field: "consequence", Value: "death", Label: "Death"},
		{Field: "domain", Value: "transportation", Label: "Transportation"},
	}
	if diff := cmp.Diff(wantFilters, res.Filters); diff != "" {
		t.Errorf("Filters (-want +got):\n%s", diff)
	}
	if res.Sort != SortRelevance || res.Page != 1 || res.Size != 2 || res.Query != "software domain:transportation" {
		t.Errorf("echoed request: sort %q page %d size %d query %q", res.Sort, res.Page, res.Size, res.Query)
	}
	if len(res.Facets) != len(index.Facets) {
		t.Fatalf("%d facets, want one per category and organisation facet (%d)", len(res.Facets), len(index.Facets))
	}
	for i, f := range res.Facets {
		c := index.Facets[i]
		if f.Field != c.Name || f.Label != c.Label {
			t.Errorf("facet %d is %s (%q), want %s (%q)", i, f.Field, f.Label, c.Name, c.Label)
		}
		if !sort.SliceIsSorted(f.Values, func(i, j int) bool { return f.Values[i].Count > f.Values[j].Count }) {
			t.Errorf("facet %s: values not by count: %+v", f.Field, f.Values)
		}
		for _, v := range f.Values {
			if o := c.Option(v.Value); o != nil && (v.Label != o.Label || v.Definition != o.Definition) {
				t.Errorf("facet %s: %s labelled %q (%q)", f.Field, v.Value, v.Label, v.Definition)
			}
		}
	}
	for _, h := range res.Hits {
		if h.Options["domain"] == nil || !contains(h.Options["domain"], "transportation") {
			t.Errorf("hit %s has domains %v", h.ID, h.Options["domain"])
		}
		if !contains(h.Options["consequence"], "harm") && !contains(h.Options["consequence"], "death") {
			t.Errorf("hit %s has consequences %v", h.ID, h.Options["consequence"])
		}
		if h.Score <= 0 {
			t.Errorf("hit %s: score %v under relevance", h.ID, h.Score)
		}
	}

	// Past the last page: the counts, no hits.
	past := search(t, e, Request{Page: 50, Size: 20})
	if past.Total != e.DocCount() || len(past.Hits) != 0 || past.Pages != 2 {
		t.Errorf("page 50: total %d, %d hits, %d pages; want %d, 0, 2", past.Total, len(past.Hits), past.Pages, e.DocCount())
	}
	// Other sorts do not score.
	for _, h := range search(t, e, Request{Query: "software", Sort: SortDate}).Hits {
		if h.Score != 0 {
			t.Errorf("sort by date: hit %s scored %v", h.ID, h.Score)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestEngineIncident(t *testing.T) {
	e := fixedCorpus.engine(t)
	if got := e.DocCount(); got != 33 {
		t.Errorf("DocCount() = %d, want 33 (2 seeds, 31 CSV rows)", got)
	}
	in, err := e.Incident(context.Background(), seed0)
	if err != nil {
		t.Fatal(err)
	}
	if in.ID != seed0 || !strings.Contains(in.Title, "Alexa") || in.Published != "2018-05-24" {
		t.Errorf("Incident(%s) = %s %q %s", seed0, in.ID, in.Title, in.Published)
	}
	for _, id := range []string{"nope", "", "../etc/passwd", "a b", strings.Repeat("x", 200)} {
		if _, err := e.Incident(context.Background(), id); !errors.Is(err, index.ErrNotFound) {
			t.Errorf("Incident(%.20q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestSearchErrors(t *testing.T) {
	e := fixedCorpus.engine(t)
	tests := []struct {
		name  string
		req   Request
		param string
		pos   int
		msg   string
	}{
		{"option unknown to the index", Request{Filters: map[string][]string{"domain": {"space"}}}, "domain", -1, `unknown option "space"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Search(context.Background(), tt.req)
			wantError(t, err, tt.param, tt.pos, tt.msg)
		})
	}
}

// TestTooManyClauses lowers bleve's clause limit so that a prefix expands
// past it: the request is refused as the user's, not failed as the server's.
// TestPrefixExpansionBounded checks that a word ending in '*' expands to a
// bounded number of words, whatever the prefix.
func TestPrefixExpansionBounded(t *testing.T) {
	e := fullCorpus.engine(t)
	for _, q := range []string{"con*", "pro*", "the*"} {
		p, err := e.plan(context.Background(), Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range p.n.parsed.groups {
			if len(g) > maxAlternates || len(g) == 0 {
				t.Errorf("%s: a group of %d clauses", q, len(g))
			}
			for _, c := range g {
				if c.prefix || !strings.HasPrefix(index.Fold(c.text), strings.TrimSuffix(q, "*")) {
					t.Errorf("%s: clause %+v is not a word starting with the prefix", q, c)
				}
			}
		}
	}
}

func TestSearchDeadline(t *testing.T) {
	e := fixedCorpus.engine(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	_, err := e.Search(ctx, Request{Query: "software"})
	var re *Error
	if !errors.Is(err, ErrTooExpensive) || errors.As(err, &re) {
		t.Errorf("got %v, want ErrTooExpensive and no request error", err)
	}
}

// TestFullCorpus runs over the seeds, the CSV and the bundled corpus, which
// may still be growing: it asserts only what holds however it grows.
func TestFullCorpus(t *testing.T) {
	e := fullCorpus.engine(t)
	fixed := fixedCorpus.engine(t)
	if e.DocCount() < fixed.DocCount() {
		t.Errorf("full corpus has %d incidents, fewer than the %d of seeds and CSV", e.DocCount(), fixed.DocCount())
	}
	res := search(t, e, Request{Query: "wake word"})
	if len(res.Hits) == 0 {
		t.Fatal(`"wake word" found nothing`)
	}
	if top := res.Hits[0].Title; !strings.Contains(top, "Alexa") && !strings.Contains(top, "Echo") {
		t.Errorf(`"wake word": top hit %s %q is not an Amazon Echo/Alexa incident`, res.Hits[0].ID, top)
	}
	landing := search(t, e, Request{})
	if landing.Total != e.DocCount() {
		t.Errorf("landing page total %d, index holds %d", landing.Total, e.DocCount())
	}
	var years uint64
	for _, y := range landing.Years {
		years += y.Count
	}
	if years != landing.Total {
		t.Errorf("years add up to %d, want %d", years, landing.Total)
	}
	for _, f := range landing.Facets {
		var assessed uint64
		for _, v := range f.Values {
			if v.Count > landing.Total {
				t.Errorf("%s=%s counts %d of %d", f.Field, v.Value, v.Count, landing.Total)
			}
			assessed = max(assessed, v.Count)
		}
		if f.Missing+assessed > landing.Total {
			t.Errorf("%s: %d missing and %d with one option, of %d", f.Field, f.Missing, assessed, landing.Total)
		}
	}
	for _, q := range []string{"ransomware OR malware", `"software update"`, "title:outage", "causes:configuration", "recor*", "-crash consequence:death", "year:2021"} {
		search(t, e, Request{Query: q})
	}
}

// TestPrefixOfStemmedWords checks that a prefix longer than the stem the
// index holds still matches: "vulnerab*" finds what "vulnerability" finds,
// since the index keeps "vulner", and marks the words.
// TestPrefixMatchesWordsAsWritten checks that a prefix matches words that
// start with it, not shorter stems: "heartbl*" finds Heartbleed, and not
// every report with "hearing" or "heart".
func TestPrefixMatchesWordsAsWritten(t *testing.T) {
	e := fullCorpus.engine(t)
	pre := search(t, e, Request{Query: "heartbl*"})
	word := search(t, e, Request{Query: `"heartbleed"`})
	if pre.Total == 0 || pre.Total != word.Total {
		t.Errorf("heartbl*: %d hits, \"heartbleed\": %d; want the same, more than 0", pre.Total, word.Total)
	}
	if len(pre.Hits) > 0 && pre.Hits[0].ID != "2014-heartbleed-openssl" {
		t.Errorf("heartbl*: first hit %s", pre.Hits[0].ID)
	}
}

func TestPrefixOfStemmedWords(t *testing.T) {
	e := fixedCorpus.engine(t)
	for _, tt := range []struct{ prefix, word string }{
		{"vulnerab*", `"vulnerability"`},
		{"security*", `"security"`},
		{"recording*", `"recording"`},
		{"hackers*", `"hackers"`},
	} {
		word := search(t, e, Request{Query: tt.word, Size: MaxSize})
		pre := search(t, e, Request{Query: tt.prefix, Size: MaxSize})
		if word.Total == 0 {
			t.Fatalf("%s: no hits; the test needs a word the corpus has", tt.word)
		}
		if pre.Total < word.Total {
			t.Errorf("%s: %d hits, fewer than %s (%d)", tt.prefix, pre.Total, tt.word, word.Total)
		}
		marked := false
		for _, h := range pre.Hits {
			for _, f := range h.Fragments {
				for _, s := range f.HTML {
					marked = marked || strings.Contains(s, "<mark>")
				}
			}
		}
		if !marked {
			t.Errorf("%s: no fragment is marked", tt.prefix)
		}
	}
}
