package search

import (
	"context"
	"encoding/json"
	"github.com/faildex/faildex/index"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFastPathsMatchBleve checks that results paged from the precomputed
// sort orders and from the engine's own relevance collector, with hits read
// from stored cards and incidents, are exactly those of bleve's own sorted
// search.
func TestFastPathsMatchBleve(t *testing.T) {
	requireShared(t)
	e := newTestEngine(t, fullCorpus.paths()...)
	if e.fast == nil {
		t.Fatal("no fast paths over a scorch index")
	}
	fast := e.fast
	var reqs []Request
	for _, sort := range []string{"", SortRelevance, SortDate, SortOldest, SortTitle, SortArticles} {
		for _, page := range []int{1, 2, 3} {
			reqs = append(reqs,
				Request{Sort: sort, Page: page, Size: 7},
				Request{Sort: sort, Page: page, Size: 5, Filters: map[string][]string{"domain": {"information", "finance"}, "phase": {"design"}}},
				Request{Sort: sort, Page: page, Size: 4, Query: "-consequence:property", From: "2015", To: "2021-06"},
			)
			reqs = append(reqs,
				Request{Sort: sort, Page: page, Size: 6, Query: "software update"},
				Request{Sort: sort, Page: page, Size: 6, Query: `"wake word" OR recor*`, Filters: map[string][]string{"objective": {"malicious"}}},
				Request{Sort: sort, Page: page, Size: 9, Query: "system -amazon year:2018"},
				Request{Sort: sort, Page: page * 3, Size: 3, Query: "the software"},
				Request{Sort: sort, Page: page, Size: 5, Query: `"software update" -amazon`},
				Request{Sort: sort, Page: page, Size: 5, Query: `recor* OR "wake word"`},
				Request{Sort: sort, Page: page, Size: 5, Query: `e-mail`},
				// Scored from postings (scoreTree), with filters and dates.
				Request{Sort: sort, Page: page, Size: 5, Query: "software failure", Filters: map[string][]string{"domain": {"information", "finance"}, "phase": {"design"}}},
				Request{Sort: sort, Page: page, Size: 4, Query: "ransomware OR malware OR attack -school consequence:property", From: "2012"},
				Request{Sort: sort, Page: page, Size: 4, Query: "title:system OR summary:update the data"},
			)
		}
	}
	ctx := context.Background()
	for _, req := range reqs {
		e.fast = fast
		got, err := e.Search(ctx, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		e.fast = nil
		want, err := e.Search(ctx, req)
		e.fast = fast
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		got.TookMS, want.TookMS = 0, 0
		// Scores computed from postings add the same terms in another
		// order than bleve: equal to 1e-9, the last bits may differ.
		for i := range got.Hits {
			if i < len(want.Hits) && closeScores(got.Hits[i].Score, want.Hits[i].Score) {
				got.Hits[i].Score = want.Hits[i].Score
			}
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%+v: fast paths differ from bleve (-bleve +fast):\n%s", req, cmp.Diff(want, got))
		}
	}
	t.Logf("%d requests agree", len(reqs))
}

// TestTextBitsMatchBleve checks that the documents counted from postings
// bitmaps are those bleve's searchers find for the same words.
func TestTextBitsMatchBleve(t *testing.T) {
	requireShared(t)
	e := newTestEngine(t, fullCorpus.paths()...)
	ctx := context.Background()
	for _, q := range []string{
		"software", "alexa", "wake word", `"wake word"`, "ransomware OR malware -school", "title:tesla causes:sensor*",
		"recor*", "-update failure", "the", "the OR software", "system failures crashed", "e-mail", "summary:amazon OR title:boeing",
		"organization:amazon -amazon", "3.14 U.S.A. can't", "zzzunknownword", "software -software",
	} {
		pq := parseQuery(q)
		tq, err := e.textQuery(pq)
		if err != nil {
			t.Fatal(err)
		}
		if tq == nil {
			continue
		}
		want, err := collect(ctx, e.reader, e.mapping, tq)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.textBits(ctx, pq)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equals(want) {
			t.Errorf("%q: postings give %d documents, bleve %d", q, got.GetCardinality(), want.GetCardinality())
		}
	}
}

func closeScores(a, b float64) bool {
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestScoreTreeCoversPlainWords checks which queries are scored from
// postings (plain words, OR, field scopes, exclusions) and which are left
// to bleve's searchers (phrases, prefixes, only stop words).
func TestScoreTreeCoversPlainWords(t *testing.T) {
	requireShared(t)
	e := fixedCorpus.engine(t)
	for q, want := range map[string]bool{
		"software": true, "wake word": true, "ransomware OR malware -school": true,
		"title:boeing causes:firmware": true, "the software": true, "consequence:death outage": true,
		`"wake word"`: false, "recor*": false, "the": false, "wake e-mail": false,
	} {
		pq := parseQuery(q)
		if got := e.scoreTree(pq) != nil; got != want {
			t.Errorf("%q: scored from postings %v, want %v", q, got, want)
		}
	}
}

// TestEachFastMatchesBleve checks that exporting through the fast paths
// gives the incidents bleve's paged searches give, in the same order.
func TestEachFastMatchesBleve(t *testing.T) {
	requireShared(t)
	e := fullCorpus.engine(t)
	fast := e.fast
	defer func() { e.fast = fast }()
	ids := func(req Request) []string {
		var out []string
		if err := e.Each(context.Background(), req, func(in *index.Incident) error {
			out = append(out, in.ID)
			return nil
		}); err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		return out
	}
	for _, sort := range []string{"", SortRelevance, SortDate, SortOldest, SortTitle, SortArticles} {
		for _, req := range []Request{
			{Sort: sort},
			{Sort: sort, Query: "software failure", Filters: map[string][]string{"domain": {"information", "finance"}}},
			{Sort: sort, Query: "ransomware OR malware -school", From: "2012"},
			{Sort: sort, Query: `"wake word" OR recor*`},
			{Sort: sort, Query: "-consequence:property", To: "2020"},
		} {
			e.fast = fast
			got := ids(req)
			e.fast = nil
			want := ids(req)
			if len(want) == 0 && req.Query == "" {
				t.Fatalf("%+v: nothing exported", req)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%+v: fast export differs from bleve's (-bleve +fast):\n%s", req, diff)
			}
		}
	}
}
