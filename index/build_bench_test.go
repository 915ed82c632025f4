package index_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faildex/faildex/gen"
	"github.com/faildex/faildex/index"
)

// BenchmarkBuild builds an index of synthetic reports (gen), 1,000 unless
// $FAILDEX_BENCH_BUILD_N says otherwise, or of the paths listed in
// $FAILDEX_BENCH_CORPUS (comma-separated), and reports MB/s of report files.
//
//	go test ./index -run '^$' -bench Build -benchtime 1x -cpuprofile cpu.out
func BenchmarkBuild(b *testing.B) {
	if list := os.Getenv("FAILDEX_BENCH_CORPUS"); list != "" {
		paths := strings.Split(list, ",")
		var bytes int64
		for _, p := range paths {
			filepath.WalkDir(p, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() {
					if info, err := d.Info(); err == nil {
						bytes += info.Size()
					}
				}
				return nil
			})
		}
		tmp := b.TempDir()
		batch, _ := strconv.Atoi(os.Getenv("FAILDEX_BENCH_BATCH"))
		for i := 0; b.Loop(); i++ {
			if _, err := index.Build(context.Background(), filepath.Join(tmp, "ix"+strconv.Itoa(i)), paths, index.BuildOptions{Strict: true, BatchSize: batch}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(bytes)/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
		return
	}
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
