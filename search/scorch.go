package search

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/scorer"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// This file is the engine's only door into bleve's storage internals: the
// scorch snapshot, its zap segments, their postings lists and stored
// fields, scorch's internal document ids and the scorer package's term
// score. Everything else works with document numbers (uint32 bitmap keys)
// and calls the small API below:
//
//	newSegments       the segments of a reader (nil when it is not scorch)
//	docNum, internalID  scorch internal ids <-> document numbers
//	(*segments).stored  one stored field of a document
//	(*segments).termBits  the live documents having a term in a field
//	(*segments).newPostingScorer, (*postingScorer).add  score postings
//	(*sleaf).docScore   bleve's term score of one posting
//
// Document numbers are scorch's: a document's number is its segment's
// offset (the documents of the segments before it, deleted ones included)
// plus its number in the segment. They hold across any number of segments;
// deleted and replaced documents are removed by intersecting with the live
// documents (facetIndex.all), never assumed absent.

// segments is the read-only scorch snapshot the engine holds.
type segments struct {
	segs    []segment.Segment
	offsets []uint64 // first document number of each segment
	live    *roaring.Bitmap
	bounds  *boundCache // score bounds of postings (bounds.go)
}

// newSegments returns nil when the reader is not a scorch snapshot.
func newSegments(r bindex.IndexReader, live *roaring.Bitmap) *segments {
	snap, ok := r.(*scorch.IndexSnapshot)
	if !ok {
		return nil
	}
	s := &segments{live: live, bounds: newBoundCache()}
	var running uint64
	for _, ss := range snap.Segments() {
		s.segs = append(s.segs, ss.Segment())
		s.offsets = append(s.offsets, running)
		running += ss.Segment().Count()
	}
	return s
}

// docNum converts a scorch internal id (8 bytes, big-endian) to a document
// number.
func docNum(id bindex.IndexInternalID) (uint32, error) {
	if len(id) != 8 {
		return 0, fmt.Errorf("search: internal id of %d bytes", len(id))
	}
	n := binary.BigEndian.Uint64(id)
	if n > 1<<32-1 {
		return 0, fmt.Errorf("search: internal id %d out of range", n)
	}
	return uint32(n), nil
}

// internalID writes document number n as a scorch internal id into buf
// (which must have room for 8 bytes) and returns it.
func internalID(buf bindex.IndexInternalID, n uint32) bindex.IndexInternalID {
	buf = buf[:8]
	binary.BigEndian.PutUint64(buf, uint64(n))
	return buf
}

// locate returns the segment holding document number n and n's number in it.
func (s *segments) locate(n uint32) (segment.Segment, uint64, error) {
	i := sort.Search(len(s.offsets), func(i int) bool { return s.offsets[i] > uint64(n) }) - 1
	if i < 0 {
		return nil, 0, fmt.Errorf("search: document %d in no segment", n)
	}
	return s.segs[i], uint64(n) - s.offsets[i], nil
}

// stored returns a copy of one stored field of document n (nil if absent).
func (s *segments) stored(n uint32, field string) ([]byte, error) {
	return s.storedInto(n, field, nil)
}

// storedInto is stored appending to buf: nil when the document has no
// such field.
func (s *segments) storedInto(n uint32, field string, buf []byte) ([]byte, error) {
	seg, local, err := s.locate(n)
	if err != nil {
		return nil, err
	}
	var out []byte
	err = seg.VisitStoredFields(local, func(name string, typ byte, value []byte, pos []uint64) bool {
		if name == field {
			out = append(buf, value...)
			return false
		}
		return true
	})
	return out, err
}

// postingsOrer is implemented by zap postings lists: OrInto adds the list's
// documents (segment-local numbers, deletions not applied) to a bitmap.
type postingsOrer interface {
	OrInto(*roaring.Bitmap)
}

// postings returns the postings of term in field of seg, leaving out the
// documents of except (nil: none).
func postings(seg segment.Segment, field string, term []byte, except *roaring.Bitmap) (segment.PostingsList, error) {
	dict, err := seg.Dictionary(field)
	if err != nil {
		return nil, err
	}
	return dict.PostingsList(term, except, nil)
}

// termBits returns the live documents having term in field, straight from
// the segments' postings bitmaps; ok is false when a segment does not
// support it.
func (s *segments) termBits(field, term string) (bm *roaring.Bitmap, ok bool, err error) {
	bm, ok, err = s.termBitsAll(field, term)
	if ok {
		bm.And(s.live)
	}
	return bm, ok, err
}

