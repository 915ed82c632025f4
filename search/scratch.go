package search

import "sync"

// Scratch arrays of one entry per candidate document (bounds, sums,
// counts, document numbers) are a few megabytes per search at 100,000
// reports; they are reused across searches rather than left to the
// garbage collector.

// slicePool hands out zeroed slices of at least a length, reused.
type slicePool[T any] struct{ p sync.Pool }

// get returns a zeroed slice of length n.
func (sp *slicePool[T]) get(n int) []T {
	if v, ok := sp.p.Get().(*[]T); ok && cap(*v) >= n {
		s := (*v)[:n]
		clear(s)
		return s
	}
	return make([]T, n)
}

// put gives s back; the caller keeps no reference to it.
func (sp *slicePool[T]) put(s []T) {
	if cap(s) > 0 {
		sp.p.Put(&s)
	}
}

var (
	floatScratch slicePool[float64]
	countScratch slicePool[uint16]
	docScratch   slicePool[uint32]
	indexScratch slicePool[int]
	posScratch   slicePool[int32]
)
