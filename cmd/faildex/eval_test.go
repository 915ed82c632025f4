package main

import (
	"github.com/faildex/faildex/index/indextest"

	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// log3 is log2(3), the discount of rank 2.
var log3 = math.Log2(3)

func TestRankingMetrics(t *testing.T) {
	for _, tc := range []struct {
		name             string
		ranked           []string
		judged           map[string]int
		k                int
		rank             int
		rr, ndcg, recall float64
	}{
		{
			name:   "sought first, nothing else relevant",
			ranked: []string{"a", "b", "c"},
			judged: map[string]int{"a": 2},
			k:      10, rank: 1, rr: 1, ndcg: 1, recall: 1,
		},
		{
			name:   "sought third, a grade-1 incident first",
			ranked: []string{"x", "y", "a"},
			judged: map[string]int{"a": 2, "x": 1},
			k:      10, rank: 3, rr: 1.0 / 3,
			// DCG = 1/log2(2) + 3/log2(4) = 2.5; ideal = 3/1 + 1/log2(3).
			ndcg:   2.5 / (3 + 1/log3),
			recall: 1,
		},
		{
			name:   "grades swapped at ranks 1 and 2",
			ranked: []string{"b", "a"},
			judged: map[string]int{"a": 2, "b": 1},
			k:      10, rank: 2, rr: 0.5,
			ndcg:   0.7967075809905066, // (1 + 3/log2 3) / (3 + 1/log2 3)
			recall: 1,
		},
		{
			name:   "ideal ranking cut at k, three incidents sought",
			ranked: []string{"x", "a", "b", "c"},
			judged: map[string]int{"a": 2, "b": 2, "c": 2},
			k:      2, rank: 2, rr: 0.5,
			ndcg:   0.3868528072345416, // (3/log2 3) / (3 + 3/log2 3)
			recall: 1.0 / 3,
		},
		{
			name:   "sought beyond the cut-off",
			ranked: []string{"x", "y", "a"},
			judged: map[string]int{"a": 2, "d": 1},
			k:      2, rank: 0, rr: 0, ndcg: 0, recall: 0,
		},
		{
			name:   "no hits",
			ranked: nil,
			judged: map[string]int{"a": 2},
			k:      10, rank: 0, rr: 0, ndcg: 0, recall: 0,
		},
		{
			name:   "grade 0 counts as not relevant",
			ranked: []string{"z", "a"},
			judged: map[string]int{"a": 2, "z": 0},
			k:      10, rank: 2, rr: 0.5, ndcg: 1 / log3, recall: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := firstRank(tc.ranked, tc.judged, 2, tc.k); got != tc.rank {
				t.Errorf("firstRank = %d, want %d", got, tc.rank)
			}
			if got := reciprocalRank(tc.ranked, tc.judged, tc.k); !near(got, tc.rr) {
				t.Errorf("reciprocalRank = %v, want %v", got, tc.rr)
			}
			if got := ndcg(tc.ranked, tc.judged, tc.k); !near(got, tc.ndcg) {
				t.Errorf("ndcg = %v, want %v", got, tc.ndcg)
			}
			if got := recall(tc.ranked, tc.judged, tc.k); !near(got, tc.recall) {
				t.Errorf("recall = %v, want %v", got, tc.recall)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	outs := []queryOutcome{
		{Kind: "typo", RR: 1, NDCG: 1, Recall: 1, Total: 3},
		{Kind: "many", RR: 0.5, NDCG: 0.25, Recall: 0.5, Total: 9},
		{Kind: "typo", RR: 0, NDCG: 0, Recall: 0, Total: 0},
	}
	want := []evalSummary{
		{Kind: "typo", Queries: 2, MRR: 0.5, NDCG: 0.5, Recall: 0.5, Zero: 1},
		{Kind: "many", Queries: 1, MRR: 0.5, NDCG: 0.25, Recall: 0.5, Zero: 0},
		{Kind: "overall", Queries: 3, MRR: 0.5, NDCG: 1.25 / 3, Recall: 0.5, Zero: 1},
	}
	approx := cmp.Comparer(near)
	if diff := cmp.Diff(want, summarizeEval(outs), approx); diff != "" {
		t.Errorf("summarize (-want +got):\n%s", diff)
	}
}

func TestReadJudgedRejects(t *testing.T) {
	for name, body := range map[string]string{
		"not json":      `{`,
		"empty":         `[]`,
		"empty query":   `[{"query":" ","kind":"exact","judgments":{"a":2}}]`,
		"no kind":       `[{"query":"x","judgments":{"a":2}}]`,
		"no judgments":  `[{"query":"x","kind":"exact","judgments":{}}]`,
		"grade 3":       `[{"query":"x","kind":"exact","judgments":{"a":3}}]`,
		"listed twice":  `[{"query":"x","kind":"exact","judgments":{"a":2}},{"query":"x","kind":"many","judgments":{"b":2}}]`,
		"grade as text": `[{"query":"x","kind":"exact","judgments":{"a":"2"}}]`,
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "judged.json")
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := readJudged(p); err == nil {
				t.Errorf("readJudged(%s) succeeded", body)
			}
		})
	}
}

// TestJudgedSet checks the repository's judged query set: it parses, and
// every judged id is an incident of the bundled or shared corpus.
func TestJudgedSet(t *testing.T) {
	qs, err := readJudged("../../" + defaultJudgedFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 90 {
		t.Errorf("%d judged queries, want at least 90", len(qs))
	}
	seedsDir, failCSV := indextest.Shared(t)
	ids := map[string]bool{}
	for _, dir := range []string{indextest.DataDir(), seedsDir} {
		names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			ids[strings.TrimSuffix(filepath.Base(n), ".txt")] = true
		}
	}
	f, err := os.Open(failCSV)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := slices.Index(rows[0], "Incident ID")
	if col < 0 {
		t.Fatalf("%s has no Incident ID column", failCSV)
	}
	for _, row := range rows[1:] {
		ids[row[col]] = true
	}
	if len(ids) != 51+2+31 {
		t.Errorf("%d incidents in the corpus, want 84", len(ids))
	}
	for _, q := range qs {
		for id := range q.Judgments {
			if !ids[id] {
				t.Errorf("query %q judges %q, which is no incident of the corpus", q.Query, id)
			}
		}
	}
}

// TestEvalURL runs `faildex eval --url` against a real server over data/
// and `faildex eval --index` on the same index, and checks the figures.
func TestEvalURL(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "ix")
	env, _, logs := testEnv(nil)
	if _, err := buildIndex(ctx, env, dir, []string{"../../data"}, true); err != nil {
		t.Fatalf("%v\n%s", err, logs)
	}
	eng, err := search.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	srv, err := server.New(server.Config{Log: zerolog.Nop()}, eng)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler()) // listens on 127.0.0.1
	t.Cleanup(ts.Close)

	judged := []judgedQuery{
		// The only hit; one of the two judged incidents does not match.
		{Query: "heartbleed", Kind: "exact", Judgments: map[string]int{
			"2014-heartbleed-openssl": 2, "2017-equifax-data-breach": 1}},
		// The leap-second outage outranks the leap-day one.
		{Query: "leap second", Kind: "exact", Judgments: map[string]int{
			"2012-windows-azure-leap-day-outage": 2, "2017-cloudflare-leap-second-dns-outage": 1}},
		{Query: "qqzzxv", Kind: "misspelled", Judgments: map[string]int{
			"1986-therac-25-radiation-overdoses": 2}},
	}
	b, err := json.Marshal(judged)
	if err != nil {
		t.Fatal(err)
	}
	jf := filepath.Join(t.TempDir(), "judged.json")
	if err := os.WriteFile(jf, b, 0o644); err != nil {
		t.Fatal(err)
	}

	run := func(args ...string) string {
		t.Helper()
		env, out, errs := testEnv(nil)
		if code := Run(ctx, env, append([]string{"eval", "--judged", jf}, args...)); code != 0 {
			t.Fatalf("eval %q exited with %d:\n%s", args, code, errs)
		}
		return out.String()
	}
	got := run("--url", ts.URL)
	// heartbleed: RR 1, nDCG 3/(3+1/log2 3) = 0.826, recall 1/2.
	// leap second: RR 1/2, nDCG (1+3/log2 3)/(3+1/log2 3) = 0.797, recall 1.
	want := `3 judged queries against ` + ts.URL + `, cut-off 10

KIND        QUERIES  MRR@10  nDCG@10  RECALL@10  ZERO-RESULT
exact       2        0.750   0.811    0.750      0
misspelled  1        0.000   0.000    0.000      1
overall     3        0.500   0.541    0.500      1

2 misses (incident sought not at rank 1)

KIND        RANK           TOTAL  QUERY
exact       2              3      leap second
misspelled  not in top 10  0      qqzzxv
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("eval --url (-want +got):\n%s", diff)
	}

	// The in-process search gives the same figures. The engine is the
	// server's; a second reader of the same index directory is fine.
	local := run("--index", dir)
	if diff := cmp.Diff(strings.Replace(want, ts.URL, dir, 1), local); diff != "" {
		t.Errorf("eval --index (-want +got):\n%s", diff)
	}

	var rep evalReport
	if err := json.Unmarshal([]byte(run("--url", ts.URL, "--json", "--size", "2")), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Size != 2 || len(rep.Queries) != 3 || rep.Queries[1].Rank != 2 ||
		!cmp.Equal(rep.Queries[1].Hits, []string{"2017-cloudflare-leap-second-dns-outage", "2012-windows-azure-leap-day-outage"}) {
		t.Errorf("eval --json --size 2: %+v", rep)
	}
}

func TestEvalUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--size", "0"},
		{"--size", "101"},
		{"--url", "127.0.0.1:8080"},
		{"stray"},
	} {
		env, _, _ := testEnv(nil)
		if code := Run(context.Background(), env, append([]string{"eval"}, args...)); code != 2 {
			t.Errorf("eval %q exited with %d, want 2", args, code)
		}
	}
}
