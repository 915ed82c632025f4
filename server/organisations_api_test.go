package server_test

import (
	"bufio"
	"encoding/csv"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// orgFields returns the Responsible and Impacted Organization texts of the
// shared reports, read from the files without the index package: the CSV
// export's ResponsibleOrg and ImpactedOrg columns and the seed pages' lines.
func orgFields(tb testing.TB) (responsible, impacted []string) {
	tb.Helper()
	seeds, csvPath := indextest.Shared(tb)
	f, err := os.Open(csvPath)
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
	for _, r := range rows[1:] {
		responsible = append(responsible, r[col["ResponsibleOrg"]])
		impacted = append(impacted, r[col["ImpactedOrg"]])
	}
	pages, _ := filepath.Glob(filepath.Join(seeds, "*.txt"))
	for _, p := range pages {
		pf, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		sc := bufio.NewScanner(pf)
		sc.Buffer(nil, 1<<20)
		var resp, imp string
		for sc.Scan() {
			if l, ok := strings.CutPrefix(sc.Text(), "Responsible Organization "); ok {
				resp = l
			}
			if l, ok := strings.CutPrefix(sc.Text(), "Impacted Organization "); ok {
				imp = l
			}
		}
		pf.Close()
		responsible, impacted = append(responsible, resp), append(impacted, imp)
	}
	return responsible, impacted
}

// mentioning counts the texts in which a pattern matches.
func mentioning(texts []string, pattern string) uint64 {
	re := regexp.MustCompile(pattern)
	var n uint64
	for _, t := range texts {
		if re.MatchString(t) {
			n++
		}
	}
	return n
}

// TestOrganisationFacetsAPI uses the organisation facets as a client
// would, through search, facet value search, pivot and export, and checks
// each count against the organisation fields read from the reports.
func TestOrganisationFacetsAPI(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	responsible, impacted := orgFields(t)
	tesla := mentioning(responsible, `(?i)\btesla\b`)
	microsoft := mentioning(impacted, `(?i)\bmicrosoft\b`)
	if tesla != 3 || microsoft != 3 {
		t.Fatalf("the reports name Tesla as responsible in %d and Microsoft as impacted in %d; the test expects 3 and 3", tesla, microsoft)
	}

	for _, target := range []string{"/api/v1/search?responsible_org=Tesla", "/api/v1/search?responsible_org=tesla&size=1", "/api/v1/search?responsible_org=TESLA,tesla"} {
		w := f.get(t, target)
		mustStatus(t, w, http.StatusOK)
		var res search.Result
		decodeBody(t, w.Body.Bytes(), &res)
		if res.Total != tesla {
			t.Errorf("%s: %d incidents, want %d", target, res.Total, tesla)
		}
		facet := res.Facets[len(res.Facets)-2]
		if facet.Field != "responsible_org" || len(facet.Values) == 0 {
			t.Fatalf("%s: facet %+v, want responsible_org", target, facet)
		}
		var got uint64
		for _, v := range facet.Values {
			if v.Value == "tesla" && v.Label == "Tesla" && v.Selected {
				got = v.Count
			}
		}
		if got != tesla {
			t.Errorf("%s: selected Tesla counts %d, want %d", target, got, tesla)
		}
	}

	w := f.get(t, "/api/v1/facets/impacted_org?prefix=micro")
	mustStatus(t, w, http.StatusOK)
	var fv search.FacetValues
	decodeBody(t, w.Body.Bytes(), &fv)
	if len(fv.Values) != 1 || fv.Values[0].Label != "Microsoft" || fv.Values[0].Count != microsoft {
		t.Errorf("facet value search: %+v, want Microsoft with %d", fv.Values, microsoft)
	}

	pv := getPivot(t, f, "/api/v1/pivot?rows=responsible_org&cols=impacted_org")
	for i, r := range pv.Rows.Values {
		if r.Value != "tesla" {
			continue
		}
		if r.Total != tesla {
			t.Errorf("pivot row Tesla: total %d, want %d", r.Total, tesla)
		}
		for j, c := range pv.Cols.Values {
			if c.Value == "tesla" && pv.Counts[i][j] != 3 {
				t.Errorf("pivot cell Tesla × Tesla: %d, want 3 (every Tesla report names it as impacted too)", pv.Counts[i][j])
			}
		}
	}

	w = f.get(t, "/api/v1/export?format=csv&responsible_org=tesla")
	mustStatus(t, w, http.StatusOK)
	recs, err := csv.NewReader(strings.NewReader(w.Body.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(recs)-1) != tesla {
		t.Errorf("export: %d rows, want %d", len(recs)-1, tesla)
	}
	at := -1
	for i, h := range recs[0] {
		if h == "Responsible Organisations" {
			at = i
		}
	}
	for _, r := range recs[1:] {
		if at < 0 || !strings.Contains(r[at], "Tesla") {
			t.Errorf("export row %s: responsible organisations %q", r[0], r[max(at, 0)])
		}
	}

	w = f.get(t, "/api/v1/search?responsible_org=acme")
	mustStatus(t, w, http.StatusBadRequest)
	if !strings.Contains(w.Body.String(), `"param":"responsible_org"`) {
		t.Errorf("an unknown organisation: %s", w.Body.String())
	}

	// The search page: the facet lists with their filter box, and the
	// chip of a selected organisation.
	w = f.get(t, "/?"+url.Values{"responsible_org": {"tesla"}}.Encode())
	mustStatus(t, w, http.StatusOK)
	body := w.Body.String()
	for _, want := range []string{
		`<details class="facet" id="c-responsible_org" open>`,
		`<details class="facet" id="c-impacted_org"`,
		`aria-label="Remove Responsible organisation: Tesla"`,
		`name="responsible_org" value="tesla" checked`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("search page lacks %s", want)
		}
	}
	w = f.get(t, "/")
	if !strings.Contains(w.Body.String(), `<input type="search" class="ffilter" id="ff-impacted_org"`) {
		t.Error("the impacted organisations list has no filter box")
	}
}
