package search

import (
	"context"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// Relaxing a query that matches nothing, and ranking by how well incidents
// match. When the words together match no incident,
// the query asks for most of them instead: the incidents matching the
// largest number of its words that any incident matches (m of n). Among
// them relevance ranks those having the rarer, more informative words
// first, so the words left out are the least informative ones. Counts stay
// honest: a query some incident matches whole is never widened.
//
// Incidents are ranked by the rules, in this order:
//
//  1. how many of the query's words they match;
//  2. how few words they match only through a correction, a split form
//     or a synonym;
//  3. relevance (BM25, with the title weighing most, then the summary,
//     then the other fields; adjacent words matched as phrases);
//  4. publication date, newest first, then id.

// wordSets holds, for each group of a query, the documents matching any of
// its clauses and those matching it as written (nil for a group of stop
// words, which matches everything).
type wordSets struct {
	any, exact []*roaring.Bitmap
	excluded   *roaring.Bitmap // documents with an excluded word; nil if none
}

// wordSets computes the documents of each group of pq.
func (e *Engine) wordSets(ctx context.Context, pq *parsedQuery) (*wordSets, error) {
	ws := &wordSets{any: make([]*roaring.Bitmap, len(pq.groups)), exact: make([]*roaring.Bitmap, len(pq.groups))}
	for gi, g := range pq.groups {
		for _, c := range g {
			bm, err := e.clauseBits(ctx, pq, c)
			if err != nil {
				return nil, err
			}
			if bm == nil {
				continue
			}
			if ws.any[gi] == nil {
				ws.any[gi] = bm.Clone()
			} else {
				ws.any[gi].Or(bm)
			}
			if c.kind.exact() {
				if ws.exact[gi] == nil {
					ws.exact[gi] = bm.Clone()
				} else {
					ws.exact[gi].Or(bm)
				}
			}
		}
		if ws.any[gi] != nil && ws.exact[gi] == nil {
			ws.exact[gi] = roaring.New()
		}
	}
	for _, c := range pq.excluded {
		bm, err := e.clauseBits(ctx, pq, c)
		if err != nil {
			return nil, err
		}
		if bm == nil {
			continue
		}
		if ws.excluded == nil {
			ws.excluded = bm.Clone()
		} else {
			ws.excluded.Or(bm)
		}
	}
	return ws, nil
}

// matching returns the documents matching every group in keep (all groups
// when keep is nil) and no excluded word.
func (ws *wordSets) matching(all *roaring.Bitmap, keep []bool) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	for gi, bm := range ws.any {
		if bm != nil && (keep == nil || keep[gi]) {
			bms = append(bms, bm)
		}
	}
	var out *roaring.Bitmap
	switch len(bms) {
	case 0:
		out = all.Clone()
	case 1:
		out = bms[0].Clone()
	default:
		out = roaring.FastAnd(bms...)
	}
	if ws.excluded != nil {
		out.AndNot(ws.excluded)
	}
	return out
}

// relax returns the largest number m of groups that some document within
// narrow (the filters' documents; nil for all) matches, when that is less
// than all of them (0 otherwise, or when no document matches any group),
// and the documents matching at least m groups.
func (ws *wordSets) relax(all, narrow *roaring.Bitmap) (m int, words *roaring.Bitmap) {
	var groups []*roaring.Bitmap
	for _, bm := range ws.any {
		if bm != nil {
			groups = append(groups, bm)
		}
	}
	n := len(groups)
	if n < 2 {
		return 0, nil
	}
	// atLeast[k]: the documents matching k groups or more.
	atLeast := make([]*roaring.Bitmap, n+1)
	atLeast[0] = all.Clone()
	for k := 1; k <= n; k++ {
		atLeast[k] = roaring.New()
	}
	for gi, g := range groups {
		for k := gi + 1; k >= 1; k-- {
			atLeast[k].Or(roaring.And(atLeast[k-1], g))
		}
	}
	usable := func(bm *roaring.Bitmap) *roaring.Bitmap {
		out := bm.Clone()
		if ws.excluded != nil {
			out.AndNot(ws.excluded)
		}
		return out
	}
	within := func(bm *roaring.Bitmap) bool {
		if narrow != nil {
			return bm.Intersects(narrow)
		}
		return !bm.IsEmpty()
	}
	if within(usable(atLeast[n])) {
		return 0, nil
	}
	for k := n - 1; k >= 1; k-- {
		if u := usable(atLeast[k]); within(u) {
			return k, u
		}
	}
	return 0, nil
}

