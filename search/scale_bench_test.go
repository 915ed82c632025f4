package search

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faildex/faildex/gen"
	"github.com/faildex/faildex/index"
)

// The scale benchmarks run the query classes of 'faildex bench' over the
// index in $FAILDEX_BENCH_INDEX (for example bench-data/index-s1-n100000,
// built by 'faildex bench --n 100000'), or else over 300 synthetic reports:
//
//	FAILDEX_BENCH_INDEX=bench-data/index-s1-n10000 go test ./search -run '^$' -bench Scale -cpuprofile cpu.out

var scaleEngine = sync.OnceValues(func() (*Engine, error) {
	dir := os.Getenv("FAILDEX_BENCH_INDEX")
	if dir == "" {
		tmp, err := os.MkdirTemp("", "faildex-scale-")
		if err != nil {
			return nil, err
		}
		tempMu.Lock()
		tempDirs = append(tempDirs, tmp)
		tempMu.Unlock()
		m, err := gen.Train(os.DirFS(bundledDir))
		if err != nil {
			return nil, err
		}
		if _, err := m.Write(context.Background(), filepath.Join(tmp, "corpus"), 1, 300, 2); err != nil {
			return nil, err
		}
		return buildEngine(filepath.Join(tmp, "index"), []string{filepath.Join(tmp, "corpus")})
	}
	ix, err := openIndex(dir)
	if err != nil {
		return nil, err
	}
	return New(context.Background(), ix)
})

func benchScale(b *testing.B, req Request) {
	e, err := scaleEngine()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	// One search first: what an engine builds once (the date order, a
	// term's decoded postings) is not a search's cost.
	if _, err := e.Search(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := processCPU()
	for b.Loop() {
		if _, err := e.Search(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	// The process's CPU per search, garbage collection included: steadier
	// than the wall-clock figure on a shared machine.
	b.ReportMetric(float64(processCPU()-start)/float64(b.N)/1e6, "cpu-ms/op")
}

// processCPU returns the CPU time the process has used, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkScaleLanding(b *testing.B) { benchScale(b, Request{}) }
func BenchmarkScaleFiltersOnly(b *testing.B) {
	benchScale(b, Request{Filters: map[string][]string{"consequence": {"property"}, "behaviour": {"crash"}}})
}
func BenchmarkScaleCommonWord(b *testing.B) { benchScale(b, Request{Query: "software"}) }
func BenchmarkScaleRarePhrase(b *testing.B) { benchScale(b, Request{Query: `"clock drift"`}) }
func BenchmarkScaleWordTwoFilters(b *testing.B) {
	benchScale(b, Request{Query: "outage", Filters: map[string][]string{"domain": {"information"}, "phase": {"design"}}})
}
func BenchmarkScaleDeepPage(b *testing.B) { benchScale(b, Request{Query: "system", Page: 100}) }

func openIndex(dir string) (*index.Index, error) { return index.Open(dir) }
