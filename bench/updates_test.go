package bench

import (
	"context"
	"strings"
	"testing"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// TestUpdatesSmoke runs the live-updates measurement on a tiny corpus: every
// PUT is acknowledged, becomes visible, and the figures are filled in; the
// bench's own index is left as it was (the updates go to a copy).
func TestUpdatesSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index")
	}
	ctx := context.Background()
	cfg := Config{N: 40, Seed: 5, Dir: t.TempDir(), Corpus: "../data", Reps: 1}
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	before, err := index.CurrentGeneration(IndexDir(cfg.Dir, cfg.Seed, cfg.N))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := RunUpdates(ctx, cfg, UpdateOptions{Updates: 30, Visible: 5, UpdateClients: 4, SearchClients: 2})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Visible != 5 || rep.VisibleP50 <= 0 || rep.Rate <= 0 || rep.Generations == 0 || rep.Generations > 30 ||
		rep.IdleP99 <= 0 || rep.BusyP99 <= 0 || rep.FreshBytes == 0 || rep.UpdatedBytes == 0 || rep.Segments == 0 {
		t.Errorf("incomplete figures: %+v", rep)
	}
	var b strings.Builder
	rep.Table(&b)
	if !strings.Contains(b.String(), "updates/s") {
		t.Errorf("table:\n%s", b.String())
	}
	after, err := index.CurrentGeneration(IndexDir(cfg.Dir, cfg.Seed, cfg.N))
	if err != nil || after != before {
		t.Errorf("the bench index changed: %s → %s (%v)", before, after, err)
	}
	eng, err := search.Open(ctx, IndexDir(cfg.Dir, cfg.Seed, cfg.N))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	if n := eng.DocCount(); n != 40 {
		t.Errorf("the bench index holds %d incidents after the updates bench, want 40", n)
	}
}
