package search

import (
	"context"
	"math"
	"sync"
)

// Score bounds of postings, for top-k retrieval without scoring every
// match (topk.go).
//
// A posting's score is docScore(freq, norm): the leaf's idf and weight
// times a unit score that depends only on the posting's frequency, its
// field's norm and the field's average length. For each (field, term) and
// each block of boundBlock documents of a segment, the engine keeps the
// largest unit score of the block's postings. Segments never change and the
// averages are those of the engine's snapshot, so the bounds are computed
// once, on first use, and kept (boundCache) for the life of the snapshot.
//
// The walk that computes a term's bounds reads every posting's frequency
// and norm anyway; they are kept beside the bounds (termPostings) within a
// budget of memory. Top-k then scores its few candidates from these arrays
// (a binary search each) instead of advancing zap's iterators, which
// decode every posting on the way to the next candidate: for a word in
// most reports, a few hundred candidates spread over the corpus cost as
// much as reading every posting of every field.

// boundBlock is the number of documents (segment-local numbers) a block
// bound covers.
const boundBlock = 32

// boundSlack widens a leaf's bound by far more than the rounding of
// docScore's few operations, so that a bound is never below a score
// computed in another order.
const boundSlack = 1 + 1e-9

// termBounds is the largest unit score per block of a term's postings in
// one field of one segment, rounded up; nil: the term is not in the
// segment.
type termBounds struct {
	blocks []float32
	post   *termPostings // nil: not kept (over budget, or a frequency too large)
}

// termPostings are a term's postings in one field of one segment, decoded:
// the documents (segment-local numbers, ascending, deleted ones included)
// with each one's frequency and norm, as zap's iterator gives them.
type termPostings struct {
	docs []uint32
	freq []uint32
	norm []float32 // zap keeps norms as float32: no precision is lost
}

// find returns the index of the first posting at or after document d,
// searching from index from.
func (tp *termPostings) find(from int, d uint32) int {
	return searchFrom(tp.docs, from, d)
}

// bytes is the memory the bounds and postings hold.
func (tb *termBounds) bytes() int {
	n := 64 + 4*len(tb.blocks)
	if tb.post != nil {
		n += 12 * len(tb.post.docs)
	}
	return n
}

// boundCache holds the termBounds of a snapshot's segments, by segment,
// field and term. It is dropped whole when it grows past maxBoundEntries
// or maxBoundBytes.
type boundCache struct {
	mu    sync.Mutex
	avg   map[string]float64 // per field: the average length the bounds were computed with
	m     map[boundKey]*termBounds
	bytes int // held by m

	noPostings bool // keep no decoded postings (tests compare with zap's iterators)
}

type boundKey struct {
	seg         int
	field, term string
}

// maxBoundEntries caps the cache's entries (bounds alone are about 12 KB
// per entry at 100,000 documents) and maxBoundBytes its memory, decoded
// postings included; a term's postings are kept only when they take at
// most maxPostingsBytes.
const (
	maxBoundEntries  = 1 << 12
	maxBoundBytes    = 192 << 20
	maxPostingsBytes = maxBoundBytes / 16
)

func newBoundCache() *boundCache {
	return &boundCache{avg: map[string]float64{}, m: map[boundKey]*termBounds{}}
}

// termBounds returns the bounds of leaf l's postings in segment si,
// computing them on first use.
func (s *segments) termBounds(ctx context.Context, si int, l *sleaf) (*termBounds, error) {
	c := s.bounds
	k := boundKey{seg: si, field: l.field, term: l.term}
	c.mu.Lock()
	if a, ok := c.avg[l.field]; ok && a != l.avg {
		// Another average length (cannot happen within one snapshot):
		// start afresh rather than mix units.
		c.avg, c.m, c.bytes = map[string]float64{}, map[boundKey]*termBounds{}, 0
	}
	c.avg[l.field] = l.avg
	tb, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return tb, nil
	}
	tb, err := s.computeBounds(ctx, si, l)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.m) >= maxBoundEntries || c.bytes+tb.bytes() > maxBoundBytes {
		c.m, c.bytes = map[boundKey]*termBounds{}, 0
	}
	if old, ok := c.m[k]; ok {
		c.bytes -= old.bytes()
	}
	c.m[k] = tb
	c.bytes += tb.bytes()
	c.mu.Unlock()
	return tb, nil
}

// postings returns the decoded postings of term in field of segment si
// when the cache holds them, else nil.
func (c *boundCache) postings(si int, field, term string) *termPostings {
	c.mu.Lock()
	defer c.mu.Unlock()
	if tb := c.m[boundKey{seg: si, field: field, term: term}]; tb != nil {
		return tb.post
	}
	return nil
}

// computeBounds reads every posting of l's term in l's field of segment si,
// keeping them decoded when they fit the budget.
func (s *segments) computeBounds(ctx context.Context, si int, l *sleaf) (*termBounds, error) {
	seg := s.segs[si]
	pl, err := postings(seg, l.field, []byte(l.term), nil)
	if err != nil {
		return nil, err
	}
	tb := &termBounds{}
	if pl == nil || pl.Count() == 0 {
		return tb, nil
	}
	unit := sleaf{avg: l.avg, idf: 1, weight: 1}
	blocks := make([]float64, (seg.Count()+boundBlock-1)/boundBlock)
	var tp *termPostings
	if n := pl.Count(); 12*n <= maxPostingsBytes && !s.bounds.noPostings {
		tp = &termPostings{docs: make([]uint32, 0, n), freq: make([]uint32, 0, n), norm: make([]float32, 0, n)}
	}
	it := pl.Iterator(true, true, false, nil)
	var lastFreq uint64
	var lastNorm, lastUnit float64 = -1, 0
	for n := 1; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		p, err := it.Next()
		if err != nil {
			return nil, err
		}
		if p == nil {
			break
		}
		freq, norm := p.Frequency(), p.Norm()
		if tp != nil {
			if f32 := float32(norm); freq > math.MaxUint32 || float64(f32) != norm {
				tp = nil
			} else {
				tp.docs = append(tp.docs, uint32(p.Number()))
				tp.freq = append(tp.freq, uint32(freq))
				tp.norm = append(tp.norm, f32)
			}
		}
		if freq != lastFreq || norm != lastNorm {
			lastFreq, lastNorm, lastUnit = freq, norm, unit.docScore(freq, norm)
		}
		b := p.Number() / boundBlock
		if lastUnit > blocks[b] {
			blocks[b] = lastUnit
		}
	}
	tb.post = tp
	tb.blocks = make([]float32, len(blocks))
	for i, v := range blocks {
		f := float32(v)
		if float64(f) < v {
			f = math.Nextafter32(f, float32(math.Inf(1)))
		}
		tb.blocks[i] = f
	}
	return tb, nil
}

// leafBound is the most a posting of l with unit score at most unit can
// add, never less than its docScore.
func leafBound(l *sleaf, unit float64) float64 {
	if unit == 0 {
		return 0
	}
	b := math.Abs(l.idf*l.weight) * unit * boundSlack
	if math.IsNaN(b) {
		return math.Inf(1)
	}
	return b
}
