package server

import (
	"math"
	"strconv"
	"time"

	"github.com/faildex/faildex/search"
)

// Histogram layout, in SVG user units.
const (
	histWidth    = 600
	histHeight   = 60
	histMinYears = 12 // the narrowest span of years the chart shows
)

// histogram is the SVG bar chart of matching incidents per year; bars link
// to the search restricted to their year.
type histogram struct {
	Width, Height int
	First, Last   int
	Bars          []histBar
}

type histBar struct {
	ID         string
	Year       int
	Count      uint64
	X, W, Y, H string // SVG user units
	Href       string
	On         bool // within the selected date range
	Label      string
}

// newHistogram lays out the bars of the years with matching incidents.
func newHistogram(req search.Request, years []search.YearCount) *histogram {
	if len(years) == 0 {
		return nil
	}
	first, last := years[0].Year, years[len(years)-1].Year
	var max uint64
	for _, y := range years {
		if y.Count > max {
			max = y.Count
		}
	}
	// A short span is widened around its years so that bars keep a
	// readable width, up to the current year.
	if span := last - first + 1; span < histMinYears {
		first -= (histMinYears - span) / 2
		last = first + histMinYears - 1
		if now := time.Now().Year(); last > now && years[len(years)-1].Year <= now {
			first, last = first-(last-now), now
		}
	}
	lo, hi := yearOf(req.From, 0), yearOf(req.To, 9999)
	n := last - first + 1
	w := float64(histWidth) / float64(n)
	gap := w * 0.15
	h := &histogram{Width: histWidth, Height: histHeight, First: first, Last: last}
	for _, y := range years {
		bh := float64(histHeight-2) * float64(y.Count) / float64(max)
		if bh < 2 {
			bh = 2
		}
		q := req.Clone()
		q.Page = 0
		ys := strconv.Itoa(y.Year)
		if q.From == ys && q.To == ys {
			q.From, q.To = "", "" // clicking the selected year again clears it
		} else {
			q.From, q.To = ys, ys
		}
		h.Bars = append(h.Bars, histBar{
			ID:    "y" + ys,
			Year:  y.Year,
			Count: y.Count,
			X:     svgNum(float64(y.Year-first)*w + gap/2),
			W:     svgNum(w - gap),
			Y:     svgNum(histHeight - bh),
			H:     svgNum(bh),
			Href:  searchPageURL(q),
			On:    (req.From != "" || req.To != "") && y.Year >= lo && y.Year <= hi,
			Label: ys + ": " + countLabel(y.Count),
		})
	}
	return h
}

func svgNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// yearOf returns the year of a YYYY[-MM[-DD]] bound, or def.
func yearOf(s string, def int) int {
	if len(s) < 4 {
		return def
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil {
		return def
	}
	return y
}
