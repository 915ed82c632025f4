package search

import (
	"context"
	"sort"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Fixed sort orders (producerOrder).
//
// Every sort order but relevance is a fixed order of the documents, so the
// engine computes each once (with bleve's own sort values and comparison, so
// that the order is exactly the one bleve's collector would produce) and
// pages through it, keeping the documents of the matching bitmap. A page of
// hits then costs the scan to its end, not a search of every match.
type sortOrders struct {
	reader bindex.IndexReader
	live   *roaring.Bitmap

	mu     sync.Mutex
	orders map[string][]uint32 // by sort name
	rank   map[string][]uint32 // by sort name: document number -> position
}

func newSortOrders(r bindex.IndexReader, live *roaring.Bitmap) *sortOrders {
	return &sortOrders{reader: r, live: live, orders: map[string][]uint32{}, rank: map[string][]uint32{}}
}

// order returns the live documents in the order of sortBy (bleve sort
// strings), computing it on first use.
func (o *sortOrders) order(ctx context.Context, name string, sortBy []string) ([]uint32, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if ord, ok := o.orders[name]; ok {
		return ord, nil
	}
	so := bsearch.ParseSortOrderStrings(sortBy)
	dvr, err := o.reader.DocValueReader(so.RequiredFields())
	if err != nil {
		return nil, err
	}
	n := int(o.live.GetCardinality())
	docs := make([]*bsearch.DocumentMatch, 0, n)
	nums := make([]uint32, 0, n)
	id := make(bindex.IndexInternalID, 8)
	it := o.live.Iterator()
	for i := 0; it.HasNext(); i++ {
		if i&1023 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		num := it.Next()
		id = internalID(id, num)
		ext, err := o.reader.ExternalID(id)
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
	ord := make([]uint32, len(idx))
	for i, j := range idx {
		ord[i] = nums[j]
	}
	o.orders[name] = ord
	return ord, nil
}

// ranks returns, for each document number, its position in the order of
// sortBy (see order); numbers of deleted documents get the largest rank.
func (o *sortOrders) ranks(ctx context.Context, name string, sortBy []string) ([]uint32, error) {
	ord, err := o.order(ctx, name, sortBy)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if r, ok := o.rank[name]; ok {
		return r, nil
	}
	var maxDoc uint32
	if !o.live.IsEmpty() {
		maxDoc = o.live.Maximum()
	}
	r := make([]uint32, int(maxDoc)+1)
	for i := range r {
		r[i] = ^uint32(0)
	}
	for i, d := range ord {
		r[d] = uint32(i)
	}
	o.rank[name] = r
	return r, nil
}

// dateRanks returns each document's rank in the date order (-published,
// _id), which breaks ties of relevance.
func (e *Engine) dateRanks(ctx context.Context, p *plan) ([]uint32, error) {
	return e.orders.ranks(ctx, SortDate, p.n.sortBy[1:])
}

// ordered returns the documents of matched in the request's sort order,
// which must not be relevance, skipping the first skip and keeping at most
// limit (all with limit < 0).
func (e *Engine) ordered(ctx context.Context, p *plan, matched *roaring.Bitmap, skip, limit int) ([]uint32, error) {
	order, err := e.orders.order(ctx, p.n.Sort, p.n.sortBy)
	if err != nil {
		return nil, err
	}
	var docs []uint32
	if limit < 0 {
		docs = make([]uint32, 0, matched.GetCardinality())
	}
	tk := ticker{ctx: ctx}
	for _, d := range order {
		if err := tk.tick(); err != nil {
			return nil, err
		}
		if limit >= 0 && len(docs) == limit {
			break
		}
		if !matched.Contains(d) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		docs = append(docs, d)
	}
	return docs, nil
}
