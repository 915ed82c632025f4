package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestAgreement(t *testing.T) {
	ours := []Stats{
		{Engine: "faildex", Class: "landing", Total: 10, Counts: map[string]uint64{
			"domain=health": 4, "year=2015": 10, "responsible_org=boeing": 3}},
		{Engine: "faildex", Class: "common_word", Total: 8},
	}
	peers := []Stats{
		// The organisation facets are faildex's own: not compared.
		{Engine: "a", Class: "landing", Total: 10, Counts: map[string]uint64{"domain=health": 4, "year=2015": 10}},
		{Engine: "b", Class: "landing", Total: 10, Counts: map[string]uint64{"domain=health": 5, "year=2015": 10}},
		{Engine: "c", Class: "landing", Total: 9, Counts: map[string]uint64{}},
		{Engine: "d", Class: "common_word", Total: 7, Approx: true},
		{Engine: "e", Class: "common_word", Total: 8},
	}
	got := strings.Join(Agreement(ours, peers), "\n")
	for _, want := range []string{
		"agree    a landing: total 10 and 2 facet counts",
		"DISAGREE b landing: [domain=health 5 vs 4]",
		"DISAGREE c landing: total 9, faildex 10",
		"differ   d common_word: total 7, faildex 8 (other matching rules, expected)",
		"agree    e common_word: total 8 (no facet counts compared)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("agreement lacks %q:\n%s", want, got)
		}
	}
}

// TestTablePeers checks that the table carries every engine's figures,
// faildex's ratios to the best peer and the loads.
func TestTablePeers(t *testing.T) {
	r := &Report{N: 100, CorpusBytes: 2e6, IndexBytes: 2e6, BuildSeconds: 1, When: time.Unix(0, 0).UTC(),
		Stats: []Stats{{Engine: "faildex", Class: "landing", P50: 1, P99: 2, CPU: 1}},
		HTTP:  []Stats{{Engine: HTTPEngine, Class: "landing", P50: 2, P99: 3, CPU: 1.5}},
		Peers: []Stats{
			{Engine: "sphinx", Class: "landing", P50: 4, P99: 8, CPU: 2},
			{Engine: "xapian", Class: "landing", P50: 8, P99: 9, CPU: 3},
		},
		PeerLoads: []PeerLoad{{Engine: "sphinx", Seconds: 0.5, Bytes: 2e6, IndexBytes: 1e6, Note: "indexer"}},
	}
	var b bytes.Buffer
	r.Table(&b)
	for _, want := range []string{
		"1.00 / 2.00 / 1.00", "2.00 / 3.00 / 1.50", "4.00 / 8.00 / 2.00", "8.00 / 9.00 / 3.00",
		"0.25 (sphinx)", "0.50 (sphinx)", "0.75 (sphinx)",
		"sphinx                0.5      4.00", "indexer",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestClassURL(t *testing.T) {
	got := map[string]string{}
	for _, c := range Classes() {
		got[c.Name] = ClassURL(c)
	}
	for name, want := range map[string]string{
		"landing":        "/api/v1/search?",
		"rare_phrase":    "/api/v1/search?q=%22clock+drift%22",
		"word_2_filters": "/api/v1/search?domain=information&phase=design&q=outage",
		"deep_page":      "/api/v1/search?page=100&q=system",
		"suggest":        "/api/v1/suggest?q=confi",
	} {
		if got[name] != want {
			t.Errorf("%s: %s, want %s", name, got[name], want)
		}
	}
}

// checkPeers runs the peers program, built from bench/peers, on the corpus
// and index of cfg: plain bleve always (pure Go), Sphinx and Xapian when
// installed (bench/setup-sphinx.sh, bench/setup-xapian.sh). The test says
// when it leaves one out, and fails instead when $FAILDEX_TEST_PEERS
// (comma-separated) names it. Every engine must answer its classes as
// faildex does and serve the mix from four clients.
func checkPeers(t *testing.T, cfg Config, rep *Report) {
	t.Helper()
	required := map[string]bool{}
	for _, e := range strings.Split(os.Getenv("FAILDEX_TEST_PEERS"), ",") {
		required[strings.TrimSpace(e)] = true
	}
	leftOut := func(engine, why string) {
		if required[engine] {
			t.Errorf("%s required by $FAILDEX_TEST_PEERS but %s", engine, why)
		} else {
			t.Logf("%s left out: %s", engine, why)
		}
	}
	engines := []string{"bleve_naive"}
	if _, err1 := exec.LookPath("searchd"); err1 != nil {
		leftOut("sphinx", "searchd is not installed (bench/setup-sphinx.sh)")
	} else if _, err2 := exec.LookPath("indexer"); err2 != nil {
		leftOut("sphinx", "indexer is not installed (bench/setup-sphinx.sh)")
	} else {
		engines = append(engines, "sphinx")
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import xapian").CombinedOutput(); err != nil {
		leftOut("xapian", fmt.Sprintf("python3-xapian is not installed (bench/setup-xapian.sh): %v: %s", err, out))
	} else {
		engines = append(engines, "xapian")
	}
	t.Setenv("FAILDEX_PEERS", buildPeers(t))
	var log bytes.Buffer
	cfg.Log, cfg.PeerEngines = &log, strings.Join(engines, ",")
	if err := RunPeers(context.Background(), cfg, rep); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	for _, l := range rep.PeerInfo {
		if strings.HasPrefix(l, "DISAGREE") {
			t.Error(l)
		}
	}
	for _, e := range engines {
		n := 0
		for _, s := range rep.Peers {
			if s.Engine == e {
				n++
			}
		}
		if n < len(MixClasses()) {
			t.Errorf("%s answered %d classes", e, n)
		}
		checkMix(t, rep, e)
	}
}

// buildPeers builds the peers program for the test.
func buildPeers(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "faildex-peers")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/faildex-peers")
	cmd.Dir = "peers"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building faildex-peers: %v\n%s", err, out)
	}
	return bin
}
