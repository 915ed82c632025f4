package search

import (
	"bufio"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

// The expected counts here are computed from the raw files without the
// index package's parsers: encoding/csv for the CSV export, a few lines of
// text handling for the two seed pages.

// categories are the 16 taxonomy categories as the CSV names them
// ("<Label> Option") and as the index and requests name them.
var categories = []struct{ column, name string }{
	{"Recurring", "recurring"}, {"Phase", "phase"}, {"Boundary", "boundary"}, {"Nature", "nature"},
	{"Dimension", "dimension"}, {"Objective", "objective"}, {"Intent", "intent"}, {"Capability", "capability"},
	{"Duration", "duration"}, {"Behaviour", "behaviour"}, {"Domain", "domain"}, {"Consequence", "consequence"},
	{"CPS", "cps"}, {"Perception", "perception"}, {"Communication", "communication"}, {"Application", "application"},
}

// fact is what the facet counts need to know of one incident.
type fact struct {
	id        string
	published string              // YYYY-MM-DD
	options   map[string][]string // assessed categories only
}

// optionValue writes an option as the index does: lower case, spaces as
// underscores.
func optionValue(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.Trim(s, " .;"))), "_")
}

func readCSVFacts(tb testing.TB, path string) []fact {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var facts []fact
	for _, row := range rows[1:] {
		ft := fact{id: row[col["Incident ID"]], published: row[col["Published"]][:10], options: map[string][]string{}}
		addOrgFacts(tb, ft, row[col["ResponsibleOrg"]], row[col["ImpactedOrg"]])
		for _, c := range categories {
			i, ok := col[c.column+" Option"]
			if !ok {
				tb.Fatalf("%s: no column %q", path, c.column+" Option")
			}
			seen := map[string]bool{}
			for _, o := range strings.Split(row[i], ",") {
				if v := optionValue(o); v != "" && !seen[v] {
					seen[v] = true
					ft.options[c.name] = append(ft.options[c.name], v)
				}
			}
		}
		facts = append(facts, ft)
	}
	return facts
}

// seedRow is a taxonomy row of a seed page: the category, an optional
// parenthetical, the rest.
var seedRow = regexp.MustCompile(`^(\w+)(?: \([^)]*\))? (.*)$`)

// readSeedFacts reads a seed page's date and its taxonomy rows: after the
// category, the first word is an option, and so is each word that follows a
// comma-terminated one.
func readSeedFacts(tb testing.TB, path string) fact {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	ft := fact{id: strings.TrimSuffix(filepath.Base(path), ".txt"), options: map[string][]string{}}
	names := map[string]string{}
	for _, c := range categories {
		names[strings.ToLower(c.column)] = c.name
	}
	inTables := false
	var responsible, impacted string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "Responsible Organization "):
			responsible = line
		case strings.HasPrefix(line, "Impacted Organization "):
			impacted = line
		case strings.HasPrefix(line, "Published Date:"):
			ft.published = strings.TrimSpace(strings.TrimPrefix(line, "Published Date:"))[:10]
			continue
		case line == "Software Taxonomy of Faults":
			inTables = true
			continue
		case line == "Sources":
			inTables = false
		}
		m := seedRow.FindStringSubmatch(line)
		if !inTables || m == nil {
			continue
		}
		name, ok := names[strings.ToLower(m[1])]
		if !ok {
			continue
		}
		for _, w := range strings.Fields(m[2]) {
			ft.options[name] = append(ft.options[name], optionValue(strings.TrimSuffix(w, ",")))
			if !strings.HasSuffix(w, ",") {
				break
			}
		}
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if ft.published == "" {
		tb.Fatalf("%s: no date", path)
	}
	addOrgFacts(tb, ft, strings.TrimPrefix(responsible, "Responsible Organization "), strings.TrimPrefix(impacted, "Impacted Organization "))
	return ft
}

// fixedFacts returns the facts of the fixed corpus, the seeds and the CSV.
func fixedFacts(tb testing.TB) []fact {
	tb.Helper()
	seeds, csv := indextest.Shared(tb)
	facts := readCSVFacts(tb, csv)
	for _, s := range []string{seed0, seed1} {
		facts = append(facts, readSeedFacts(tb, filepath.Join(seeds, s+".txt")))
	}
	return facts
}

