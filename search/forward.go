package search

import (
	"github.com/RoaringBitmap/roaring/v2"

	"github.com/faildex/faildex/index"
)

// Facet counts of few matches, document at a time.
//
// A facet count is the size of an intersection: the matches and an
// option's documents. Roaring intersects two dense containers by counting
// bits, fast whatever the matches; but a container holding fewer than 4,096
// documents is an array, and two arrays are intersected by a merge of
// both. When the matches are that sparse (3,000 of 10,000 reports: a word
// with filters, a filter, a phrase) a request of 17 facets runs about a
// hundred merges, each as long as the matches and the option together.
// Counting the other way round costs only the matches: for each match, one
// increment per facet value it has, read from a forward index (per
// document, the ids of its options, of the categories it is assessed in
// and of its year), built once when the engine opens.

// forward is the forward index of a generation's facet values.
type forward struct {
	start []uint32 // document d's ids are ids[start[d]:start[d+1]]
	ids   []uint32
	n     int // ids in use: counts are indexed by them
}

// buildForward numbers the facet values of f (each category's options, its
// assessed documents, the years) and builds their forward index.
func buildForward(f *facetIndex) *forward {
	fw := &forward{}
	type posting struct {
		id uint32
		bm *roaring.Bitmap
	}
	var all []posting
	add := func(bm *roaring.Bitmap) uint32 {
		id := uint32(fw.n)
		fw.n++
		all = append(all, posting{id, bm})
		return id
	}
	for _, c := range index.Facets {
		cb := f.cats[c.Name]
		cb.ids = make(map[string]uint32, len(cb.values))
		for _, v := range cb.indexed {
			cb.ids[v] = add(cb.values[v])
		}
		cb.assessedID = add(cb.assessed)
	}
	f.yearIDs = make(map[int]uint32, len(f.years))
	for y, bm := range f.years {
		f.yearIDs[y] = add(bm)
	}
	var docs uint32
	for _, p := range all {
		if !p.bm.IsEmpty() {
			docs = max(docs, p.bm.Maximum()+1)
		}
	}
	fw.start = make([]uint32, docs+1)
	var total uint32
	for _, p := range all {
		p.bm.Iterate(func(d uint32) bool {
			fw.start[d+1]++
			total++
			return true
		})
	}
	for d := 1; d < len(fw.start); d++ {
		fw.start[d] += fw.start[d-1]
	}
	fw.ids = make([]uint32, total)
	next := make([]uint32, docs)
	copy(next, fw.start[:docs])
	for _, p := range all {
		p.bm.Iterate(func(d uint32) bool {
			fw.ids[next[d]] = p.id
			next[d]++
			return true
		})
	}
	return fw
}

// sparse reports whether counting documents of ctx one at a time beats
// intersecting bitmaps: when ctx is mostly array containers (fewer than
// 4,096 documents per 65,536 numbers).
func (fw *forward) sparse(ctx *roaring.Bitmap) bool {
	containers := (uint64(len(fw.start)) + 1<<16 - 1) >> 16
	return ctx.GetCardinality() < 4096*max(containers, 1)
}

// count returns the number of documents of ctx having each id.
func (fw *forward) count(ctx *roaring.Bitmap) []uint32 {
	counts := make([]uint32, fw.n)
	it := ctx.ManyIterator()
	var buf [256]uint32
	for n := it.NextMany(buf[:]); n > 0; n = it.NextMany(buf[:]) {
		for _, d := range buf[:n] {
			if int(d)+1 >= len(fw.start) {
				continue // a document with no facet value
			}
			for _, id := range fw.ids[fw.start[d]:fw.start[d+1]] {
				counts[id]++
			}
		}
	}
	return counts
}

// facetCounter counts documents of a context: from the forward index when
// the context is sparse, else by intersecting bitmaps.
type facetCounter struct {
	ctx    *roaring.Bitmap
	counts []uint32 // nil: by bitmaps
}

func (f *facetIndex) counter(ctx *roaring.Bitmap) facetCounter {
	if f.fwd != nil && f.fwd.sparse(ctx) {
		return facetCounter{ctx: ctx, counts: f.fwd.count(ctx)}
	}
	return facetCounter{ctx: ctx}
}

// of returns the number of documents of the context in bm, whose id is id.
func (fc facetCounter) of(bm *roaring.Bitmap, id uint32) uint64 {
	if fc.counts != nil {
		return uint64(fc.counts[id])
	}
	return fc.ctx.AndCardinality(bm)
}
