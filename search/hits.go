package search

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"

	"github.com/faildex/faildex/index"
)

// Hits are read straight from the segments' stored fields: the compact card
// (index.FieldCard) when no words are highlighted, the full incident
// otherwise.

// leadBytes is the length of a hit's summary.
const leadBytes = 300

// cardHits returns the hits of a page of documents in a fixed order: from
// their cards when there is nothing to highlight (a document without a card
// is read whole), else from their stored incidents.
func (e *Engine) cardHits(ctx context.Context, p *plan, page []uint32) ([]Hit, error) {
	if len(p.terms) > 0 {
		sc := make([]scored, len(page))
		for i, d := range page {
			sc[i] = scored{doc: d}
		}
		return e.storedHits(ctx, p, sc)
	}
	hits := make([]Hit, 0, len(page))
	for _, d := range page {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := e.segs.stored(d, index.FieldCard)
		if err != nil {
			return nil, err
		}
		if b != nil {
			c, err := index.DecodeCard(b)
			if err != nil {
				return nil, fmt.Errorf("search: document %d: card: %w", d, err)
			}
			hits = append(hits, hitOfCard(&c))
			continue
		}
		sc, err := e.storedHits(ctx, p, []scored{{doc: d}})
		if err != nil {
			return nil, err
		}
		hits = append(hits, sc[0])
	}
	return hits, nil
}

// storedHits returns the hits of scored documents, read from their stored
// incidents and highlighted (in the fields whose postings hold a query
// term: pageFields), on up to GOMAXPROCS goroutines. The context
// is checked before each hit.
func (e *Engine) storedHits(ctx context.Context, p *plan, page []scored) ([]Hit, error) {
	hits := make([]Hit, len(page))
	errs := make([]error, len(page))
	pf, err := e.pageFields(p.terms, page)
	if err != nil {
		return nil, err
	}
	one := func(i int) {
		if errs[i] = ctx.Err(); errs[i] != nil {
			return
		}
		buf := storedBufs.Get().(*[]byte)
		defer storedBufs.Put(buf)
		in, err := e.storedIncidentIn(page[i].doc, buf)
		if err != nil {
			errs[i] = err
			return
		}
		hits[i] = e.hitOf(in, page[i].score, pf.narrow(in, page[i].doc))
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

// storedBufs holds buffers for the stored incidents of hits: a hit is
// built from its incident and keeps none of its memory (hitOf), so the
// buffer serves the next one (a stored incident is about 15 KB, most of
// what a search would otherwise allocate).
var storedBufs = sync.Pool{New: func() any { return new([]byte) }}

// storedIncident decodes the stored incident of document d.
func (e *Engine) storedIncident(d uint32) (*index.Incident, error) {
	b, err := e.segs.stored(d, index.FieldStored)
	if err != nil {
		return nil, err
	}
	return decodeStored(d, b)
}

// storedIncidentIn decodes the stored incident of document d read into
// *buf, which it shares: the incident is valid until *buf is used again.
func (e *Engine) storedIncidentIn(d uint32, buf *[]byte) (*index.Incident, error) {
	b, err := e.segs.storedInto(d, index.FieldStored, (*buf)[:0])
	if err != nil {
		return nil, err
	}
	if b != nil {
		*buf = b
	}
	return decodeStored(d, b)
}

func decodeStored(d uint32, b []byte) (*index.Incident, error) {
	if b == nil {
		return nil, fmt.Errorf("search: document %d has no stored incident", d)
	}
	in, err := index.DecodeStored(b)
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// hitOf turns an incident into a hit, highlighting the terms. The hit
// shares no memory with the incident (storedBufs reuses it): its strings
// are copies or built anew.
func (e *Engine) hitOf(in *index.Incident, score float64, terms highlightTerms) Hit {
	hit := Hit{
		ID:        strings.Clone(in.ID),
		Title:     strings.Clone(in.Title),
		Published: strings.Clone(in.Published),
		Articles:  len(in.Articles),
		Score:     score,
		Summary:   strings.Clone(index.Cut(in.Lead(), leadBytes)),
		Options:   map[string][]string{},
	}
	for _, c := range index.Facets {
		if o := in.FacetValues(c.Name); len(o) > 0 {
			cp := make([]string, len(o))
			for i, v := range o {
				cp[i] = strings.Clone(v)
			}
			hit.Options[c.Name] = cp
		}
	}
	hit.TitleHTML, hit.Fragments = e.highlight(in, terms)
	return hit
}

// hitOfCard is hitOf for a card, with nothing to highlight.
func hitOfCard(c *index.Card) Hit {
	hit := Hit{
		ID:        c.ID,
		Title:     c.Title,
		TitleHTML: markAll(c.Title, nil),
		Published: c.Published,
		Articles:  c.Articles,
		Summary:   index.Cut(c.Lead, leadBytes),
		Options:   map[string][]string{},
		Fragments: []Fragment{},
	}
	for k, v := range c.Options {
		hit.Options[k] = v
	}
	return hit
}
