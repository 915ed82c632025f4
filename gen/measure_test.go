package gen

import (
	"fmt"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

// TestMeasureRealData prints the figures hard-coded in profile.go, measured
// from the real reports that the project is given (../../shared: the two seed
// pages and the database's CSV export of 31 incidents). Run it with
//
//	go test ./gen -run TestMeasureRealData -v
//
// and copy the printed figures when the real data changes. Without the
// shared data it fails under CI and skips elsewhere.
func TestMeasureRealData(t *testing.T) {
	seeds, csv := indextest.Shared(t)
	paths := []string{seeds, csv}
	var ins []index.Incident
	var fileBytes []float64
	err := index.ReadPaths(paths, index.Handler{
		Record: func(r index.Record) error {
			ins = append(ins, r.Incident)
			if strings.HasSuffix(r.File, ".txt") {
				st, _ := os.Stat(r.File)
				fileBytes = append(fileBytes, float64(st.Size()))
			}
			return nil
		},
		Problem: func(p index.Problem) {
			if !p.Warning {
				t.Errorf("rejected: %v", p.Error())
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("incidents measured: %d; seed page sizes: %v", len(ins), fileBytes)
	var b strings.Builder
	stat := func(name string, xs []float64) {
		var sum, sq float64
		for _, x := range xs {
			sum += x
		}
		mean := sum / float64(len(xs))
		for _, x := range xs {
			sq += (x - mean) * (x - mean)
		}
		sd := math.Sqrt(sq / float64(len(xs)))
		s := append([]float64(nil), xs...)
		sort.Float64s(s)
		fmt.Fprintf(&b, "%-26s n=%2d mean=%6.0f sd=%6.0f min=%6.0f med=%6.0f max=%6.0f\n", name, len(xs), mean, sd, s[0], s[len(s)/2], s[len(s)-1])
	}
	var total, rat []float64
	for _, f := range index.TextFields {
		var xs []float64
		for _, in := range ins {
			xs = append(xs, float64(len(*f.Get(&in))))
		}
		stat(f.Name, xs)
	}
	for _, in := range ins {
		n := 0
		for _, f := range index.TextFields {
			n += len(*f.Get(&in))
		}
		r := 0
		for _, cl := range in.Taxonomy {
			r += len(cl.Rationale)
		}
		total = append(total, float64(n+r))
		rat = append(rat, float64(r))
	}
	stat("all rationales", rat)
	stat("text total", total)
	for _, c := range index.Taxonomy {
		var xs []float64
		for _, in := range ins {
			if in.Assessed(c.Name) {
				xs = append(xs, float64(len(in.Taxonomy[c.Name].Rationale)))
			}
		}
		if len(xs) > 0 {
			stat("rationale "+c.Name, xs)
		}
	}
	var arts []float64
	years := map[int]int{}
	for _, in := range ins {
		arts = append(arts, float64(len(in.Articles)))
		years[in.Year()]++
	}
	stat("articles", arts)
	fmt.Fprintf(&b, "years: %v\n", years)
	for _, c := range index.Taxonomy {
		counts := map[string]int{}
		nopts := map[int]int{}
		assessed := 0
		for _, in := range ins {
			o := in.Options(c.Name)
			nopts[len(o)]++
			if len(o) > 0 {
				assessed++
			}
			for _, v := range o {
				counts[v]++
			}
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
		fmt.Fprintf(&b, "%-13s assessed=%2d/%d options-per-incident=%v:", c.Name, assessed, len(ins), nopts)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%d", k, counts[k])
		}
		b.WriteString("\n")
	}
	t.Log("\n" + b.String())
}
