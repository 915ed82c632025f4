package search

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/faildex/faildex/index"
)

// The organisation facets' expected counts are computed here without the
// index package: the gazetteer file is read by a few lines of its own, and
// an alias is found by searching the field's text with every run of other
// characters than letters and digits made one space, an occurrence inside
// a longer one being dropped.

const gazetteerPath = "../data/organisations.gazetteer"

// refOrg is an organisation of the gazetteer as this test reads it.
type refOrg struct {
	slug    string
	aliases []string
}

// refGazetteer reads the shipped gazetteer file.
func refGazetteer(tb testing.TB) []refOrg {
	tb.Helper()
	f, err := os.Open(gazetteerPath)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var orgs []refOrg
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, rest, _ := strings.Cut(line, ":")
		o := refOrg{slug: optionValue(name), aliases: []string{strings.TrimSpace(name)}}
		for _, a := range strings.Split(rest, ",") {
			if a = strings.TrimSpace(a); a != "" {
				o.aliases = append(o.aliases, a)
			}
		}
		orgs = append(orgs, o)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	if len(orgs) < 100 {
		tb.Fatalf("%s: %d organisations; is it the gazetteer?", gazetteerPath, len(orgs))
	}
	return orgs
}

// spaced replaces every run of characters other than letters and digits
// with one space and surrounds the text with spaces.
func spaced(s string) string {
	return " " + strings.Join(strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), " ") + " "
}

// capitals reports whether an alias only matches as written: two to four
// capital letters.
func capitals(a string) bool {
	return len(a) >= 2 && len(a) <= 4 && strings.ToUpper(a) == a && strings.IndexFunc(a, func(r rune) bool { return !unicode.IsUpper(r) }) < 0
}