// TestFactsReadIndependently pins a few facts so that a mistake in the
// test's own reading cannot make expected and actual counts agree.
func TestFactsReadIndependently(t *testing.T) {
	facts := fixedFacts(t)
	if len(facts) != 33 {
		t.Fatalf("%d incidents, want 33", len(facts))
	}
	byID := map[string]fact{}
	for _, f := range facts {
		byID[f.id] = f
	}
	want := map[string]fact{
		seed0: {id: seed0, published: "2018-05-24", options: map[string][]string{
			"recurring": {"one_organization"}, "phase": {"design", "operation"}, "boundary": {"within_system", "outside_system"},
			"nature": {"non-human_actions", "human_actions"}, "dimension": {"software"}, "objective": {"malicious"},
			"intent": {"poor_decisions"}, "capability": {"development_incompetence", "accidental"}, "duration": {"temporary"},
			"behaviour": {"value", "other"}, "perception": {"none"}, "communication": {"none"}, "application": {"none"},
			"consequence": {"property"}, "domain": {"information", "entertainment"},
			"responsible_org": {"amazon"},
		}},
		"2741": {id: "2741", published: "2014-12-22", options: map[string][]string{
			"phase": {"design", "operation"}, "boundary": {"within_system", "outside_system"},
			"nature": {"non-human_actions", "human_actions"}, "dimension": {"hardware", "software"},
			"objective": {"malicious", "non-malicious"}, "intent": {"unknown"},
			"capability": {"development_incompetence", "accidental"}, "duration": {"temporary"}, "behaviour": {"crash"},
			"domain": {"information", "government"}, "consequence": {"property", "delay", "non-human", "theoretical_consequence", "other"},
		}},
	}
	for id, w := range want {
		if diff := cmp.Diff(w, byID[id], cmp.AllowUnexported(fact{})); diff != "" {
			t.Errorf("%s (-want +got):\n%s", id, diff)
		}
	}
}

// facetFilter is a combination of filters and a date range.
type facetFilter struct {
	name     string
	filters  map[string][]string
	from, to string // YYYY-MM-DD, inclusive, "" for open
}

func (f facetFilter) request() Request {
	return Request{Filters: f.filters, From: f.from, To: f.to, Size: MaxSize}
}

