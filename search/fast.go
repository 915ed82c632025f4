package search

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"

	"github.com/faildex/faildex/index"
)

// Fast paths over the read-only snapshot the engine holds.
//
// Every sort order but relevance is a fixed order of the documents, so the
// engine computes each once (with bleve's own sort values and comparison, so
// that the order is exactly the one bleve's collector would produce) and
// pages through it, keeping the documents of the matching bitmap. A page of
// hits then costs the scan to its end, not a search of every match.
//
// Hits are read straight from the segments' stored fields: the compact card
// (index.FieldCard) when no words are highlighted, the full incident
// otherwise.
type fastPaths struct {
	segs    []segment.Segment
	offsets []uint64 // first document number of each segment
	reader  bindex.IndexReader
	live    *roaring.Bitmap

	mu     sync.Mutex
	orders map[string][]uint32 // by sort name
	rank   map[string][]uint32 // by sort name: document number -> position
}

// newFastPaths returns nil when the reader is not a scorch snapshot.
func newFastPaths(r bindex.IndexReader, live *roaring.Bitmap) *fastPaths {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil
	}
	f := &fastPaths{reader: r, live: live, orders: map[string][]uint32{}, rank: map[string][]uint32{}}
	var running uint64
	for _, ss := range snap.Segments() {
		f.segs = append(f.segs, ss.Segment())
		f.offsets = append(f.offsets, running)
		running += ss.Segment().Count()
	}
	return f
}

// locate returns the segment holding document number n and n's number in it.
func (f *fastPaths) locate(n uint32) (segment.Segment, uint64, error) {
	i := sort.Search(len(f.offsets), func(i int) bool { return f.offsets[i] > uint64(n) }) - 1
	if i < 0 {
		return nil, 0, fmt.Errorf("search: document %d in no segment", n)
	}
	return f.segs[i], uint64(n) - f.offsets[i], nil
}

// stored returns a copy of one stored field of document n (nil if absent).
func (f *fastPaths) stored(n uint32, field string) ([]byte, error) {
	seg, local, err := f.locate(n)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = seg.VisitStoredFields(local, func(name string, typ byte, value []byte, pos []uint64) bool {
		if name == field {
			out = append([]byte(nil), value...)
			return false
		}
		return true
	})
	return out, err
}

// order returns the live documents in the order of sortBy (bleve sort
// strings), computing it on first use.
func (f *fastPaths) order(ctx context.Context, name string, sortBy []string) ([]uint32, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.orders[name]; ok {
		return o, nil
	}
	so := bsearch.ParseSortOrderStrings(sortBy)
	dvr, err := f.reader.DocValueReader(so.RequiredFields())
	if err != nil {
		return nil, err
	}
	n := int(f.live.GetCardinality())
	docs := make([]*bsearch.DocumentMatch, 0, n)
	nums := make([]uint32, 0, n)
	id := make(bindex.IndexInternalID, 8)
	it := f.live.Iterator()
	for i := 0; it.HasNext(); i++ {
		if i&1023 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		num := it.Next()
		id = internalID(id, num)
		ext, err := f.reader.ExternalID(id)
		if err != nil {
			return nil, err
		}
		dm := &bsearch.DocumentMatch{ID: ext, HitNumber: uint64(num)}
		if err := dvr.VisitDocValues(id, so.UpdateVisitor); err != nil {
			return nil, err
		}
		so.Value(dm)
		docs = append(docs, dm)
		nums = append(nums, num)
	}
	scoring, desc := so.CacheIsScore(), so.CacheDescending()
	idx := make([]int, len(docs))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return so.Compare(scoring, desc, docs[idx[a]], docs[idx[b]]) < 0 })
	o := make([]uint32, len(idx))
	for i, j := range idx {
		o[i] = nums[j]
	}
	f.orders[name] = o
	return o, nil
}

// ranks returns, for each document number, its position in the order of
// sortBy (see order); numbers of deleted documents get the largest rank.
func (f *fastPaths) ranks(ctx context.Context, name string, sortBy []string) ([]uint32, error) {
	o, err := f.order(ctx, name, sortBy)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r, ok := f.rank[name]; ok {
		return r, nil
	}
	var maxDoc uint32
	if !f.live.IsEmpty() {
		maxDoc = f.live.Maximum()
	}
	r := make([]uint32, int(maxDoc)+1)
	for i := range r {
		r[i] = ^uint32(0)
	}
	for i, d := range o {
		r[d] = uint32(i)
	}
	f.rank[name] = r
	return r, nil
}

func internalID(buf bindex.IndexInternalID, n uint32) bindex.IndexInternalID {
	buf = buf[:8]
	v := uint64(n)
	for i := 7; i >= 0; i-- {
		buf[i] = byte(v)
		v >>= 8
	}
	return buf
}

