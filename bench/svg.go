package bench

import (
	"fmt"
	"html"
	"io"
	"math"
	"sort"
)

var palette = []string{"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"}

// WriteSVG plots p50 latency against corpus size (both on log scales), one
// panel per query class and one line per engine, from results at several
// sizes.
func WriteSVG(w io.Writer, reps []*Report) {
	type key struct{ engine, class string }
	points := map[key]map[int]float64{}
	var engines []string
	seen := map[string]bool{}
	add := func(s Stats) {
		k := key{s.Engine, s.Class}
		if points[k] == nil {
			points[k] = map[int]float64{}
		}
		points[k][s.N] = s.P50
		if !seen[s.Engine] {
			seen[s.Engine] = true
			engines = append(engines, s.Engine)
		}
	}
	var sizes []int
	for _, r := range reps {
		sizes = append(sizes, r.N)
		for _, s := range r.Stats {
			add(s)
		}
		for _, s := range r.Peers {
			add(s)
		}
	}
	sort.Ints(sizes)
	classes := Classes()
	const pw, ph, cols = 330, 230, 4
	rows := (len(classes) + cols - 1) / cols
	width, height := cols*pw+20, rows*ph+70
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/><text x="10" y="18" font-size="14">p50 latency (ms, log) vs corpus size (reports, log); faildex bench</text>`+"\n")
	for i, e := range engines {
		x := 10 + i*150
		fmt.Fprintf(w, `<line x1="%d" y1="34" x2="%d" y2="34" stroke="%s" stroke-width="2"/><text x="%d" y="38">%s</text>`+"\n",
			x, x+20, palette[i%len(palette)], x+25, html.EscapeString(e))
	}
	if len(sizes) == 0 {
		fmt.Fprintln(w, "</svg>")
		return
	}
	lx := func(n int) float64 { return math.Log10(float64(n)) }
	xmin, xmax := lx(sizes[0]), lx(sizes[len(sizes)-1])
	if xmax == xmin {
		xmin, xmax = xmin-0.5, xmax+0.5
	}
	for ci, c := range classes {
		ox, oy := 10+(ci%cols)*pw, 50+(ci/cols)*ph
		px0, px1, py0, py1 := float64(ox+45), float64(ox+pw-15), float64(oy+ph-35), float64(oy+20)
		ymin, ymax := math.Inf(1), math.Inf(-1)
		for _, e := range engines {
			for _, v := range points[key{e, c.Name}] {
				if v > 0 {
					ymin, ymax = math.Min(ymin, math.Log10(v)), math.Max(ymax, math.Log10(v))
				}
			}
		}
		if math.IsInf(ymin, 1) {
			continue
		}
		ymin, ymax = math.Floor(ymin), math.Ceil(ymax)
		if ymax == ymin {
			ymax++
		}
		X := func(n int) float64 { return px0 + (lx(n)-xmin)/(xmax-xmin)*(px1-px0) }
		Y := func(v float64) float64 { return py0 - (math.Log10(v)-ymin)/(ymax-ymin)*(py0-py1) }
		fmt.Fprintf(w, `<text x="%.0f" y="%d" font-size="12" font-weight="bold">%s</text>`+"\n", px0, oy+12, html.EscapeString(c.Name))
		fmt.Fprintf(w, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`+"\n", px0, py1, px1-px0, py0-py1)
		for d := ymin; d <= ymax; d++ {
			y := py0 - (d-ymin)/(ymax-ymin)*(py0-py1)
			fmt.Fprintf(w, `<line x1="%.0f" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#eee"/><text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n",
				px0, y, px1, y, px0-4, y+4, fmtMS(math.Pow(10, d)))
		}
		for _, n := range sizes {
			fmt.Fprintf(w, `<text x="%.1f" y="%.0f" text-anchor="middle">%s</text>`+"\n", X(n), py0+14, fmtN(n))
		}
		for ei, e := range engines {
			pts := points[key{e, c.Name}]
			var ns []int
			for n, v := range pts {
				if v > 0 {
					ns = append(ns, n)
				}
			}
			sort.Ints(ns)
			col := palette[ei%len(palette)]
			path := ""
			for i, n := range ns {
				cmd := "L"
				if i == 0 {
					cmd = "M"
				}
				path += fmt.Sprintf("%s%.1f %.1f ", cmd, X(n), Y(pts[n]))
				fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s %s n=%d: %.3f ms</title></circle>`+"\n",
					X(n), Y(pts[n]), col, html.EscapeString(e), c.Name, n, pts[n])
			}
			if path != "" {
				fmt.Fprintf(w, `<path d="%s" fill="none" stroke="%s" stroke-width="1.5"/>`+"\n", path, col)
			}
		}
	}
	fmt.Fprintln(w, "</svg>")
}

func fmtMS(v float64) string {
	if v >= 1 {
		return fmt.Sprintf("%g", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func fmtN(n int) string {
	switch {
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	default:
		return fmt.Sprint(n)
	}
}
