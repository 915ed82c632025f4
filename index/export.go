package index

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/search/query"
	segment "github.com/blevesearch/scorch_segment_api/v2"
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
// in id order, fetching pageSize at a time so memory stays bounded.
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
		for _, h := range res.Hits {
			in, err := IncidentFromFields(h.Fields)
			if err != nil {
				return fmt.Errorf("%s: %w", h.ID, err)
			}
			if err := fn(&in); err != nil {
				return err
			}
		}
		if len(res.Hits) < pageSize {
			return nil
		}
		after = []string{res.Hits[len(res.Hits)-1].ID}
	}
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

// eachByID is Each over every incident, straight from the segments of a
// scorch index: the live documents' ids sorted once, then each stored
// incident read by its document number. Paging with bleve searches sorted
// by id would scan every document once per page. ok is false when the
// index is not scorch.
func (ix *Index) eachByID(ctx context.Context, fn func(*Incident) error) (ok bool, err error) {
	adv, err := ix.Advanced()
	if err != nil {
		return false, nil
	}
	r, err := adv.Reader()
	if err != nil {
		return true, err
	}
	defer r.Close()
	snap, isSnap := r.(*scorch.IndexSnapshot)
	if !isSnap {
		return false, nil
	}
	type doc struct {
		id  string
		seg segment.Segment
		num uint64
	}
	var docs []doc
	for _, ss := range snap.Segments() {
		seg, deleted := ss.Segment(), ss.Deleted()
		for n := uint64(0); n < seg.Count(); n++ {
			if deleted != nil && deleted.Contains(uint32(n)) {
				continue
			}
			if n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return true, err
				}
			}
			id, err := docID(seg, n)
			if err != nil {
				return true, err
			}
			docs = append(docs, doc{id: id, seg: seg, num: n})
		}
	}
	sort.Slice(docs, func(i, j int) bool { return docs[i].id < docs[j].id })
	for i, d := range docs {
		if i&255 == 0 {
			if err := ctx.Err(); err != nil {
				return true, err
			}
		}
		var stored []byte
		err := d.seg.VisitStoredFields(d.num, func(field string, typ byte, value []byte, pos []uint64) bool {
			if field == FieldStored {
				stored = append([]byte(nil), value...)
				return false
			}
			return true
		})
		if err != nil {
			return true, err
		}
		if stored == nil {
			return true, fmt.Errorf("%s: no stored incident", d.id)
		}
		in, err := DecodeStored(stored)
		if err != nil {
			return true, fmt.Errorf("%s: %w", d.id, err)
		}
		if err := fn(&in); err != nil {
			return true, err
		}
	}
	return true, nil
}

// docID returns the id of document n of a segment. zap segments read it
// without decompressing the stored fields. Otherwise the stored fields are
// visited to the end: a zap visitor that stops at "_id" returns its
// decoding context to a sync.Pool twice (zapx v17.2.3), after which two
// goroutines can decode into the same buffer.
func docID(seg segment.Segment, n uint64) (string, error) {
	if d, ok := seg.(interface{ DocID(uint64) ([]byte, error) }); ok {
		b, err := d.DocID(n)
		return string(b), err
	}
	var id string
	err := seg.VisitStoredFields(n, func(field string, typ byte, value []byte, pos []uint64) bool {
		if field == "_id" {
			id = string(value)
		}
		return true
	})
	return id, err
}
