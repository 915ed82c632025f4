package search

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/faildex/faildex/index"
)

// Pivots: the incidents of a search counted by two dimensions at once, each
// a taxonomy category or the publication year. Every count is of incidents:
// an incident with two options of the row category is counted in both rows,
// and a row's total counts it once.

// PivotYear is the dimension of publication years.
const PivotYear = index.FieldYear

// PivotDimensions lists what a pivot's rows and columns may be: the
// publication year, every category in taxonomy order, then the
// organisation facets.
func PivotDimensions() []string {
	return append([]string{PivotYear}, index.FacetNames()...)
}

// Pivot is the answer to a pivot request: the JSON contract of
// /api/v1/pivot. Counts[i][j] is the number of incidents having Rows.Values[i]
// and Cols.Values[j].
type Pivot struct {
	Query   string         `json:"query"`
	Filters []ActiveFilter `json:"filters"`
	From    string         `json:"from,omitempty"`
	To      string         `json:"to,omitempty"`
	// Total is the number of incidents the search matches.
	Total  uint64     `json:"total"`
	TookMS float64    `json:"took_ms"`
	Rows   PivotAxis  `json:"rows"`
	Cols   PivotAxis  `json:"cols"`
	Counts [][]uint64 `json:"counts"`
	// Max is the largest count, for shading.
	Max     uint64   `json:"max"`
	Notices []string `json:"notices,omitempty"`
	Relaxed *Relaxed `json:"relaxed,omitempty"`
}

// PivotAxis is the rows or the columns of a pivot.
type PivotAxis struct {
	Field  string       `json:"field"`
	Label  string       `json:"label"`
	Values []PivotValue `json:"values"`
}

// PivotValue is one row or column. Total counts the matching incidents
// having the value: incidents, not the sum of the row's cells.
type PivotValue struct {
	Value       string `json:"value"`
	Label       string `json:"label"`
	Total       uint64 `json:"total"`
	NotAssessed bool   `json:"not_assessed,omitempty"`
}

// pivotDim is a dimension's values, each with the documents having it.
type pivotDim struct {
	field, label string
	values       []PivotValue
	bits         []*roaring.Bitmap
}

// checkDimension returns an error unless name is a pivot dimension.
func checkDimension(param, name string) error {
	if name == PivotYear {
		return nil
	}
	if _, ok := index.LookupFacet(name); ok && name == strings.ToLower(name) {
		return nil
	}
	if name == "" {
		return &Error{Param: param, Pos: -1, Msg: "missing; give a category or year"}
	}
	return &Error{Param: param, Pos: -1, Msg: fmt.Sprintf("%q is not a category or year; use one of %s", index.Truncate(name, 40), strings.Join(PivotDimensions(), ", "))}
}

// Pivot counts the incidents a request matches by rows and cols (category
// names or PivotYear). Its rows and columns are the values some matching
// incident has, in vocabulary order (years ascending), then, for a
// category, the incidents not assessed in it (always listed, possibly 0).
// Page, size and sort are ignored.
func (e *Engine) Pivot(ctx context.Context, req Request, rows, cols string) (*Pivot, error) {
	start := time.Now()
	if err := checkDimension("rows", rows); err != nil {
		return nil, err
	}
	if err := checkDimension("cols", cols); err != nil {
		return nil, err
	}
	p, matched, err := e.matching(ctx, req)
	if err != nil {
		return nil, err
	}
	rd, cd := e.pivotDim(rows, matched), e.pivotDim(cols, matched)
	pv := &Pivot{
		Query: p.n.Query, From: p.n.From, To: p.n.To,
		Total: matched.GetCardinality(),
		Rows:  PivotAxis{Field: rd.field, Label: rd.label, Values: rd.values},
		Cols:  PivotAxis{Field: cd.field, Label: cd.label, Values: cd.values},
	}
	pv.Filters = e.newResult(p, 0).Filters
	pv.Counts = make([][]uint64, len(rd.bits))
	for i, rb := range rd.bits {
		if err := ctx.Err(); err != nil {
			return nil, e.searchErr(err)
		}
		row := make([]uint64, len(cd.bits))
		if rd.values[i].Total > 0 {
			// rb is already within the matches.
			for j, cb := range cd.bits {
				row[j] = rb.AndCardinality(cb)
				pv.Max = max(pv.Max, row[j])
			}
		}
		pv.Counts[i] = row
	}
	pv.Notices = p.n.parsed.notices
	if len(p.dropped) > 0 {
		pv.Relaxed = &Relaxed{Dropped: p.dropped, Matched: p.n.parsed.minMatch, Of: p.n.parsed.minOf}
	}
	pv.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return pv, nil
}

// matching plans a request and returns the documents it matches.
func (e *Engine) matching(ctx context.Context, req Request) (*plan, *roaring.Bitmap, error) {
	req.Page, req.Size = 1, 1
	p, err := e.plan(ctx, req)
	if err != nil {
		return nil, nil, err
	}
	ms, err := e.matchSets(ctx, p, e.producerFor(p), nil)
	if err != nil {
		return nil, nil, err
	}
	return p, ms.context(""), nil
}

// pivotDim returns the values of a dimension that some of matched have,
// each with the matched documents having it. A category's last value is
// the documents not assessed in it.
func (e *Engine) pivotDim(name string, matched *roaring.Bitmap) *pivotDim {
	d := &pivotDim{field: name}
	add := func(v PivotValue, bm *roaring.Bitmap) {
		d.values = append(d.values, v)
		d.bits = append(d.bits, bm)
	}
	if name == PivotYear {
		d.label = "Year"
		years := make([]int, 0, len(e.facets.years))
		for y := range e.facets.years {
			years = append(years, y)
		}
		sort.Ints(years)
		for _, y := range years {
			if bm := roaring.And(matched, e.facets.years[y]); !bm.IsEmpty() {
				s := strconv.Itoa(y)
				add(PivotValue{Value: s, Label: s, Total: bm.GetCardinality()}, bm)
			}
		}
		return d
	}
	c, _ := index.LookupFacet(name)
	d.label = c.Label
	cb := e.facets.cats[name]
	for _, v := range cb.order {
		vb, ok := cb.values[v]
		if !ok {
			continue
		}
		if bm := roaring.And(matched, vb); !bm.IsEmpty() {
			label, _ := e.facets.label(name, v)
			add(PivotValue{Value: v, Label: label, Total: bm.GetCardinality()}, bm)
		}
	}
	na := roaring.AndNot(matched, cb.assessed)
	add(PivotValue{Value: NotAssessed, Label: "Not assessed", Total: na.GetCardinality(), NotAssessed: true}, na)
	return d
}
