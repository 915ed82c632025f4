package search

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNotAssessedMatchesReference checks the NotAssessed filter value
// through every path: as a parameter and written in the query, negated,
// with words ranked by relevance, against the reference path (bleve's own
// search over missingQuery). TestFacetCounts checks its counts against the
// raw files.
func TestNotAssessedMatchesReference(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		for _, req := range []Request{
			{Filters: map[string][]string{"cps": {NotAssessed}}, Size: MaxSize},
			{Filters: map[string][]string{"consequence": {NotAssessed, "death"}}, Sort: SortDate, Size: MaxSize},
			{Query: "software", Filters: map[string][]string{"perception": {NotAssessed}}, Sort: SortRelevance, Size: MaxSize},
			{Query: "software -cps:not_assessed", Sort: SortRelevance, Size: MaxSize},
			{Query: "application:not_assessed failure", Size: MaxSize},
		} {
			got := search(t, e, req)
			var want *Result
			asReference(e, func() { want = search(t, e, req) })
			if got.Total == 0 && req.Query == "" {
				t.Errorf("%+v: nothing matches", req)
			}
			if got.Total != want.Total {
				t.Errorf("%+v: total %d, reference %d", req, got.Total, want.Total)
			}
			if diff := cmp.Diff(hitIDs(want), hitIDs(got)); diff != "" {
				t.Errorf("%+v: hits (-reference +engine):\n%s", req, diff)
			}
		}
	})
}
