package search

import (
	"context"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// Matching: the documents a request matches, as bitmaps of document
// numbers. The words give the candidates (textBits, from postings bitmaps
// where it can, else from bleve's searchers); the negated filters, the
// date range and each category filter narrow them. Facets count these
// sets; producers order and score them.

// sets holds the documents a request matches, in parts: base (the words
// and the negated filters), the date range and each category filter.
type sets struct {
	base, dates *roaring.Bitmap // dates nil without a range
	filters     map[string]*roaring.Bitmap
}

// context returns base ∧ dates ∧ every filter but skip's ("" skips none;
// "year" skips the dates): the documents a facet of skip counts.
func (s *sets) context(skip string) *roaring.Bitmap {
	bms := []*roaring.Bitmap{s.base}
	if s.dates != nil && skip != "year" {
		bms = append(bms, s.dates)
	}
	for cat, bm := range s.filters {
		if cat != skip {
			bms = append(bms, bm)
		}
	}
	if len(bms) == 1 {
		return s.base
	}
	return roaring.FastAnd(bms...)
}

// matchSets computes the sets of a request; base, when not nil, is the
// documents matching its words, already known. The reference producer
// matches the words with bleve's searchers alone; the others use postings
// bitmaps where they can.
func (e *Engine) matchSets(ctx context.Context, p *plan, prod producer, base *roaring.Bitmap) (*sets, error) {
	var err error
	if base == nil {
		base = e.facets.all
		if p.text != nil {
			if prod != producerReference && p.words != nil {
				base = p.words
			} else if prod != producerReference {
				base, err = e.textBits(ctx, p.n.parsed)
			} else {
				base, err = collect(ctx, e.reader, e.mapping, p.text)
			}
			if err != nil {
				return nil, e.searchErr(err)
			}
		}
	}
	if len(p.excluded) > 0 {
		base = base.Clone()
		for cat, vals := range p.excluded {
			base.AndNot(e.facets.filterBits(cat, vals))
		}
	}
	s := &sets{base: base, filters: map[string]*roaring.Bitmap{}}
	if p.dateQ != nil {
		if s.dates, err = collect(ctx, e.reader, e.mapping, p.dateQ); err != nil {
			return nil, e.searchErr(err)
		}
	}
	for cat, vals := range p.filters {
		s.filters[cat] = e.facets.filterBits(cat, vals)
	}
	return s, nil
}

// textBits returns the documents matching the words of a query: the same set
// as running textQuery's query, computed from postings bitmaps for single
// terms, from their positions for phrases (phrase.go) and with bleve's
// searchers for prefixes.
func (e *Engine) textBits(ctx context.Context, pq *parsedQuery) (*roaring.Bitmap, error) {
	ws, err := e.wordSets(ctx, pq)
	if err != nil {
		return nil, err
	}
	return ws.matching(e.facets.all, nil), nil
}

// clauseBits returns the documents matching one clause, nil when it
// analyses to nothing (stop words).
func (e *Engine) clauseBits(ctx context.Context, pq *parsedQuery, c clause) (*roaring.Bitmap, error) {
	q := e.clauseQuery(c)
	if q == nil {
		return nil, nil
	}
	if bm, ok, err := e.phraseBits(ctx, pq.phrases, c); ok || err != nil {
		return bm, err
	}
	terms := e.analyze(c.text)
	if c.prefix || len(terms) != 1 || e.segs == nil {
		return collect(ctx, e.reader, e.mapping, q)
	}
	fields := c.fields
	if fields == nil {
		fields = index.ProseFields()
	}
	// One union of every field's postings (FastOr unions in bitmap
	// containers: pairwise unions of array containers are merges), then
	// the deletions left out once.
	bms := make([]*roaring.Bitmap, 0, len(fields))
	for _, field := range fields {
		bm, ok, err := e.segs.termBitsAll(field, terms[0])
		if err != nil {
			return nil, err
		}
		if !ok {
			return collect(ctx, e.reader, e.mapping, q)
		}
		bms = append(bms, bm)
	}
	out := roaring.FastOr(bms...)
	out.And(e.segs.live)
	return out, nil
}

// collect runs q without scoring and returns the documents it matches.
func collect(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, q query.Query) (*roaring.Bitmap, error) {
	s, err := q.Searcher(ctx, r, m, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	bm := roaring.New()
	buf := make([]uint32, 0, 1024)
	err = visit(ctx, s, func(d uint32, _ *bsearch.DocumentMatch) {
		if buf = append(buf, d); len(buf) == cap(buf) {
			bm.AddMany(buf)
			buf = buf[:0]
		}
	})
	if err != nil {
		return nil, err
	}
	bm.AddMany(buf)
	return bm, nil
}

// visit calls fn with every match of s and its document number, checking
// ctx every 1,024 matches; fn must not keep dm.
func visit(ctx context.Context, s bsearch.Searcher, fn func(d uint32, dm *bsearch.DocumentMatch)) error {
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return err
		}
		if dm == nil {
			return nil
		}
		d, err := docNum(dm.IndexInternalID)
		if err != nil {
			return err
		}
		fn(d, dm)
		sctx.DocumentMatchPool.Put(dm)
	}
}