// missing lists the groups, by index, that some document of docs does not
// match, the most frequent first: the words a relaxed query left out.
func (ws *wordSets) missing(docs *roaring.Bitmap) []int {
	var out []int
	for gi, bm := range ws.any {
		if bm != nil && !roaring.AndNot(docs, bm).IsEmpty() {
			out = append(out, gi)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return ws.any[out[i]].GetCardinality() > ws.any[out[j]].GetCardinality()
	})
	return out
}

// rankKeys computes the first two ranking rules of a document.
type rankKeys struct {
	any, inexact []*roaring.Bitmap // per group; inexact nil where every match is exact
}

// newRankKeys returns the keys of ws, or nil when they are the same for
// every document that can match (nothing dropped, nothing inexact).
func newRankKeys(ws *wordSets, dropped bool) *rankKeys {
	k := &rankKeys{}
	needed := dropped
	for gi, bm := range ws.any {
		if bm == nil {
			continue
		}
		k.any = append(k.any, bm)
		var in *roaring.Bitmap
		if ex := ws.exact[gi]; ex != nil && ex.GetCardinality() != bm.GetCardinality() {
			in = roaring.AndNot(bm, ex)
			needed = true
		}
		k.inexact = append(k.inexact, in)
	}
	if !needed {
		return nil
	}
	return k
}

// set fills in c's keys.
func (k *rankKeys) set(c *scored) {
	if k == nil {
		return
	}
	for i, bm := range k.any {
		if bm.Contains(c.doc) {
			c.matched++
			if k.inexact[i] != nil && k.inexact[i].Contains(c.doc) {
				c.inexact++
			}
		}
	}
}

// keyTier is the documents sharing the same first two ranking keys.
type keyTier struct {
	matched, inexact uint8
	docs             *roaring.Bitmap
}

// tiers splits docs by their keys, best first (most words matched, then
// fewest inexact); every document of docs is in one tier. Without keys
// (k nil) every document is in one tier.
func (k *rankKeys) tiers(docs *roaring.Bitmap) []keyTier {
	type key struct{ matched, inexact uint8 }
	cur := map[key]*roaring.Bitmap{{}: docs}
	if k != nil {
		for i, bm := range k.any {
			next := map[key]*roaring.Bitmap{}
			add := func(kk key, b *roaring.Bitmap) {
				if b.IsEmpty() {
					return
				}
				if have := next[kk]; have != nil {
					have.Or(b)
				} else {
					next[kk] = b
				}
			}
			for kk, b := range cur {
				in := roaring.And(b, bm)
				add(kk, roaring.AndNot(b, bm))
				up := key{kk.matched + 1, kk.inexact}
				if k.inexact[i] == nil {
					add(up, in)
					continue
				}
				add(key{kk.matched + 1, kk.inexact + 1}, roaring.And(in, k.inexact[i]))
				add(up, roaring.AndNot(in, k.inexact[i]))
			}
			cur = next
		}
	}
	out := make([]keyTier, 0, len(cur))
	for kk, b := range cur {
		out = append(out, keyTier{matched: kk.matched, inexact: kk.inexact, docs: b})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].matched != out[j].matched {
			return out[i].matched > out[j].matched
		}
		return out[i].inexact < out[j].inexact
	})
	return out
}
