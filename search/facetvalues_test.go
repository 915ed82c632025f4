package search

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestFacetValueCounts compares facet value searches with counts made from
// the raw files: the options matching the prefix, with the counts of the
// category's facet.
func TestFacetValueCounts(t *testing.T) {
	e := fixedCorpus.engine(t)
	facts := fixedFacts(t)
	for _, f := range facetFilters {
		want := expectedCounts(facts, f)
		for _, tc := range []struct{ cat, prefix string }{
			{"consequence", ""}, {"consequence", "de"}, {"domain", "tr"}, {"domain", "INF"},
			{"capability", "acc"}, {"nature", "human"}, {"phase", "zz"},
		} {
			res, err := e.FacetValues(context.Background(), f.request(), tc.cat, tc.prefix)
			if err != nil {
				t.Fatalf("%s %s %q: %v", f.name, tc.cat, tc.prefix, err)
			}
			exp := map[string]uint64{}
			for v, n := range want.Values[tc.cat] {
				label, _ := optionLabel(tc.cat, v)
				if optionMatches(FacetValue{Value: v, Label: label}, strings.ToLower(tc.prefix)) {
					exp[v] = n
				}
			}
			got := map[string]uint64{}
			for i, v := range res.Values {
				got[v.Value] = v.Count
				if i > 0 && v.Count > res.Values[i-1].Count {
					t.Errorf("%s %s %q: not most frequent first", f.name, tc.cat, tc.prefix)
				}
			}
			if diff := cmp.Diff(exp, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("%s, %s %q (-want +got):\n%s", f.name, tc.cat, tc.prefix, diff)
			}
			if res.Missing != want.Missing[tc.cat] {
				t.Errorf("%s, %s: %d not assessed, want %d", f.name, tc.cat, res.Missing, want.Missing[tc.cat])
			}
		}
	}
}

func TestOptionMatches(t *testing.T) {
	v := FacetValue{Value: "non-human_actions", Label: "Non-human actions"}
	for prefix, want := range map[string]bool{"": true, "non": true, "human": true, "act": true, "non-human a": true, "non-human_a": true, "x": false, "uman": false} {
		if got := optionMatches(v, prefix); got != want {
			t.Errorf("%q: %v, want %v", prefix, got, want)
		}
	}
}

func TestFacetValuesErrors(t *testing.T) {
	e := fixedCorpus.engine(t)
	for _, tc := range []struct{ cat, prefix, param string }{
		{"nope", "", "category"}, {"Domain", "", "category"}, {"domain", strings.Repeat("a", MaxPrefixBytes+1), "prefix"},
	} {
		var se *Error
		if _, err := e.FacetValues(context.Background(), Request{}, tc.cat, tc.prefix); !errors.As(err, &se) || se.Param != tc.param {
			t.Errorf("%s %q: %v, want an error about %s", tc.cat, tc.prefix, err, tc.param)
		}
	}
}
