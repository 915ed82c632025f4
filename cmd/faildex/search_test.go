package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

// srchRun runs faildex with args as a user would, with FAILDEX_INDEX set to
// dir, and returns the exit status, standard output and standard error.
func srchRun(tb testing.TB, dir string, args ...string) (int, string, string) {
	tb.Helper()
	env, out, errs := testEnv(map[string]string{"FAILDEX_INDEX": dir})
	env.Log = zerolog.Nop()
	code := Run(context.Background(), env, args)
	return code, out.String(), errs.String()
}

// srchIndex builds an index of paths with `faildex index`.
func srchIndex(tb testing.TB, paths ...string) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "index")
	if code, _, errs := srchRun(tb, dir, append([]string{"index"}, paths...)...); code != 0 {
		tb.Fatalf("faildex index: exit %d: %s", code, errs)
	}
	return dir
}

// TestSearchCommand prints results as a person reads them in a terminal.
// Its expected lines are those of the shared reports.
func TestSearchCommand(t *testing.T) {
	seeds, csv := indextest.Shared(t)
	dir := srchIndex(t, seeds, csv)
	tests := []struct {
		name string
		args []string
		want []string // lines (or parts of lines) in order
	}{
		{"words", []string{"search", "wake", "word"}, []string{
			`1 incident for "wake word", by relevance`,
			"",
			"PUBLISHED   ID                    TITLE",
			"2018-05-24  000_123143f11ad7b5f7  Amazon Alexa Privacy Breach: Recording and Sending Conversations Without Consent",
		}},
		{"filters and paging", []string{"search", "--index", dir, "software", "consequence=harm", "domain=transportation,health", "from=2015", "sort=date", "size=2"}, []string{
			`incidents for "software" with consequence=harm domain=transportation domain=health from=2015, by date (page 1 of `,
			"PUBLISHED",
			"more: page=2",
		}},
		{"flags after words", []string{"search", "alexa", "--facets", "size=1"}, []string{
			`incidents for "alexa", by relevance`,
			"PUBLISHED",
			"recurring ",
			"consequence ",
			"domain ",
			"year ",
		}},
		{"filters only", []string{"search", "consequence=death", "--facets"}, []string{
			"incidents for all incidents with consequence=death, by date",
			"PUBLISHED",
			"*death 2",
		}},
		{"nothing found", []string{"search", "zzzzqqq"}, []string{`0 incidents for "zzzzqqq", by relevance`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := srchRun(t, dir, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			lines := strings.Split(out, "\n")
			i := 0
			for _, want := range tt.want {
				for i < len(lines) && !(lines[i] == want || want != "" && strings.Contains(lines[i], want)) {
					i++
				}
				if i == len(lines) {
					t.Fatalf("output lacks %q (in order):\n%s", want, out)
				}
				i++
			}
		})
	}
}

// TestSearchCommandErrors checks the exit statuses and messages of bad
// searches.
func TestSearchCommandErrors(t *testing.T) {
	dir := srchIndex(t, indextest.Reports(t)...)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"search", "outage", "consequence=nope"}, 1, `unknown option "nope"`},
		{[]string{"search", "outage", "size=1000"}, 1, "size: must be between 1 and 100"},
		{[]string{"search", "outage", "colour=red"}, 2, `unknown parameter "colour"`},
		{[]string{"search", "--json=maybe", "outage"}, 2, "invalid boolean value"},
		{[]string{"search", "--index", filepath.Join(t.TempDir(), "missing"), "outage"}, 1, "faildex search: "},
	}
	for _, tt := range tests {
		code, out, errs := srchRun(t, dir, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) || out != "" {
			t.Errorf("%q: exit %d, stderr %q, stdout %q; want exit %d and %q", tt.args, code, errs, out, tt.code, tt.msg)
		}
	}
}

