package server_test

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// getPivot fetches a pivot that must succeed and decodes it.
func getPivot(tb testing.TB, f *embFixture, target string) search.Pivot {
	tb.Helper()
	w := f.get(tb, target)
	mustStatus(tb, w, http.StatusOK)
	var pv search.Pivot
	decodeBody(tb, w.Body.Bytes(), &pv)
	return pv
}

// decodeBody unmarshals a JSON body, failing the test on an error.
func decodeBody(tb testing.TB, body []byte, v any) {
	tb.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		tb.Fatalf("decoding %.200s: %v", body, err)
	}
}

// searchTotal returns the total of a search.
func searchTotal(tb testing.TB, f *embFixture, v url.Values) uint64 {
	tb.Helper()
	w := f.get(tb, "/api/v1/search?"+v.Encode())
	mustStatus(tb, w, http.StatusOK)
	var res search.Result
	decodeBody(tb, w.Body.Bytes(), &res)
	return res.Total
}

// cellSearch returns the search parameters of a pivot cell: the pivot's
// search narrowed to one row value and one column value. A not-assessed
// value cannot be a filter; it is returned with ok false.
func cellSearch(dim, value string, v url.Values) (ok bool) {
	switch {
	case value == search.NotAssessed:
		return false
	case dim == search.PivotYear:
		v.Set("from", value)
		v.Set("to", value)
	default:
		v.Add(dim, value)
	}
	return true
}

