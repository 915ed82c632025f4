package server

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// The explore page: GET /explore?rows=A&cols=B&<search>, a pivot of a
// search as a heat-map table whose cells link to their searches, and, when
// the rows are years, the trend of each column value as small charts.

const explorePagePath = "/explore"

// Default dimensions of the explore page.
const (
	exploreRows = "consequence"
	exploreCols = "domain"
	trendSplit  = "behaviour"
)

// heatLevels is the number of shades of the heat map's cells (classes h1
// to h{heatLevels} in style.css; h0 is an empty cell).
const heatLevels = 6

// Small-multiple charts, in SVG user units.
const (
	trendWidth  = 320
	trendHeight = 48
)

type explorePage struct {
	pageMeta
	Query      string
	Hidden     []hiddenField // the search's filters and dates, carried by the form
	Rows, Cols string
	Dims       []sortChoice // the dimensions, for both pickers (Selected unused)
	Within     []chipView   // the search's constraints, each removable
	SearchURL  string       // the search page of the same search
	TrendURL   string       // this pivot's columns by year ("" when the rows are years)
	Table      *pivotTable
	Trend      *trendView
	CSV, JSON  string
	Notices    []string
}

type pivotTable struct {
	Caption  string
	RowLabel string
	Cols     []pivotHead
	Rows     []pivotRow
	Total    uint64
}

type pivotHead struct {
	Label, Title string
	Total        uint64
	Href         string // the search narrowed to the value; "" for not assessed
}

type pivotRow struct {
	pivotHead
	Cells []pivotCell
}

type pivotCell struct {
	Count uint64
	Level int    // 0 (none) to heatLevels
	Href  string // the search narrowed to both values; "" when none or not assessed
	Title string // "Death · Transportation: 3 incidents"
}

// trendView is one small chart per column value of a pivot by year.
type trendView struct {
	Label       string // the split's category
	First, Last int
	Width       int
	Height      int
	Charts      []trendChart
}

type trendChart struct {
	ID, Label string
	Total     uint64
	Bars      []trendBar
}

type trendBar struct {
	X, W, Y, H string
	Title      string
}

func (s *Server) handleExplorePage(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	ex, err := explorer(eng)
	if err != nil {
		return err
	}
	req, rows, cols, err := pivotRequest(r.URL.Query(), exploreRows, exploreCols)
	if err != nil {
		return err
	}
	pv, err := ex.Pivot(r.Context(), req, rows, cols)
	if err != nil {
		return err
	}
	p := newExplorePage(req, pv)
	return s.ui.render(w, r, http.StatusOK, "explore", p)
}

// exploreURL returns the explore page of a search by rows and cols.
func exploreURL(req search.Request, rows, cols string) string {
	v := req.Values()
	v.Del("page")
	v.Del("size")
	v.Del("sort")
	v.Set("rows", rows)
	v.Set("cols", cols)
	u := url.URL{Path: explorePagePath, RawQuery: v.Encode()}
	return u.String()
}

// narrow returns req narrowed to one value of a pivot dimension, and false
// when no search is exactly that: for a value not assessed, and for an
// option of a category the search already filters on other options (the
// options of a filter are alternatives, so "these options and that one"
// cannot be written).
func narrow(req search.Request, dim string, v search.PivotValue) (search.Request, bool) {
	if v.NotAssessed {
		return req, false
	}
	q := req.Clone()
	q.Page = 0
	if dim == search.PivotYear {
		// The year within the search's range: a bound inside the year is
		// kept, one outside gives way to the year.
		if len(q.From) < 4 || q.From[:4] != v.Value {
			q.From = v.Value
		}
		if len(q.To) < 4 || q.To[:4] != v.Value {
			q.To = v.Value
		}
		return q, true
	}
	if len(q.Filters[dim]) > 0 && !slices.Contains(q.Filters[dim], v.Value) {
		return req, false
	}
	q.Filters[dim] = []string{v.Value}
	return q, true
}

