package search

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Queries as people type them, over the bundled corpus (present in every
// run): the incident sought must come first. want lists the acceptable
// first hits.
var readingCases = []struct {
	kind, q    string
	want       []string
	suggestion string   // the did-you-mean query, if any
	dropped    []string // words left out, if any
}{
	{"typo", "crowdstirke outage", []string{"2024-crowdstrike-falcon-channel-file-291"}, "crowdstrike outage", nil},
	{"typo", "heartbleeed", []string{"2014-heartbleed-openssl"}, "heartbleed", nil},
	{"typo", "knight captial", []string{"2012-knight-capital-trading-loss"}, "knight capital", nil},
	{"typo", "colonail pipeline", []string{"2021-colonial-pipeline-ransomware"}, "colonial pipeline", nil},
	{"typing", "crowdst", []string{"2024-crowdstrike-falcon-channel-file-291"}, "", nil},
	{"typing", "colonial pip", []string{"2021-colonial-pipeline-ransomware"}, "", nil},
	{"typing", "boeing 737 m", []string{"2018-boeing-737-max-mcas-crashes", "2746"}, "", nil},
	{"prefix", "heartbl*", []string{"2014-heartbleed-openssl"}, "", nil},
	{"synonym", "hacked car", []string{"2015-jeep-cherokee-remote-hack"}, "", nil},
	{"synonym", "plane nose down software", []string{"2018-boeing-737-max-mcas-crashes", "2008-qantas-flight-72-uncommanded-pitch-down"}, "", nil},
	{"synonym", "engineer wiped production db", []string{"2017-gitlab-production-database-deletion"}, "", nil},
	{"question", "how did one typo take down amazon s3", []string{"2017-aws-s3-us-east-1-outage"}, "", nil},
	{"split", "wakeword", []string{"2018-amazon-echo-recorded-conversation", "000_123143f11ad7b5f7"}, "", nil},
	{"split", "ariane5", []string{"1996-ariane-5-flight-501"}, "", nil},
	{"joined", "solar winds", []string{"2020-solarwinds-orion-supply-chain-attack"}, "", nil},
	{"unicode", "ｃｒｏｗｄｓｔｒｉｋｅ", []string{"2024-crowdstrike-falcon-channel-file-291"}, "", nil},
	{"relaxed", "heartbleed zebrafish", []string{"2014-heartbleed-openssl"}, "", []string{"zebrafish"}},
	{"exact", "wake word", []string{"2018-amazon-echo-recorded-conversation", "000_123143f11ad7b5f7"}, "", nil},
}

func TestReadingQueries(t *testing.T) {
	e := fullCorpus.engine(t)
	for _, tc := range readingCases {
		t.Run(tc.kind+"/"+tc.q, func(t *testing.T) {
			res := search(t, e, Request{Query: tc.q, Size: 10})
			if len(res.Hits) == 0 {
				t.Fatalf("%q: no hits", tc.q)
			}
			if !slices.Contains(tc.want, res.Hits[0].ID) {
				t.Errorf("%q: first hit %s, want one of %v (hits %v)", tc.q, res.Hits[0].ID, tc.want, hitIDs(res))
			}
			if res.Suggestion != tc.suggestion {
				t.Errorf("%q: suggestion %q, want %q", tc.q, res.Suggestion, tc.suggestion)
			}
			var dropped []string
			if res.Relaxed != nil {
				dropped = res.Relaxed.Dropped
			}
			if tc.dropped != nil && !slices.Equal(dropped, tc.dropped) {
				t.Errorf("%q: dropped %v, want %v", tc.q, dropped, tc.dropped)
			}
			if tc.dropped == nil && tc.kind != "question" && dropped != nil {
				t.Errorf("%q: dropped %v, want none", tc.q, dropped)
			}
		})
	}
}

// TestExactOutranksCorrected checks the ranking rules: incidents having a
// word as typed come before those matching it only through a synonym.
func TestExactOutranksCorrected(t *testing.T) {
	e := fullCorpus.engine(t)
	res := search(t, e, Request{Query: "aircraft", Size: 100})
	exact := search(t, e, Request{Query: `"aircraft"`, Size: 100})
	if res.Total <= exact.Total {
		t.Fatalf("aircraft: %d hits, the word alone %d; want synonyms to add some", res.Total, exact.Total)
	}
	for i, h := range res.Hits[:exact.Total] {
		if !slices.Contains(hitIDs(exact), h.ID) {
			t.Errorf("hit %d (%s) matches only through a synonym, before an incident with the word", i+1, h.ID)
		}
	}
}

// TestOnlyExclusions checks that a query of only exclusions matches every
// incident without the words.
func TestOnlyExclusions(t *testing.T) {
	e := fullCorpus.engine(t)
	all := search(t, e, Request{})
	with := search(t, e, Request{Query: `"ransomware"`})
	without := search(t, e, Request{Query: "-ransomware"})
	if with.Total == 0 || without.Total != all.Total-with.Total {
		t.Errorf("-ransomware: %d hits; all %d, with the word %d", without.Total, all.Total, with.Total)
	}
	if len(without.Notices) != 0 {
		t.Errorf("-ransomware: notices %q", without.Notices)
	}
}

// TestPastedLogLine checks that text pasted from a log is read as words.
func TestPastedLogLine(t *testing.T) {
	e := fullCorpus.engine(t)
	res := search(t, e, Request{Query: "Error: connection timed out"})
	if res.Total == 0 {
		t.Errorf("no hits")
	}
	if !strings.Contains(strings.Join(res.Notices, " "), `"Error:" is not a field name`) {
		t.Errorf("notices %q", res.Notices)
	}
}

// TestIDWords checks that the words of an incident's id are searchable.
func TestIDWords(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "one.jsonl")
	line := `{"id": "2031-quokka-ledger-outage", "title": "A ledger stopped", "published": "2031-01-02", "summary": "The ledger stopped."}` + "\n"
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	e := newTestEngine(t, path)
	res := search(t, e, Request{Query: "quokka"})
	if res.Total != 1 {
		t.Errorf("quokka: %d hits, want the incident whose id has the word", res.Total)
	}
}

func TestParseSynonyms(t *testing.T) {
	if DefaultSynonyms().Len() < 50 {
		t.Errorf("the shipped file has %d sets", DefaultSynonyms().Len())
	}
	for _, tc := range []struct{ in, err string }{
		{"a, b\n\n# c\n", ""},
		{"a\n", "f.txt:1: a set needs at least two entries"},
		{"a, b\nc,,d\n", "f.txt:2: empty entry"},
		{"a, b,\n", "f.txt:1: empty entry"},
		{"a, --\n", `f.txt:1: entry "--" has no letters or digits`},
		{"a, b\xff\n", "f.txt: not valid UTF-8"},
	} {
		_, err := ParseSynonyms("f.txt", []byte(tc.in))
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
		}
	}
}