// orderedHits returns the page of hits of matched in the request's sort
// order, which must not be relevance.
func (e *Engine) orderedHits(ctx context.Context, p *plan, matched *roaring.Bitmap) ([]Hit, error) {
	n := p.n
	order, err := e.fast.order(ctx, n.Sort, n.sortBy)
	if err != nil {
		return nil, err
	}
	skip, want := (n.Page-1)*n.Size, n.Size
	var page []uint32
	for _, d := range order {
		if !matched.Contains(d) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		page = append(page, d)
		if len(page) == want {
			break
		}
	}
	if len(p.terms) > 0 {
		sc := make([]scored, len(page))
		for i, d := range page {
			sc[i] = scored{doc: d}
		}
		return e.storedHits(p, sc)
	}
	hits := make([]Hit, 0, len(page))
	for _, d := range page {
		b, err := e.fast.stored(d, index.FieldCard)
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
		sc, err := e.storedHits(p, []scored{{doc: d}})
		if err != nil {
			return nil, err
		}
		hits = append(hits, sc[0])
	}
	return hits, nil
}

// hitOf turns an incident into a hit, highlighting the terms.
func (e *Engine) hitOf(in *index.Incident, score float64, terms highlightTerms) Hit {
	hit := Hit{
		ID:        in.ID,
		Title:     in.Title,
		Published: in.Published,
		Articles:  len(in.Articles),
		Score:     score,
		Summary:   summaryOf(in),
		Options:   map[string][]string{},
	}
	for _, c := range index.Taxonomy {
		if o := in.Options(c.Name); len(o) > 0 {
			hit.Options[c.Name] = o
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
		Summary:   cutWords(c.Lead, 300),
		Options:   map[string][]string{},
		Fragments: []Fragment{},
	}
	for k, v := range c.Options {
		hit.Options[k] = v
	}
	return hit
}

// postingsOrer is implemented by zap postings lists: OrInto adds the list's
// documents (segment-local numbers, deletions not applied) to a bitmap.
type postingsOrer interface {
	OrInto(*roaring.Bitmap)
}

// termBits returns the live documents having term in field, straight from
// the segments' postings bitmaps; ok is false when a segment does not
// support it.
func (f *fastPaths) termBits(field, term string) (bm *roaring.Bitmap, ok bool, err error) {
	bm = roaring.New()
	for i, seg := range f.segs {
		dict, err := seg.Dictionary(field)
		if err != nil {
			return nil, false, err
		}
		pl, err := dict.PostingsList([]byte(term), nil, nil)
		if err != nil {
			return nil, false, err
		}
		o, isOrer := pl.(postingsOrer)
		if !isOrer {
			return nil, false, nil
		}
		if f.offsets[i] == 0 {
			o.OrInto(bm)
			continue
		}
		local := roaring.New()
		o.OrInto(local)
		bm.Or(roaring.AddOffset64(local, int64(f.offsets[i])))
	}
	bm.And(f.live)
	return bm, true, nil
}

// textBits returns the documents matching the words of a query: the same set
// as running textQuery's query, computed from postings bitmaps for single
// terms and with bleve's searchers for phrases and prefixes.
func (e *Engine) textBits(ctx context.Context, pq *parsedQuery) (*roaring.Bitmap, error) {
	clauseBits := func(c clause) (*roaring.Bitmap, error) {
		q := e.clauseQuery(c)
		if q == nil {
			return nil, nil
		}
		terms := e.analyze(c.text)
		if c.prefix || len(terms) != 1 {
			return collect(ctx, e.reader, e.mapping, q)
		}
		fields := c.fields
		if fields == nil {
			fields = index.ProseFields()
		}
		out := roaring.New()
		for _, field := range fields {
			bm, ok, err := e.fast.termBits(field, terms[0])
			if err != nil {
				return nil, err
			}
			if !ok {
				return collect(ctx, e.reader, e.mapping, q)
			}
			out.Or(bm)
		}
		return out, nil
	}
	var result *roaring.Bitmap
	for _, g := range pq.groups {
		var alts *roaring.Bitmap
		for _, c := range g {
			bm, err := clauseBits(c)
			if err != nil {
				return nil, err
			}
			if bm == nil {
				continue
			}
			if alts == nil {
				alts = bm
			} else {
				alts.Or(bm)
			}
		}
		if alts == nil {
			continue // only stop words: matches everything
		}
		if result == nil {
			result = alts
		} else {
			result.And(alts)
		}
	}
	if result == nil {
		result = e.facets.all.Clone()
	}
	for _, c := range pq.excluded {
		bm, err := clauseBits(c)
		if err != nil {
			return nil, err
		}
		if bm != nil {
			result.AndNot(bm)
		}
	}
	return result, nil
}