// match reports whether the incident passes every filter but skip's ("year"
// skips the date range).
func (f facetFilter) match(ft fact, skip string) bool {
	if skip != "year" && ((f.from != "" && ft.published < f.from) || (f.to != "" && ft.published > f.to)) {
		return false
	}
	for cat, vals := range f.filters {
		if cat == skip {
			continue
		}
		ok := false
		for _, v := range vals {
			if v == NotAssessed && len(ft.options[cat]) == 0 {
				ok = true
			}
			for _, o := range ft.options[cat] {
				ok = ok || o == v
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// facetCounts is what the tests compare: the matching ids, each category's
// option counts, missing counts and selected options, and the years.
type facetCounts struct {
	IDs      []string
	Total    uint64
	Values   map[string]map[string]uint64
	Missing  map[string]uint64
	Selected map[string][]string
	Years    map[int]uint64
}

// expectedCounts computes the counts from the facts. Each category is
// counted with every filter but its own (so a selected option still shows
// its alternatives); selected options are listed even when none match.
func expectedCounts(facts []fact, f facetFilter) facetCounts {
	c := facetCounts{Values: map[string]map[string]uint64{}, Missing: map[string]uint64{}, Selected: map[string][]string{}, Years: map[int]uint64{}}
	for _, ft := range facts {
		if f.match(ft, "") {
			c.IDs = append(c.IDs, ft.id)
			c.Total++
		}
		if f.match(ft, "year") {
			y, _ := strconv.Atoi(ft.published[:4])
			c.Years[y]++
		}
	}
	sort.Strings(c.IDs)
	for _, cat := range factFacets() {
		vals := map[string]uint64{}
		for _, v := range f.filters[cat.name] {
			if v != NotAssessed {
				vals[v] = 0
			}
			c.Selected[cat.name] = append(c.Selected[cat.name], v)
		}
		for _, ft := range facts {
			if !f.match(ft, cat.name) {
				continue
			}
			if len(ft.options[cat.name]) == 0 {
				c.Missing[cat.name]++
			}
			for _, o := range ft.options[cat.name] {
				vals[o]++
			}
		}
		if len(vals) > 0 {
			c.Values[cat.name] = vals
		}
		sort.Strings(c.Selected[cat.name])
	}
	return c
}

// actualCounts reads the same counts from a result.
func actualCounts(res *Result) facetCounts {
	c := facetCounts{Total: res.Total, Values: map[string]map[string]uint64{}, Missing: map[string]uint64{}, Selected: map[string][]string{}, Years: map[int]uint64{}}
	c.IDs = hitIDs(res)
	sort.Strings(c.IDs)
	for _, f := range res.Facets {
		if len(f.Values) > 0 {
			c.Values[f.Field] = map[string]uint64{}
		}
		for _, v := range f.Values {
			c.Values[f.Field][v.Value] = v.Count
			if v.Selected {
				c.Selected[f.Field] = append(c.Selected[f.Field], v.Value)
			}
		}
		if f.MissingSelected {
			c.Selected[f.Field] = append(c.Selected[f.Field], NotAssessed)
		}
		sort.Strings(c.Selected[f.Field])
		if f.Missing > 0 {
			c.Missing[f.Field] = f.Missing
		}
	}
	for _, y := range res.Years {
		c.Years[y.Year] = y.Count
	}
	return c
}

var facetFilters = []facetFilter{
	{name: "none"},
	{name: "death", filters: map[string][]string{"consequence": {"death"}}},
	{name: "death or harm", filters: map[string][]string{"consequence": {"death", "harm"}}},
	{name: "death or harm in transportation", filters: map[string][]string{"consequence": {"death", "harm"}, "domain": {"transportation"}}},
	{name: "design and temporary", filters: map[string][]string{"phase": {"design"}, "duration": {"temporary"}}},
	{name: "2018 to 2019", from: "2018-01-01", to: "2019-12-31"},
	{name: "malicious information since 2015", filters: map[string][]string{"objective": {"malicious"}, "domain": {"information"}}, from: "2015-01-01"},
	{name: "IoT layers", filters: map[string][]string{"cps": {"unknown", "cps"}, "perception": {"embedded_software"}, "communication": {"unknown"}}, to: "2020-12-31"},
	{name: "nothing matches", filters: map[string][]string{"consequence": {"death"}, "domain": {"health"}}},
	{name: "selected option with no incidents", filters: map[string][]string{"consequence": {"basic", "death"}}},
	{name: "responsible Tesla", filters: map[string][]string{"responsible_org": {"tesla"}}},
	{name: "impacted Microsoft or Sony, malicious", filters: map[string][]string{"impacted_org": {"microsoft", "sony"}, "objective": {"malicious"}}},
	{name: "responsible and impacted", filters: map[string][]string{"responsible_org": {"toyota", "boeing", "tesla"}, "impacted_org": {"toyota"}}},
	{name: "not assessed", filters: map[string][]string{"cps": {NotAssessed}}},
	{name: "not assessed or death", filters: map[string][]string{"consequence": {NotAssessed, "death"}}},
	{name: "not assessed in two categories", filters: map[string][]string{"perception": {NotAssessed}, "domain": {NotAssessed, "information"}}, from: "2012-01-01"},
}

// TestFacetCounts compares the engine's counts with counts made from the
// raw files.
func TestFacetCounts(t *testing.T) {
	e := fixedCorpus.engine(t)
	facts := fixedFacts(t)
	for _, f := range facetFilters {
		t.Run(f.name, func(t *testing.T) {
			want := expectedCounts(facts, f)
			got := actualCounts(search(t, e, f.request()))
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("filters %v, dates %s to %s (-want +got):\n%s", f.filters, f.from, f.to, diff)
			}
		})
	}
}

// TestFacetCountsWithWords checks that the words narrow the counts the same
// way they narrow the hits.
func TestFacetCountsWithWords(t *testing.T) {
	e := fixedCorpus.engine(t)
	facts := fixedFacts(t)
	for _, q := range []string{"hackers", "tesla OR boeing", "software -vulnerability"} {
		words := search(t, e, Request{Query: q, Size: MaxSize})
		hit := map[string]bool{}
		for _, h := range words.Hits {
			hit[h.ID] = true
		}
		var subset []fact
		for _, ft := range facts {
			if hit[ft.id] {
				subset = append(subset, ft)
			}
		}
		for _, f := range facetFilters {
			req := f.request()
			req.Query = q
			want := expectedCounts(subset, f)
			got := actualCounts(search(t, e, req))
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%q with %s (-want +got):\n%s", q, f.name, diff)
			}
		}
	}
}

// TestFacetCountsAgreeWithBleve compares the bitmap counts with bleve's own
// term facets over the same filtered query, for the categories without a
// filter of their own (where a plain facet and a disjunctive one agree).
// bleve counts values, which equals incidents because a document's options
// are distinct.
func TestFacetCountsAgreeWithBleve(t *testing.T) {
	eachIndex(t, testFacetCountsAgreeWithBleve)
}

func testFacetCountsAgreeWithBleve(t *testing.T, e *Engine) {
	for _, f := range facetFilters {
		t.Run(f.name, func(t *testing.T) {
			res := search(t, e, f.request())
			var must []query.Query
			for cat, vals := range f.filters {
				var alts []query.Query
				for _, v := range vals {
					if v == NotAssessed {
						// Incidents with no term at all in the field.
						any := query.NewWildcardQuery("*")
						any.SetField(cat)
						alts = append(alts, query.NewBooleanQuery([]query.Query{query.NewMatchAllQuery()}, nil, []query.Query{any}))
						continue
					}
					tq := query.NewTermQuery(v)
					tq.SetField(cat)
					alts = append(alts, tq)
				}
				must = append(must, query.NewDisjunctionQuery(alts))
			}
			if f.from != "" || f.to != "" {
				var start, end time.Time
				if f.from != "" {
					start, _ = time.Parse(index.DateLayout, f.from)
				}
				if f.to != "" {
					end, _ = time.Parse(index.DateLayout, f.to)
					end = end.AddDate(0, 0, 1)
				}
				incl, excl := true, false
				dq := query.NewDateRangeInclusiveQuery(start, end, &incl, &excl)
				dq.SetField(index.FieldPublished)
				must = append(must, dq)
			}
			if len(must) == 0 {
				must = append(must, query.NewMatchAllQuery())
			}
			breq := bleve.NewSearchRequestOptions(query.NewConjunctionQuery(must), 0, 0, false)
			for _, c := range factFacets() {
				if _, filtered := f.filters[c.name]; !filtered {
					breq.AddFacet(c.name, bleve.NewFacetRequest(c.name, 100))
				}
			}
			if f.from == "" && f.to == "" {
				breq.AddFacet(index.FieldYear, bleve.NewFacetRequest(index.FieldYear, 100))
			}
			bres, err := e.Index().SearchInContext(context.Background(), breq)
			if err != nil {
				t.Fatal(err)
			}
			if bres.Total != res.Total {
				t.Errorf("bleve finds %d incidents, the engine %d", bres.Total, res.Total)
			}
			for _, facet := range res.Facets {
				fr, ok := bres.Facets[facet.Field]
				if !ok {
					continue
				}
				want := map[string]uint64{}
				for _, tf := range fr.Terms.Terms() {
					want[tf.Term] = uint64(tf.Count)
				}
				got := map[string]uint64{}
				for _, v := range facet.Values {
					got[v.Value] = v.Count
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%s: bleve's counts (-want) and the engine's (+got):\n%s", facet.Field, diff)
				}
				if uint64(fr.Missing) != facet.Missing {
					t.Errorf("%s: bleve finds %d not assessed, the engine %d", facet.Field, fr.Missing, facet.Missing)
				}
			}
			if fr, ok := bres.Facets[index.FieldYear]; ok {
				want := map[int]uint64{}
				for _, tf := range fr.Terms.Terms() {
					y, _ := strconv.Atoi(tf.Term)
					want[y] = uint64(tf.Count)
				}
				got := map[int]uint64{}
				for _, y := range res.Years {
					got[y.Year] = y.Count
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("years: bleve's counts (-want) and the engine's (+got):\n%s", diff)
				}
			}
		})
	}
}

// TestFacetExcludedOptions checks negated inline filters ("-domain:x"):
// they remove incidents from every count, their own category's included.
func TestFacetExcludedOptions(t *testing.T) {
	e := fixedCorpus.engine(t)
	facts := fixedFacts(t)
	var kept []fact
	for _, ft := range facts {
		keep := true
		for _, o := range ft.options["domain"] {
			keep = keep && o != "information"
		}
		if keep {
			kept = append(kept, ft)
		}
	}
	for _, f := range facetFilters {
		req := f.request()
		req.Query = "-domain:information"
		want := expectedCounts(kept, f)
		got := actualCounts(search(t, e, req))
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("-domain:information with %s (-want +got):\n%s", f.name, diff)
		}
	}
}
