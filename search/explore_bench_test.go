package search

import (
	"context"
	"testing"
)

// Scale benchmarks of the exploring requests, over the same index as the
// other scale benchmarks (scale_bench_test.go).

func benchScaleEngine(b *testing.B) *Engine {
	b.Helper()
	e, err := scaleEngine()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	return e
}

func BenchmarkScalePivotAll(b *testing.B) {
	e := benchScaleEngine(b)
	for b.Loop() {
		if _, err := e.Pivot(context.Background(), Request{}, "consequence", "domain"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScalePivotWord(b *testing.B) {
	e := benchScaleEngine(b)
	for b.Loop() {
		if _, err := e.Pivot(context.Background(), Request{Query: "software"}, "year", "behaviour"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScaleSimilar(b *testing.B) {
	e := benchScaleEngine(b)
	first, err := e.incidentAt(context.Background(), e.facets.all.Minimum())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.Similar(context.Background(), first.ID, DefaultSimilar); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScaleFacetValues(b *testing.B) {
	e := benchScaleEngine(b)
	for b.Loop() {
		if _, err := e.FacetValues(context.Background(), Request{Query: "software"}, "domain", "tr"); err != nil {
			b.Fatal(err)
		}
	}
}