// termBitsAll is termBits with the deleted documents left in.
func (s *segments) termBitsAll(field, term string) (bm *roaring.Bitmap, ok bool, err error) {
	bm = roaring.New()
	for i, seg := range s.segs {
		pl, err := postings(seg, field, []byte(term), nil)
		if err != nil {
			return nil, false, err
		}
		o, isOrer := pl.(postingsOrer)
		if !isOrer {
			return nil, false, nil
		}
		if s.offsets[i] == 0 {
			o.OrInto(bm)
			continue
		}
		local := roaring.New()
		o.OrInto(local)
		bm.Or(roaring.AddOffset64(local, int64(s.offsets[i])))
	}
	return bm, true, nil
}

// docScore is bleve's TermQueryScorer score of one posting of the leaf's
// term: freq occurrences in a field of norm 1/sqrt(length). It is the
// arithmetic of scorer.TermQueryScorer.Score without its DocumentMatch
// and term locations, pinned to it by TestDocScoreMatchesBleve.
func (l *sleaf) docScore(freq uint64, norm float64) float64 {
	var tf float64
	if freq < scorer.MaxSqrtCache {
		tf = scorer.SqrtCache[int(freq)]
	} else {
		tf = math.Sqrt(float64(freq))
	}
	var s float64
	if l.avg > 0 {
		fieldLength := 1 / (norm * norm)
		s = l.idf * (tf * bsearch.BM25_k1) /
			(tf + bsearch.BM25_k1*(1-bsearch.BM25_b+(bsearch.BM25_b*fieldLength/l.avg)))
	} else {
		s = tf * norm * l.idf
	}
	if l.weight != 1.0 {
		s *= l.weight
	}
	return s
}

// postingScorer evaluates a tree over a fixed, sorted set of documents.
type postingScorer struct {
	s      *segments
	docs   []uint32          // the documents to score, ascending
	set    *roaring.Bitmap   // the same documents
	pos    []int32           // document number -> index in docs, or -1; made on first use (index)
	except []*roaring.Bitmap // per segment: its documents not in docs; made on first use (exceptIn)
	exOK   []bool            // per segment: except is made
}

func (s *segments) newPostingScorer(docs *roaring.Bitmap) *postingScorer {
	return &postingScorer{s: s, docs: docs.ToArray(), set: docs}
}

// index returns the index in docs of document d, or -1.
func (ps *postingScorer) index(d uint64) int32 {
	if ps.pos == nil && len(ps.docs) > 0 {
		ps.pos = make([]int32, ps.docs[len(ps.docs)-1]+1)
		for i := range ps.pos {
			ps.pos[i] = -1
		}
		for i, d := range ps.docs {
			ps.pos[d] = int32(i)
		}
	}
	if d >= uint64(len(ps.pos)) {
		return -1
	}
	return ps.pos[d]
}

// exceptIn returns the documents of segment i not in docs, numbered in the
// segment; nil when there are none (zap iterates unfiltered postings
// faster).
func (ps *postingScorer) exceptIn(i int) *roaring.Bitmap {
	if ps.except == nil {
		ps.except = make([]*roaring.Bitmap, len(ps.s.segs))
		ps.exOK = make([]bool, len(ps.s.segs))
	}
	if !ps.exOK[i] {
		lo, n := ps.s.offsets[i], ps.s.segs[i].Count()
		in := ps.set.Clone()
		in.RemoveRange(0, lo)
		in.RemoveRange(lo+n, math.MaxUint32+1)
		local := roaring.AddOffset64(in, -int64(lo))
		if ex := roaring.Flip(local, 0, n); !ex.IsEmpty() {
			ps.except[i] = ex
		}
		ps.exOK[i] = true
	}
	return ps.except[i]
}

// segDocs returns the part docs[a:b] of the documents in segment i.
func (ps *postingScorer) segDocs(i int) (a, b int) {
	lo := ps.s.offsets[i]
	hi := lo + ps.s.segs[i].Count()
	a = sort.Search(len(ps.docs), func(j int) bool { return uint64(ps.docs[j]) >= lo })
	b = sort.Search(len(ps.docs), func(j int) bool { return uint64(ps.docs[j]) >= hi })
	return a, b
}

