package search

import (
	"container/heap"
	"context"
	"math"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Top-k retrieval without scoring every match.
//
// The postings producer keeps the k best matches (k = page × size, so deep
// pages included) by the ranking rules of relax.go. Only the matches that
// could still enter the k best are scored:
//
//   - The first two rules (words matched, inexact matches) come from
//     bitmaps: the matches are split into tiers of equal keys
//     (rankKeys.tiers), taken best first, and a tier none of whose matches
//     can enter the k best is not read at all.
//   - Within a tier, every match gets a bound of its score, term at a
//     time from the postings bitmaps (cheap: no frequencies or norms are
//     read): each (field, term) leaf the document has, at the leaf's bound
//     for the document's block (bounds.go), put through the tree. The tree's
//     score is monotone in its leaves' scores and in which of them match,
//     so this bounds the document's score, with the coordination factors
//     exact.
//   - The k matches of largest bounds are scored first (document at a time,
//     reading frequencies and norms); the worst of them is a threshold,
//     and only the other matches whose bound reaches it are scored, in
//     document order, the threshold rising as better matches come.
//
// Pruning is exact: a document is skipped only when its bound, rounded
// like scores (roundScore), is below the threshold, so it could neither
// beat nor tie the worst of the k best. The scores of the documents kept
// are computed with the same additions in the same order as a full
// evaluation of the tree (value), so they do not depend on k.

// value evaluates n over its leaves' values (indexed by sleaf.idx) and
// whether each matches: the arithmetic of the scoring tree (see snode),
// the same for scores and for bounds. It is monotone: no value or match
// more can lower it.
func value(n *snode, vals []float64, hit []bool) float64 {
	if n.leaf != nil {
		if hit[n.leaf.idx] {
			return vals[n.leaf.idx]
		}
		return 0
	}
	if n.conj {
		var out float64
		for _, k := range n.kids {
			out += value(k, vals, hit)
		}
		return out
	}
	// A disjunction: the sum of the matching children times the share of
	// children that match; leaves first, as the postings are added.
	var sum float64
	hits := 0
	for _, k := range n.kids {
		if k.leaf != nil && hit[k.leaf.idx] {
			sum += vals[k.leaf.idx]
			hits++
		}
	}
	for _, k := range n.kids {
		if k.leaf == nil {
			if v := value(k, vals, hit); v != 0 {
				sum += v
				hits++
			}
		}
	}
	if hits == 0 {
		return 0
	}
	return sum * (float64(hits) / float64(len(n.kids)))
}

// score scores root over the documents in matched and returns the best k,
// best first (by the ranking rules: words matched, inexact matches, score,
// then newest first and id).
func (e *Engine) score(ctx context.Context, p *plan, root *snode, matched *roaring.Bitmap, k int) ([]scored, error) {
	if err := e.prepare(ctx, root); err != nil {
		return nil, e.searchErr(err)
	}
	if k <= 0 {
		return nil, nil
	}
	ranks, err := e.dateRanks(ctx, p)
	if err != nil {
		return nil, err
	}
	if uint64(k)*topKShare >= matched.GetCardinality() {
		// Every match is kept, or so large a share of them that reading
		// every posting once costs less than bounding and skipping.
		return e.scoreAll(ctx, p, root, matched, ranks, k)
	}
	tk, err := e.topK(ctx, p.keys, root, matched, k, ranks)
	if err != nil {
		return nil, e.searchErr(err)
	}
	return tk.h.sorted(), nil
}

// topKShare: top-k pruning is used when the matches outnumber k by this
// factor at least. At 10,000 reports, page 100 of a word in nearly every
// report (k = 2,000 of 9,864 matches) takes 8.3 ms of CPU with pruning and
// 5.5 ms without; page 25 (k = 500) 3.3 ms with and 5.4 without.
const topKShare = 8

// topK keeps the best k of matched in a heap by keys (nil: none), score
// and ranks (nil: none); root must be prepared.
func (e *Engine) topK(ctx context.Context, keys *rankKeys, root *snode, matched *roaring.Bitmap, k int, ranks []uint32) (*topK, error) {
	tk := e.newTopK(ctx, root, k, ranks)
	defer func() { posScratch.put(tk.pos); tk.pos = nil }()
	for _, t := range keys.tiers(matched) {
		if tk.full() {
			// The worst of the k best ranks before every match of this
			// tier (tiers come best first).
			break
		}
		if err := tk.tier(t); err != nil {
			return nil, err
		}
	}
	return tk, nil
}

// newTopK returns an empty top-k of root, which must be prepared.
func (e *Engine) newTopK(ctx context.Context, root *snode, k int, ranks []uint32) *topK {
	leaves := root.leaves(nil)
	for i, l := range leaves {
		l.idx = i
	}
	return &topK{
		e: e, ctx: ctx, root: root, leaves: leaves, ranks: ranks, k: k,
		h:    make(topHeap, 0, k),
		vals: make([]float64, len(leaves)),
		hit:  make([]bool, len(leaves)),
		tick: ticker{ctx: ctx},
	}
}

// topK is one top-k scoring of a tree.
type topK struct {
	e      *Engine
	ctx    context.Context
	root   *snode
	leaves []*sleaf
	ranks  []uint32
	k      int
	h      topHeap
	vals   []float64
	hit    []bool
	tick   ticker
	scored int // documents scored

	segState [][]segLeaf // per segment, once read
	pos      []int32     // scratch of bound: local document number -> index
}

func (tk *topK) full() bool { return len(tk.h) == tk.k }

// threshold is the rounded score a document of the current tier must reach
// to enter the k best, or -Inf while there is room.
func (tk *topK) threshold() float64 {
	if !tk.full() {
		return math.Inf(-1)
	}
	return tk.h[0].score
}

// push offers c to the k best.
func (tk *topK) push(c scored) {
	tk.h.offer(c, tk.k)
}

// segLeaf is a leaf's postings in one segment, kept for every tier.
type segLeaf struct {
	pl   segment.PostingsList // nil: the term is not in the segment
	tb   *termBounds
	bits *roaring.Bitmap // the segment's documents having the term; nil if zap cannot tell
}

// segLeaves returns the leaves' postings in segment si.
func (tk *topK) segLeaves(si int) ([]segLeaf, error) {
	if tk.segState == nil {
		tk.segState = make([][]segLeaf, len(tk.e.segs.segs))
	}
	if sl := tk.segState[si]; sl != nil {
		return sl, nil
	}
	segs := tk.e.segs
	seg := segs.segs[si]
	sl := make([]segLeaf, len(tk.leaves))
	for i, l := range tk.leaves {
		pl, err := postings(seg, l.field, []byte(l.term), nil)
		if err != nil {
			return nil, err
		}
		if pl == nil || pl.Count() == 0 {
			continue
		}
		tb, err := segs.termBounds(tk.ctx, si, l)
		if err != nil {
			return nil, err
		}
		if tb.blocks == nil {
			continue
		}
		sl[i] = segLeaf{pl: pl, tb: tb}
		if o, ok := pl.(postingsOrer); ok {
			sl[i].bits = roaring.New()
			o.OrInto(sl[i].bits)
		}
	}
	tk.segState[si] = sl
	return sl, nil
}

// cursor is a leaf's position in its postings in one segment.
type cursor struct {
	*segLeaf
	it     segment.PostingsIterator
	doc    uint64 // current posting; valid once started
	freq   uint64
	norm   float64
	start  bool // it has been advanced once
	done   bool // no postings left
	pi     int  // with decoded postings (tb.post): the index of doc
	lscore struct {
		freq uint64
		norm float64
		s    float64
		ok   bool
	}
}

// has reports whether the leaf may have document d: false only when it
// surely has not.
func (c *cursor) has(d uint32) bool {
	return c.pl != nil && (c.bits == nil || c.bits.Contains(d))
}

// at moves c to document d or past it and reports whether c has d.
func (c *cursor) at(d uint64) (bool, error) {
	if c.pl == nil || c.done {
		return false, nil
	}
	if c.start && c.doc >= d {
		return c.doc == d, nil
	}
	if tp := c.tb.post; tp != nil {
		c.pi = tp.find(c.pi, uint32(d))
		c.start = true
		if c.pi == len(tp.docs) {
			c.done = true
			return false, nil
		}
		c.doc, c.freq, c.norm = uint64(tp.docs[c.pi]), uint64(tp.freq[c.pi]), float64(tp.norm[c.pi])
		return c.doc == d, nil
	}
	if c.it == nil {
		c.it = c.pl.Iterator(true, true, false, nil)
	}
	p, err := c.it.Advance(d)
	if err != nil {
		return false, err
	}
	c.start = true
	if p == nil {
		c.done = true
		return false, nil
	}
	c.doc, c.freq, c.norm = p.Number(), p.Frequency(), p.Norm()
	return c.doc == d, nil
}

// score is the leaf's score of c's current posting.
func (c *cursor) score(l *sleaf) float64 {
	ls := &c.lscore
	if !ls.ok || ls.freq != c.freq || ls.norm != c.norm {
		ls.freq, ls.norm, ls.s, ls.ok = c.freq, c.norm, l.docScore(c.freq, c.norm), true
	}
	return ls.s
}

// tier scores the documents of one tier of equal keys, which all rank
// after those already kept.
func (tk *topK) tier(t keyTier) error {
	need := tk.k - len(tk.h)
	docs := docScratch.get(int(t.docs.GetCardinality()))
	defer docScratch.put(docs)
	fill(docs, t.docs)
	if len(docs) <= need {
		// Every document of the tier is kept.
		idx := numbered(indexScratch.get(len(docs)))
		defer indexScratch.put(idx)
		return tk.scoreDocs(docs, idx, t, nil)
	}
	// Each document's bound, from the postings bitmaps and block bounds.
	ub := floatScratch.get(len(docs))
	defer floatScratch.put(ub)
	segs := tk.e.segs
	for si := range segs.segs {
		a, b := tk.segRange(si, docs)
		if a == b {
			continue
		}
		if err := tk.bound(si, docs[a:b], ub[a:b]); err != nil {
			return err
		}
	}
	// The need documents of largest bound are scored first: the worst of
	// them gives the threshold for the others.
	first := largest(ub, need)
	sort.Ints(first)
	if err := tk.scoreDocs(docs, first, t, nil); err != nil {
		return err
	}
	th := tk.threshold()
	rest := indexScratch.get(len(docs))[:0]
	defer func() { indexScratch.put(rest) }()
	j := 0
	for i := range docs {
		if j < len(first) && first[j] == i {
			j++
			continue
		}
		if !(roundScore(ub[i]) < th) { // a NaN bound prunes nothing
			rest = append(rest, i)
		}
	}
	return tk.scoreDocs(docs, rest, t, ub)
}

// indexes returns 0, 1, ..., n-1.
func indexes(n int) []int { return numbered(make([]int, n)) }

// numbered sets out to 0, 1, ..., len(out)-1 and returns it.
func numbered(out []int) []int {
	for i := range out {
		out[i] = i
	}
	return out
}

// fill sets docs (of bm's cardinality) to bm's documents.
func fill(docs []uint32, bm *roaring.Bitmap) {
	it := bm.ManyIterator()
	for n := 0; n < len(docs); {
		got := it.NextMany(docs[n:])
		if got == 0 {
			break
		}
		n += got
	}
}

// segRange returns the part docs[a:b] of the ascending docs in segment si.
func (tk *topK) segRange(si int, docs []uint32) (a, b int) {
	segs := tk.e.segs
	lo := segs.offsets[si]
	hi := lo + segs.segs[si].Count()
	a = sort.Search(len(docs), func(i int) bool { return uint64(docs[i]) >= lo })
	b = sort.Search(len(docs), func(i int) bool { return uint64(docs[i]) >= hi })
	return a, b
}

// largest returns the indexes of the n largest values of v (n < len(v)).
func largest(v []float64, n int) []int {
	h := make(floatHeap, 0, n)
	for i, x := range v {
		if len(h) < n {
			h = append(h, bounded{i, x})
			if len(h) == n {
				heap.Init(&h)
			}
		} else if x > h[0].v {
			h[0] = bounded{i, x}
			heap.Fix(&h, 0)
		}
	}
	out := make([]int, len(h))
	for i, b := range h {
		out[i] = b.i
	}
	return out
}

type bounded struct {
	i int
	v float64
}

// floatHeap keeps the largest values with the smallest on top.
type floatHeap []bounded

func (h floatHeap) Len() int           { return len(h) }
func (h floatHeap) Less(i, j int) bool { return h[i].v < h[j].v }
func (h floatHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *floatHeap) Push(x any)        { *h = append(*h, x.(bounded)) }
func (h *floatHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// bound sets out[i] to a bound of the score of docs[i], all in segment si:
// the tree evaluated, term at a time, on the leaves that have each
// document (from the postings bitmaps) at their block bounds.
func (tk *topK) bound(si int, docs []uint32, out []float64) error {
	sl, err := tk.segLeaves(si)
	if err != nil {
		return err
	}
	lo := uint32(tk.e.segs.offsets[si])
	cand := roaring.New()
	local := docScratch.get(len(docs))
	defer docScratch.put(local)
	for i, d := range docs {
		local[i] = d - lo
	}
	cand.AddMany(local)
	if n := int(tk.e.segs.segs[si].Count()); len(tk.pos) < n {
		posScratch.put(tk.pos)
		tk.pos = posScratch.get(n)
	}
	for i, d := range local {
		tk.pos[d] = int32(i)
	}
	b := &bounder{tk: tk, sl: sl, cand: cand, pos: tk.pos, n: len(docs)}
	return b.eval(tk.root, out)
}

// bounder evaluates bounds of one segment's documents term at a time.
type bounder struct {
	tk   *topK
	sl   []segLeaf
	cand *roaring.Bitmap // segment-local numbers
	pos  []int32         // local number -> index
	n    int
}

// add adds leaf l's bound to out, and its matches to hits (if not nil),
// for the candidates having l.
func (b *bounder) add(l *sleaf, out []float64, hits []uint16) error {
	s := &b.sl[l.idx]
	if s.pl == nil {
		return nil
	}
	c := leafBound(l, 1)
	if s.bits == nil {
		// No bitmap: every candidate may have the leaf.
		b.cand.Iterate(func(d uint32) bool {
			i := b.pos[d]
			out[i] += c * float64(s.tb.blocks[d/boundBlock])
			if hits != nil {
				hits[i]++
			}
			return true
		})
		return nil
	}
	it := roaring.And(s.bits, b.cand).ManyIterator()
	buf := make([]uint32, 256)
	for n := it.NextMany(buf); n > 0; n = it.NextMany(buf) {
		if err := b.tk.tick.tick(); err != nil {
			return err
		}
		for _, d := range buf[:n] {
			i := b.pos[d]
			out[i] += c * float64(s.tb.blocks[d/boundBlock])
			if hits != nil {
				hits[i]++
			}
		}
	}
	return nil
}

// eval adds n's bounds to out: the arithmetic of value, term at a time.
func (b *bounder) eval(n *snode, out []float64) error {
	if n.leaf != nil {
		return b.add(n.leaf, out, nil)
	}
	if n.conj {
		for _, k := range n.kids {
			if err := b.eval(k, out); err != nil {
				return err
			}
		}
		return nil
	}
	sum := floatScratch.get(b.n)
	defer floatScratch.put(sum)
	hits := countScratch.get(b.n)
	defer countScratch.put(hits)
	for _, k := range n.kids {
		if k.leaf != nil {
			if err := b.add(k.leaf, sum, hits); err != nil {
				return err
			}
		}
	}
	return coordinate(n, sum, hits, out, b.eval)
}

// scoreDocs scores the documents docs[i] for i in idx (ascending) and
// offers them to the k best. With ub, a document whose bound ub[i] is below
// the threshold is skipped.
func (tk *topK) scoreDocs(docs []uint32, idx []int, t keyTier, ub []float64) error {
	skip := func(i int) bool { return ub != nil && roundScore(ub[i]) < tk.threshold() }
	return tk.exact(docs, idx, skip, func(i int, s float64) {
		doc := docs[i]
		var rank uint32
		if tk.ranks != nil {
			rank = tk.ranks[doc]
		}
		tk.push(scored{matched: t.matched, inexact: t.inexact, score: roundScore(s), rank: rank, doc: doc})
	})
}

// exact calls fn with the score of docs[i] (ascending) for each i in idx
// but those skip (if not nil) rejects.
func (tk *topK) exact(docs []uint32, idx []int, skip func(i int) bool, fn func(i int, s float64)) error {
	vals, hit := tk.vals, tk.hit
	segs := tk.e.segs
	for si := range segs.segs {
		lo := uint32(segs.offsets[si])
		hi := uint64(lo) + segs.segs[si].Count()
		a := sort.Search(len(idx), func(j int) bool { return docs[idx[j]] >= lo })
		b := sort.Search(len(idx), func(j int) bool { return uint64(docs[idx[j]]) >= hi })
		if a == b {
			continue
		}
		sl, err := tk.segLeaves(si)
		if err != nil {
			return err
		}
		cur := make([]cursor, len(tk.leaves))
		for i := range cur {
			cur[i].segLeaf = &sl[i]
		}
		for _, i := range idx[a:b] {
			if err := tk.tick.tick(); err != nil {
				return err
			}
			if skip != nil && skip(i) {
				continue
			}
			d32 := docs[i] - lo
			clear(hit)
			for li := range cur {
				c := &cur[li]
				if !c.has(d32) {
					continue
				}
				ok, err := c.at(uint64(d32))
				if err != nil {
					return err
				}
				if ok {
					vals[li], hit[li] = c.score(tk.leaves[li]), true
				}
			}
			tk.scored++
			fn(i, value(tk.root, vals, hit))
		}
	}
	return nil
}
