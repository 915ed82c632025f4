package search

import (
	"container/heap"
	"context"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// Similar incidents without scoring every match (see topk.go for the
// bounds). The more-like-this query is the scoring tree of a disjunction
// of the distinctive (field, term) leaves, each boosted by its weight,
// which bleve's searcher scores the same way. A candidate's combined score
// is monotone in its text score, so the text bound of every match (term at
// a time, from the postings bitmaps and block bounds) and its taxonomy
// score (from the options' bitmaps) bound it; only the matches that could
// reach the n best, or be the best text match, are scored.

// similarByPostings returns the n best candidates, best first; ok is false
// when the postings cannot answer (no scorch snapshot, a segment without
// postings bitmaps, or no positive text score), and similarBySearcher must.
func (e *Engine) similarByPostings(ctx context.Context, terms []simTerm, opts []simOption, ownWeight float64, self uint32, n int) (cands []simCand, ok bool, err error) {
	if e.segs == nil || e.reference {
		return nil, false, nil
	}
	if len(terms) == 0 {
		return nil, true, nil
	}
	kids := make([]*snode, len(terms))
	matched := roaring.New()
	for i, t := range terms {
		kids[i] = &snode{leaf: &sleaf{field: t.field, term: t.term, boost: t.weight}}
		bm, ok, err := e.segs.termBits(t.field, t.term)
		if err != nil || !ok {
			return nil, false, err
		}
		matched.Or(bm)
	}
	matched.Remove(self)
	if matched.IsEmpty() {
		return nil, true, nil
	}
	root := &snode{kids: kids}
	// moreLikeThis runs bleve's searcher without the mapping's scoring
	// model, so it scores with tf-idf.
	if err := e.prepareModel(ctx, root, false); err != nil {
		return nil, false, err
	}
	tk := e.newTopK(ctx, root, n, nil)
	docs := matched.ToArray()
	ub := make([]float64, len(docs))
	for si := range e.segs.segs {
		if a, b := tk.segRange(si, docs); a < b {
			if err := tk.bound(si, docs[a:b], ub[a:b]); err != nil {
				return nil, false, err
			}
		}
	}

	// The best text score: the match of largest bound first, then those
	// whose bound exceeds the best so far.
	known := map[int]float64{}
	var best float64
	keep := func(i int, s float64) {
		known[i] = s
		best = max(best, s)
	}
	first := largest(ub, 1)
	if err := tk.exact(docs, first, nil, keep); err != nil {
		return nil, false, err
	}
	var rest []int
	for i, u := range ub {
		if !(u <= best) && i != first[0] { // a NaN bound prunes nothing
			rest = append(rest, i)
		}
	}
	if err := tk.exact(docs, rest, func(i int) bool { return ub[i] <= best }, keep); err != nil {
		return nil, false, err
	}
	if best <= 0 {
		return nil, false, nil
	}

	// Taxonomy scores, the options added in the same order as
	// similarBySearcher adds them.
	tax := make([]float64, len(docs))
	if ownWeight > 0 {
		for _, o := range opts {
			it := roaring.And(o.bits, matched).Iterator()
			for it.HasNext() {
				tax[matched.Rank(it.Next())-1] += o.weight
			}
		}
		for i := range tax {
			tax[i] /= ownWeight
		}
	}
	cand := func(i int, s float64) simCand {
		c := simCand{doc: docs[i], text: s / best, tax: tax[i]}
		c.combine()
		return c
	}
	// Bounds of the combined scores; the n largest are scored first.
	cb := make([]float64, len(docs))
	for i, u := range ub {
		cb[i] = cand(i, u).both
	}
	h := make(simHeap, 0, n)
	offer := func(i int, s float64) {
		c := cand(i, s)
		if len(h) < n {
			heap.Push(&h, c)
		} else if simBetter(c, h[0]) {
			h[0] = c
			heap.Fix(&h, 0)
		}
	}
	scoreOf := func(idx []int, skip func(int) bool) error {
		var todo []int
		for _, i := range idx {
			if s, ok := known[i]; ok {
				offer(i, s)
			} else {
				todo = append(todo, i)
			}
		}
		return tk.exact(docs, todo, skip, offer)
	}
	if len(docs) <= n {
		if err := scoreOf(indexes(len(docs)), nil); err != nil {
			return nil, false, err
		}
	} else {
		first := largest(cb, n)
		sort.Ints(first)
		if err := scoreOf(first, nil); err != nil {
			return nil, false, err
		}
		rest = rest[:0]
		j := 0
		for i := range docs {
			if j < len(first) && first[j] == i {
				j++
				continue
			}
			if !(cb[i] < h[0].both) {
				rest = append(rest, i)
			}
		}
		// A candidate whose bound is below the worst of the n best can
		// neither beat nor tie it.
		if err := scoreOf(rest, func(i int) bool { return cb[i] < h[0].both }); err != nil {
			return nil, false, err
		}
	}
	cands = []simCand(h)
	sort.Slice(cands, func(i, j int) bool { return simBetter(cands[i], cands[j]) })
	return cands, true, nil
}

// simHeap keeps the best candidates with the worst on top.
type simHeap []simCand

func (h simHeap) Len() int           { return len(h) }
func (h simHeap) Less(i, j int) bool { return simBetter(h[j], h[i]) }
func (h simHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *simHeap) Push(x any)        { *h = append(*h, x.(simCand)) }
func (h *simHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
