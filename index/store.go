package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bindex "github.com/blevesearch/bleve_index_api"
	segment "github.com/blevesearch/scorch_segment_api/v2"
)

// An index directory holds generations of the bleve index and a symlink to
// the one being served:
//
//	DIR/current -> gen-1732190000000000000   (swapped atomically by rename)
//	DIR/gen-.../bleve/                       the bleve index
//	DIR/gen-.../manifest.json                count and file checksums
//	DIR/.build-*/                            a build in progress
//	DIR/build.lock                           held while building
//
// Readers only ever follow DIR/current, so a build that fails or is killed
// at any point leaves the previous generation serving.

const (
	currentLink  = "current"
	manifestName = "manifest.json"
	bleveDir     = "bleve"
	lockName     = "build.lock"
	keepGens     = 2
)

// Errors of opening and building.
var (
	ErrNoIndex      = errors.New("no index")
	ErrDamaged      = errors.New("index damaged")
	ErrBuildRunning = errors.New("another build holds the index directory")
)

// Manifest describes one generation of the index.
type Manifest struct {
	Version  int                  `json:"version"`
	Built    time.Time            `json:"built"`
	Count    uint64               `json:"count"`
	Rejected int                  `json:"rejected"`
	Files    map[string]FileCheck `json:"files"`
}

// FileCheck is a file's size and CRC-32C checksum.
type FileCheck struct {
	Size  int64  `json:"size"`
	CRC32 uint32 `json:"crc32c"`
}

const manifestVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Index is an open, read-only generation of the index.
type Index struct {
	bleve.Index
	Dir      string // the index directory (DIR)
	Gen      string // the generation's directory
	Manifest Manifest

	readOnly bool // opened by Open: its documents never change
	byID     struct {
		sync.Mutex
		docs []docRef // every live document, in id order (see eachByID)
	}
}

// Open opens the generation DIR/current points at, read-only, after checking
// every file against the manifest's sizes and checksums. A damaged index is
// refused with ErrDamaged instead of being served.
func Open(dir string) (*Index, error) {
	gen, err := CurrentGeneration(dir)
	if err != nil {
		return nil, err
	}
	m, err := readManifest(gen)
	if err != nil {
		return nil, err
	}
	if err := verify(gen, m); err != nil {
		return nil, err
	}
	bi, err := openBleve(filepath.Join(gen, bleveDir))
	if err != nil {
		// bleve's messages can span lines (a mapping error quotes the
		// mapping); a log line and a terminal want one.
		return nil, fmt.Errorf("%w: %s: %s", ErrDamaged, gen, strings.Join(strings.Fields(err.Error()), " "))
	}
	n, err := bi.DocCount()
	if err != nil || n != m.Count {
		bi.Close()
		return nil, fmt.Errorf("%w: %s holds %d documents, manifest says %d", ErrDamaged, gen, n, m.Count)
	}
	return &Index{Index: bi, Dir: dir, Gen: gen, Manifest: m, readOnly: true}, nil
}

func openBleve(path string) (bi bleve.Index, err error) {
	defer func() {
		// bleve can panic on some damaged files; report instead.
		if r := recover(); r != nil {
			err = fmt.Errorf("opening: %v", r)
		}
	}()
	return bleve.OpenUsing(path, map[string]any{"read_only": true, "bolt_timeout": "2s"})
}

// CurrentGeneration returns the directory of the generation being served.
func CurrentGeneration(dir string) (string, error) {
	target, err := os.Readlink(filepath.Join(dir, currentLink))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w at %s", ErrNoIndex, dir)
		}
		return "", fmt.Errorf("%w: %s: %v", ErrDamaged, dir, err)
	}
	if filepath.IsAbs(target) || strings.Contains(target, string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %s/current points outside the directory", ErrDamaged, dir)
	}
	return filepath.Join(dir, target), nil
}

// Exists reports whether dir holds a built index.
func Exists(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, currentLink))
	return err == nil
}

func readManifest(gen string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(gen, manifestName))
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrDamaged, manifestName, err)
	}
	if m.Version != manifestVersion {
		return m, fmt.Errorf("%w: manifest version %d, want %d (rebuild the index)", ErrDamaged, m.Version, manifestVersion)
	}
	return m, nil
}

// verify checks that the generation's bleve files are exactly those of the
// manifest, with the same sizes and checksums.
func verify(gen string, m Manifest) error {
	got, err := checksums(filepath.Join(gen, bleveDir), false)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	for name, want := range m.Files {
		g, ok := got[name]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s is missing", ErrDamaged, filepath.Join(gen, bleveDir, name))
		case g.Size != want.Size:
			return fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrDamaged, filepath.Join(gen, bleveDir, name), g.Size, want.Size)
		}
	}
	for name := range got {
		if _, ok := m.Files[name]; !ok {
			return fmt.Errorf("%w: unexpected file %s", ErrDamaged, filepath.Join(gen, bleveDir, name))
		}
	}
	sums, err := checksums(filepath.Join(gen, bleveDir), true)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	for name, want := range m.Files {
		if sums[name].CRC32 != want.CRC32 {
			return fmt.Errorf("%w: %s fails its checksum", ErrDamaged, filepath.Join(gen, bleveDir, name))
		}
	}
	return nil
}

