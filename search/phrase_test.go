package search

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/index"
)

// TestPhraseAt pins the position check of a phrase.
func TestPhraseAt(t *testing.T) {
	for _, tt := range []struct {
		pos  [][]uint64
		offs []uint64
		want bool
	}{
		{[][]uint64{{1}, {2}}, []uint64{0, 1}, true},
		{[][]uint64{{2}, {1}}, []uint64{0, 1}, false},
		{[][]uint64{{1, 5, 9}, {3, 7, 10}}, []uint64{0, 1}, true},
		{[][]uint64{{1, 5, 9}, {3, 7, 11}}, []uint64{0, 1}, false},
		{[][]uint64{{1, 5}, {7}, {8}}, []uint64{0, 2, 3}, true}, // a stop word between the first two
		{[][]uint64{{1, 5}, {6}, {8}}, []uint64{0, 2, 3}, false},
		{[][]uint64{{4, 3}, {5, 9}, {3}}, []uint64{0, 1, 2}, false},
		{[][]uint64{{9, 3}, {4, 1}}, []uint64{0, 1}, true}, // unsorted
		{[][]uint64{{3, 4}, {3, 4}}, []uint64{0, 1}, true}, // "bug bug"
		{[][]uint64{{3}, {3}}, []uint64{0, 1}, false},
		{[][]uint64{{}, {3}}, []uint64{0, 1}, false},
	} {
		if got := phraseAt(tt.pos, tt.offs, make([]int, len(tt.pos))); got != tt.want {
			t.Errorf("phraseAt(%v, %v) = %v, want %v", tt.pos, tt.offs, got, tt.want)
		}
	}
}

// TestPhrasesMatchBleve holds phrases matched and scored from the postings'
// positions to bleve's phrase searcher: on many random phrases (runs of
// words taken from the reports, so most occur, with stop words between
// them, across field boundaries, or shuffled), each phrase's documents
// equal those of bleve's collect, and the score of every match equals
// bleve's scored searcher's, alone, scoped to a field, with other words,
// as an alternative and with filters.
func TestPhrasesMatchBleve(t *testing.T) {
	eachIndex(t, testPhrasesMatchBleve)
}

func testPhrasesMatchBleve(t *testing.T, e *Engine) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(16, 2))
	phrases := randomPhrases(t, e, rng, 120)
	matched, scoredReqs := 0, 0
	for i, ph := range phrases {
		pq := parseQuery(`"` + ph + `"`)
		c := pq.groups[0][0]
		got, ok, err := e.phraseBits(ctx, pq.phrases, c)
		if err != nil {
			t.Fatal(err)
		}
		terms, _, _ := e.phraseOf(ph)
		if len(terms) < 2 {
			if ok {
				t.Errorf("%q: %d terms matched as a phrase", ph, len(terms))
			}
			continue
		}
		if !ok {
			t.Fatalf("%q: the postings cannot tell the phrase", ph)
		}
		want, err := collect(ctx, e.reader, e.mapping, e.clauseQuery(c))
		if err != nil {
			t.Fatal(err)
		}
		if !got.Equals(want) {
			t.Errorf("%q: positions give %d documents, bleve %d", ph, got.GetCardinality(), want.GetCardinality())
		}
		if !got.IsEmpty() {
			matched++
		}
		word := strings.Fields(phrases[(i+1)%len(phrases)])[0]
		var queries []Request
		switch i % 6 {
		case 0:
			queries = []Request{{Query: `"` + ph + `"`}}
		case 1:
			queries = []Request{{Query: `summary:"` + ph + `" OR title:"` + ph + `"`}}
		case 2:
			queries = []Request{{Query: `"` + ph + `" ` + word}}
		case 3:
			queries = []Request{{Query: `"` + ph + `" OR ` + word}}
		case 4:
			queries = []Request{{Query: `"` + ph + `"`, Filters: map[string][]string{"domain": {"information", "finance"}}}}
		case 5:
			queries = []Request{{Query: `"` + ph + `" -` + word, From: "2010"}}
		}
		for _, req := range queries {
			if comparePhraseScores(t, e, req) {
				scoredReqs++
			}
		}
	}
	t.Logf("%d of %d phrases occur; %d requests scored from positions", matched, len(phrases), scoredReqs)
	if matched < len(phrases)/2 {
		t.Errorf("only %d of %d phrases occur: the test does not exercise positions", matched, len(phrases))
	}
	if scoredReqs < len(phrases)/3 {
		t.Errorf("only %d requests scored by phrases with matches", scoredReqs)
	}
}

