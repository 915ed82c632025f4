package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// Everything the index package knows of scorch, bleve's index format, and
// of its zap segments is in this file: configuration keys, background
// errors, persisting and merging, the files of a snapshot, and reading
// stored documents straight from the segments.

// openReadOnly opens a bleve index read-only; bleve can panic on some
// damaged files, which is reported as an error instead.
func openReadOnly(path string) (bi bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("opening: %v", r)
		}
	}()
	return bleve.OpenUsing(path, map[string]any{"read_only": true, "bolt_timeout": "2s"})
}

// newBuildIndex creates the scorch index of a build at path. Its batches do
// not wait for their segment to reach the disk (unsafe_batch): the build
// waits once, at the end, for everything to be persisted (persist), which
// keeps the CPUs busy meanwhile. Its background errors go to the function
// watchAsyncErrors registered for path.
//
// Its segments are not merged while the build runs (buildMergePlan): every
// report's postings are then rewritten once, by the final forceMerge,
// instead of once per tier of scorch's default plan (three times at
// 10,000 reports: 18% of the build's CPU time).
func newBuildIndex(path string) (bleve.Index, error) {
	return bleve.NewUsing(path, NewMapping(), scorch.Name, scorch.Name, map[string]any{
		"unsafe_batch":           true,
		"asyncErrorCallbackName": asyncErrorCallback,
		"scorchMergePlanOptions": buildMergePlan,
	})
}

// buildMergePlan is the merge plan of a build's index, over scorch's
// default plan: a tier only merges when it holds maxBuildSegments
// segments, which a build of up to a few hundred thousand reports never
// reaches.
var buildMergePlan = map[string]any{
	"MaxSegmentsPerTier":   maxBuildSegments,
	"SegmentsPerMergeTask": maxBuildSegments,
}

// maxBuildSegments bounds the segments of a build's index, and so its
// open files, and is the number of segments forceMerge merges at once.
const maxBuildSegments = 1000

// asyncErrors routes bleve's background errors to the build writing the
// index at their path.
var asyncErrors = struct {
	sync.Mutex
	handlers map[string]func(error)
}{handlers: map[string]func(error){}}

const asyncErrorCallback = "faildex-build"

func init() {
	scorch.RegistryAsyncErrorCallbacks[asyncErrorCallback] = func(err error, path string) {
		// path is scorch's directory, inside the bleve index's.
		asyncErrors.Lock()
		var fns []func(error)
		for p, fn := range asyncErrors.handlers {
			if path == p || strings.HasPrefix(path, p+string(filepath.Separator)) {
				fns = append(fns, fn)
			}
		}
		asyncErrors.Unlock()
		for _, fn := range fns {
			fn(err)
		}
	}
}

// watchAsyncErrors calls fn with bleve's background errors for the index at
// path (or under it) until the returned function is called.
func watchAsyncErrors(path string, fn func(error)) func() {
	asyncErrors.Lock()
	asyncErrors.handlers[path] = fn
	asyncErrors.Unlock()
	return func() {
		asyncErrors.Lock()
		delete(asyncErrors.handlers, path)
		asyncErrors.Unlock()
	}
}

