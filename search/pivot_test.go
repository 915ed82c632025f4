package search

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// pivotCounts is what the pivot tests compare: the nonzero cells, the row
// and column totals (listed rows and columns only) and the total.
type pivotCounts struct {
	Cells     map[string]map[string]uint64
	RowTotals map[string]uint64
	ColTotals map[string]uint64
	Total     uint64
}

// factValues returns an incident's values of a pivot dimension, read from
// the facts: its year, its options, or NotAssessed.
func factValues(ft fact, dim string) []string {
	if dim == PivotYear {
		return []string{ft.published[:4]}
	}
	if len(ft.options[dim]) == 0 {
		return []string{NotAssessed}
	}
	return ft.options[dim]
}

// expectedPivot counts the facts matching f by rows and cols: each incident
// once in every cell of its row values and column values, and once in each
// of its values' totals.
func expectedPivot(facts []fact, f facetFilter, rows, cols string) pivotCounts {
	c := pivotCounts{Cells: map[string]map[string]uint64{}, RowTotals: map[string]uint64{}, ColTotals: map[string]uint64{}}
	if rows != PivotYear {
		c.RowTotals[NotAssessed] = 0
	}
	if cols != PivotYear {
		c.ColTotals[NotAssessed] = 0
	}
	for _, ft := range facts {
		if !f.match(ft, "") {
			continue
		}
		c.Total++
		for _, r := range factValues(ft, rows) {
			c.RowTotals[r]++
			for _, col := range factValues(ft, cols) {
				if c.Cells[r] == nil {
					c.Cells[r] = map[string]uint64{}
				}
				c.Cells[r][col]++
			}
		}
		for _, col := range factValues(ft, cols) {
			c.ColTotals[col]++
		}
	}
	return c
}

func actualPivot(tb testing.TB, pv *Pivot) pivotCounts {
	tb.Helper()
	c := pivotCounts{Cells: map[string]map[string]uint64{}, RowTotals: map[string]uint64{}, ColTotals: map[string]uint64{}, Total: pv.Total}
	if len(pv.Counts) != len(pv.Rows.Values) {
		tb.Fatalf("%d rows of counts for %d rows", len(pv.Counts), len(pv.Rows.Values))
	}
	for _, v := range pv.Rows.Values {
		c.RowTotals[v.Value] = v.Total
	}
	for _, v := range pv.Cols.Values {
		c.ColTotals[v.Value] = v.Total
	}
	var max uint64
	for i, row := range pv.Counts {
		if len(row) != len(pv.Cols.Values) {
			tb.Fatalf("row %d has %d counts for %d columns", i, len(row), len(pv.Cols.Values))
		}
		for j, n := range row {
			max = maxU(max, n)
			if n == 0 {
				continue
			}
			r := pv.Rows.Values[i].Value
			if c.Cells[r] == nil {
				c.Cells[r] = map[string]uint64{}
			}
			c.Cells[r][pv.Cols.Values[j].Value] = n
		}
	}
	if max != pv.Max {
		tb.Errorf("max %d, the largest count is %d", pv.Max, max)
	}
	return c
}

func maxU(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

var pivotPairs = [][2]string{
	{"consequence", "domain"},
	{"year", "behaviour"},
	{"objective", "year"},
	{"phase", "phase"},
	{"cps", "perception"},
}

// TestPivotCounts compares pivots with counts made from the raw files, for
// every combination of filters of the facet tests, with and without words.
func TestPivotCounts(t *testing.T) {
	e := fixedCorpus.engine(t)
	facts := fixedFacts(t)
	for _, q := range []string{"", "hackers", "tesla OR boeing", "software -vulnerability", "-domain:information"} {
		subset := facts
		if q != "" {
			hit := map[string]bool{}
			for _, h := range search(t, e, Request{Query: q, Size: MaxSize}).Hits {
				hit[h.ID] = true
			}
			subset = nil
			for _, ft := range facts {
				if hit[ft.id] {
					subset = append(subset, ft)
				}
			}
		}
		for _, f := range facetFilters {
			for _, pair := range pivotPairs {
				req := f.request()
				req.Query = q
				pv, err := e.Pivot(context.Background(), req, pair[0], pair[1])
				if err != nil {
					t.Fatalf("%q, %s, %v: %v", q, f.name, pair, err)
				}
				want := expectedPivot(subset, f, pair[0], pair[1])
				if diff := cmp.Diff(want, actualPivot(t, pv), cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("%q with %s, %s by %s (-want +got):\n%s", q, f.name, pair[0], pair[1], diff)
				}
				if res := search(t, e, req); res.Total != pv.Total {
					t.Errorf("%q with %s: pivot total %d, search total %d", q, f.name, pv.Total, res.Total)
				}
			}
		}
	}
}

// TestPivotOrder checks that rows follow the vocabulary, years ascend and
// the not-assessed row comes last.
func TestPivotOrder(t *testing.T) {
	e := fixedCorpus.engine(t)
	pv, err := e.Pivot(context.Background(), Request{}, "consequence", "year")
	if err != nil {
		t.Fatal(err)
	}
	var rows, cols []string
	for _, v := range pv.Rows.Values {
		rows = append(rows, v.Value)
	}
	for _, v := range pv.Cols.Values {
		cols = append(cols, v.Value)
	}
	if last := pv.Rows.Values[len(rows)-1]; !last.NotAssessed || last.Label != "Not assessed" {
		t.Errorf("last row %+v, want not assessed", last)
	}
	if rows[0] != "death" {
		t.Errorf("rows %q, want death first (vocabulary order)", rows)
	}
	for i := 1; i < len(cols); i++ {
		if cols[i-1] >= cols[i] {
			t.Errorf("years %q not ascending", cols)
		}
	}
	if pv.Rows.Label != "Consequence" || pv.Cols.Label != "Year" {
		t.Errorf("labels %q, %q", pv.Rows.Label, pv.Cols.Label)
	}
}

func TestPivotBadDimension(t *testing.T) {
	e := fixedCorpus.engine(t)
	for _, tc := range []struct{ rows, cols, param string }{
		{"", "domain", "rows"},
		{"consequence", "dommain", "cols"},
		{"Consequence", "domain", "rows"},
		{"title", "domain", "rows"},
	} {
		_, err := e.Pivot(context.Background(), Request{}, tc.rows, tc.cols)
		var se *Error
		if !errors.As(err, &se) || se.Param != tc.param {
			t.Errorf("Pivot(%q, %q): %v, want an error about %s", tc.rows, tc.cols, err, tc.param)
		}
	}
}
