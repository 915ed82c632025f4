package search

import (
	"context"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// topKRequests are word requests the postings producer scores: common and
// rare words, several words, OR and exclusions, field scopes, completions,
// corrections, synonyms, a relaxed question and filters.
var topKRequests = []Request{
	{Query: "software"},
	{Query: "system"},
	{Query: "software failure"},
	{Query: "software update"},
	{Query: "ransomware OR malware -school"},
	{Query: "crash OR outage OR breach"},
	{Query: "title:boeing causes:sensor"},
	{Query: "recor*"},
	{Query: "configuraiton"},
	{Query: "outage"},
	{Query: "why did the software update take systems offline"},
	{Query: "software bank outage radiation"},
	{Query: "outage", Filters: map[string][]string{"domain": {"information"}}},
	{Query: "data", From: "2015"},
}

// TestTopKMatchesFullScoring checks that keeping the k best without
// scoring every match gives exactly the first k of all the matches scored
// and ranked (same documents, order, scores and keys), for k from 1 to
// past a deep page, and that it does leave matches unscored.
func TestTopKMatchesFullScoring(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		pruned := false
		for _, req := range topKRequests {
			p, err := e.plan(ctx, req)
			if err != nil {
				t.Fatalf("%+v: %v", req, err)
			}
			if prod := e.producerFor(p); prod != producerPostings {
				t.Fatalf("%+v: producer %s, want postings", req, prod)
			}
			matched, ranks := scoring(t, e, p)
			all, err := e.scoreAll(ctx, p, p.tree, matched, ranks, 0)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(len(all)) != matched.GetCardinality() {
				t.Fatalf("%+v: %d scored of %d", req, len(all), matched.GetCardinality())
			}
			for _, k := range []int{1, 2, 5, 20, 60, 400} {
				if k >= len(all) {
					continue
				}
				tk, err := e.topK(ctx, p.keys, p.tree, matched, k, ranks)
				if err != nil {
					t.Fatal(err)
				}
				got := []scored(tk.h)
				sort.Slice(got, func(i, j int) bool { return better(got[i], got[j]) })
				if diff := cmp.Diff(all[:k], got, cmp.AllowUnexported(scored{})); diff != "" {
					t.Errorf("%q %v k=%d: (-all +top-k)\n%s", req.Query, req.Filters, k, diff)
				}
				if tk.scored < len(all) {
					pruned = true
				}
				viaScore, err := e.score(ctx, p, p.tree, matched, k)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(all[:k], viaScore, cmp.AllowUnexported(scored{})); diff != "" {
					t.Errorf("%q %v k=%d, score: (-all +score)\n%s", req.Query, req.Filters, k, diff)
				}
			}
		}
		if !pruned {
			t.Error("every match scored for every request and k")
		}
	})
}

