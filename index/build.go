package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/document"
)

// BuildOptions tunes Build.
type BuildOptions struct {
	// Strict fails the build when any report is rejected.
	Strict bool
	// BatchSize is the number of incidents per bleve batch (default 500).
	BatchSize int
	// Progress, if set, is called after each batch with the number of
	// incidents indexed so far and the bytes of report text read.
	Progress func(indexed int, textBytes int64)
	// Problem receives each rejected report, each warning and each file
	// of a directory that was skipped.
	Problem func(Problem)
	// Duplicate is called when a later record replaces an earlier one with
	// the same id.
	Duplicate func(id, first, second string)
	// Organisations tags each incident with the organisations its
	// organisation fields mention (the organisation facets); nil tags none.
	Organisations *Gazetteer
}

// defaultBatchSize is BuildOptions.BatchSize when it is not set.
const defaultBatchSize = 500

// BuildStats summarises a build.
type BuildStats struct {
	Indexed    int
	Rejected   int
	Warnings   int
	Skipped    int // files of directories not read (Problem.Skipped)
	Duplicates int
	TextBytes  int64
	Gen        string
	Elapsed    time.Duration
}

// Build reads every report under paths and builds a new generation of the
// index in dir, then makes it current atomically. It leaves the garbage
// collector's target alone: a laxer one (GOGC=300) more than doubled the
// peak memory of a build and did not make it faster. On any failure, on
// cancellation and when nothing was indexed, the previous generation stays
// current and the partial build is removed.
//
// bleve retries a failed write (a full disk) forever in the background; a
// build stops at the first such error instead and returns it.
func Build(ctx context.Context, dir string, paths []string, opts BuildOptions) (BuildStats, error) {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	st, err := buildGeneration(ctx, fail, dir, paths, opts)
	var we *writeError
	if err != nil && errors.As(context.Cause(ctx), &we) {
		err = we
	}
	return st, err
}

// writeError is an error bleve reported from its background work (writing
// segments, merging them) during a build.
type writeError struct{ err error }

func (e *writeError) Error() string {
	return fmt.Sprintf("writing the index: %v; the previous index is kept", e.err)
}

func (e *writeError) Unwrap() error { return e.err }

// buildGeneration is Build without its error and memory policies: it
// prepares a temporary generation, indexes the reports into it and, when
// the outcome is acceptable, finalizes it and makes it current. fail
// cancels ctx with bleve's background write errors.
func buildGeneration(ctx context.Context, fail context.CancelCauseFunc, dir string, paths []string, opts BuildOptions) (BuildStats, error) {
	start := time.Now()
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize
	}
	// Paths are checked before the build lock is taken: a named pipe
	// among them is refused, not opened.
	if err := CheckPaths(paths); err != nil {
		return BuildStats{}, err
	}
	b, err := prepareBuild(dir, fail)
	if err != nil {
		return BuildStats{}, err
	}
	defer b.cleanup()
	ing, err := b.ingest(ctx, paths, opts)
	st := ing.st
	if err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	st.Indexed = len(ing.sources)
	if st.Indexed == 0 {
		return st, errors.New("no incidents to index; the previous index is kept")
	}
	if opts.Strict && st.Rejected > 0 {
		return st, fmt.Errorf("%d reports rejected in strict mode; the previous index is kept", st.Rejected)
	}
	gen, err := b.finalize(ctx, st.Rejected, ing.table.t)
	if err != nil {
		return st, err
	}
	st.Gen = gen
	st.Elapsed = time.Since(start)
	return st, nil
}

// A build is a generation being built in a temporary directory of the
// index directory, whose build lock it holds.
type build struct {
	dir     string      // the index directory
	tmp     string      // the generation being built; "" once installed
	bi      bleve.Index // the generation's bleve index; nil once closed
	unwatch func()      // stops routing bleve's background errors to the build
	unlock  func()      // releases the build lock
}