// intersect calls fn(i, j) for each document cands[i] == posts[j]+base,
// in order (both ascending), stepping through the shorter list and
// searching the longer.
func intersect(cands, posts []uint32, base uint32, fn func(i, j int)) {
	if len(cands) <= len(posts) {
		j := 0
		for i, c := range cands {
			if j = searchFrom(posts, j, c-base); j == len(posts) {
				return
			}
			if posts[j] == c-base {
				fn(i, j)
			}
		}
		return
	}
	i := 0
	for j, p := range posts {
		if i = searchFrom(cands, i, p+base); i == len(cands) {
			return
		}
		if cands[i] == p+base {
			fn(i, j)
		}
	}
}

// searchFrom returns the first index at or after from of the ascending s
// whose value is at least v (len(s) if none), galloping from from.
func searchFrom(s []uint32, from int, v uint32) int {
	if from >= len(s) || s[from] >= v {
		return from
	}
	// s[lo] < v; widen the step until s[hi] >= v or the end.
	lo, step := from, 1
	hi := from + step
	for hi < len(s) && s[hi] < v {
		lo = hi
		step *= 2
		hi = lo + step
	}
	if hi > len(s) {
		hi = len(s)
	}
	j, _ := slices.BinarySearch(s[lo+1:hi], v)
	return lo + 1 + j
}

// add adds the scores of a leaf to sum (indexed like s.docs) and counts the
// documents it matches in hits.
func (ps *postingScorer) add(ctx context.Context, l *sleaf, sum []float64, hits []uint16) error {
	term := []byte(l.term)
	// A posting's score depends only on its frequency and norm, which take
	// few distinct values: a small direct-mapped cache of docScore saves
	// most of its divisions.
	var cache [scoreCacheSize]struct {
		norm  uint64
		freq  uint64
		score float64
	}
	score := func(at int32, freq uint64, norm float64) {
		nb := math.Float64bits(norm)
		c := &cache[((nb^freq)*0x9E3779B97F4A7C15)>>(64-scoreCacheBits)]
		if c.norm != nb || c.freq != freq {
			c.norm, c.freq, c.score = nb, freq, l.docScore(freq, norm)
		}
		sum[at] += c.score
		hits[at]++
	}
	for i, seg := range ps.s.segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		base := ps.s.offsets[i]
		// The decoded postings, when the bounds cache keeps them, read
		// faster than zap's iterator (l is prepared: its field's average
		// length is known).
		tb, err := ps.s.termBounds(ctx, i, l)
		if err != nil {
			return err
		}
		if tp := tb.post; tp != nil {
			if a, b := ps.segDocs(i); (b-a)*8 < len(tp.docs) {
				// Few candidates: searched for in the postings.
				intersect(ps.docs[a:b], tp.docs, uint32(base), func(ci, pj int) {
					score(int32(a+ci), uint64(tp.freq[pj]), float64(tp.norm[pj]))
				})
				continue
			}
			for j, d := range tp.docs {
				if at := ps.index(base + uint64(d)); at >= 0 {
					score(at, uint64(tp.freq[j]), float64(tp.norm[j]))
				}
			}
			continue
		}
		pl, err := postings(seg, l.field, term, ps.exceptIn(i))
		if err != nil {
			return err
		}
		if pl == nil || pl.Count() == 0 {
			continue
		}
		it := pl.Iterator(true, true, false, nil)
		for n := 1; ; n++ {
			if n%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			p, err := it.Next()
			if err != nil {
				return err
			}
			if p == nil {
				break
			}
			d := base + p.Number()
			at := ps.index(d)
			if at < 0 {
				continue // not a candidate (cannot happen with except)
			}
			score(at, p.Frequency(), p.Norm())
		}
	}
	return nil
}

const (
	scoreCacheBits = 10
	scoreCacheSize = 1 << scoreCacheBits
)