// comparePhraseScores checks that the phrases producer scores every match
// of req as bleve's scored searcher does, and reports whether it scored
// any.
func comparePhraseScores(t *testing.T, e *Engine, req Request) bool {
	t.Helper()
	ctx := context.Background()
	p, err := e.plan(ctx, req)
	if err != nil {
		t.Fatalf("%+v: %v", req, err)
	}
	prod := e.producerFor(p)
	if prod != producerPhrases {
		return false
	}
	ms, err := e.matchSets(ctx, p, prod, nil)
	if err != nil {
		t.Fatal(err)
	}
	matched := ms.context("")
	n := int(matched.GetCardinality())
	got, err := e.scorePhrases(ctx, p, matched, n)
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.scanSearcher(ctx, p, n+1, true)
	if err != nil {
		t.Fatal(err)
	}
	if !want.bits.Equals(matched) {
		t.Fatalf("%+v: %d matches, bleve %d", req, n, want.bits.GetCardinality())
	}
	if len(got) != len(want.best) {
		t.Fatalf("%+v: %d scored, bleve %d", req, len(got), len(want.best))
	}
	for i := range got {
		g, w := got[i], want.best[i]
		if g.doc != w.doc || !closeScores(g.score, w.score) {
			t.Errorf("%+v: hit %d: document %d score %v, bleve document %d score %v", req, i, g.doc, g.score, w.doc, w.score)
			break
		}
	}
	return n > 0
}

// randomPhrases returns n phrases: runs of two to four words of random
// fields of random reports (some starting or ending in a stop word), runs
// across the end of one field and the start of the next, and shuffled runs.
func randomPhrases(tb testing.TB, e *Engine, rng *rand.Rand, n int) []string {
	tb.Helper()
	docs := e.facets.all.ToArray()
	var out []string
	for len(out) < n {
		in, err := e.storedIncident(docs[rng.IntN(len(docs))])
		if err != nil {
			tb.Fatal(err)
		}
		var texts []string
		for _, f := range index.TextFields {
			if v := *f.Get(in); v != "" {
				texts = append(texts, v)
			}
		}
		if len(texts) == 0 {
			continue
		}
		k := rng.IntN(len(texts))
		words := strings.Fields(texts[k])
		if len(words) < 2 {
			continue
		}
		size := 2 + rng.IntN(3)
		var w []string
		switch r := rng.IntN(10); {
		case r == 0 && k+1 < len(texts):
			// Across two fields: no document has it in one field
			// unless it happens to occur elsewhere.
			w = append(words[len(words)-1:], strings.Fields(texts[k+1])[0])
		case r == 1:
			start := rng.IntN(len(words) - 1)
			w = append([]string(nil), words[start:min(start+size, len(words))]...)
			rng.Shuffle(len(w), func(i, j int) { w[i], w[j] = w[j], w[i] })
		default:
			start := rng.IntN(len(words) - 1)
			w = words[start:min(start+size, len(words))]
		}
		ph := strings.Trim(strings.Join(w, " "), `"*-:`)
		ph = strings.NewReplacer(`"`, " ", ":", " ", "*", " ").Replace(ph)
		if strings.TrimSpace(ph) == "" || strings.HasPrefix(ph, "-") {
			continue
		}
		out = append(out, ph)
	}
	return out
}

// TestPhraseTreeCovers checks which queries the phrase tree scores.
func TestPhraseTreeCovers(t *testing.T) {
	e := fullCorpus.engine(t)
	for q, want := range map[string]bool{
		`"wake word"`: true, `"wake word" alexa`: true, `title:"software update" OR crash`: true,
		"wake e-mail": true, `"the wake of the word"`: true,
		"software": false, `"wake word" recor*`: false, "the": false, `"the"`: false,
	} {
		pq := parseQuery(q)
		if got := e.scoreTree(pq) == nil && e.phraseTree(pq) != nil; got != want {
			t.Errorf("%q: scored from positions %v, want %v", q, got, want)
		}
	}
}

// TestPhraseMemo checks that scoring phrases from the matches a request
// kept while matching gives what reading the postings' locations again
// gives.
func TestPhraseMemo(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 8))
		kept := 0
		for _, ph := range randomPhrases(t, e, rng, 40) {
			req := Request{Query: `"` + ph + `" OR software`}
			var got [2][]scored
			for i, memo := range []bool{true, false} {
				p, err := e.plan(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if p.phrases == nil {
					break
				}
				ms, err := e.matchSets(ctx, p, producerPhrases, nil)
				if err != nil {
					t.Fatal(err)
				}
				if memo {
					kept += len(p.n.parsed.phrases.m)
				} else {
					p.n.parsed.phrases = nil
				}
				if got[i], err = e.scorePhrases(ctx, p, ms.context(""), 50); err != nil {
					t.Fatal(err)
				}
			}
			if diff := cmp.Diff(got[0], got[1], cmp.AllowUnexported(scored{})); diff != "" {
				t.Errorf("%q: (-kept matches +postings)\n%s", req.Query, diff)
			}
		}
		if kept == 0 {
			t.Error("no phrase matches kept")
		}
	})
}
