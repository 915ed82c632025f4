package search

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"strconv"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// facetIndex holds, for one open generation of the index, a bitmap of the
// documents having each category option and each publication year, keyed by
// bleve's internal document numbers. Facet counting is then bitmap
// intersection: the cost depends on the number of options, not of hits.
// The index is read-only, so the numbers never change while it is open.
type facetIndex struct {
	all   *roaring.Bitmap
	cats  map[string]*categoryBits
	years map[int]*roaring.Bitmap
}

type categoryBits struct {
	values   map[string]*roaring.Bitmap
	order    []string        // vocabulary order, then unknown values sorted
	assessed *roaring.Bitmap // documents with any option
}

// docNum converts a scorch internal id (8 bytes, big-endian) to a bitmap key.
func docNum(id bindex.IndexInternalID) (uint32, error) {
	if len(id) != 8 {
		return 0, fmt.Errorf("search: internal id of %d bytes", len(id))
	}
	n := binary.BigEndian.Uint64(id)
	if n > 1<<32-1 {
		return 0, fmt.Errorf("search: internal id %d out of range", n)
	}
	return uint32(n), nil
}

func loadFacets(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping) (*facetIndex, error) {
	f := &facetIndex{cats: map[string]*categoryBits{}, years: map[int]*roaring.Bitmap{}}
	var err error
	if f.all, err = collect(ctx, r, m, query.NewMatchAllQuery()); err != nil {
		return nil, err
	}
	for _, c := range index.Taxonomy {
		values, err := termBitmaps(ctx, r, c.Name)
		if err != nil {
			return nil, err
		}
		cb := &categoryBits{values: values, assessed: roaring.New()}
		var extra []string
		for _, o := range c.Options {
			cb.order = append(cb.order, o.Value)
		}
		for v, bm := range values {
			cb.assessed.Or(bm)
			if !c.HasOption(v) {
				extra = append(extra, v)
			}
		}
		sort.Strings(extra)
		cb.order = append(cb.order, extra...)
		f.cats[c.Name] = cb
	}
	years, err := termBitmaps(ctx, r, index.FieldYear)
	if err != nil {
		return nil, err
	}
	for y, bm := range years {
		n, err := strconv.Atoi(y)
		if err != nil {
			continue
		}
		f.years[n] = bm
	}
	return f, nil
}

// termBitmaps reads every term of a keyword field and its postings.
func termBitmaps(ctx context.Context, r bindex.IndexReader, field string) (map[string]*roaring.Bitmap, error) {
	dict, err := r.FieldDict(field)
	if err != nil {
		return nil, err
	}
	var terms []string
	for {
		e, err := dict.Next()
		if err != nil {
			dict.Close()
			return nil, err
		}
		if e == nil {
			break
		}
		terms = append(terms, e.Term)
	}
	dict.Close()
	out := make(map[string]*roaring.Bitmap, len(terms))
	for _, t := range terms {
		tfr, err := r.TermFieldReader(ctx, []byte(t), field, false, false, false)
		if err != nil {
			return nil, err
		}
		bm := roaring.New()
		var doc bindex.TermFieldDoc
		for {
			d, err := tfr.Next(&doc)
			if err != nil {
				tfr.Close()
				return nil, err
			}
			if d == nil {
				break
			}
			n, err := docNum(d.ID)
			if err != nil {
				tfr.Close()
				return nil, err
			}
			bm.Add(n)
		}
		tfr.Close()
		out[t] = bm
	}
	return out, nil
}

// collect runs q without scoring and returns the documents it matches.
func collect(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping, q query.Query) (*roaring.Bitmap, error) {
	s, err := q.Searcher(ctx, r, m, bsearch.SearcherOptions{Score: "none"})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(s.DocumentMatchPoolSize(), 0)}
	bm := roaring.New()
	buf := make([]uint32, 0, 1024)
	for i := 0; ; i++ {
		if i&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		dm, err := s.Next(sctx)
		if err != nil {
			return nil, err
		}
		if dm == nil {
			break
		}
		n, err := docNum(dm.IndexInternalID)
		if err != nil {
			return nil, err
		}
		buf = append(buf, n)
		if len(buf) == cap(buf) {
			bm.AddMany(buf)
			buf = buf[:0]
		}
		sctx.DocumentMatchPool.Put(dm)
	}
	bm.AddMany(buf)
	return bm, nil
}

// known reports whether value is a category's vocabulary word or appears in
// the index.
func (f *facetIndex) known(cat, value string) bool {
	c, ok := index.LookupCategory(cat)
	if !ok {
		return false
	}
	if c.HasOption(value) {
		return true
	}
	_, ok = f.cats[cat].values[value]
	return ok
}

// filterBits returns the documents having any of the options.
func (f *facetIndex) filterBits(cat string, options []string) *roaring.Bitmap {
	cb := f.cats[cat]
	bms := make([]*roaring.Bitmap, 0, len(options))
	for _, o := range options {
		if bm, ok := cb.values[o]; ok {
			bms = append(bms, bm)
		}
	}
	return roaring.FastOr(bms...)
}

// yearBits returns the documents published in [from, to] years (0 = open).
func (f *facetIndex) yearBits(from, to int) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	for y, bm := range f.years {
		if (from == 0 || y >= from) && (to == 0 || y <= to) {
			bms = append(bms, bm)
		}
	}
	return roaring.FastOr(bms...)
}
