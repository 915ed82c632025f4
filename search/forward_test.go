package search

import (
	"math/rand/v2"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/index"
)

// TestForwardCountsMatchBitmaps checks that facets and years counted
// document at a time from the forward index equal those counted by
// intersecting bitmaps, over contexts from one document to every one,
// filtered values selected or not.
func TestForwardCountsMatchBitmaps(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		rng := rand.New(rand.NewPCG(5, 6))
		all := e.facets.all.ToArray()
		for _, share := range []float64{0, 0.001, 0.05, 0.3, 0.7, 1} {
			ctx := roaring.New()
			for _, d := range all {
				if rng.Float64() < share {
					ctx.Add(d)
				}
			}
			if share == 1 {
				ctx = e.facets.all.Clone()
			}
			byBits := facetCounter{ctx: ctx}
			byDocs := facetCounter{ctx: ctx, counts: e.facets.fwd.count(ctx)}
			for _, c := range index.Facets {
				var selected []string
				if vals := e.facets.cats[c.Name].indexed; len(vals) > 0 {
					selected = []string{vals[rng.IntN(len(vals))], NotAssessed}
				}
				want := e.facetOf(c, byBits, selected)
				got := e.facetOf(c, byDocs, selected)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("share %v, %s: (-bitmaps +forward)\n%s", share, c.Name, diff)
				}
			}
			if diff := cmp.Diff(e.yearCounts(byBits), e.yearCounts(byDocs)); diff != "" {
				t.Errorf("share %v, years: (-bitmaps +forward)\n%s", share, diff)
			}
		}
	})
}

// TestForwardSparse pins when counting goes document at a time: contexts
// of fewer than 4,096 documents per 65,536 document numbers.
func TestForwardSparse(t *testing.T) {
	for _, tc := range []struct {
		docs, ctx int
		want      bool
	}{
		{10000, 3000, true},
		{10000, 5000, false},
		{100000, 8000, true},
		{100000, 30000, false},
	} {
		fw := &forward{start: make([]uint32, tc.docs+1)}
		ctx := roaring.New()
		ctx.AddRange(0, uint64(tc.ctx))
		if got := fw.sparse(ctx); got != tc.want {
			t.Errorf("%d of %d documents: sparse %v, want %v", tc.ctx, tc.docs, got, tc.want)
		}
	}
}