// persist waits until everything indexed so far is on disk: it sends a
// batch holding only an internal marker and waits for its persisted
// callback, which scorch calls once a snapshot including it (and so every
// earlier batch) has been written.
func persist(ctx context.Context, bi bleve.Index) error {
	b := bi.NewBatch()
	b.SetInternal([]byte("faildex:persisted"), []byte(time.Now().UTC().Format(time.RFC3339Nano)))
	done := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { done <- err })
	if err := bi.Batch(b); err != nil {
		return err
	}
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("persisting the index: %w", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// forceMerge merges a scorch index's segments into one, up to
// maxBuildSegments of them in a single merge (scorch's own plan merges ten
// at a time, rewriting the postings again at every level); other indexes
// are left alone.
func forceMerge(ctx context.Context, bi bleve.Index) error {
	adv, err := bi.Advanced()
	if err != nil {
		return nil
	}
	if s, ok := adv.(*scorch.Scorch); ok {
		o := mergeplan.SingleSegmentMergePlanOptions
		o.SegmentsPerMergeTask = maxBuildSegments
		if err := s.ForceMerge(ctx, &o); err != nil {
			return fmt.Errorf("merging segments: %w", err)
		}
	}
	return nil
}

// removeUnusedSegments deletes the segment files of a closed index that its
// last snapshot does not use. Scorch removes them in the background after
// a merge, and closing can come first: at 100,000 reports the segments
// merged away were still there, more than doubling the generation. It
// checks that the index still holds count documents.
func removeUnusedSegments(path string, count uint64) error {
	live, err := liveSegments(path, count)
	if err != nil || len(live) == 0 {
		return err
	}
	store := filepath.Join(path, "store")
	entries, err := os.ReadDir(store)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".zap" && !live[e.Name()] {
			if err := os.Remove(filepath.Join(store, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// liveSegments opens the closed index at path and returns the file names
// of the segments its last snapshot uses, after checking that it holds
// count documents.
func liveSegments(path string, count uint64) (map[string]bool, error) {
	bi, err := bleve.OpenUsing(path, map[string]any{"read_only": true})
	if err != nil {
		return nil, err
	}
	live := map[string]bool{}
	adv, err := bi.Advanced()
	if err == nil {
		var r bindex.IndexReader
		if r, err = adv.Reader(); err == nil {
			if snap, ok := r.(*scorch.IndexSnapshot); ok {
				for _, ss := range snap.Segments() {
					p, ok := ss.Segment().(segment.PersistedSegment)
					if !ok {
						err = errors.New("index: a segment of the built index is not on disk")
						break
					}
					live[filepath.Base(p.Path())] = true
				}
			}
			r.Close()
		}
	}
	n, cerr := bi.DocCount()
	if err == nil && cerr == nil && n != count {
		err = fmt.Errorf("index: the built index holds %d documents, want %d", n, count)
	}
	if cerr2 := bi.Close(); err == nil {
		err = cerr2
	}
	return live, err
}

// eachByID is Each over every incident, straight from the segments of a
// scorch index: the live documents in id order (computed once per Index),
// then each stored incident read by its document number. Paging with
// bleve searches sorted by id would visit every document once per page. ok
// is false when the index is not scorch.
func (ix *Index) eachByID(ctx context.Context, fn func(*Incident) error) (ok bool, err error) {
	adv, err := ix.Advanced()
	if err != nil {
		return false, nil
	}
	r, err := adv.Reader()
	if err != nil {
		return true, err
	}
	defer r.Close()
	snap, isSnap := r.(*scorch.IndexSnapshot)
	if !isSnap {
		return false, nil
	}
	var segs []segment.Segment
	for _, ss := range snap.Segments() {
		segs = append(segs, ss.Segment())
	}
	docs, err := ix.idOrder(ctx, snap)
	if err != nil {
		return true, err
	}
	err = ReadAhead(ctx, len(docs), func(i int) (*Incident, error) {
		return readStored(segs[docs[i].seg], docs[i])
	}, fn)
	return true, err
}

// readStored decodes the stored incident of a document.
func readStored(seg segment.Segment, d docRef) (*Incident, error) {
	var stored []byte
	err := seg.VisitStoredFields(uint64(d.num), func(field string, typ byte, value []byte, pos []uint64) bool {
		if field == FieldStored {
			stored = append([]byte(nil), value...)
			return false
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if stored == nil {
		return nil, fmt.Errorf("document %d of segment %d: no stored incident", d.num, d.seg)
	}
	in, err := DecodeStored(stored)
	if err != nil {
		return nil, fmt.Errorf("document %d of segment %d: %w", d.num, d.seg, err)
	}
	return &in, nil
}

// docRef is a document: its segment's position in the snapshot and its
// number in the segment.
type docRef struct {
	seg int32
	num uint32
}

// idOrder returns the live documents of snap in id order. The index is
// read-only, so the order is computed once and kept.
func (ix *Index) idOrder(ctx context.Context, snap *scorch.IndexSnapshot) ([]docRef, error) {
	ix.byID.Lock()
	defer ix.byID.Unlock()
	if ix.byID.docs != nil {
		return ix.byID.docs, nil
	}
	type entry struct {
		id  string
		ref docRef
	}
	var all []entry
	for si, ss := range snap.Segments() {
		seg, deleted := ss.Segment(), ss.Deleted()
		for n := uint64(0); n < seg.Count(); n++ {
			if n&1023 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if deleted != nil && deleted.Contains(uint32(n)) {
				continue
			}
			id, err := docID(seg, n)
			if err != nil {
				return nil, err
			}
			all = append(all, entry{id, docRef{int32(si), uint32(n)}})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	docs := make([]docRef, len(all))
	for i, e := range all {
		docs[i] = e.ref
	}
	ix.byID.docs = docs
	return docs, nil
}

// docID returns the id of document n of a segment. zap segments read it
// without decompressing the stored fields. Otherwise the stored fields are
// visited to the end: a zap visitor that stops at "_id" returns its
// decoding context to a sync.Pool twice (zapx v17.2.3), after which two
// goroutines can decode into the same buffer.
func docID(seg segment.Segment, n uint64) (string, error) {
	if d, ok := seg.(interface{ DocID(uint64) ([]byte, error) }); ok {
		b, err := d.DocID(n)
		return string(b), err
	}
	var id string
	err := seg.VisitStoredFields(n, func(field string, typ byte, value []byte, pos []uint64) bool {
		if field == "_id" {
			id = string(value)
		}
		return true
	})
	return id, err
}