// TestSearchCommandReading checks that the command says how it read a query
// outside the query language, what it corrected and what it left out.
func TestSearchCommandReading(t *testing.T) {
	dir := srchIndex(t, indextest.Reports(t)...)
	for _, tt := range []struct {
		q, want string
	}{
		{`"unbalanced`, "Note: A quote was not closed"},
		{"amazon alexxa", "Did you mean: amazon alexa"},
		{"alexa zebrafish", "left out: zebrafish"},
	} {
		code, out, errs := srchRun(t, dir, "search", tt.q)
		if code != 0 || !strings.Contains(out, tt.want) {
			t.Errorf("search %q: exit %d, stderr %q, stdout %q; want exit 0 and %q", tt.q, code, errs, out, tt.want)
		}
	}
}

// TestSearchCommandJSON checks that `faildex search --json` prints exactly
// what /api/v1/search answers for the same request (took_ms aside), by
// asking a real `faildex serve` over the same index.
func TestSearchCommandJSON(t *testing.T) {
	dir := srchIndex(t, indextest.Reports(t)...)
	base := startServeCmd(t, "--index", dir, "--addr", "127.0.0.1:0")
	took := regexp.MustCompile(`"took_ms":[0-9.eE+-]+`)
	tests := []struct {
		args   []string
		params url.Values
	}{
		{[]string{"wake", "word"}, url.Values{"q": {"wake word"}}},
		{[]string{"consequence=death", "consequence=harm", "sort=date"}, url.Values{"consequence": {"death", "harm"}, "sort": {"date"}}},
		{[]string{"q=outage", "domain=information", "from=2017", "to=2021-06", "page=2", "size=3"}, url.Values{"q": {"outage"}, "domain": {"information"}, "from": {"2017"}, "to": {"2021-06"}, "page": {"2"}, "size": {"3"}}},
		{[]string{`"wake word"`, "-hack", "year:2018"}, url.Values{"q": {`"wake word" -hack year:2018`}}},
	}
	for _, tt := range tests {
		code, out, errs := srchRun(t, dir, append(append([]string{"search"}, tt.args...), "--json")...)
		if code != 0 {
			t.Fatalf("%q: exit %d: %s", tt.args, code, errs)
		}
		resp, err := http.Get(base + "/api/v1/search?" + tt.params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		api, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("API: status %d: %s", resp.StatusCode, api)
		}
		got := took.ReplaceAllString(out, `"took_ms":0`)
		want := took.ReplaceAllString(string(api), `"took_ms":0`)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q: --json differs from the API (-api +cli):\n%s", tt.args, diff)
		}
	}
}

// TestSearchCommandSynonyms checks --synonyms: the user's sets are added to
// the shipped ones, and a bad file is refused naming its line.
func TestSearchCommandSynonyms(t *testing.T) {
	dir := srchIndex(t, indextest.Reports(t)...)
	tmp := t.TempDir()
	good := filepath.Join(tmp, "good.txt")
	if err := os.WriteFile(good, []byte("# ours\nzorblat, alexa\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := srchRun(t, dir, "search", "zorblat")
	if code != 0 || strings.Contains(out, "Alexa") {
		t.Fatalf("without the file: exit %d, stderr %q, stdout %q; want no Alexa hit", code, errs, out)
	}
	code, out, errs = srchRun(t, dir, "search", "--synonyms", good, "zorblat")
	if code != 0 || !strings.Contains(out, "Alexa") {
		t.Errorf("with the file: exit %d, stderr %q, stdout %q; want an Alexa hit", code, errs, out)
	}
	bad := filepath.Join(tmp, "bad.txt")
	if err := os.WriteFile(bad, []byte("a, b\nlonely\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = srchRun(t, dir, "search", "--synonyms", bad, "x")
	if code != 1 || !strings.Contains(errs, "bad.txt:2: a set needs at least two entries") {
		t.Errorf("bad file: exit %d, stderr %q; want exit 1 naming bad.txt:2", code, errs)
	}
}
