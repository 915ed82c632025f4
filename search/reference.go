package search

import (
	"context"
	"fmt"

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
		for _, h := range res.Hits {
			in, err := index.IncidentFromFields(h.Fields)
			if err != nil {
				return fmt.Errorf("%s: %w", h.ID, err)
			}
			if err := fn(&in); err != nil {
				return err
			}
		}
		if len(res.Hits) < eachPage {
			return nil
		}
		after = res.Hits[len(res.Hits)-1].Sort
	}
}

const eachPage = 200
