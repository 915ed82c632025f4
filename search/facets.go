package search

import (
	"context"
	"sort"
	"strconv"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// facetIndex holds, for one open generation of the index, a bitmap of the
// documents having each category option and each publication year, keyed by
// document numbers (see scorch.go). Facet counting is then bitmap
// intersection: the cost depends on the number of options, not of hits.
// The index is read-only, so the numbers never change while it is open.
type facetIndex struct {
	all   *roaring.Bitmap
	cats  map[string]*categoryBits // taxonomy categories and organisation facets
	years map[int]*roaring.Bitmap
	// orgNames maps the organisation facets' values to the organisations'
	// names (organisations.go).
	orgNames map[string]string
	fwd      *forward       // forward.go
	yearIDs  map[int]uint32 // the years' ids in fwd
}

type categoryBits struct {
	values   map[string]*roaring.Bitmap
	order    []string        // vocabulary order, then unknown values sorted
	assessed *roaring.Bitmap // documents with any option
	missing  *roaring.Bitmap // documents with none: all but assessed
	indexed  []string        // the keys of values, sorted

	ids        map[string]uint32 // the values' ids in the forward index
	assessedID uint32            // assessed's id there
}

func loadFacets(ctx context.Context, r bindex.IndexReader, m mapping.IndexMapping) (*facetIndex, error) {
	f := &facetIndex{cats: map[string]*categoryBits{}, years: map[int]*roaring.Bitmap{}}
	var err error
	if f.all, err = collect(ctx, r, m, query.NewMatchAllQuery()); err != nil {
		return nil, err
	}
	if f.orgNames, err = loadOrgNames(r); err != nil {
		return nil, err
	}
	for _, c := range index.Facets {
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
		if index.IsOrgFacet(c.Name) {
			f.sortOrgs(extra)
		} else {
			sort.Strings(extra)
		}
		cb.order = append(cb.order, extra...)
		cb.missing = roaring.AndNot(f.all, cb.assessed)
		for v := range values {
			cb.indexed = append(cb.indexed, v)
		}
		sort.Strings(cb.indexed)
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
	f.fwd = buildForward(f)
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

// known reports whether value is a category's vocabulary word or appears in
// the index.
func (f *facetIndex) known(cat, value string) bool {
	c, ok := index.LookupFacet(cat)
	if !ok {
		return false
	}
	if c.HasOption(value) || value == NotAssessed {
		return true
	}
	_, ok = f.cats[cat].values[value]
	return ok
}

// filterBits returns the documents having any of the options, or none at
// all for NotAssessed.
func (f *facetIndex) filterBits(cat string, options []string) *roaring.Bitmap {
	cb := f.cats[cat]
	bms := make([]*roaring.Bitmap, 0, len(options))
	for _, o := range options {
		if o == NotAssessed {
			bms = append(bms, cb.missing)
		} else if bm, ok := cb.values[o]; ok {
			bms = append(bms, bm)
		}
	}
	return roaring.FastOr(bms...)
}

// addFacets fills in the result's facets and years: each category counted
// over the matches of every filter but its own (so that a selected option
// still shows its alternatives), the years over every filter but the dates.
func (e *Engine) addFacets(res *Result, p *plan, ms *sets, matched *roaring.Bitmap) {
	cm := e.facets.counter(matched)
	for _, c := range index.Facets {
		cc := cm
		if _, ok := ms.filters[c.Name]; ok {
			cc = e.facets.counter(ms.context(c.Name))
		}
		res.Facets = append(res.Facets, e.facetOf(c, cc, p.filters[c.Name]))
	}
	yc := cm
	if yb := ms.context("year"); yb != matched {
		yc = e.facets.counter(yb)
	}
	res.Years = e.yearCounts(yc)
}

// facet returns category c's facet over the documents of ctxBits.
func (e *Engine) facet(c index.Category, ctxBits *roaring.Bitmap, selected []string) Facet {
	return e.facetOf(c, e.facets.counter(ctxBits), selected)
}

func (e *Engine) facetOf(c index.Category, fc facetCounter, selected []string) Facet {
	ctxBits := fc.ctx
	cb := e.facets.cats[c.Name]
	f := Facet{Field: c.Name, Label: c.Label, Values: []FacetValue{}}
	sel := map[string]bool{}
	for _, v := range selected {
		sel[v] = true
	}
	for _, v := range cb.order {
		var count uint64
		if bm, ok := cb.values[v]; ok {
			count = fc.of(bm, cb.ids[v])
		}
		if count == 0 && !sel[v] {
			continue
		}
		label, def := e.facets.label(c.Name, v)
		f.Values = append(f.Values, FacetValue{Value: v, Label: label, Definition: def, Count: count, Selected: sel[v]})
	}
	// Selected values that the index has never seen (a vocabulary word with
	// no incidents) are still listed.
	for _, v := range selected {
		if v == NotAssessed {
			f.MissingSelected = true
			continue
		}
		if _, ok := cb.values[v]; !ok && !containsValue(f.Values, v) {
			label, def := e.facets.label(c.Name, v)
			f.Values = append(f.Values, FacetValue{Value: v, Label: label, Definition: def, Selected: true})
		}
	}
	sort.SliceStable(f.Values, func(i, j int) bool { return f.Values[i].Count > f.Values[j].Count })
	f.Missing = ctxBits.GetCardinality() - fc.of(cb.assessed, cb.assessedID)
	return f
}

func containsValue(vals []FacetValue, v string) bool {
	for _, x := range vals {
		if x.Value == v {
			return true
		}
	}
	return false
}

func (e *Engine) yearCounts(fc facetCounter) []YearCount {
	out := []YearCount{}
	for y, bm := range e.facets.years {
		if c := fc.of(bm, e.facets.yearIDs[y]); c > 0 {
			out = append(out, YearCount{Year: y, Count: c})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}