func newExplorePage(req search.Request, pv *search.Pivot) *explorePage {
	p := &explorePage{
		pageMeta:  pageMeta{Title: "Explore: " + pv.Rows.Label + " by " + pv.Cols.Label, Canonical: explorePagePath},
		Query:     req.Query,
		Rows:      pv.Rows.Field,
		Cols:      pv.Cols.Field,
		SearchURL: searchPageURL(req),
		Notices:   pv.Notices,
	}
	for _, d := range search.PivotDimensions() {
		label := "Year"
		if c, ok := index.LookupFacet(d); ok {
			label = c.Label
		}
		p.Dims = append(p.Dims, sortChoice{Value: d, Label: label})
	}
	for _, c := range index.Facets {
		for _, o := range req.Filters[c.Name] {
			p.Hidden = append(p.Hidden, hiddenField{Name: c.Name, Value: o})
			q := req.Clone()
			q.Filters[c.Name] = removeString(q.Filters[c.Name], o)
			p.Within = append(p.Within, chipView{Label: c.Label + ": " + filterLabel(&c, o, pv.Filters), Href: exploreURL(q, p.Rows, p.Cols)})
		}
	}
	for _, d := range []struct{ name, value, label string }{{"from", req.From, "From "}, {"to", req.To, "To "}} {
		if d.value == "" {
			continue
		}
		p.Hidden = append(p.Hidden, hiddenField{Name: d.name, Value: d.value})
		q := req.Clone()
		if d.name == "from" {
			q.From = ""
		} else {
			q.To = ""
		}
		p.Within = append(p.Within, chipView{Label: d.label + d.value, Href: exploreURL(q, p.Rows, p.Cols)})
	}
	if p.Rows != search.PivotYear {
		split := p.Cols
		if split == search.PivotYear {
			split = p.Rows
		}
		p.TrendURL = exploreURL(req, search.PivotYear, split)
	}
	api := req.Values()
	api.Set("rows", p.Rows)
	api.Set("cols", p.Cols)
	api.Del("sort")
	api.Del("page")
	api.Del("size")
	p.JSON = (&url.URL{Path: "/api/v1/pivot", RawQuery: api.Encode()}).String()
	api.Set("format", "csv")
	p.CSV = (&url.URL{Path: "/api/v1/pivot", RawQuery: api.Encode()}).String()

	p.Table = newPivotTable(req, pv)
	if p.Rows == search.PivotYear && p.Cols != search.PivotYear {
		p.Trend = newTrend(pv)
	}
	return p
}

func removeString(list []string, s string) []string {
	var out []string
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func newPivotTable(req search.Request, pv *search.Pivot) *pivotTable {
	t := &pivotTable{RowLabel: pv.Rows.Label, Total: pv.Total}
	t.Caption = pv.Rows.Label + " by " + pv.Cols.Label + ": " + countLabel(pv.Total)
	if req.Query != "" {
		t.Caption += " matching “" + req.Query + "”"
	}
	for _, cv := range pv.Cols.Values {
		h := pivotHead{Label: cv.Label, Total: cv.Total}
		if q, ok := narrow(req, pv.Cols.Field, cv); ok {
			h.Href = searchPageURL(q)
		}
		t.Cols = append(t.Cols, h)
	}
	for i, rv := range pv.Rows.Values {
		row := pivotRow{pivotHead: pivotHead{Label: rv.Label, Total: rv.Total}}
		rq, rowOK := narrow(req, pv.Rows.Field, rv)
		if rowOK {
			row.Href = searchPageURL(rq)
		}
		for j, n := range pv.Counts[i] {
			cv := pv.Cols.Values[j]
			c := pivotCell{Count: n, Title: rv.Label + " · " + cv.Label + ": " + countLabel(n)}
			if n > 0 {
				c.Level = 1 + int(uint64(heatLevels-1)*n/max(pv.Max, 1))
				if q, ok := narrow(rq, pv.Cols.Field, cv); ok && rowOK {
					c.Href = searchPageURL(q)
				}
			}
			row.Cells = append(row.Cells, c)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// newTrend lays out one bar chart per column value of a pivot whose rows
// are years, over every year from the first to the last, on one scale.
func newTrend(pv *search.Pivot) *trendView {
	if len(pv.Rows.Values) == 0 {
		return nil
	}
	first, _ := strconv.Atoi(pv.Rows.Values[0].Value)
	last, _ := strconv.Atoi(pv.Rows.Values[len(pv.Rows.Values)-1].Value)
	tv := &trendView{Label: pv.Cols.Label, First: first, Last: last, Width: trendWidth, Height: trendHeight}
	n := last - first + 1
	bw := float64(trendWidth) / float64(n)
	for j, cv := range pv.Cols.Values {
		if cv.Total == 0 {
			continue
		}
		ch := trendChart{ID: "t-" + strconv.Itoa(j), Label: cv.Label, Total: cv.Total}
		for i, rv := range pv.Rows.Values {
			c := pv.Counts[i][j]
			if c == 0 {
				continue
			}
			y, _ := strconv.Atoi(rv.Value)
			h := max(float64(trendHeight-2)*float64(c)/float64(max(pv.Max, 1)), 2)
			ch.Bars = append(ch.Bars, trendBar{
				X: svgNum(float64(y-first)*bw + bw*0.1), W: svgNum(bw * 0.8),
				Y: svgNum(trendHeight - h), H: svgNum(h),
				Title: rv.Value + ": " + countLabel(c),
			})
		}
		tv.Charts = append(tv.Charts, ch)
	}
	return tv
}
