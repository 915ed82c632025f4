package search

import (
	"context"

	"github.com/faildex/faildex/index"
)

// Each calls fn for every incident matching the request's words, filters
// and dates, in the request's order. The producer producerFor picks gives
// the order of the matching documents, whose stored incidents are read
// ahead of fn; the reference producer pages through bleve's hits instead,
// so memory stays bounded either way. Page and size are ignored.
func (e *Engine) Each(ctx context.Context, req Request, fn func(*index.Incident) error) error {
	req.Page, req.Size = 1, MaxSize
	p, err := e.plan(ctx, req)
	if err != nil {
		return err
	}
	prod := e.producerFor(p)
	if prod == producerReference {
		return e.referenceEach(ctx, p, fn)
	}
	ms, err := e.matchSets(ctx, p, prod, nil)
	if err != nil {
		return e.searchErr(err)
	}
	docs, err := e.matchOrder(ctx, p, prod, ms.context(""), 0)
	if err != nil {
		return e.searchErr(err)
	}
	return e.eachStored(ctx, docs, fn)
}

// eachStored calls fn with the stored incident of each document, read
// ahead by another goroutine (index.ReadAhead).
func (e *Engine) eachStored(ctx context.Context, docs []uint32, fn func(*index.Incident) error) error {
	err := index.ReadAhead(ctx, len(docs), func(i int) (*index.Incident, error) {
		return e.storedIncident(docs[i])
	}, fn)
	if err != nil && err == ctx.Err() {
		return e.searchErr(err)
	}
	return err
}
