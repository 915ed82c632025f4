package bench

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/search"
)

// TestSmoke runs the whole benchmark on a tiny corpus: generation, build,
// every query class, the table and the plot. It checks that the code path
// works and that results are sane, never how fast anything is.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an index")
	}
	cfg := Config{N: 150, Seed: 3, Dir: t.TempDir(), Corpus: "../data", Reps: 3, MixDuration: 100 * time.Millisecond}
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
		default:
			if s.Total == 0 {
				t.Errorf("%s matched nothing", s.Class)
			}
		}
	}
	checkReading(t, cfg)
	checkMix(t, rep, "faildex")
	// Over HTTP, a faildex server started on the same index answers every
	// search and suggest class as the engine did in process.
	cfg.Serve = []string{buildFaildex(t), "serve"}
	if err := RunHTTP(context.Background(), cfg, rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.HTTP) == 0 || len(rep.HTTPInfo) != len(rep.HTTP) {
		t.Fatalf("%d classes over HTTP, %d agreement lines", len(rep.HTTP), len(rep.HTTPInfo))
	}
	for _, l := range rep.HTTPInfo {
		if !strings.HasPrefix(l, "agree ") {
			t.Errorf("over HTTP: %s", l)
		}
	}
	checkMix(t, rep, HTTPEngine)
	// The peers answer the same classes and serve the same mix.
	checkPeers(t, cfg, rep)
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
	if !strings.Contains(table.String(), "landing") || !strings.Contains(table.String(), "http p50") ||
		!strings.Contains(table.String(), "throughput: 4 concurrent clients") || !strings.HasPrefix(svg.String(), "<svg") {
		t.Errorf("table or plot incomplete:\n%s", table.String())
	}
}

// checkReading checks that the classes timing how queries are read do what
// they are named for on the corpus of cfg, whose index Run has built.
func checkReading(t *testing.T, cfg Config) {
	t.Helper()
	ctx := context.Background()
	eng, err := search.Open(ctx, IndexDir(cfg.Dir, cfg.Seed, cfg.N))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	res := func(q string) *search.Result {
		t.Helper()
		r, err := eng.Search(ctx, search.Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	// The misspelled word is in no report, and is corrected.
	if r := res(`"` + Misspelled + `"`); r.Total != 0 {
		t.Errorf("%d reports have %q", r.Total, Misspelled)
	}
	if r := res(Misspelled); r.Suggestion == "" {
		t.Errorf("%q not corrected", Misspelled)
	}
	// The unfinished word is in no report, and is completed.
	if r := res(Unfinished + " "); r.Total != 0 {
		t.Errorf("%d reports have %q", r.Total, Unfinished)
	}
	// The synonyms widen the word.
	if word, all := res(`"`+Synonym+`"`).Total, res(Synonym).Total; all <= word {
		t.Errorf("%q matches %d reports, as written %d", Synonym, all, word)
	}
	sg, err := eng.Suggest(ctx, Unfinished, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(sg.Completions) == 0 || len(sg.Incidents) == 0 {
		t.Errorf("suggestions for %q: %d completions, %d incidents", Unfinished, len(sg.Completions), len(sg.Incidents))
	}
}

// buildFaildex builds the faildex binary for the test.
func buildFaildex(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "faildex")
	out, err := exec.Command("go", "build", "-o", bin, "../cmd/faildex").CombinedOutput()
	if err != nil {
		t.Fatalf("building faildex: %v\n%s", err, out)
	}
	return bin
}

// checkMix checks that rep holds engine's throughput on the whole mix with
// the default clients.
func checkMix(t *testing.T, rep *Report, engine string) {
	t.Helper()
	var want []string
	for _, c := range MixClasses() {
		want = append(want, c.Name)
	}
	for _, tp := range rep.Throughputs {
		if tp.Engine != engine {
			continue
		}
		if tp.Clients != DefaultMixClients || tp.Requests < int64(tp.Clients) || tp.PerSecond <= 0 || tp.Seconds <= 0 {
			t.Errorf("%s's mix: %d clients, %d requests, %.1f/s over %.3f s", engine, tp.Clients, tp.Requests, tp.PerSecond, tp.Seconds)
		}
		if diff := cmp.Diff(want, tp.Classes); diff != "" {
			t.Errorf("%s's mix (-want +got):\n%s", engine, diff)
		}
		return
	}
	t.Errorf("no throughput for %s", engine)
}