// prepareBuild takes dir's build lock, removes what killed builds left and
// creates the temporary generation with an empty bleve index, whose
// background write errors go to fail.
func prepareBuild(dir string, fail context.CancelCauseFunc) (_ *build, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	b := &build{dir: dir, unlock: unlock, unwatch: func() {}}
	defer func() {
		if err != nil {
			b.cleanup()
		}
	}()
	removeStale(dir)
	if b.tmp, err = os.MkdirTemp(dir, ".build-"); err != nil {
		b.tmp = ""
		return nil, err
	}
	blevePath := filepath.Join(b.tmp, bleveDir)
	b.unwatch = watchAsyncErrors(blevePath, func(err error) { fail(&writeError{err}) })
	if b.bi, err = newBuildIndex(blevePath); err != nil {
		b.bi = nil
		return nil, err
	}
	return b, nil
}

// cleanup closes what the build left open, removes the temporary
// generation unless it was installed and releases the lock.
func (b *build) cleanup() {
	if b.bi != nil {
		b.bi.Close()
	}
	b.unwatch()
	if b.tmp != "" {
		os.RemoveAll(b.tmp)
	}
	b.unlock()
}

// ingest reads every report under paths into the build's index and waits
// until every batch has been indexed. The ingester returned holds the
// counts, also on error.
func (b *build) ingest(ctx context.Context, paths []string, opts BuildOptions) (*ingester, error) {
	maker, err := newDocMaker(b.bi.Mapping())
	if err != nil {
		return &ingester{}, err
	}
	ing := &ingester{opts: opts, sources: map[string]string{}, maker: maker, batches: newBatcher(b.bi, opts.BatchSize), table: newTableWriter()}
	err = readPathsParallel(paths, runtime.GOMAXPROCS(0), Handler{
		Problem: ing.problem,
		Record:  func(r Record) error { return ing.record(ctx, r) },
	})
	if err == nil {
		err = ing.flush()
	}
	if werr := ing.batches.wait(); err == nil {
		err = werr
	}
	return ing, err
}

