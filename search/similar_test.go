package search

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sort"
	"testing"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

// similarCorpus is the bundled and the shared corpus together, which the
// judged similar incidents (testdata/similar.json) come from.
var similarCorpus = &corpus{name: "similar", paths: func(tb testing.TB) []string {
	seeds, csv := indextest.Shared(tb)
	return []string{seeds, csv, indextest.DataDir()}
}}

// Precision floors of the judged similar incidents, a little below what
// was measured when the ranking was written (see TestSimilarPrecision).
const (
	similarP5Floor       = 0.35 // hits among the first 5, out of 5 (measured 0.369)
	similarP5CappedFloor = 0.52 // out of min(5, judged) (measured 0.556)
)

// TestSimilarPrecision measures the similar incidents against the judged
// set: precision at 5, and precision at 5 out of the judged incidents when
// fewer than 5 were judged similar.
func TestSimilarPrecision(t *testing.T) {
	e := similarCorpus.engine(t)
	raw, err := os.ReadFile("testdata/similar.json")
	if err != nil {
		t.Fatal(err)
	}
	var judged struct {
		Queries map[string][]string `json:"queries"`
	}
	if err := json.Unmarshal(raw, &judged); err != nil {
		t.Fatal(err)
	}
	if len(judged.Queries) < 30 {
		t.Fatalf("%d judged incidents, want at least 30", len(judged.Queries))
	}
	ids := make([]string, 0, len(judged.Queries))
	for id := range judged.Queries {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var p5, capped float64
	for _, id := range ids {
		rel := map[string]bool{}
		for _, r := range judged.Queries[id] {
			rel[r] = true
		}
		res, err := e.Similar(context.Background(), id, 5)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		hits := 0
		var got []string
		for _, s := range res.Similar {
			mark := " "
			if rel[s.ID] {
				hits++
				mark = "+"
			}
			got = append(got, mark+s.ID)
		}
		p5 += float64(hits) / 5
		capped += float64(hits) / float64(min(5, len(rel)))
		t.Logf("%s: %d/%d %q", id, hits, min(5, len(rel)), got)
	}
	p5 /= float64(len(ids))
	capped /= float64(len(ids))
	t.Logf("precision@5 %.3f; out of min(5, judged) %.3f; %d incidents", p5, capped, len(ids))
	if p5 < similarP5Floor || capped < similarP5CappedFloor {
		t.Errorf("precision@5 %.3f (floor %.2f), out of min(5, judged) %.3f (floor %.2f)", p5, similarP5Floor, capped, similarP5CappedFloor)
	}
}

// TestSimilarExplains checks that each similar incident says why: the
// words and options it shares, which the incident and it both have.
func TestSimilarExplains(t *testing.T) {
	e := similarCorpus.engine(t)
	res, err := e.Similar(context.Background(), "2017-wannacry-ransomware-nhs", 5)
	if err != nil {
		t.Fatal(err)
	}
	if res.Title == "" || len(res.Similar) != 5 {
		t.Fatalf("title %q, %d similar; want the incident's title and 5", res.Title, len(res.Similar))
	}
	src, _ := e.Incident(context.Background(), res.ID)
	for i, s := range res.Similar {
		if s.ID == res.ID {
			t.Errorf("the incident is similar to itself")
		}
		if i > 0 && s.Score > res.Similar[i-1].Score {
			t.Errorf("scores not descending: %v", res.Similar)
		}
		if len(s.SharedTerms) == 0 && len(s.SharedOptions) == 0 {
			t.Errorf("%s: no reason given", s.ID)
		}
		other, _ := e.Incident(context.Background(), s.ID)
		for _, o := range s.SharedOptions {
			if !hasOption(src, o.Field, o.Value) || !hasOption(other, o.Field, o.Value) {
				t.Errorf("%s: shared option %s=%s is not both's", s.ID, o.Field, o.Value)
			}
		}
	}
	found := false
	for _, s := range res.Similar {
		for _, w := range s.SharedTerms {
			found = found || w == "ransomware"
		}
	}
	if !found {
		t.Errorf("no similar incident shares the word ransomware: %+v", res.Similar)
	}
}

func hasOption(in *index.Incident, cat, v string) bool {
	for _, o := range in.Taxonomy[cat].Options {
		if o == v {
			return true
		}
	}
	return false
}

func TestSimilarErrors(t *testing.T) {
	e := similarCorpus.engine(t)
	if _, err := e.Similar(context.Background(), "no-such-incident", 5); !errors.Is(err, index.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	for _, n := range []int{0, MaxSimilar + 1} {
		var se *Error
		if _, err := e.Similar(context.Background(), "2746", n); !errors.As(err, &se) || se.Param != "size" {
			t.Errorf("size %d: %v, want an error about size", n, err)
		}
	}
}
