package search

import (
	"context"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
)

// A request is answered in stages: text matching gives the candidate
// documents (match.go), filters and dates narrow them, and one producer
// orders or scores the matches into hits. Search and Each ask producerFor
// which producer; new ways of matching words (typo tolerance, synonyms,
// relaxation) change the candidates and the scoring tree, not this choice.

// producer names a way of ordering matches into hits.
type producer int

const (
	// producerReference is bleve's own SearchInContext over the whole
	// request (reference.go): the slow path every other producer is
	// tested against.
	producerReference producer = iota
	// producerOrder pages through a precomputed sort order, keeping the
	// matching documents (order.go).
	producerOrder
	// producerPostings scores the matches from the postings of the
	// scoring tree (score.go), only those that can reach the page
	// (topk.go).
	producerPostings
	// producerSearcher runs bleve's scored searcher and keeps the best
	// matches (relevance.go).
	producerSearcher
	// producerPhrases scores the matches from the postings and their
	// positions, for words with phrases (phrase.go).
	producerPhrases
)

func (p producer) String() string {
	switch p {
	case producerOrder:
		return "order"
	case producerPostings:
		return "postings"
	case producerSearcher:
		return "searcher"
	case producerPhrases:
		return "phrases"
	}
	return "reference"
}

// producerFor decides which producer answers a request. The rules, in
// order:
//
//  1. Without a scorch snapshot (or when the engine is set to answer by
//     the reference): producerReference.
//  2. Any sort order but relevance: producerOrder.
//  3. Relevance, with words the postings can score (plain words, OR,
//     field scopes, exclusions: the plan has a scoring tree):
//     producerPostings.
//  4. Relevance, with words and phrases the postings can score (the plan
//     has a phrase tree): producerPhrases.
//  5. Relevance otherwise (prefixes, only stop words, no words):
//     producerSearcher. When the words are the whole request, its one
//     scored pass also gives the matches (see Search).
func (e *Engine) producerFor(p *plan) producer {
	switch {
	case e.segs == nil || e.reference:
		return producerReference
	case p.n.Sort != SortRelevance:
		return producerOrder
	case p.tree != nil:
		return producerPostings
	case p.phrases != nil:
		return producerPhrases
	}
	return producerSearcher
}

// pageHits returns the request's page of hits of matched (total documents)
// from the producer.
func (e *Engine) pageHits(ctx context.Context, p *plan, prod producer, matched *roaring.Bitmap, total uint64) ([]Hit, error) {
	n := p.n
	skip, k := (n.Page-1)*n.Size, n.Page*n.Size
	switch prod {
	case producerReference:
		return e.referenceHits(ctx, p, total)
	case producerOrder:
		page, err := e.ordered(ctx, p, matched, skip, n.Size)
		if err != nil {
			return nil, err
		}
		return e.cardHits(ctx, p, page)
	}
	best, err := e.best(ctx, p, prod, matched, k)
	if err != nil {
		return nil, err
	}
	return e.storedHits(ctx, p, best[min(skip, len(best)):])
}

// matchOrder returns the first k documents of matched (all of them when k
// is 0 or less) in the request's order from the producer, which must not
// be producerReference (it pages through bleve's hits instead:
// referenceEach).
func (e *Engine) matchOrder(ctx context.Context, p *plan, prod producer, matched *roaring.Bitmap, k int) ([]uint32, error) {
	if total := matched.GetCardinality(); k <= 0 || uint64(k) > total {
		k = int(total)
	}
	switch prod {
	case producerReference:
		return nil, fmt.Errorf("search: no match order from the %s producer", prod)
	case producerOrder:
		return e.ordered(ctx, p, matched, 0, k)
	}
	best, err := e.best(ctx, p, prod, matched, k)
	if err != nil {
		return nil, err
	}
	docs := make([]uint32, len(best))
	for i, c := range best {
		docs[i] = c.doc
	}
	return docs, nil
}

// best returns the k best matches by relevance from a scoring producer
// (postings, phrases or searcher), best first.
func (e *Engine) best(ctx context.Context, p *plan, prod producer, matched *roaring.Bitmap, k int) ([]scored, error) {
	if prod == producerPostings {
		return e.score(ctx, p, p.tree, matched, k)
	}
	if prod == producerPhrases {
		return e.scorePhrases(ctx, p, matched, k)
	}
	sc, err := e.scanSearcher(ctx, p, k, false)
	if err != nil {
		return nil, err
	}
	if total := matched.GetCardinality(); sc.count != total {
		return nil, fmt.Errorf("search: bleve found %d incidents, the facet index %d", sc.count, total)
	}
	return sc.best, nil
}
