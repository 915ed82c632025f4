package index

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/index/scorch/mergeplan"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/cespare/xxhash/v2"
)

// An update writes a new generation derived from the current one: its
// segment files are hard links to the current generation's (a zap segment
// never changes once written), its bleve root is a copy, and one batch of
// changes goes on top as a new segment. The new generation is then made
// durable and current exactly as a build's is, so readers see the old or
// the new generation whole, and a kill at any point leaves the old one
// serving.

// maxSegments is the number of segments above which an update merges
// segments with bleve's tiered policy before it installs its generation.
const maxSegments = 8

// A derivation is a generation being derived in a temporary directory of
// the index directory, whose build lock it holds.
type derivation struct {
	dir     string
	prev    string // the generation derived from
	prevMan Manifest
	table   *sourceTable // prev's table, changed in place
	indexed int          // documents indexed so far
	tmp     string       // "" once installed
	bi      bleve.Index  // nil once closed
	unwatch func()
	unlock  func()
}

// derive takes dir's build lock, waiting for it as long as ctx allows, and
// prepares a generation derived from the current one, open for writing.
func derive(ctx context.Context, dir string, fail context.CancelCauseFunc) (_ *derivation, err error) {
	unlock, err := waitLock(ctx, dir)
	if err != nil {
		return nil, err
	}
	d := &derivation{dir: dir, unlock: unlock, unwatch: func() {}}
	defer func() {
		if err != nil {
			d.cleanup()
		}
	}()
	removeStale(dir)
	if d.prev, err = CurrentGeneration(dir); err != nil {
		return nil, err
	}
	if d.prevMan, err = readManifest(d.prev); err != nil {
		return nil, err
	}
	if d.table, err = loadSources(d.prev); err != nil {
		return nil, err
	}
	if d.tmp, err = os.MkdirTemp(dir, ".build-"); err != nil {
		d.tmp = ""
		return nil, err
	}
	path := filepath.Join(d.tmp, bleveDir)
	if err := linkTree(filepath.Join(d.prev, bleveDir), path); err != nil {
		return nil, fmt.Errorf("index: copying %s: %w", d.prev, err)
	}
	d.unwatch = watchAsyncErrors(path, func(err error) { fail(&writeError{err}) })
	if d.bi, err = openWritable(path); err != nil {
		d.bi = nil
		return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, d.prev, err)
	}
	return d, nil
}

// waitLock takes dir's build lock, trying again until ctx is done: an
// update waits for another update or a build to finish.
func waitLock(ctx context.Context, dir string) (func(), error) {
	for {
		unlock, err := lockDir(dir)
		if !errors.Is(err, ErrBuildRunning) {
			return unlock, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (waited %v)", err, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// openWritable opens a bleve index for an update; bleve can panic on some
// damaged files, which is reported as an error instead.
func openWritable(path string) (bi bleve.Index, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("opening: %v", r)
		}
	}()
	// The batch does not wait for the disk itself: apply waits once, with
	// persist, for everything to be there.
	return bleve.OpenUsing(path, map[string]any{"unsafe_batch": true, "asyncErrorCallbackName": asyncErrorCallback, "bolt_timeout": "2s"})
}

// linkTree recreates the directory src at dst with every segment file hard
// linked and every other file (bleve's root and metadata, which bleve
// rewrites in place) copied.
func linkTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, 0o700)
		case !info.Mode().IsRegular():
			return fmt.Errorf("%s: not a regular file", path)
		case filepath.Ext(path) == ".zap":
			return os.Link(path, target)
		}
		return copyFile(path, target)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// storedHash returns the content hash of the incident id as the index
// holds it, from its stored form; ok is false when the index does not hold
// it. It stands in for the sources table of a generation written before
// tables existed.
func (d *derivation) storedHash(id string) (hash uint64, ok bool, err error) {
	doc, err := d.bi.Document(id)
	if err != nil || doc == nil {
		return 0, false, err
	}
	doc.VisitFields(func(f bindex.Field) {
		if f.Name() == FieldStored {
			hash, ok = xxhash.Sum64(f.Value()), true
		}
	})
	return hash, ok, nil
}

// index adds docs to the derived index in one batch, without waiting for
// the disk: the generation becomes durable and current as a whole, in
// finish, so an update may index its documents in as many batches as its
// memory needs.
func (d *derivation) index(docs map[string]map[string]any) error {
	if len(docs) == 0 {
		return nil
	}
	b := d.bi.NewBatch()
	for id, doc := range docs {
		if err := b.Index(id, doc); err != nil {
			return fmt.Errorf("index: %s: %w", id, err)
		}
		delete(d.table.gone, id)
	}
	d.indexed += len(docs)
	return d.bi.Batch(b)
}

