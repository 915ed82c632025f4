package search

import (
	"context"
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/index"
)

// The differential tests: every producer and the bitmap matching against
// the reference path (bleve's own search), over a merged index and over
// one of many segments with deleted and replaced documents.

// eachIndex runs a differential test over the full corpus merged into one
// segment, spread over many, and updated live on disk.
func eachIndex(t *testing.T, test func(*testing.T, *Engine)) {
	t.Helper()
	t.Run("merged", func(t *testing.T) { test(t, fullCorpus.engine(t)) })
	t.Run("segments", func(t *testing.T) { test(t, segmentedCorpus.engine(t)) })
	t.Run("updated", func(t *testing.T) { test(t, updatedCorpus.engine(t)) })
}

// asReference runs fn with e answering every request by the reference path.
func asReference(e *Engine, fn func()) {
	e.reference = true
	defer func() { e.reference = false }()
	fn()
}

// TestProducerFor pins the rules of producerFor.
func TestProducerFor(t *testing.T) {
	e := fullCorpus.engine(t)
	for _, tt := range []struct {
		req  Request
		want producer
	}{
		{Request{}, producerOrder},
		{Request{Query: "software", Sort: SortTitle}, producerOrder},
		{Request{Query: `"wake word"`, Sort: SortDate}, producerOrder},
		{Request{Query: "software failure"}, producerPostings},
		{Request{Query: "ransomware OR malware -school", From: "2012"}, producerPostings},
		{Request{Query: "title:boeing causes:sensor", Filters: map[string][]string{"domain": {"finance"}}}, producerPostings}, // firmware has a synonym of two words, a phrase
		{Request{Query: `"wake word"`}, producerPhrases},
		{Request{Query: "recor*"}, producerPostings}, // its completions are plain words
		{Request{Query: "the"}, producerSearcher},
		{Request{Sort: SortRelevance}, producerSearcher},
	} {
		p, err := e.plan(context.Background(), tt.req)
		if err != nil {
			t.Fatalf("%+v: %v", tt.req, err)
		}
		if got := e.producerFor(p); got != tt.want {
			t.Errorf("%+v: producer %s, want %s", tt.req, got, tt.want)
		}
		asReference(e, func() {
			if got := e.producerFor(p); got != producerReference {
				t.Errorf("%+v: producer %s with the reference set", tt.req, got)
			}
		})
	}
}

// TestProducersMatchReference checks that results paged from the
// precomputed sort orders, the postings scorer and the scored searcher,
// with hits read from stored cards and incidents, are exactly those of
// bleve's own sorted search.
func TestProducersMatchReference(t *testing.T) {
	eachIndex(t, testProducersMatchReference)
}

func testProducersMatchReference(t *testing.T, e *Engine) {
	if e.segs == nil {
		t.Fatal("no segments over a scorch index")
	}
	var reqs []Request
	for _, sort := range []string{"", SortRelevance, SortDate, SortOldest, SortTitle, SortArticles} {
		for _, page := range []int{1, 2, 3} {
			reqs = append(reqs,
				Request{Sort: sort, Page: page, Size: 7},
				Request{Sort: sort, Page: page, Size: 5, Filters: map[string][]string{"domain": {"information", "finance"}, "phase": {"design"}}},
				Request{Sort: sort, Page: page, Size: 4, Query: "-consequence:property", From: "2015", To: "2021-06"},
				Request{Sort: sort, Page: page, Size: 6, Query: "software update"},
				Request{Sort: sort, Page: page, Size: 6, Query: `"wake word" OR recor*`, Filters: map[string][]string{"objective": {"malicious"}}},
				Request{Sort: sort, Page: page, Size: 9, Query: "system -amazon year:2018"},
				Request{Sort: sort, Page: page * 3, Size: 3, Query: "the software"},
				Request{Sort: sort, Page: page, Size: 5, Query: `"software update" -amazon`},
				Request{Sort: sort, Page: page, Size: 5, Query: `recor* OR "wake word"`},
				Request{Sort: sort, Page: page, Size: 5, Query: `e-mail`},
				Request{Sort: sort, Page: page, Size: 5, Query: `the -software`},
				// Scored from postings (scoreTree), with filters and dates.
				Request{Sort: sort, Page: page, Size: 5, Query: "software failure", Filters: map[string][]string{"domain": {"information", "finance"}, "phase": {"design"}}},
				Request{Sort: sort, Page: page, Size: 4, Query: "ransomware OR malware OR attack -school consequence:property", From: "2012"},
				Request{Sort: sort, Page: page, Size: 4, Query: "title:system OR summary:update the data"},
			)
		}
	}
	ctx := context.Background()
	nonEmpty := 0
	for _, req := range reqs {
		got, err := e.Search(ctx, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		var want *Result
		asReference(e, func() { want, err = e.Search(ctx, req) })
		if err != nil {
			t.Fatalf("%+v: reference: %v", req, err)
		}
		if len(want.Hits) > 0 {
			nonEmpty++
		}
		got.TookMS, want.TookMS = 0, 0
		// Scores computed from postings add the same terms in another
		// order than bleve: equal to 1e-9, the last bits may differ.
		for i := range got.Hits {
			if i < len(want.Hits) && closeScores(got.Hits[i].Score, want.Hits[i].Score) {
				got.Hits[i].Score = want.Hits[i].Score
			}
		}
		gj, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		wj, err := json.Marshal(want)
		if err != nil {
			t.Fatalf("%+v: reference: %v", req, err)
		}
		if string(gj) != string(wj) {
			t.Errorf("%+v: producers differ from the reference (-reference +producer):\n%s", req, cmp.Diff(want, got))
		}
	}
	if nonEmpty < len(reqs)/2 {
		t.Errorf("only %d of %d requests have hits: the corpus does not exercise the producers", nonEmpty, len(reqs))
	}
}

// TestTextBitsMatchBleve checks that the documents counted from postings
// bitmaps are those bleve's searchers find for the same words.
func TestTextBitsMatchBleve(t *testing.T) {
	eachIndex(t, testTextBitsMatchBleve)
}

func testTextBitsMatchBleve(t *testing.T, e *Engine) {
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
	e := fullCorpus.engine(t)
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

// TestEachMatchesReference checks that exporting through the producers
// gives the incidents bleve's paged searches give, in the same order.
func TestEachMatchesReference(t *testing.T) {
	eachIndex(t, testEachMatchesReference)
}

func testEachMatchesReference(t *testing.T, e *Engine) {
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
			{Sort: sort, Query: `"software update" OR syst*`, From: "2000"},
			{Sort: sort, Query: "-consequence:property", To: "2020"},
		} {
			got := ids(req)
			var want []string
			asReference(e, func() { want = ids(req) })
			if len(want) == 0 && req.Query == "" {
				t.Fatalf("%+v: nothing exported", req)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%+v: export differs from the reference (-reference +producer):\n%s", req, diff)
			}
		}
	}
}