// finalize makes the generation durable and current: it waits for bleve to
// persist everything, merges the segments into one, removes the segments
// merged away, writes the manifest, syncs the files and swaps the
// generation in. It returns the generation's directory.
func (b *build) finalize(ctx context.Context, rejected int, table *sourceTable) (string, error) {
	if err := persist(ctx, b.bi); err != nil {
		return "", err
	}
	if err := forceMerge(ctx, b.bi); err != nil {
		return "", err
	}
	if err := persist(ctx, b.bi); err != nil {
		return "", err
	}
	count, err := b.bi.DocCount()
	if err != nil {
		return "", err
	}
	bi := b.bi
	b.bi = nil
	if err := bi.Close(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := removeUnusedSegments(filepath.Join(b.tmp, bleveDir), count); err != nil {
		return "", err
	}
	if err := writeManifest(b.tmp, count, rejected, table); err != nil {
		return "", err
	}
	if err := syncTree(b.tmp); err != nil {
		return "", err
	}
	return b.install()
}

// An ingester turns the records read into documents and batches them,
// counting what it sees.
type ingester struct {
	opts    BuildOptions
	st      BuildStats
	sources map[string]string // "file:line" of each id's record so far
	maker   *docMaker
	batches *batcher
	// batchText is the text of the reports in the batch being filled.
	batchText int64
	// table records where each incident came from, for updates.
	table *tableWriter
}

func (ing *ingester) problem(p Problem) {
	switch {
	case p.Skipped:
		ing.st.Skipped++
	case p.Warning:
		ing.st.Warnings++
	default:
		ing.st.Rejected++
	}
	if ing.opts.Problem != nil {
		ing.opts.Problem(p)
	}
}

// record adds one record's document to the batch being filled, replacing
// any earlier record with the same id, and sends the batch when it is full.
func (ing *ingester) record(ctx context.Context, r Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	in := r.Incident
	first, dup := ing.sources[in.ID]
	if dup {
		ing.st.Duplicates++
		if ing.opts.Duplicate != nil {
			ing.opts.Duplicate(in.ID, first, r.Source())
		}
	}
	ing.sources[in.ID] = r.Source()
	// A batch holds at most maxBatchText bytes of text, unless one report
	// alone has more.
	size := textSize(&in)
	if ing.batchText > 0 && ing.batchText+size > maxBatchText {
		if err := ing.flush(); err != nil {
			return err
		}
	}
	ing.batches.claim(in.ID, dup)
	ing.opts.Organisations.Tag(&in)
	doc, fields, err := ing.maker.document(&in)
	if err != nil {
		ing.problem(Problem{File: r.File, Line: r.Line, Msg: err.Error()})
		return nil
	}
	ing.table.add(in.ID, r.File, fields)
	ing.st.TextBytes += size
	ing.batchText += size
	full, err := ing.batches.add(doc)
	if err != nil || (!full && ing.batchText < maxBatchText) {
		return err
	}
	return ing.flush()
}

// maxBatchText bounds the text of a batch. A batch's analysis and its
// segment in the making are held in memory at once, and batchWorkers
// batches are indexed at once, so a build's memory grows with it: at 3,000
// reports of `faildex gen` (18 KB each), batches of 8 MB took the peak
// resident memory to 1.9 GB, batches of 4 MB to 1.0 GB, in the same CPU
// time (a build merges its segments once, at the end, however many there
// are). Batches of large reports are cut short, so that 500 reports of
// MaxRecordBytes are never indexed at once; batches of real reports (under
// 30 KB each) are cut by it before BatchSize.
const maxBatchText = 4 << 20

// flush sends the batch being filled and reports progress.
func (ing *ingester) flush() error {
	ing.batchText = 0
	sent, err := ing.batches.flush()
	if sent && ing.opts.Progress != nil {
		ing.opts.Progress(len(ing.sources), ing.st.TextBytes)
	}
	return err
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

// batchWorkers is the number of batches a build indexes at once.
const batchWorkers = 2

// A batcher fills batches of documents and indexes up to batchWorkers of
// them at once, each by a goroutine of its own, while the next one is
// filled. Batches of distinct documents may be indexed in any order; a
// batch holding a document that replaces one of an earlier batch is only
// sent once every earlier batch is done, so that the later document still
// wins.
type batcher struct {
	bi       bleve.Index
	size     int // documents per batch
	batch    *bleve.Batch
	inBatch  map[string]bool // ids in the batch being filled
	replaces bool            // it replaces a document of a sent batch

	sem      chan struct{} // one token per batch being indexed
	inflight sync.WaitGroup
	failed   atomic.Bool // err is set
	mu       sync.Mutex
	err      error // the first error of a sent batch
}

func newBatcher(bi bleve.Index, size int) *batcher {
	return &batcher{bi: bi, size: size, batch: bi.NewBatch(), inBatch: map[string]bool{}, sem: make(chan struct{}, batchWorkers)}
}

// claim notes that id goes into the batch being filled; seen says whether
// an earlier record had the same id.
func (b *batcher) claim(id string, seen bool) {
	if seen && !b.inBatch[id] {
		b.replaces = true
	}
	b.inBatch[id] = true
}

// add adds a document to the batch being filled and reports whether the
// batch is full.
func (b *batcher) add(doc *document.Document) (full bool, err error) {
	if err := b.batch.IndexAdvanced(doc); err != nil {
		return false, err
	}
	return b.batch.Size() >= b.size, nil
}

// flush sends the batch being filled, if any, and reports whether it did.
// After a batch has failed it sends nothing and returns the batch's error.
func (b *batcher) flush() (sent bool, err error) {
	if b.batch.Size() == 0 {
		return false, nil
	}
	if b.failed.Load() {
		return false, b.wait()
	}
	if b.replaces {
		if err := b.wait(); err != nil {
			return false, err
		}
	}
	b.sem <- struct{}{}
	b.inflight.Add(1)
	go b.send(b.batch)
	b.batch = b.bi.NewBatch()
	clear(b.inBatch)
	b.replaces = false
	return true, nil
}

func (b *batcher) send(batch *bleve.Batch) {
	defer b.inflight.Done()
	defer func() { <-b.sem }()
	if err := b.bi.Batch(batch); err != nil {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
		b.failed.Store(true)
	}
}

// wait waits for every batch sent and returns the first error among them.
func (b *batcher) wait() error {
	b.inflight.Wait()
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.err
}
