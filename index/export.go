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
// scorch index: the live documents in id order (computed once for an index
// opened read-only), then each stored incident read by its document
// number. Paging with bleve searches sorted by id would visit every
// document once per page. ok is false when the index is not scorch.
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
	var segs []segment.Segment
	for _, ss := range snap.Segments() {
		segs = append(segs, ss.Segment())
	}
	docs, err := ix.idOrder(ctx, snap)
	if err != nil {
		return true, err
	}
	err = ReadAhead(ctx, len(docs), func(i int) (*Incident, error) {
		return readStored(segs[docs[i].seg], docs[i])
	}, fn)
	return true, err
}

// ReadAhead calls fn with read(0), ..., read(n-1), in order, while one
// goroutine runs read ahead of it (up to 64 incidents): in an export, one
// core decodes stored incidents while the other encodes them. It stops at
// the first error of read or fn, or when ctx is done (returning ctx.Err()).
func ReadAhead(ctx context.Context, n int, read func(i int) (*Incident, error), fn func(*Incident) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type decoded struct {
		in  *Incident
		err error
	}
	out := make(chan decoded, 64)
	go func() {
		defer close(out)
		for i := range n {
			if i&255 == 0 && ctx.Err() != nil {
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

// readStored decodes the stored incident of a document.
func readStored(seg segment.Segment, d docRef) (*Incident, error) {
	var stored []byte
	err := seg.VisitStoredFields(uint64(d.num), func(field string, typ byte, value []byte, pos []uint64) bool {
		if field == FieldStored {
			stored = append([]byte(nil), value...)
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if stored == nil {
		return nil, fmt.Errorf("document %d of segment %d: no stored incident", d.num, d.seg)
	}
	in, err := DecodeStored(stored)
	if err != nil {
		return nil, fmt.Errorf("document %d of segment %d: %w", d.num, d.seg, err)
	}
	return &in, nil
}

// docRef is a document: its segment's position in the snapshot and its
// number in the segment.
type docRef struct {
	seg int32
	num uint32
}

// idOrder returns the live documents of snap in id order.
func (ix *Index) idOrder(ctx context.Context, snap *scorch.IndexSnapshot) ([]docRef, error) {
	if ix.readOnly {
		ix.byID.Lock()
		defer ix.byID.Unlock()
		if ix.byID.docs != nil {
			return ix.byID.docs, nil
		}
	}
	type entry struct {
		id  string
		ref docRef
	}
	var all []entry
	for si, ss := range snap.Segments() {
		seg, deleted := ss.Segment(), ss.Deleted()
		for n := uint64(0); n < seg.Count(); n++ {
			if n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if deleted != nil && deleted.Contains(uint32(n)) {
				continue
			}
			id, err := docID(seg, n)
			if err != nil {
				return nil, err
			}
			all = append(all, entry{id, docRef{int32(si), uint32(n)}})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	docs := make([]docRef, len(all))
	for i, e := range all {
		docs[i] = e.ref
	}
	if ix.readOnly {
		ix.byID.docs = docs
	}
	return docs, nil
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
