package index_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/faildex/faildex/gen"
	"github.com/faildex/faildex/index"
)

// BenchmarkBuild builds an index of synthetic reports (gen), 1,000 unless
// $FAILDEX_BENCH_BUILD_N says otherwise, and reports MB/s of report files.
//
//	go test ./index -run '^$' -bench Build -benchtime 1x -cpuprofile cpu.out
func BenchmarkBuild(b *testing.B) {
	n := 1000
	if s := os.Getenv("FAILDEX_BENCH_BUILD_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	m, err := gen.Train(os.DirFS("../data"))
	if err != nil {
		b.Fatal(err)
	}
	tmp := b.TempDir()
	corpus := filepath.Join(tmp, "corpus")
	st, err := m.Write(context.Background(), corpus, 1, n, 2)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		bs, err := index.Build(context.Background(), filepath.Join(tmp, "ix"+strconv.Itoa(i)), []string{corpus}, index.BuildOptions{Strict: true})
		if err != nil {
			b.Fatal(err)
		}
		if bs.Indexed != n {
			b.Fatalf("indexed %d, want %d", bs.Indexed, n)
		}
	}
	b.ReportMetric(float64(st.Bytes)/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
}
