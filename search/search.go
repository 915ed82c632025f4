package search

import (
	"context"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/faildex/faildex/index"
)

// Search runs a request: it plans it, computes the matching sets and the
// facets from bitmaps, and asks the producer producerFor picks for the
// page of hits. A search past its deadline fails with ErrTooExpensive.
func (e *Engine) Search(ctx context.Context, req Request) (*Result, error) {
	res, err := e.search(ctx, req)
	if err == nil {
		// However little work a search took, one that ends past its
		// deadline fails like one stopped midway: the caller has gone.
		err = ctx.Err()
	}
	if err != nil {
		return nil, e.searchErr(err)
	}
	return res, nil
}

func (e *Engine) search(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	p, err := e.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	n := p.n
	prod := e.producerFor(p)

	// When the scored search of the words is the whole request, one pass
	// gives both the page of hits and the matches for the facets.
	var single *searcherScan
	var base *roaring.Bitmap
	if prod == producerSearcher && p.wordsOnly() {
		if single, err = e.scanSearcher(ctx, p, n.Page*n.Size, true); err != nil {
			return nil, err
		}
		base = single.bits
	}
	ms, err := e.matchSets(ctx, p, prod, base)
	if err != nil {
		return nil, err
	}
	matched := ms.context("")
	res := e.newResult(p, matched.GetCardinality())
	e.addFacets(res, p, ms, matched)

	if skip := (n.Page - 1) * n.Size; uint64(skip) < res.Total {
		if single != nil {
			res.Hits, err = e.storedHits(ctx, p, single.best[min(skip, len(single.best)):])
		} else {
			res.Hits, err = e.pageHits(ctx, p, prod, matched, res.Total)
		}
		if err != nil {
			return nil, err
		}
	}
	res.Notices = n.parsed.notices
	res.Suggestion = p.suggestion
	if len(p.dropped) > 0 {
		res.Relaxed = &Relaxed{Dropped: p.dropped, Matched: p.n.parsed.minMatch, Of: p.n.parsed.minOf}
	}
	res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// newResult returns the result of a request matching total incidents,
// without facets and hits.
func (e *Engine) newResult(p *plan, total uint64) *Result {
	n := p.n
	res := &Result{
		Query:   n.Query,
		Filters: []ActiveFilter{},
		From:    n.From,
		To:      n.To,
		Sort:    n.Sort,
		Total:   total,
		Page:    n.Page,
		Size:    n.Size,
		Hits:    []Hit{},
	}
	reachable := min(res.Total, MaxDepth)
	res.Pages = int((reachable + uint64(n.Size) - 1) / uint64(n.Size))
	for _, c := range index.Facets {
		for _, v := range p.filters[c.Name] {
			label, _ := e.facets.label(c.Name, v)
			res.Filters = append(res.Filters, ActiveFilter{Field: c.Name, Value: v, Label: label})
		}
	}
	return res
}
