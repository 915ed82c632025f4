package search

import (
	"context"

	bindex "github.com/blevesearch/bleve_index_api"
)

// Cancellation at the granularity of work done.
//
// bleve's searchers never look at their context: one call of a phrase
// searcher's Next can walk the postings and positions of every document
// having the phrase's words before it finds a match, or finds none. Checks
// between matches therefore do not bound a search's time. Every searcher
// reads postings through a term field reader, so the engine hands bleve a
// reader whose term field readers check the context they were opened with
// every checkEvery postings (Next or Advance), and fail with its error once
// it is done. The loops of the engine's own (postings scoring, sort orders,
// word lookups) check their context at the same granularity.

// checkEvery is the number of postings, documents or dictionary entries
// read between two checks of a context.
const checkEvery = 256

// cancelReader is an index reader whose term field readers stop at the end
// of their context. It implements the optional reader interfaces bleve's
// searchers look for, which scorch snapshots implement, so that queries are
// planned and scored exactly as on the snapshot itself.
type cancelReader struct {
	scorchReader
}

// scorchReader is what the engine uses of a scorch snapshot.
type scorchReader interface {
	bindex.BM25Reader
	bindex.IndexReaderFuzzy
	bindex.IndexReaderRegexp
	bindex.IndexReaderContains
}

// newCancelReader wraps r, or returns it as it is when it lacks an
// interface of scorchReader.
func newCancelReader(r bindex.IndexReader) bindex.IndexReader {
	if sr, ok := r.(scorchReader); ok {
		return cancelReader{sr}
	}
	return r
}

func (r cancelReader) TermFieldReader(ctx context.Context, term []byte, field string, freq, norm, vectors bool) (bindex.TermFieldReader, error) {
	tfr, err := r.scorchReader.TermFieldReader(ctx, term, field, freq, norm, vectors)
	if err != nil || ctx.Done() == nil {
		return tfr, err
	}
	return &cancelTFR{TermFieldReader: tfr, ctx: ctx}, nil
}

// cancelTFR is a term field reader that fails with its context's error once
// the context is done, checked every checkEvery postings.
type cancelTFR struct {
	bindex.TermFieldReader
	ctx context.Context
	n   int
}

func (t *cancelTFR) check() error {
	t.n++
	if t.n%checkEvery == 0 {
		return t.ctx.Err()
	}
	return nil
}

func (t *cancelTFR) Next(pre *bindex.TermFieldDoc) (*bindex.TermFieldDoc, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return t.TermFieldReader.Next(pre)
}

func (t *cancelTFR) Advance(id bindex.IndexInternalID, pre *bindex.TermFieldDoc) (*bindex.TermFieldDoc, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return t.TermFieldReader.Advance(id, pre)
}

// Optimize passes bleve's composite-searcher optimizations (which merge
// the postings of several readers) to the wrapped reader. The merged
// reader they produce is bleve's own; it reads precomputed bitmaps, one
// match per posting, and the loops over its matches check the context.
func (t *cancelTFR) Optimize(kind string, octx bindex.OptimizableContext) (bindex.OptimizableContext, error) {
	if o, ok := t.TermFieldReader.(bindex.Optimizable); ok {
		return o.Optimize(kind, octx)
	}
	return nil, nil
}

// ticker counts units of work and reports the context's error every
// checkEvery of them. A nil context never ends.
type ticker struct {
	ctx context.Context
	n   int
}

func (t *ticker) tick() error {
	t.n++
	if t.ctx == nil || t.n%checkEvery != 0 {
		return nil
	}
	return t.ctx.Err()
}
