package search

import (
	"context"
	"math"
	"testing"
)

// TestSimilarByPostingsMatchesSearcher checks the similar incidents found
// without scoring every match against those of bleve's searcher, which
// scores them all: the same incidents in the same order, with the same
// scores up to the order of additions.
func TestSimilarByPostingsMatchesSearcher(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		res, err := e.Search(ctx, Request{Size: 25, Sort: SortDate})
		if err != nil {
			t.Fatal(err)
		}
		close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(a)) }
		compared := 0
		for _, h := range res.Hits {
			in, err := e.Incident(ctx, h.ID)
			if err != nil {
				t.Fatal(err)
			}
			self := docOf(t, e, h.ID)
			terms, err := e.distinctiveTerms(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			opts := e.weightedOptions(in)
			var own float64
			for _, o := range opts {
				own += o.weight
			}
			for _, n := range []int{1, DefaultSimilar, MaxSimilar} {
				got, ok, err := e.similarByPostings(ctx, terms, opts, own, self, n)
				if err != nil || !ok {
					t.Fatalf("%s: ok %v, %v", h.ID, ok, err)
				}
				want, err := e.similarBySearcher(ctx, terms, opts, own, self, n)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("%s n=%d: %d similar, want %d", h.ID, n, len(got), len(want))
				}
				for i := range want {
					g, w := got[i], want[i]
					if g.doc != w.doc || !close(g.text, w.text) || !close(g.tax, w.tax) || !close(g.both, w.both) {
						t.Errorf("%s n=%d #%d: %+v, want %+v", h.ID, n, i, g, w)
					}
				}
				compared += len(want)
			}
		}
		if compared == 0 {
			t.Fatal("no similar incidents compared")
		}
	})
}
