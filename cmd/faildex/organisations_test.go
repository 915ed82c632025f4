package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// TestShippedGazetteer checks that the embedded gazetteer reads.
func TestShippedGazetteer(t *testing.T) {
	if g := defaultGazetteer(); g.Len() < 100 {
		t.Errorf("%s: %d organisations", data.OrganisationsName, g.Len())
	}
}

// TestIndexOrganisations builds with the shipped gazetteer and with a
// user's file added by --organisations, and searches the organisation
// facets from the command line.
func TestIndexOrganisations(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	writeFiles(t, reports, map[string]string{
		"a.txt": "Incident: A lock failed\nPublished Date: 2020-05-01\nPostmortem Analysis\nSummary The lock failed.\n" +
			"Responsible Organization 1. Amazon's Ring and Acme Widgets Ltd [1].\nImpacted Organization 1. Users of Acme locks [1].\n",
		"b.txt": "Incident: Another\nPublished Date: 2021-05-01\nPostmortem Analysis\nSummary Nothing named.\n",
	})
	mine := filepath.Join(dir, "mine.gazetteer")
	if err := os.WriteFile(mine, []byte("# ours\nAcme Widgets: Acme Widgets Ltd, Acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	counts := func(ix string, args ...string) map[string]uint64 {
		t.Helper()
		code, out, errs := srchRun(t, ix, append([]string{"search", "--json"}, args...)...)
		if code != 0 {
			t.Fatalf("faildex search %v: exit %d: %s", args, code, errs)
		}
		var res search.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatal(err)
		}
		got := map[string]uint64{"total": res.Total}
		for _, f := range res.Facets {
			for _, v := range f.Values {
				got[f.Field+"="+v.Label] = v.Count
			}
		}
		return got
	}

	shipped := srchIndex(t, reports)
	if got := counts(shipped); got["responsible_org=Amazon"] != 1 || got["responsible_org=Acme Widgets"] != 0 {
		t.Errorf("shipped gazetteer: %v", got)
	}

	ix := filepath.Join(dir, "index")
	if code, _, errs := srchRun(t, ix, "index", "--organisations", mine, reports); code != 0 {
		t.Fatalf("faildex index --organisations: exit %d: %s", code, errs)
	}
	got := counts(ix, "responsible_org=acme_widgets")
	if got["total"] != 1 || got["responsible_org=Acme Widgets"] != 1 || got["impacted_org=Acme Widgets"] != 1 || got["responsible_org=Amazon"] != 1 {
		t.Errorf("with --organisations: %v", got)
	}

	bad := filepath.Join(dir, "bad.gazetteer")
	if err := os.WriteFile(bad, []byte("Ours: AWS\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs := srchRun(t, filepath.Join(dir, "index2"), "index", "--organisations", bad, reports)
	if code != 1 || !strings.Contains(errs, "bad.gazetteer:1: alias \"AWS\" is already an alias of \"Amazon Web Services\"") {
		t.Errorf("a bad gazetteer: exit %d, stderr %q", code, errs)
	}
	if _, err := index.Open(filepath.Join(dir, "index2")); err == nil {
		t.Error("an index was built despite the bad gazetteer")
	}
}