// apply indexes docs (by id) and deletes the ids of del, and waits until
// everything is on disk.
func (d *derivation) apply(ctx context.Context, docs map[string]map[string]any, del []string) error {
	if err := d.index(docs); err != nil {
		return err
	}
	if len(del) > 0 {
		b := d.bi.NewBatch()
		for _, id := range del {
			b.Delete(id)
		}
		if err := d.bi.Batch(b); err != nil {
			return err
		}
	}
	return persist(ctx, d.bi)
}

// finish merges segments when there are too many, closes the index, writes
// the manifest and the sources table, syncs them and makes the generation
// current. It returns the generation's directory and its incident count.
func (d *derivation) finish(ctx context.Context) (string, uint64, error) {
	if n := segmentCount(d.bi); n > maxSegments {
		if err := mergeSegments(ctx, d.bi); err != nil {
			return "", 0, err
		}
		if err := persist(ctx, d.bi); err != nil {
			return "", 0, err
		}
	}
	count, err := d.bi.DocCount()
	if err != nil {
		return "", 0, err
	}
	bi := d.bi
	d.bi = nil
	if err := bi.Close(); err != nil {
		return "", 0, err
	}
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	path := filepath.Join(d.tmp, bleveDir)
	if err := removeUnusedSegments(path, count); err != nil {
		return "", 0, err
	}
	sums, err := checksumsAfter(path, filepath.Join(d.prev, bleveDir), d.prevMan.Files)
	if err != nil {
		return "", 0, err
	}
	if err := d.table.write(d.tmp); err != nil {
		return "", 0, err
	}
	sc, err := fileCheck(filepath.Join(d.tmp, sourcesName))
	if err != nil {
		return "", 0, err
	}
	m := Manifest{Version: manifestVersion, Built: time.Now().UTC(), Count: count, Rejected: d.prevMan.Rejected, Files: sums, Sources: &sc}
	if err := writeJSONSync(filepath.Join(d.tmp, manifestName), m); err != nil {
		return "", 0, err
	}
	if err := syncNew(d.tmp, filepath.Join(d.prev, bleveDir)); err != nil {
		return "", 0, err
	}
	gen, err := installGeneration(d.dir, d.tmp)
	if err != nil {
		return "", 0, err
	}
	d.tmp = ""
	return gen, count, nil
}

// cleanup closes what the derivation left open, removes its directory
// unless it was installed and releases the lock.
func (d *derivation) cleanup() {
	if d.bi != nil {
		d.bi.Close()
	}
	d.unwatch()
	if d.tmp != "" {
		os.RemoveAll(d.tmp)
	}
	d.unlock()
}

// checksumsAfter is checksums(root, true) reusing the checksums of prev
// for the files root shares with the directory prevRoot (hard links).
func checksumsAfter(root, prevRoot string, prev map[string]FileCheck) (map[string]FileCheck, error) {
	sizes, err := checksums(root, false)
	if err != nil {
		return nil, err
	}
	out := make(map[string]FileCheck, len(sizes))
	for name, fc := range sizes {
		path := filepath.Join(root, name)
		if p, ok := prev[name]; ok && p.Size == fc.Size && sameFile(path, filepath.Join(prevRoot, name)) {
			out[name] = p
			continue
		}
		if fc.CRC32, err = crc32c(path); err != nil {
			return nil, err
		}
		out[name] = fc
	}
	return out, nil
}

// segmentCount returns the number of segments of a scorch index's current
// snapshot (0 for other indexes).
func segmentCount(bi bleve.Index) int {
	adv, err := bi.Advanced()
	if err != nil {
		return 0
	}
	r, err := adv.Reader()
	if err != nil {
		return 0
	}
	defer r.Close()
	if snap, ok := r.(*scorch.IndexSnapshot); ok {
		return len(snap.Segments())
	}
	return 0
}

// mergeSegments merges a scorch index's segments by bleve's default tiered
// policy: small segments together, the large ones left alone, so that an
// update merges little and the number of segments stays bounded.
func mergeSegments(ctx context.Context, bi bleve.Index) error {
	adv, err := bi.Advanced()
	if err != nil {
		return nil
	}
	if s, ok := adv.(*scorch.Scorch); ok {
		opts := mergeplan.DefaultMergePlanOptions
		if err := s.ForceMerge(ctx, &opts); err != nil {
			return fmt.Errorf("merging segments: %w", err)
		}
	}
	return nil
}

// syncNew fsyncs the files of the generation root that are not hard links
// to files of the bleve directory prevBleve (those are on disk already),
// and every directory, which makes the links themselves durable.
func syncNew(root, prevBleve string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && filepath.Ext(path) == ".zap" {
			rel, err := filepath.Rel(filepath.Join(root, bleveDir), path)
			if err == nil && sameFile(path, filepath.Join(prevBleve, rel)) {
				return nil
			}
		}
		return syncPath(path)
	})
}