// phrasePostings calls fn, in ascending document order, for each live
// document of cands (nil: every live document) in which terms occur in
// field one after the other: terms[i] at position p+offs[i] for some p
// (offs ascending from 0; a gap is a stop word left out). fn receives each
// term's frequency in the field and the field's norm, in slices it must
// not keep. ok is false, and fn may have been called, when a segment
// cannot give postings bitmaps or a location has array positions (the
// mapping indexes no prose field as an array): the caller must then ask
// bleve's phrase searcher.
func (s *segments) phrasePostings(ctx context.Context, field string, terms []string, offs []uint64, cands *roaring.Bitmap,
	fn func(d uint32, freqs []uint64, norm float64)) (ok bool, err error) {
	n := len(terms)
	its := make([]segment.PostingsIterator, n)
	pls := make([]segment.PostingsList, n)
	pos := make([][]uint64, n)
	at := make([]int, n)
	freqs := make([]uint64, n)
	tk := ticker{ctx: ctx}
	for i, seg := range s.segs {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		lo := s.offsets[i]
		dict, err := seg.Dictionary(field)
		if err != nil {
			return false, err
		}
		// The segment's live candidates having every term in the field,
		// numbered in the segment.
		var local *roaring.Bitmap
		for j, t := range terms {
			pl, err := dict.PostingsList([]byte(t), nil, nil)
			if err != nil {
				return false, err
			}
			if pl == nil || pl.Count() == 0 {
				local = nil
				break
			}
			o, isOrer := pl.(postingsOrer)
			if !isOrer {
				return false, nil
			}
			pls[j] = pl
			bm := roaring.New()
			o.OrInto(bm)
			if local == nil {
				local = bm
			} else {
				local.And(bm)
			}
			if local.IsEmpty() {
				break
			}
		}
		if local == nil || local.IsEmpty() {
			continue
		}
		global := roaring.AddOffset64(local, int64(lo))
		global.And(s.live)
		if cands != nil {
			global.And(cands)
		}
		if global.IsEmpty() {
			continue
		}
		local = roaring.AddOffset64(global, -int64(lo))
		for j, pl := range pls {
			its[j] = pl.Iterator(true, true, true, nil)
		}
		// Every iterator has every document of local: each is advanced
		// to them in order (no filter bitmap to build: the documents are
		// few when the phrase is rare).
		docs := local.Iterator()
		for docs.HasNext() {
			if err := tk.tick(); err != nil {
				return false, err
			}
			d := uint64(docs.Next())
			var norm float64
			for j, it := range its {
				p, err := it.Advance(d)
				if err != nil {
					return false, err
				}
				if p == nil || p.Number() != d {
					return false, fmt.Errorf("search: postings of %q in %s lack document %d", terms[j], field, d)
				}
				if j == 0 {
					norm = p.Norm()
				}
				freqs[j] = p.Frequency()
				pos[j] = pos[j][:0]
				for _, l := range p.Locations() {
					if len(l.ArrayPositions()) > 0 {
						return false, nil
					}
					pos[j] = append(pos[j], l.Pos())
				}
			}
			if phraseAt(pos, offs, at) {
				fn(uint32(lo+d), freqs, norm)
			}
		}
	}
	return true, nil
}

// termDocs returns the documents of docs (live document numbers in
// ascending order, a page of them) having term in field.
func (s *segments) termDocs(field, term string, docs []uint32) (*roaring.Bitmap, error) {
	out := roaring.New()
	for i, seg := range s.segs {
		lo, size := s.offsets[i], seg.Count()
		// The documents in this segment: docs[from:to].
		from := sort.Search(len(docs), func(j int) bool { return uint64(docs[j]) >= lo })
		to := sort.Search(len(docs), func(j int) bool { return uint64(docs[j]) >= lo+size })
		if from == to {
			continue
		}
		if tp := s.bounds.postings(i, field, term); tp != nil {
			// Decoded already (bounds.go): a search per document.
			j := 0
			for _, d := range docs[from:to] {
				local := uint32(uint64(d) - lo)
				if j = tp.find(j, local); j == len(tp.docs) {
					break
				}
				if tp.docs[j] == local {
					out.Add(d)
				}
			}
			continue
		}
		pl, err := postings(seg, field, []byte(term), nil)
		if err != nil {
			return nil, err
		}
		if pl == nil || pl.Count() == 0 {
			continue
		}
		if o, ok := pl.(postingsOrer); ok {
			bm := roaring.New()
			o.OrInto(bm)
			for _, d := range docs[from:to] {
				if bm.Contains(uint32(uint64(d) - lo)) {
					out.Add(d)
				}
			}
			continue
		}
		it := pl.Iterator(false, false, false, nil)
		// Advance consumes the posting it returns: the last one is kept
		// for the documents before it.
		var next uint64
		have := false
		for _, d := range docs[from:to] {
			local := uint64(d) - lo
			if !have || next < local {
				p, err := it.Advance(local)
				if err != nil {
					return nil, err
				}
				if p == nil {
					break
				}
				next, have = p.Number(), true
			}
			if next == local {
				out.Add(d)
			}
		}
	}
	return out, nil
}