// TestPivotAPI checks every cell and total of pivots against the totals of
// the searches they stand for, and the CSV form against the JSON.
func TestPivotAPI(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	o := loadOpenAPI(t)
	for _, tc := range []struct{ rows, cols, search string }{
		{"consequence", "domain", ""},
		{"consequence", "domain", "q=software"},
		{"year", "behaviour", "objective=malicious"},
		{"domain", "year", "q=outage&from=2017"},
	} {
		base, _ := url.ParseQuery(tc.search)
		target := "/api/v1/pivot?rows=" + tc.rows + "&cols=" + tc.cols
		if tc.search != "" {
			target += "&" + tc.search
		}
		w := f.get(t, target)
		mustStatus(t, w, http.StatusOK)
		validate(t, o.responseSchema(t, "/api/v1/pivot", 200, w.Header().Get("Content-Type")), target, w.Body.Bytes())
		pv := getPivot(t, f, target)
		if got := searchTotal(t, f, base); pv.Total != got {
			t.Errorf("%s: total %d, the search's %d", target, pv.Total, got)
		}
		if w.Header().Get("X-Total-Count") != strconv.FormatUint(pv.Total, 10) {
			t.Errorf("%s: X-Total-Count %q", target, w.Header().Get("X-Total-Count"))
		}
		for i, rv := range pv.Rows.Values {
			rq := url.Values{}
			for k, vs := range base {
				rq[k] = append([]string(nil), vs...)
			}
			if !cellSearch(tc.rows, rv.Value, rq) {
				continue
			}
			if got := searchTotal(t, f, rq); rv.Total != got {
				t.Errorf("%s: row %s total %d, its search %d", target, rv.Value, rv.Total, got)
			}
			for j, cv := range pv.Cols.Values {
				cq := url.Values{}
				for k, vs := range rq {
					cq[k] = append([]string(nil), vs...)
				}
				if !cellSearch(tc.cols, cv.Value, cq) {
					continue
				}
				if got := searchTotal(t, f, cq); pv.Counts[i][j] != got {
					t.Errorf("%s: cell %s × %s is %d, its search %d", target, rv.Value, cv.Value, pv.Counts[i][j], got)
				}
			}
		}

		// The CSV is the same table.
		w = f.get(t, target+"&format=csv")
		mustStatus(t, w, http.StatusOK)
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("%s: Content-Type %q", target, ct)
		}
		lines, err := csv.NewReader(w.Body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != len(pv.Rows.Values)+2 {
			t.Fatalf("%s: %d CSV lines for %d rows", target, len(lines), len(pv.Rows.Values))
		}
		if lines[0][0] != tc.rows+`\`+tc.cols || lines[0][len(lines[0])-1] != "total" {
			t.Errorf("%s: CSV header %q", target, lines[0])
		}
		last := lines[len(lines)-1]
		if last[0] != "total" || last[len(last)-1] != strconv.FormatUint(pv.Total, 10) {
			t.Errorf("%s: CSV last line %q, want the total %d", target, last, pv.Total)
		}
		for i, rv := range pv.Rows.Values {
			line := lines[i+1]
			if line[0] != rv.Value || line[len(line)-1] != strconv.FormatUint(rv.Total, 10) {
				t.Errorf("%s: CSV line %q for row %+v", target, line, rv)
			}
			for j, n := range pv.Counts[i] {
				if line[j+1] != strconv.FormatUint(n, 10) {
					t.Errorf("%s: CSV cell %d,%d is %q, JSON %d", target, i, j, line[j+1], n)
				}
			}
		}
	}
}

func TestPivotAPIErrors(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	o := loadOpenAPI(t)
	for _, tc := range []struct{ target, param string }{
		{"/api/v1/pivot?cols=domain", "rows"},
		{"/api/v1/pivot?rows=consequence&cols=nope", "cols"},
		{"/api/v1/pivot?rows=consequence&cols=domain&format=xml", "format"},
		{"/api/v1/pivot?rows=consequence&cols=domain&rows=domain", "rows"},
		{"/api/v1/pivot?rows=consequence&cols=domain&consequnce=death", "consequnce"},
		{"/api/v1/pivot?rows=consequence&cols=domain&from=yesterday", "from"},
	} {
		w := f.get(t, tc.target)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", tc.target, w.Code)
			continue
		}
		validate(t, o.responseSchema(t, "/api/v1/pivot", w.Code, w.Header().Get("Content-Type")), tc.target, w.Body.Bytes())
		var body struct {
			Error struct{ Param string } `json:"error"`
		}
		decodeBody(t, w.Body.Bytes(), &body)
		if body.Error.Param != tc.param {
			t.Errorf("%s: error about %q, want %q", tc.target, body.Error.Param, tc.param)
		}
	}
}

// TestSimilarAPI checks /api/v1/incidents/{id}/similar against the OpenAPI
// document, and its errors.
func TestSimilarAPI(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	o := loadOpenAPI(t)
	tmpl := "/api/v1/incidents/{id}/similar"
	w := f.get(t, "/api/v1/incidents/"+ransomID+"/similar?size=3")
	mustStatus(t, w, http.StatusOK)
	validate(t, o.responseSchema(t, tmpl, 200, w.Header().Get("Content-Type")), "similar", w.Body.Bytes())
	var res search.SimilarResult
	decodeBody(t, w.Body.Bytes(), &res)
	if res.ID != ransomID || len(res.Similar) != 3 {
		t.Fatalf("similar to %s: %+v; want 3", ransomID, res)
	}
	for _, s := range res.Similar {
		if s.ID == ransomID || len(s.SharedTerms)+len(s.SharedOptions) == 0 {
			t.Errorf("similar %+v: want another incident and a reason", s)
		}
	}
	for _, tc := range []struct {
		target string
		status int
	}{
		{"/api/v1/incidents/no-such-incident/similar", 404},
		{"/api/v1/incidents/" + ransomID + "/similar?size=0", 400},
		{"/api/v1/incidents/" + ransomID + "/similar?size=21", 400},
		{"/api/v1/incidents/" + ransomID + "/similar?size=3&size=4", 400},
	} {
		w := f.get(t, tc.target)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.target, w.Code, tc.status)
			continue
		}
		validate(t, o.responseSchema(t, tmpl, w.Code, w.Header().Get("Content-Type")), tc.target, w.Body.Bytes())
	}
}

// TestFacetValuesAPI checks /api/v1/facets/{category} against the search's
// own facet counts and the OpenAPI document.
func TestFacetValuesAPI(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	o := loadOpenAPI(t)
	tmpl := "/api/v1/facets/{category}"
	for _, tc := range []struct{ category, prefix, search string }{
		{"domain", "tr", ""},
		{"domain", "", "q=software&consequence=death"},
		{"consequence", "HAR", "domain=transportation"},
		{"consequence", "de", "consequence=harm"},
	} {
		target := "/api/v1/facets/" + tc.category + "?prefix=" + url.QueryEscape(tc.prefix)
		if tc.search != "" {
			target += "&" + tc.search
		}
		w := f.get(t, target)
		mustStatus(t, w, http.StatusOK)
		validate(t, o.responseSchema(t, tmpl, 200, w.Header().Get("Content-Type")), target, w.Body.Bytes())
		var fv search.FacetValues
		decodeBody(t, w.Body.Bytes(), &fv)
		sw := f.get(t, "/api/v1/search?"+tc.search)
		var res search.Result
		decodeBody(t, sw.Body.Bytes(), &res)
		counts := map[string]uint64{}
		for _, facet := range res.Facets {
			if facet.Field == tc.category {
				for _, v := range facet.Values {
					counts[v.Value] = v.Count
				}
			}
		}
		if fv.Total != res.Total || len(fv.Values) == 0 {
			t.Errorf("%s: total %d (search %d), %d values", target, fv.Total, res.Total, len(fv.Values))
		}
		for _, v := range fv.Values {
			if counts[v.Value] != v.Count {
				t.Errorf("%s: %s counts %d, the search's facet %d", target, v.Value, v.Count, counts[v.Value])
			}
			if p := strings.ToLower(tc.prefix); !strings.HasPrefix(v.Value, p) && !strings.Contains(" "+strings.ToLower(v.Label), " "+p) {
				t.Errorf("%s: %s (%s) does not match %q", target, v.Value, v.Label, tc.prefix)
			}
		}
	}
	for _, target := range []string{"/api/v1/facets/nope?prefix=a", "/api/v1/facets/domain?prefix=a&prefix=b", "/api/v1/facets/domain?sort=nope"} {
		w := f.get(t, target)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400", target, w.Code)
			continue
		}
		validate(t, o.responseSchema(t, tmpl, w.Code, w.Header().Get("Content-Type")), target, w.Body.Bytes())
	}
}
