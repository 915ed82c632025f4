package search

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// MaxClauses caps the term clauses one query may expand to (prefixes
// included), so that no request can build an unbounded disjunction.
const MaxClauses = 4096

// limitClauses sets bleve's clause cap to MaxClauses. The cap is a
// process-wide variable of bleve's searcher package, so it is set when the
// first engine is made, not when the package is loaded: a program that
// links faildex but runs plain bleve without an engine (the bleve peer of
// bench/peers) keeps bleve's default.
var limitClauses = sync.OnceFunc(func() { searcher.DisjunctionMaxClauseCount = MaxClauses })

// Engine answers searches over one open index generation.
type Engine struct {
	ix       *index.Index
	reader   bindex.IndexReader // a cancelReader (cancel.go) over the snapshot
	mapping  mapping.IndexMapping
	analyzer analysis.Analyzer
	facets   *facetIndex
	count    uint64
	segs     *segments   // nil when the index is not scorch
	orders   *sortOrders // the fixed sort orders, computed on first use
	// reference makes producerFor answer every request by the reference
	// path; the differential tests set it.
	reference bool

	typos       Typos
	synonymSets *Synonyms
	synonyms    synonymIndex // analysed entries of synonymSets
}

// New prepares an engine over an open index: it keeps a reader on the
// index's snapshot and loads the facet bitmaps. The index may hold any
// number of segments, with deleted and replaced documents. The engine owns
// ix; Close closes both.
func New(ctx context.Context, ix *index.Index, opts ...Option) (*Engine, error) {
	limitClauses()
	adv, err := ix.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	m := ix.Mapping()
	e := &Engine{ix: ix, reader: newCancelReader(r), mapping: m, analyzer: m.AnalyzerNamed(index.TextAnalyzer)}
	if e.analyzer == nil {
		r.Close()
		return nil, errors.New("search: analyzer not found")
	}
	if e.facets, err = loadFacets(ctx, r, m); err != nil {
		r.Close()
		return nil, fmt.Errorf("search: loading facets: %w", err)
	}
	e.typos, e.synonymSets = DefaultTypos, DefaultSynonyms()
	for _, o := range opts {
		o(e)
	}
	e.buildSynonyms()
	e.count = e.facets.all.GetCardinality()
	e.segs = newSegments(r, e.facets.all) // the snapshot itself, not its wrapper
	e.orders = newSortOrders(r, e.facets.all)
	return e, nil
}

// Open opens the index generation current in dir and prepares an engine
// over it; closing the engine closes the index.
func Open(ctx context.Context, dir string, opts ...Option) (*Engine, error) {
	return Reopen(ctx, dir, nil, opts...)
}

// Reopen is Open after prev, an engine over an earlier generation of the
// same directory, open or closed: the index files the two generations
// share (an update's hard links) are not read again to verify them. prev
// may be nil.
func Reopen(ctx context.Context, dir string, prev *Engine, opts ...Option) (*Engine, error) {
	var pix *index.Index
	if prev != nil {
		pix = prev.ix
	}
	ix, err := index.Reopen(dir, pix)
	if err != nil {
		return nil, err
	}
	e, err := New(ctx, ix, opts...)
	if err != nil {
		ix.Close()
		return nil, err
	}
	return e, nil
}

// Close releases the reader and closes the index.
func (e *Engine) Close() error {
	err := e.reader.Close()
	if err2 := e.ix.Close(); err == nil {
		err = err2
	}
	return err
}

// Index returns the underlying index.
func (e *Engine) Index() *index.Index { return e.ix }

// Segments returns the number of segments of the index generation (0 when
// the index is not scorch).
func (e *Engine) Segments() int {
	if e.segs == nil {
		return 0
	}
	return len(e.segs.segs)
}

// DocCount returns the number of incidents.
func (e *Engine) DocCount() uint64 { return e.count }

// IndexSize returns the size on disk of the index generation, in bytes.
func (e *Engine) IndexSize() int64 {
	var n int64
	for _, f := range e.ix.Manifest.Files {
		n += f.Size
	}
	return n
}

// Incident returns one incident by id, or an error wrapping
// index.ErrNotFound (index.ErrGone when it was deleted lately).
func (e *Engine) Incident(ctx context.Context, id string) (*index.Incident, error) {
	if !index.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", index.ErrNotFound, index.Truncate(id, 40))
	}
	in, err := e.ix.Get(ctx, id)
	if errors.Is(err, index.ErrNotFound) {
		if when, gone := e.ix.Deleted(id); gone {
			return nil, fmt.Errorf("%w on %s: %q", index.ErrGone, when.UTC().Format("2006-01-02"), id)
		}
	}
	if err != nil {
		return nil, err
	}
	return &in, nil
}
