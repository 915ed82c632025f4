package index

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Outcome is what a change did to the index.
type Outcome string

// The outcomes of a change.
const (
	Created   Outcome = "created"
	Replaced  Outcome = "replaced"
	Unchanged Outcome = "unchanged"
	Deleted   Outcome = "deleted"
	NotFound  Outcome = "not found" // a deletion of an id the index does not hold
)

// A Change puts one incident into the index (Put) or deletes one (Delete,
// an id).
type Change struct {
	Put    *Incident
	Delete string
}

// Apply applies changes to the index in dir as one new generation, made
// current atomically once durable, and returns the outcome of each change
// in order. Changes of one id apply in order (a put then a delete of the
// same id deletes it). When no change changes anything, no generation is
// written and gen is "". An incident that cannot be indexed fails the
// whole call, which then changes nothing.
func Apply(ctx context.Context, dir string, changes []Change, g *Gazetteer) (out []Outcome, gen string, err error) {
	pcs := make([]prepared, len(changes))
	for i, c := range changes {
		if pcs[i], err = prepare(c, g); err != nil {
			return nil, "", err
		}
	}
	return applyPrepared(ctx, dir, pcs)
}

// prepared is a change checked and, for a put, its document made and
// hashed: the work done once, outside the build lock.
type prepared struct {
	id   string
	put  bool
	doc  map[string]any
	hash uint64
}

// prepare checks a change and makes a put's document.
func prepare(c Change, g *Gazetteer) (prepared, error) {
	if c.Put == nil {
		if !ValidID(c.Delete) {
			return prepared{}, fmt.Errorf("%w: %q", ErrNotFound, Truncate(c.Delete, 40))
		}
		return prepared{id: c.Delete}, nil
	}
	in := *c.Put
	if !ValidID(in.ID) {
		return prepared{}, fmt.Errorf("%w: id %q", ErrInvalid, Truncate(in.ID, 40))
	}
	doc, hash, err := prepareDoc(&in, g)
	if err != nil {
		return prepared{}, fmt.Errorf("%w: incident %s: %v", ErrInvalid, in.ID, err)
	}
	return prepared{id: in.ID, put: true, doc: doc, hash: hash}, nil
}

// applyPrepared is Apply of changes already prepared.
func applyPrepared(ctx context.Context, dir string, changes []prepared) (out []Outcome, gen string, err error) {
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	d, err := derive(ctx, dir, fail)
	if err != nil {
		return nil, "", err
	}
	defer d.cleanup()
	out = make([]Outcome, len(changes))
	put := map[string]map[string]any{}
	gone := map[string]bool{}
	for i, c := range changes {
		id := c.id
		ds, inTable := d.table.docs[id]
		if _, queued := put[id]; !d.table.known && !inTable && !queued && !gone[id] {
			// No table: the index's stored form tells what it holds.
			h, ok, err := d.storedHash(id)
			if err != nil {
				return nil, "", err
			}
			ds, inTable = docState{Hash: h}, ok
		}
		had := inTable
		if _, queued := put[id]; queued {
			had = true
		}
		if gone[id] {
			had = false
		}
		if !c.put {
			if !had {
				out[i] = NotFound
				continue
			}
			out[i] = Deleted
			delete(put, id)
			gone[id] = true
			delete(d.table.docs, id)
			continue
		}
		switch {
		case inTable && !gone[id] && ds.Hash == c.hash:
			out[i] = Unchanged
			if _, queued := put[id]; !queued {
				continue
			}
		case had:
			out[i] = Replaced
		default:
			out[i] = Created
		}
		put[id] = c.doc
		delete(gone, id)
		d.table.docs[id] = docState{Hash: c.hash}
	}
	var del []string
	for id := range gone {
		del = append(del, id)
	}
	if len(put) == 0 && len(del) == 0 {
		return out, "", nil
	}
	gen, _, err = d.commit(ctx, put, del)
	if err != nil {
		var we *writeError
		if errors.As(context.Cause(ctx), &we) {
			err = we
		}
		return nil, "", err
	}
	return out, gen, nil
}

// A Writer applies changes sent one at a time by many callers (the HTTP
// API's) in batches: while one generation is being written, the changes
// that arrive wait, and go together into the next one. Each caller returns
// once its change is durable and, when OnCommit is set, after OnCommit
// has seen the new generation.
type Writer struct {
	Dir           string
	Organisations *Gazetteer
	// OnCommit is called with each new generation before the callers of
	// its changes return (a server switches to it there).
	OnCommit func(gen string)
	// Timeout bounds the writing of one generation (default one minute).
	Timeout time.Duration

	mu      sync.Mutex
	pending []*pendingChange
	running bool
}

type pendingChange struct {
	c    prepared
	done chan struct{}
	out  Outcome
	err  error
}

// MaxWriterBatch bounds the changes of one generation written by a Writer.
const MaxWriterBatch = 1000

// Put adds or replaces one incident.
func (w *Writer) Put(ctx context.Context, in Incident) (Outcome, error) {
	return w.send(ctx, Change{Put: &in})
}

// Delete deletes one incident; NotFound when the index does not hold it.
func (w *Writer) Delete(ctx context.Context, id string) (Outcome, error) {
	return w.send(ctx, Change{Delete: id})
}

// send prepares c in the caller's goroutine (a change that cannot be
// applied fails its caller alone) and waits for its generation.
func (w *Writer) send(ctx context.Context, c Change) (Outcome, error) {
	pc, err := prepare(c, w.Organisations)
	if err != nil {
		return "", err
	}
	p := &pendingChange{c: pc, done: make(chan struct{})}
	w.mu.Lock()
	w.pending = append(w.pending, p)
	lead := !w.running
	w.running = true
	w.mu.Unlock()
	if lead {
		go w.drain()
	}
	select {
	case <-p.done:
		return p.out, p.err
	case <-ctx.Done():
		return "", fmt.Errorf("%w; the change may still be applied", context.Cause(ctx))
	}
}

// drain writes generations until no change is pending.
func (w *Writer) drain() {
	for {
		w.mu.Lock()
		batch := w.pending
		if len(batch) > MaxWriterBatch {
			batch = batch[:MaxWriterBatch]
		}
		w.pending = w.pending[len(batch):]
		if len(batch) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
		w.write(batch)
	}
}

func (w *Writer) write(batch []*pendingChange) {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	changes := make([]prepared, len(batch))
	for i, p := range batch {
		changes[i] = p.c
	}
	out, gen, err := applyPrepared(ctx, w.Dir, changes)
	if err == nil && gen != "" && w.OnCommit != nil {
		w.OnCommit(gen)
	}
	for i, p := range batch {
		if err != nil {
			p.err = err
		} else {
			p.out = out[i]
		}
		close(p.done)
	}
}
