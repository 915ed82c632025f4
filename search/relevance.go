package search

import (
	"container/heap"
	"context"
	"fmt"
	"runtime"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	bindex "github.com/blevesearch/bleve_index_api"
)

// relevanceHits returns the page of hits of a request sorted by relevance.
// It runs the scored searcher that bleve's SearchInContext runs for the same
// query (same scoring model), so scores are bleve's, but instead of bleve's
// collector, which reads each match's publication date from doc values to
// break ties, it keeps the best page*size matches in a heap and breaks ties
// by each document's rank in the date order (-published, _id), which is the
// same order.
func (e *Engine) relevanceHits(ctx context.Context, p *plan, matched *roaring.Bitmap) ([]Hit, error) {
	if root := e.scoreTree(p.n.parsed); root != nil {
		return e.scoredHits(ctx, p, root, matched)
	}
	total := matched.GetCardinality()
	hits, _, count, err := e.relevanceScan(ctx, p, false)
	if err != nil {
		return nil, err
	}
	if count != total {
		return nil, fmt.Errorf("search: bleve found %d incidents, the facet index %d", count, total)
	}
	return hits, nil
}

// relevanceScan runs the scored search of the request and returns its page
// of hits, the number of matches and, with withBits, the matches.
func (e *Engine) relevanceScan(ctx context.Context, p *plan, withBits bool) ([]Hit, *roaring.Bitmap, uint64, error) {
	n := p.n
	ranks, err := e.fast.ranks(ctx, SortDate, n.sortBy[1:])
	if err != nil {
		return nil, nil, 0, err
	}
	model := bindex.DefaultScoringModel
	if im, ok := e.mapping.(*mapping.IndexMappingImpl); ok && im.ScoringModel == bindex.BM25Scoring {
		model = bindex.BM25Scoring
	}
	sctxValue := context.WithValue(ctx, bsearch.GetScoringModelCallbackKey,
		bsearch.GetScoringModelCallbackFn(func() string { return model }))
	sctxValue = bsearch.ContextWithTermSearchersCounter(sctxValue)
	s, err := p.fullQuery().Searcher(sctxValue, e.reader, e.mapping, bsearch.SearcherOptions{})
	if err != nil {
		return nil, nil, 0, e.searchErr(err)
	}
	defer s.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: e.reader}

	k := n.Page * n.Size
	h := &topHeap{}
	var count uint64
	var bits *roaring.Bitmap
	var buf []uint32
	if withBits {
		bits = roaring.New()
	}
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, nil, 0, e.searchErr(err)
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, nil, 0, e.searchErr(err)
		}
		if dm == nil {
			break
		}
		count++
		d, err := docNum(dm.IndexInternalID)
		if err != nil {
			return nil, nil, 0, err
		}
		if withBits {
			if buf = append(buf, d); len(buf) == 1024 {
				bits.AddMany(buf)
				buf = buf[:0]
			}
		}
		c := scored{score: dm.Score, rank: ranks[d], doc: d}
		sctx.DocumentMatchPool.Put(dm)
		if h.Len() < k {
			heap.Push(h, c)
		} else if better(c, (*h)[0]) {
			(*h)[0] = c
			heap.Fix(h, 0)
		}
	}
	if withBits {
		bits.AddMany(buf)
	}
	best := []scored(*h)
	sort.Slice(best, func(i, j int) bool { return better(best[i], best[j]) })
	hits, err := e.storedHits(p, best[min((n.Page-1)*n.Size, len(best)):])
	return hits, bits, count, err
}

// storedHits returns the hits of scored documents, read from their stored
// incidents and highlighted, on up to GOMAXPROCS goroutines.
func (e *Engine) storedHits(p *plan, page []scored) ([]Hit, error) {
	hits := make([]Hit, len(page))
	errs := make([]error, len(page))
	one := func(i int) {
		in, err := e.storedIncident(page[i].doc)
		if err != nil {
			errs[i] = err
			return
		}
		hits[i] = e.hitOf(in, page[i].score, p.terms)
	}
	workers := min(runtime.GOMAXPROCS(0), maxScoreWorkers, len(page)/minParallelHits)
	if workers <= 1 {
		for i := range page {
			one(i)
		}
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(page); i += workers {
					one(i)
				}
			}()
		}
		wg.Wait()
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// Hits are built in parallel from this many per goroutine.
const minParallelHits = 4

// singlePass reports whether one scored search can give both the matches
// (for the facets) and the page of hits: sorted by relevance, with nothing
// but words (so the scored query is the words' query), and words that are
// not all single terms, whose matches postings bitmaps give more cheaply.
func (e *Engine) singlePass(p *plan) bool {
	if e.fast == nil || p.n.Sort != SortRelevance || p.text == nil ||
		len(p.filters) > 0 || len(p.excluded) > 0 || p.dateQ != nil {
		return false
	}
	pq := p.n.parsed
	for _, cs := range append(append([][]clause(nil), pq.groups...), pq.excluded) {
		for _, c := range cs {
			if c.prefix || len(e.analyze(c.text)) > 1 {
				return true
			}
		}
	}
	return false
}

// scored is a match: its score and its rank in the date order.
type scored struct {
	score float64
	rank  uint32
	doc   uint32
}

// better reports whether a sorts before b by relevance.
func better(a, b scored) bool {
	if a.score != b.score {
		return a.score > b.score
	}
	return a.rank < b.rank
}

// topHeap keeps the best matches with the worst on top.
type topHeap []scored

func (h topHeap) Len() int           { return len(h) }
func (h topHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h topHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *topHeap) Push(x any)        { *h = append(*h, x.(scored)) }
func (h *topHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