// scoring returns what scoring p's words from the postings takes: the
// documents matched, with the tree prepared, and the date ranks.
func scoring(t *testing.T, e *Engine, p *plan) (*roaring.Bitmap, []uint32) {
	t.Helper()
	ctx := context.Background()
	ms, err := e.matchSets(ctx, p, producerPostings, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.prepare(ctx, p.tree); err != nil {
		t.Fatal(err)
	}
	ranks, err := e.dateRanks(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	return ms.context(""), ranks
}

// TestScoreBounds checks the bounds top-k relies on: for every match of
// some requests, the tree evaluated on the block bounds of the leaves the
// document has is at least the document's score, and the bounds of all
// the matches computed term at a time are the same.
func TestScoreBounds(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		for _, req := range topKRequests[:8] {
			p, err := e.plan(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := e.matchSets(ctx, p, producerPostings, nil)
			if err != nil {
				t.Fatal(err)
			}
			matched := ms.context("")
			if err := e.prepare(ctx, p.tree); err != nil {
				t.Fatal(err)
			}
			ranks, err := e.dateRanks(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			all, err := e.scoreAll(ctx, p, p.tree, matched, ranks, 0)
			if err != nil {
				t.Fatal(err)
			}
			tk := e.newTopK(ctx, p.tree, 1, nil)
			docs := matched.ToArray()
			ub := make([]float64, len(docs))
			for si := range e.segs.segs {
				a, b := tk.segRange(si, docs)
				if a < b {
					if err := tk.bound(si, docs[a:b], ub[a:b]); err != nil {
						t.Fatal(err)
					}
				}
			}
			score := map[uint32]float64{}
			for _, c := range all {
				score[c.doc] = c.score
			}
			for i, d := range docs {
				if b := roundScore(ub[i]); b < score[d] {
					t.Errorf("%q: document %d scores %v, bound %v", req.Query, d, score[d], b)
				}
			}
		}
	})
}

// TestDecodedPostingsMatchIterators checks that scoring from the decoded
// postings the bounds cache keeps gives exactly what zap's iterators give:
// every match scored, and the k best by top-k.
func TestDecodedPostingsMatchIterators(t *testing.T) {
	eachIndex(t, func(t *testing.T, e *Engine) {
		ctx := context.Background()
		defer func(c *boundCache) { e.segs.bounds = c }(e.segs.bounds)
		run := func(noPostings bool) (all, best [][]scored, decoded int) {
			e.segs.bounds = newBoundCache()
			e.segs.bounds.noPostings = noPostings
			for _, req := range topKRequests {
				p, err := e.plan(ctx, req)
				if err != nil {
					t.Fatalf("%+v: %v", req, err)
				}
				matched, ranks := scoring(t, e, p)
				a, err := e.scoreAll(ctx, p, p.tree, matched, ranks, 0)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, a)
				tk, err := e.topK(ctx, p.keys, p.tree, matched, 20, ranks)
				if err != nil {
					t.Fatal(err)
				}
				got := []scored(tk.h)
				sort.Slice(got, func(i, j int) bool { return better(got[i], got[j]) })
				best = append(best, got)
			}
			for _, tb := range e.segs.bounds.m {
				if tb.post != nil {
					decoded++
				}
			}
			return all, best, decoded
		}
		allIt, bestIt, n := run(true)
		if n != 0 {
			t.Fatalf("%d terms' postings kept decoded with noPostings", n)
		}
		allDec, bestDec, n := run(false)
		if n == 0 {
			t.Fatal("no postings kept decoded")
		}
		opt := cmp.AllowUnexported(scored{})
		for i, req := range topKRequests {
			if diff := cmp.Diff(allIt[i], allDec[i], opt); diff != "" {
				t.Errorf("%q, every match: (-iterators +decoded)\n%s", req.Query, diff)
			}
			if diff := cmp.Diff(bestIt[i], bestDec[i], opt); diff != "" {
				t.Errorf("%q, top 20: (-iterators +decoded)\n%s", req.Query, diff)
			}
		}
	})
}

// TestIntersect checks intersect and searchFrom against a plain merge, on
// lists of many relative sizes and densities.
func TestIntersect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	list := func(n, span int) []uint32 {
		set := map[uint32]bool{}
		for len(set) < n && len(set) < span {
			set[uint32(rng.IntN(span))] = true
		}
		out := make([]uint32, 0, len(set))
		for d := range set {
			out = append(out, d)
		}
		slices.Sort(out)
		return out
	}
	for _, sizes := range [][2]int{{0, 5}, {5, 0}, {1, 1}, {3, 500}, {500, 3}, {200, 300}, {1000, 1000}, {50, 5000}} {
		const base = 100
		cands := list(sizes[0], 6000)
		posts := list(sizes[1], 6000)
		for i := range cands {
			cands[i] += base
		}
		var want, got [][2]int
		for i, c := range cands {
			for j, p := range posts {
				if c == p+base {
					want = append(want, [2]int{i, j})
				}
			}
		}
		intersect(cands, posts, base, func(i, j int) { got = append(got, [2]int{i, j}) })
		if !slices.Equal(want, got) {
			t.Errorf("sizes %v: intersect gave %d pairs, want %d", sizes, len(got), len(want))
		}
		for _, v := range []uint32{0, 1, 2999, 6000, 7000} {
			for _, from := range []int{0, len(posts) / 2, len(posts)} {
				w := from
				for w < len(posts) && posts[w] < v {
					w++
				}
				if g := searchFrom(posts, from, v); g != w {
					t.Errorf("searchFrom(%d, %d) = %d, want %d", from, v, g, w)
				}
			}
		}
	}
}

// TestTopHeap checks that offering matches to a topHeap keeps the k best,
// as sorting all of them does, with ties of every key but the rank.
func TestTopHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{0, 1, 7, 100, 2000} {
		all := make([]scored, n)
		for i := range all {
			all[i] = scored{matched: uint8(rng.IntN(3)), inexact: uint8(rng.IntN(2)), score: float64(rng.IntN(5)), rank: uint32(i), doc: uint32(i)}
		}
		rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
		want := slices.Clone(all)
		sort.Slice(want, func(i, j int) bool { return better(want[i], want[j]) })
		for _, k := range []int{1, 3, 20, 1000, 5000} {
			var h topHeap
			for _, c := range all {
				h.offer(c, k)
			}
			got := h.sorted()
			w := want[:min(k, len(want))]
			if diff := cmp.Diff(w, got, cmp.AllowUnexported(scored{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("n=%d k=%d: (-sorted +heap)\n%s", n, k, diff)
			}
		}
	}
}
