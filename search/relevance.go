package search

import (
	"context"
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Relevance from bleve's scored searcher (producerSearcher).
//
// For words the postings scorer cannot score (phrases, prefixes), the
// engine runs the scored searcher that bleve's SearchInContext runs for the
// same query (same scoring model), so scores are bleve's, but instead of
// bleve's collector, which reads each match's publication date from doc
// values to break ties, it keeps the best matches in a heap and breaks ties
// by each document's rank in the date order (-published, _id), which is the
// same order.

// searcherScan is the outcome of one scored search: the best matches, best
// first, how many matched and, when asked for, which.
type searcherScan struct {
	best  []scored
	count uint64
	bits  *roaring.Bitmap // nil unless withBits
}

// scanSearcher runs the scored search of the request and keeps its best k
// matches; with withBits it also collects every match.
func (e *Engine) scanSearcher(ctx context.Context, p *plan, k int, withBits bool) (*searcherScan, error) {
	ranks, err := e.dateRanks(ctx, p)
	if err != nil {
		return nil, err
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
		return nil, e.searchErr(err)
	}
	defer s.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0), IndexReader: e.reader}

	out := &searcherScan{}
	h := &topHeap{}
	var buf []uint32
	if withBits {
		out.bits = roaring.New()
	}
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, e.searchErr(err)
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, e.searchErr(err)
		}
		if dm == nil {
			break
		}
		out.count++
		d, err := docNum(dm.IndexInternalID)
		if err != nil {
			return nil, err
		}
		if withBits {
			if buf = append(buf, d); len(buf) == 1024 {
				out.bits.AddMany(buf)
				buf = buf[:0]
			}
		}
		c := scored{score: finiteScore(dm.Score), rank: ranks[d], doc: d}
		p.keys.set(&c)
		sctx.DocumentMatchPool.Put(dm)
		h.offer(c, k)
	}
	if withBits {
		out.bits.AddMany(buf)
	}
	out.best = h.sorted()
	return out, nil
}

// finiteScore returns s, or 0 when s is NaN. bleve scores every match of a
// query with no scoring clause (relevance without words: only zero-boost
// filters) NaN, its query norm being 1/0; such matches are ties, ordered by
// date, and a NaN could not be encoded as JSON.
func finiteScore(s float64) float64 {
	if math.IsNaN(s) {
		return 0
	}
	return s
}

// scored is a match: its ranking keys (rankKeys), its score and its rank
// in the date order.
type scored struct {
	matched, inexact uint8
	score            float64
	rank             uint32
	doc              uint32
}

// better reports whether a sorts before b by relevance: the ranking rules
// of relax.go.
func better(a, b scored) bool {
	if a.matched != b.matched {
		return a.matched > b.matched
	}
	if a.inexact != b.inexact {
		return a.inexact < b.inexact
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.rank < b.rank
}

// topHeap keeps the best matches with the worst on top. Its methods are
// container/heap's algorithms without the interface calls, which cost a
// deep page more than scoring its matches.
type topHeap []scored

// offer adds c to h if h holds fewer than k matches or c is better than
// the worst of them, which it then replaces.
func (h *topHeap) offer(c scored, k int) {
	s := *h
	if len(s) < k {
		s = append(s, c)
		for i := len(s) - 1; i > 0; {
			up := (i - 1) / 2
			if !better(s[up], s[i]) {
				break
			}
			s[i], s[up] = s[up], s[i]
			i = up
		}
		*h = s
		return
	}
	if len(s) == 0 || !better(c, s[0]) {
		return
	}
	s[0] = c
	for i := 0; ; {
		w := 2*i + 1 // the worse child
		if w >= len(s) {
			break
		}
		if r := w + 1; r < len(s) && better(s[w], s[r]) {
			w = r
		}
		if !better(s[i], s[w]) {
			break
		}
		s[i], s[w] = s[w], s[i]
		i = w
	}
}

// sorted returns the matches of h, best first.
func (h topHeap) sorted() []scored {
	s := []scored(h)
	slices.SortFunc(s, func(a, b scored) int {
		switch {
		case better(a, b):
			return -1
		case better(b, a):
			return 1
		}
		return 0
	})
	return s
}

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
