package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSmoke runs the whole benchmark on a tiny corpus: generation, build,
// every query class, the table and the plot. It checks that the code path
// works and that results are sane, never how fast anything is.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index")
	}
	cfg := Config{N: 150, Seed: 3, Dir: t.TempDir(), Corpus: "../data", Reps: 3}
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Built || rep.IndexBytes == 0 || rep.CorpusBytes == 0 {
		t.Errorf("report lacks build figures: built %v, index %d bytes, corpus %d bytes", rep.Built, rep.IndexBytes, rep.CorpusBytes)
	}
	if len(rep.Stats) != len(Classes()) {
		t.Fatalf("%d stats for %d classes", len(rep.Stats), len(Classes()))
	}
	for _, s := range rep.Stats {
		switch s.Class {
		case "landing":
			if s.Total != 150 {
				t.Errorf("landing total %d, want 150", s.Total)
			}
		case "export_1000":
			if s.Total != 150 {
				t.Errorf("exported %d, want all 150", s.Total)
			}
		}
	}
	// A second run reuses the corpus and the index.
	rep2, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep2.Built {
		t.Error("second run rebuilt the index")
	}
	var table, svg bytes.Buffer
	rep.Table(&table)
	WriteSVG(&svg, []*Report{rep})
	if !strings.Contains(table.String(), "landing") || !strings.HasPrefix(svg.String(), "<svg") {
		t.Errorf("table or plot incomplete:\n%s", table.String())
	}
}
