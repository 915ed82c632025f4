package search

import (
	"context"
	"fmt"
	"sort"

	"github.com/blevesearch/bleve/v2"

	"github.com/faildex/faildex/index"
)

// The reference paths (producerReference): the whole request as one bleve
// query run by bleve's SearchInContext, sorted by bleve's collector, hits
// decoded from the stored incident bleve returns. They answer when the
// index is not a scorch snapshot, and the differential tests hold every
// other producer to them.

// referenceHits returns the request's page of hits; total is the number of
// matches the facet bitmaps count, which bleve must agree with.
func (e *Engine) referenceHits(ctx context.Context, p *plan, total uint64) ([]Hit, error) {
	n := p.n
	if p.keys != nil && n.Sort == SortRelevance {
		return e.referenceKeyed(ctx, p, total, (n.Page-1)*n.Size, n.Size)
	}
	req := bleve.NewSearchRequestOptions(p.fullQuery(), n.Size, (n.Page-1)*n.Size, false)
	req.Fields = []string{index.FieldStored}
	req.SortBy(n.sortBy)
	if n.Sort != SortRelevance {
		req.Score = "none"
	}
	sr, err := e.ix.SearchInContext(ctx, req)
	if err != nil {
		return nil, e.searchErr(err)
	}
	if sr.Total != total {
		return nil, fmt.Errorf("search: bleve found %d incidents, the facet index %d", sr.Total, total)
	}
	hits := make([]Hit, 0, len(sr.Hits))
	for _, h := range sr.Hits {
		in, err := index.IncidentFromFields(h.Fields)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h.ID, err)
		}
		hits = append(hits, e.hitOf(&in, finiteScore(h.Score), p.terms))
	}
	return hits, nil
}

// referenceEach calls fn for every match in the request's order, fetching
// eachPage hits at a time after the last one's sort values.
func (e *Engine) referenceEach(ctx context.Context, p *plan, fn func(*index.Incident) error) error {
	if p.keys != nil && p.n.Sort == SortRelevance {
		hits, err := e.referenceKeyedIncidents(ctx, p)
		if err != nil {
			return err
		}
		for i := range hits {
			if err := fn(&hits[i]); err != nil {
				return err
			}
		}
		return nil
	}
	q := p.fullQuery()
	var after []string
	for {
		sr := bleve.NewSearchRequestOptions(q, eachPage, 0, false)
		sr.Fields = []string{index.FieldStored}
		sr.SortBy(p.n.sortBy)
		if p.n.Sort != SortRelevance {
			sr.Score = "none"
		}
		if after != nil {
			sr.SetSearchAfter(after)
		}
		res, err := e.ix.SearchInContext(ctx, sr)
		if err != nil {
			return e.searchErr(err)
		}
		if err := index.EachHit(res.Hits, fn); err != nil {
			return err
		}
		if len(res.Hits) < eachPage {
			return nil
		}
		after = res.Hits[len(res.Hits)-1].Sort
	}
}

const eachPage = 200

// referenceKeyed returns a page of hits of a request whose matches rank by
// the first ranking rules (rankKeys) before relevance: bleve's matches in
// bleve's order, stably sorted by the keys.
func (e *Engine) referenceKeyed(ctx context.Context, p *plan, total uint64, skip, size int) ([]Hit, error) {
	all, err := e.referenceKeyedOrder(ctx, p)
	if err != nil {
		return nil, err
	}
	if uint64(len(all)) != total {
		return nil, fmt.Errorf("search: bleve found %d incidents, the facet index %d", len(all), total)
	}
	var hits []Hit
	for i := skip; i < len(all) && i < skip+size; i++ {
		in, err := e.ix.Get(ctx, all[i].id)
		if err != nil {
			return nil, err
		}
		hits = append(hits, e.hitOf(&in, all[i].c.score, p.terms))
	}
	return hits, nil
}

// referenceKeyedIncidents returns every match of a keyed request in order.
func (e *Engine) referenceKeyedIncidents(ctx context.Context, p *plan) ([]index.Incident, error) {
	all, err := e.referenceKeyedOrder(ctx, p)
	if err != nil {
		return nil, err
	}
	ins := make([]index.Incident, len(all))
	for i, k := range all {
		if ins[i], err = e.ix.Get(ctx, k.id); err != nil {
			return nil, err
		}
	}
	return ins, nil
}

// keyedMatch is a match of bleve's search with its ranking keys.
type keyedMatch struct {
	c  scored
	id string
}

// referenceKeyedOrder returns every match of a keyed request, in order.
func (e *Engine) referenceKeyedOrder(ctx context.Context, p *plan) ([]keyedMatch, error) {
	req := bleve.NewSearchRequestOptions(p.fullQuery(), int(e.count)+1, 0, false)
	req.SortBy(p.n.sortBy)
	sr, err := e.ix.SearchInContext(ctx, req)
	if err != nil {
		return nil, e.searchErr(err)
	}
	list := make([]keyedMatch, 0, len(sr.Hits))
	for i, h := range sr.Hits {
		d, err := docNum(h.IndexInternalID)
		if err != nil {
			return nil, err
		}
		c := scored{score: finiteScore(h.Score), rank: uint32(i), doc: d}
		p.keys.set(&c)
		list = append(list, keyedMatch{c, h.ID})
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i].c, list[j].c
		if a.matched != b.matched {
			return a.matched > b.matched
		}
		if a.inexact != b.inexact {
			return a.inexact < b.inexact
		}
		return a.rank < b.rank
	})
	return list, nil
}
