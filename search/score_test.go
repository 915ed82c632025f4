package search

import (
	"math"
	"strings"
	"testing"

	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/scorer"
	bindex "github.com/blevesearch/bleve_index_api"
)

// TestDocScoreMatchesBleve holds docScore (with idf and the query weight
// prepare computes) to bleve's TermQueryScorer over a grid of term
// frequencies, field norms, document counts, document frequencies, boosts,
// query norms and average field lengths (0: tf-idf, else BM25).
func TestDocScoreMatchesBleve(t *testing.T) {
	sctx := &bsearch.SearchContext{DocumentMatchPool: bsearch.NewDocumentMatchPool(1, 0)}
	n := 0
	for _, avg := range []float64{0, 1, 12, 250} {
		for _, docCount := range []uint64{1, 33, 1000, 100000} {
			for _, docTerm := range []uint64{0, 1, 7, 33, 1000} {
				if docTerm > docCount {
					continue
				}
				for _, boost := range []float64{0, 0.5, 1, 2.5, 5} {
					for _, qnorm := range []float64{1, 0.3} {
						for _, freq := range []uint64{1, 2, 3, 17, scorer.MaxSqrtCache - 1, scorer.MaxSqrtCache, 500} {
							for _, length := range []float64{1, 4, 37, 1000} {
								norm := 1 / math.Sqrt(length)
								ts := scorer.NewTermQueryScorer([]byte("term"), "field", boost, docCount, docTerm, avg, bsearch.SearcherOptions{})
								ts.SetQueryNorm(qnorm)
								want := ts.Score(sctx, &bindex.TermFieldDoc{Freq: freq, Norm: norm}).Score

								l := &sleaf{boost: boost, avg: avg}
								l.idf = idf(avg, docCount, docTerm)
								l.weight = l.boost * l.idf * qnorm
								got := l.docScore(freq, norm)
								if got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
									t.Errorf("freq %d, length %g, docs %d, docTerm %d, boost %g, qnorm %g, avg %g: docScore %v, bleve %v",
										freq, length, docCount, docTerm, boost, qnorm, avg, got, want)
								}
								n++
							}
						}
					}
				}
			}
		}
	}
	t.Logf("%d scores agree", n)
}

// TestFieldBoostOrder checks the field weights: of three incidents with
// the same word, only in the title, only in the summary and only in the
// timeline, the title's ranks first, then the summary's, then the other.
// The rest of each report is the same, and the word is as rare in every
// field, so only the boosts decide.
func TestFieldBoostOrder(t *testing.T) {
	dir := t.TempDir()
	type report struct{ id, title, summary, timeline string }
	const word = "zyxwvutonium"
	filler := "A routine failure of a billing system during a release"
	for _, r := range []report{
		{"in-timeline", "Billing outage", filler, "The " + word + " job ran late."},
		{"in-title", "Billing " + word + " outage", filler, "The nightly job ran late."},
		{"in-summary", "Billing outage", filler + " " + word, "The nightly job ran late."},
	} {
		page := pageReport(r.title, "2020-01-01", r.summary, nil, []string{"1. https://example.com/" + r.id})
		page = replaceOnce(t, page, "System 1.", "Timeline "+r.timeline+"\nSystem 1.")
		writeFile(t, dir+"/"+r.id+".txt", page)
	}
	e := newTestEngine(t, dir)
	res := search(t, e, Request{Query: word})
	var got []string
	for _, h := range res.Hits {
		got = append(got, h.ID)
	}
	want := []string{"in-title", "in-summary", "in-timeline"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("order %v, want %v (scores %v)", got, want, scoresOf(res))
	}
	if !(res.Hits[0].Score > res.Hits[1].Score && res.Hits[1].Score > res.Hits[2].Score) {
		t.Errorf("scores %v are not strictly decreasing", scoresOf(res))
	}
	// The reference path agrees.
	asReference(e, func() {
		ref := search(t, e, Request{Query: word})
		for i := range ref.Hits {
			if ref.Hits[i].ID != res.Hits[i].ID {
				t.Errorf("reference order %v differs", hitIDs(ref))
				break
			}
		}
	})
}

// replaceOnce replaces the one occurrence of old in s.
func replaceOnce(tb testing.TB, s, old, new string) string {
	tb.Helper()
	if strings.Count(s, old) != 1 {
		tb.Fatalf("%q occurs %d times", old, strings.Count(s, old))
	}
	return strings.Replace(s, old, new, 1)
}

func scoresOf(res *Result) []float64 {
	var s []float64
	for _, h := range res.Hits {
		s = append(s, h.Score)
	}
	return s
}