// refMatch returns the slugs of the organisations text mentions, sorted.
func refMatch(orgs []refOrg, text string) []string {
	type hit struct {
		start, end int
		slug       string
	}
	exact, folded := spaced(text), strings.ToLower(spaced(text))
	var hits []hit
	for _, o := range orgs {
		for _, a := range o.aliases {
			hay, needle := folded, strings.ToLower(spaced(a))
			if capitals(a) {
				hay, needle = exact, spaced(a)
			}
			for from := 0; ; {
				i := strings.Index(hay[from:], needle)
				if i < 0 {
					break
				}
				hits = append(hits, hit{from + i, from + i + len(needle), o.slug})
				from += i + 1
			}
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, h := range hits {
		inside := false
		for _, o := range hits {
			inside = inside || (o.end-o.start > h.end-h.start && o.start <= h.start && h.end <= o.end)
		}
		if !inside && !seen[h.slug] {
			seen[h.slug] = true
			out = append(out, h.slug)
		}
	}
	sort.Strings(out)
	return out
}

var refOrgsCache []refOrg

// addOrgFacts adds the organisation facets of an incident to its facts.
func addOrgFacts(tb testing.TB, ft fact, responsible, impacted string) {
	tb.Helper()
	if refOrgsCache == nil {
		refOrgsCache = refGazetteer(tb)
	}
	if r := refMatch(refOrgsCache, responsible); len(r) > 0 {
		ft.options[index.FieldResponsibleOrgs] = r
	}
	if i := refMatch(refOrgsCache, impacted); len(i) > 0 {
		ft.options[index.FieldImpactedOrgs] = i
	}
}

// factFacets are the facets the facts hold: the categories, then the
// organisation facets.
func factFacets() []struct{ column, name string } {
	return append(append([]struct{ column, name string }(nil), categories...),
		struct{ column, name string }{"", index.FieldResponsibleOrgs},
		struct{ column, name string }{"", index.FieldImpactedOrgs})
}

// bundledFacts reads the organisation fields of the bundled reports.
func bundledFacts(tb testing.TB) []fact {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(bundledDir, "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no bundled reports: %v", err)
	}
	var facts []fact
	for _, p := range files {
		ft := readSeedFacts(tb, p)
		facts = append(facts, ft)
	}
	return facts
}

// TestOrganisationFacetsBundled compares the organisation facets of the
// bundled corpus with counts made from its files, and checks that every
// bundled report names an organisation of the gazetteer.
func TestOrganisationFacetsBundled(t *testing.T) {
	e := newTestEngine(t, bundledDir)
	facts := bundledFacts(t)
	tagged := 0
	for _, ft := range facts {
		if len(ft.options[index.FieldResponsibleOrgs])+len(ft.options[index.FieldImpactedOrgs]) > 0 {
			tagged++
		}
	}
	if tagged != len(facts) {
		t.Errorf("%d of %d bundled reports name an organisation of the gazetteer, want all", tagged, len(facts))
	}
	for _, f := range []facetFilter{
		{name: "none"},
		{name: "responsible Boeing", filters: map[string][]string{"responsible_org": {"boeing"}}},
		{name: "impacted Microsoft, information", filters: map[string][]string{"impacted_org": {"microsoft"}, "domain": {"information"}}},
		{name: "responsible Cloudflare or Fastly", filters: map[string][]string{"responsible_org": {"cloudflare", "fastly"}}},
	} {
		t.Run(f.name, func(t *testing.T) {
			want := expectedCounts(facts, f)
			got := actualCounts(search(t, e, f.request()))
			if diff := cmp.Diff(want.Values[index.FieldResponsibleOrgs], got.Values[index.FieldResponsibleOrgs], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("responsible_org (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.Values[index.FieldImpactedOrgs], got.Values[index.FieldImpactedOrgs], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("impacted_org (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want.IDs, got.IDs, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOrganisationFacetLabels checks what a user sees of the organisation
// facets: names as labels, names and any case as filter values, the
// organisations in pivots and facet value searches, and a 400 for an
// organisation no incident has.
func TestOrganisationFacetLabels(t *testing.T) {
	e := fixedCorpus.engine(t)
	ctx := context.Background()
	res := search(t, e, Request{})
	if n := len(res.Facets); n != len(index.Facets) {
		t.Fatalf("%d facets, want %d", n, len(index.Facets))
	}
	labels := map[string]string{}
	for _, f := range res.Facets[len(index.Taxonomy):] {
		for _, v := range f.Values {
			labels[v.Value] = v.Label
		}
	}
	for slug, name := range map[string]string{"tesla": "Tesla", "boston_children's_hospital": "Boston Children's Hospital", "u.s._department_of_defense": "U.S. Department of Defense"} {
		if labels[slug] != name {
			t.Errorf("label of %q = %q, want %q", slug, labels[slug], name)
		}
	}

	req, err := FromValues(map[string][]string{"responsible_org": {"Tesla"}})
	if err != nil {
		t.Fatal(err)
	}
	got := search(t, e, req)
	if got.Total != 3 || len(got.Filters) != 1 || got.Filters[0].Label != "Tesla" {
		t.Errorf("responsible_org=Tesla: %d incidents, filters %+v; want 3 and the label Tesla", got.Total, got.Filters)
	}

	if _, err := e.Search(ctx, Request{Filters: map[string][]string{"responsible_org": {"acme"}}}); err == nil || !strings.Contains(err.Error(), "organisation") {
		t.Errorf("an unknown organisation: err = %v, want a message about the organisation", err)
	}

	pv, err := e.Pivot(ctx, Request{}, index.FieldResponsibleOrgs, "objective")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]uint64{}
	for _, v := range pv.Rows.Values {
		rows[v.Label] = v.Total
	}
	if rows["Tesla"] != 3 || rows["Not assessed"] != 4 {
		t.Errorf("pivot rows: Tesla %d, not tagged %d; want 3 and 4", rows["Tesla"], rows["Not assessed"])
	}

	fv, err := e.FacetValues(ctx, Request{}, index.FieldImpactedOrgs, "micro")
	if err != nil {
		t.Fatal(err)
	}
	if len(fv.Values) != 1 || fv.Values[0].Label != "Microsoft" || fv.Values[0].Count != 3 {
		t.Errorf("impacted_org?prefix=micro: %+v, want Microsoft with 3", fv.Values)
	}
}
