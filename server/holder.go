package server

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Searcher is what the server needs from a search engine.
type Searcher interface {
	Search(ctx context.Context, req search.Request) (*search.Result, error)
	Incident(ctx context.Context, id string) (*index.Incident, error)
	// Each calls fn for every incident matching req's words, filters and
	// dates, in result order, without loading them all at once.
	Each(ctx context.Context, req search.Request, fn func(*index.Incident) error) error
	// Suggest completes a query being typed.
	Suggest(ctx context.Context, q string, n int) (*search.Suggestions, error)
	DocCount() uint64
	Close() error
}

// handle is one engine and the requests using it. refs counts the requests
// plus one for being current; the engine is closed when it drops to zero.
type handle struct {
	s    Searcher
	refs atomic.Int64
	once sync.Once
	err  error
}

func (h *handle) tryAcquire() bool {
	for {
		n := h.refs.Load()
		if n <= 0 {
			return false
		}
		if h.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (h *handle) release() {
	if h.refs.Add(-1) == 0 {
		h.once.Do(func() { h.err = h.s.Close() })
	}
}

// holder keeps the current engine and swaps it atomically: requests in
// flight finish on the engine they started with, which is closed once the
// last of them is done.
type holder struct {
	cur    atomic.Pointer[handle]
	mu     sync.Mutex  // serialises swaps
	opened atomic.Bool // an engine was made current once
}

// newHolder holds s; a nil s (a replica waiting for its first generation)
// answers errNotReady until swap.
func newHolder(s Searcher) *holder {
	h := &holder{}
	if s == nil {
		return h
	}
	h.opened.Store(true)
	hd := &handle{s: s}
	hd.refs.Store(1)
	h.cur.Store(hd)
	return h
}

var errClosed = errors.New("server: engine closed")

// acquire returns the current engine and a release function to call when
// done with it.
func (h *holder) acquire() (Searcher, func(), error) {
	for i := 0; i < 1000; i++ {
		hd := h.cur.Load()
		if hd == nil {
			if !h.opened.Load() {
				return nil, nil, errNotReady
			}
			return nil, nil, errClosed
		}
		if hd.tryAcquire() {
			return hd.s, hd.release, nil
		}
		// hd was retired between Load and tryAcquire; the next Load sees
		// its successor.
	}
	return nil, nil, errClosed
}

// swap makes s current and retires the previous engine.
func (h *holder) swap(s Searcher) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd := &handle{s: s}
	hd.refs.Store(1)
	h.opened.Store(true)
	if old := h.cur.Swap(hd); old != nil {
		old.release()
	}
}

// close retires the current engine; it is closed once idle.
func (h *holder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if old := h.cur.Swap(nil); old != nil {
		old.release()
	}
}
