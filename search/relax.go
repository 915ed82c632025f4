package search

import (
	"context"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
)

// Relaxing a query that matches nothing, and ranking by how well incidents
// match. When the words together match no incident (within the filters),
// words are dropped, the least informative first: words that match nothing
// at all, then the most frequent, until what is left matches something.
// Counts stay honest: a query some incident matches whole is never
// widened.
// Incidents are then ranked by the rules, in this order:
//
//  1. how many of the query's words they match (all of them, dropped ones
//     included);
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
			bm, err := e.clauseBits(ctx, c)
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
		bm, err := e.clauseBits(ctx, c)
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

// relaxBelow is the number of incidents having every word under which a
// query is relaxed: none.
const relaxBelow = 1

// relax drops groups of pq until the rest, within narrow (the filters'
// documents; nil for all), match relaxBelow documents. It returns which
// groups are kept (nil when none is dropped) and how many documents have
// every word.
func (ws *wordSets) relax(all, narrow *roaring.Bitmap) (keep []bool, strict uint64) {
	count := func(keep []bool) uint64 {
		m := ws.matching(all, keep)
		if narrow != nil {
			m.And(narrow)
		}
		return m.GetCardinality()
	}
	matches := func(keep []bool) bool { return count(keep) >= relaxBelow }
	var order []int
	for gi, bm := range ws.any {
		if bm != nil {
			order = append(order, gi)
		}
	}
	strict = count(nil)
	if len(order) < 2 || strict >= relaxBelow {
		return nil, strict
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := ws.any[order[i]].GetCardinality(), ws.any[order[j]].GetCardinality()
		if (a == 0) != (b == 0) {
			return a == 0
		}
		return a > b
	})
	keep = make([]bool, len(ws.any))
	for i := range keep {
		keep[i] = true
	}
	for _, gi := range order[:len(order)-1] {
		keep[gi] = false
		if matches(keep) {
			break
		}
	}
	return keep, strict
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