// checksums lists the regular files under root with their sizes and, when
// sum is set, their CRC-32C.
func checksums(root string, sum bool) (map[string]FileCheck, error) {
	out := map[string]FileCheck{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		fc := FileCheck{Size: info.Size()}
		if sum {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			h := crc32.New(castagnoli)
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
			fc.CRC32 = h.Sum32()
		}
		out[rel] = fc
		return nil
	})
	return out, err
}

// BuildOptions tunes Build.
type BuildOptions struct {
	// Strict fails the build when any report is rejected.
	Strict bool
	// BatchSize is the number of incidents per bleve batch (default 500).
	BatchSize int
	// Progress, if set, is called after each batch with the number of
	// incidents indexed so far and the bytes of report text read.
	Progress func(indexed int, textBytes int64)
	// Problem receives each rejected report and each warning.
	Problem func(Problem)
	// Duplicate is called when a later record replaces an earlier one with
	// the same id.
	Duplicate func(id, first, second string)
}

// BuildStats summarises a build.
type BuildStats struct {
	Indexed    int
	Rejected   int
	Warnings   int
	Duplicates int
	TextBytes  int64
	Gen        string
	Elapsed    time.Duration
}

// Build reads every report under paths and builds a new generation of the
// index in dir, then makes it current atomically. On any failure, on
// cancellation and when nothing was indexed, the previous generation stays
// current and the partial build is removed.
//
// bleve retries a failed write (a full disk) forever in the background; a
// build stops at the first such error instead and returns it.
func Build(ctx context.Context, dir string, paths []string, opts BuildOptions) (BuildStats, error) {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	// A build allocates many short-lived analysis results: a laxer garbage
	// collection target (more memory) leaves more CPU time for indexing.
	if old := debug.SetGCPercent(buildGCPercent); old < 0 || old > buildGCPercent {
		debug.SetGCPercent(old)
	} else {
		defer debug.SetGCPercent(old)
	}
	st, err := buildGeneration(ctx, fail, dir, paths, opts)
	var we *writeError
	if err != nil && errors.As(context.Cause(ctx), &we) {
		err = we
	}
	return st, err
}

// buildGCPercent is the garbage collection target (GOGC) while a build runs.
const buildGCPercent = 300

// writeError is an error bleve reported from its background work (writing
// segments, merging them) during a build.
type writeError struct{ err error }

func (e *writeError) Error() string {
	return fmt.Sprintf("writing the index: %v; the previous index is kept", e.err)
}

func (e *writeError) Unwrap() error { return e.err }

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

