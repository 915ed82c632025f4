package index

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/blevesearch/bleve/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Get returns the incident with the given id, or ErrNotFound.
func (ix *Index) Get(ctx context.Context, id string) (Incident, error) {
	req := bleve.NewSearchRequestOptions(query.NewDocIDQuery([]string{id}), 1, 0, false)
	req.Fields = []string{FieldStored}
	res, err := ix.SearchInContext(ctx, req)
	if err != nil {
		return Incident{}, err
	}
	if len(res.Hits) == 0 {
		return Incident{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return IncidentFromFields(res.Hits[0].Fields)
}

// Each calls fn for every incident matching q (all incidents when q is nil),
// in id order, holding only a bounded number of incidents in memory. All
// incidents are read straight from the segments (eachByID); a query's hits
// are fetched pageSize at a time.
func (ix *Index) Each(ctx context.Context, q query.Query, fn func(*Incident) error) error {
	const pageSize = 500
	if q == nil {
		if ok, err := ix.eachByID(ctx, fn); ok || err != nil {
			return err
		}
		q = query.NewMatchAllQuery()
	}
	var after []string
	for {
		req := bleve.NewSearchRequestOptions(q, pageSize, 0, false)
		req.Fields = []string{FieldStored}
		req.SortBy([]string{"_id"})
		req.Score = "none"
		if after != nil {
			req.SetSearchAfter(after)
		}
		res, err := ix.SearchInContext(ctx, req)
		if err != nil {
			return err
		}
		if err := EachHit(res.Hits, fn); err != nil {
			return err
		}
		if len(res.Hits) < pageSize {
			return nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
}

// EachHit calls fn with the incident stored in each hit, in order (the
// FieldStored field must have been requested). An incident that does not
// decode is an error naming its hit's id.
func EachHit(hits bsearch.DocumentMatchCollection, fn func(*Incident) error) error {
	for _, h := range hits {
		in, err := IncidentFromFields(h.Fields)
		if err != nil {
			return fmt.Errorf("%s: %w", h.ID, err)
		}
		if err := fn(&in); err != nil {
			return err
		}
	}
	return nil
}

// ExportJSONL writes every incident as JSON Lines, the canonical form that
// Build reads back losslessly.
func (ix *Index) ExportJSONL(ctx context.Context, w io.Writer) (int, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	n := 0
	err := ix.Each(ctx, nil, func(in *Incident) error {
		n++
		return WriteJSONL(bw, in)
	})
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// WriteJSONL writes one incident as a JSON line.
func WriteJSONL(w io.Writer, in *Incident) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(in)
}

// ReadAhead calls fn with read(0), ..., read(n-1), in order, while one
// goroutine runs read ahead of it (up to 64 incidents): in an export, one
// core decodes stored incidents while the other encodes them. It stops at
// the first error of read or fn, or when ctx is done (returning ctx.Err()),
// and returns once the goroutine has stopped.
func ReadAhead(ctx context.Context, n int, read func(i int) (*Incident, error), fn func(*Incident) error) error {
	ctx, cancel := context.WithCancel(ctx)
	type decoded struct {
		in  *Incident
		err error
	}
	out := make(chan decoded, 64)
	// On return, the reader has stopped: read may use what the caller
	// closes next (an index's mapped segments).
	defer func() {
		cancel()
		for range out {
		}
	}()
	go func() {
		defer close(out)
		for i := range n {
			if ctx.Err() != nil {
				return // the consumer sees ctx.Err()
			}
			in, err := read(i)
			select {
			case out <- decoded{in, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	for d := range out {
		if d.err != nil {
			return d.err
		}
		if err := fn(d.in); err != nil {
			return err
		}
	}
	return ctx.Err()
}