func buildGeneration(ctx context.Context, fail context.CancelCauseFunc, dir string, paths []string, opts BuildOptions) (BuildStats, error) {
	start := time.Now()
	var st BuildStats
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return st, err
	}
	defer unlock()
	removeStale(dir)

	tmp, err := os.MkdirTemp(dir, ".build-")
	if err != nil {
		return st, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()

	// Batches do not wait for their segment to reach the disk
	// (unsafe_batch): the build waits once, at the end, for everything to
	// be persisted (persist below), which keeps the CPUs busy meanwhile.
	blevePath := filepath.Join(tmp, bleveDir)
	defer watchAsyncErrors(blevePath, func(err error) { fail(&writeError{err}) })()
	bi, err := bleve.NewUsing(blevePath, NewMapping(), scorch.Name, scorch.Name,
		map[string]any{"unsafe_batch": true, "asyncErrorCallbackName": asyncErrorCallback})
	if err != nil {
		return st, err
	}
	closed := false
	defer func() {
		if !closed {
			bi.Close()
		}
	}()

	sources := map[string]string{}
	batch := bi.NewBatch()
	// Up to batchWorkers batches are indexed at once, each by a goroutine
	// of its own, while the next one is read and parsed. Batches of
	// distinct incidents may be indexed in any order; a batch holding a
	// record that replaces one of an earlier batch is only sent once every
	// earlier batch is done, so that the later record still wins.
	const batchWorkers = 2
	sem := make(chan struct{}, batchWorkers)
	var inflight sync.WaitGroup
	var batchMu sync.Mutex
	var batchErr error
	var failed atomic.Bool
	inBatch := map[string]bool{} // ids in the batch being filled
	replaces := false            // it replaces a record of a sent batch
	wait := func() error {
		inflight.Wait()
		batchMu.Lock()
		defer batchMu.Unlock()
		return batchErr
	}
	defer wait()
	flush := func() error {
		if batch.Size() == 0 {
			return nil
		}
		if failed.Load() {
			return wait()
		}
		if replaces {
			if err := wait(); err != nil {
				return err
			}
		}
		sem <- struct{}{}
		inflight.Add(1)
		go func(b *bleve.Batch) {
			defer inflight.Done()
			defer func() { <-sem }()
			if err := bi.Batch(b); err != nil {
				batchMu.Lock()
				if batchErr == nil {
					batchErr = err
				}
				batchMu.Unlock()
				failed.Store(true)
			}
		}(batch)
		batch = bi.NewBatch()
		clear(inBatch)
		replaces = false
		if opts.Progress != nil {
			opts.Progress(len(sources), st.TextBytes)
		}
		return nil
	}
	problem := func(p Problem) {
		if p.Warning {
			st.Warnings++
		} else {
			st.Rejected++
		}
		if opts.Problem != nil {
			opts.Problem(p)
		}
	}
	err = readPathsParallel(paths, runtime.GOMAXPROCS(0), Handler{
		Problem: problem,
		Record: func(r Record) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			in := r.Incident
			if first, dup := sources[in.ID]; dup {
				if !inBatch[in.ID] {
					replaces = true
				}
				st.Duplicates++
				if opts.Duplicate != nil {
					opts.Duplicate(in.ID, first, r.Source())
				}
			}
			sources[in.ID] = r.Source()
			inBatch[in.ID] = true
			doc, err := Document(&in)
			if err != nil {
				problem(Problem{File: r.File, Line: r.Line, Msg: err.Error()})
				return nil
			}
			st.TextBytes += textSize(&in)
			if err := batch.Index(in.ID, doc); err != nil {
				return err
			}
			if batch.Size() >= opts.BatchSize {
				return flush()
			}
			return nil
		},
	})
	if err == nil {
		err = flush()
	}
	if werr := wait(); err == nil {
		err = werr
	}
	if err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	st.Indexed = len(sources)
	if st.Indexed == 0 {
		return st, errors.New("no incidents to index; the previous index is kept")
	}
	if opts.Strict && st.Rejected > 0 {
		return st, fmt.Errorf("%d reports rejected in strict mode; the previous index is kept", st.Rejected)
	}
	if err := persist(ctx, bi); err != nil {
		return st, err
	}
	if adv, err := bi.Advanced(); err == nil {
		if s, ok := adv.(*scorch.Scorch); ok {
			if err := s.ForceMerge(ctx, nil); err != nil {
				return st, fmt.Errorf("merging segments: %w", err)
			}
		}
	}
	if err := persist(ctx, bi); err != nil {
		return st, err
	}
	count, err := bi.DocCount()
	if err != nil {
		return st, err
	}
	closed = true
	if err := bi.Close(); err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if err := removeUnusedSegments(filepath.Join(tmp, bleveDir), count); err != nil {
		return st, err
	}
	sums, err := checksums(filepath.Join(tmp, bleveDir), true)
	if err != nil {
		return st, err
	}
	m := Manifest{Version: manifestVersion, Built: time.Now().UTC(), Count: count, Rejected: st.Rejected, Files: sums}
	if err := writeFileSync(filepath.Join(tmp, manifestName), m); err != nil {
		return st, err
	}
	if err := syncTree(tmp); err != nil {
		return st, err
	}
	gen := fmt.Sprintf("gen-%d", time.Now().UnixNano())
	if err := os.Rename(tmp, filepath.Join(dir, gen)); err != nil {
		return st, err
	}
	ok = true
	if err := swapCurrent(dir, gen); err != nil {
		os.RemoveAll(filepath.Join(dir, gen))
		return st, err
	}
	pruneGenerations(dir, gen)
	st.Gen = filepath.Join(dir, gen)
	st.Elapsed = time.Since(start)
	return st, nil
}

// removeUnusedSegments deletes the segment files of a closed index that its
// last snapshot does not use. Scorch removes them in the background after
// a merge, and closing can come first: at 100,000 reports the segments
// merged away were still there, more than doubling the generation. It
// checks that the index still holds count documents.
func removeUnusedSegments(path string, count uint64) error {
	bi, err := bleve.OpenUsing(path, map[string]any{"read_only": true})
	if err != nil {
		return err
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

func textSize(in *Incident) int64 {
	var n int
	for _, f := range TextFields {
		n += len(*f.Get(in))
	}
	for _, cl := range in.Taxonomy {
		n += len(cl.Rationale)
	}
	return int64(n)
}

// swapCurrent points DIR/current at gen with a rename, which is atomic.
func swapCurrent(dir, gen string) error {
	tmpLink := filepath.Join(dir, ".current.tmp")
	os.Remove(tmpLink)
	if err := os.Symlink(gen, tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, currentLink)); err != nil {
		os.Remove(tmpLink)
		return err
	}
	return syncDir(dir)
}

// removeStale deletes builds left by killed processes; the caller holds the
// build lock, so none of them is running.
func removeStale(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build-") {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// pruneGenerations keeps the newest keepGens generations, current included.
func pruneGenerations(dir, current string) {
	entries, _ := os.ReadDir(dir)
	var gens []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "gen-") && e.Name() != current {
			gens = append(gens, e.Name())
		}
	}
	sort.Strings(gens)
	for len(gens) > keepGens-1 {
		os.RemoveAll(filepath.Join(dir, gens[0]))
		gens = gens[1:]
	}
}

// lockDir takes the directory's build lock without waiting.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s", ErrBuildRunning, dir)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func writeFileSync(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncTree fsyncs every file and directory under root.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
