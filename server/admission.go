package server

import (
	"context"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Admission control: at most Config.MaxSearches requests that search run at
// once, and of them at most Config.MaxHeavySearches heavy ones (see
// heavyRequest); up to MaxSearches more wait for a slot, each for at most
// Config.QueueWait or until its deadline; the rest are refused at once with
// a 503 and Retry-After. Heavy searches thus never take every slot, and
// leave the cores to the rest: a plain search stays fast while phrases
// queue. Cheap requests (health, readiness, static assets, incident pages,
// the landing page without a query) are not admitted through here.

// errBusy answers a search refused by admission control.
var errBusy = &httpError{status: http.StatusServiceUnavailable, msg: "the server is busy with other searches; try again in a moment"}

// Admission defaults.
const (
	defaultQueueWait = time.Second
	// retryAfter is the Retry-After, in seconds, of 503 answers.
	retryAfter = "2"
)

// defaultMaxSearches is the number of searches run at once by default: two
// per core the Go scheduler uses.
func defaultMaxSearches() int { return 2 * runtime.GOMAXPROCS(0) }

// defaultMaxHeavySearches is the number of heavy searches run at once by
// default: one per two cores, at least one.
func defaultMaxHeavySearches() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// admission is a pair of counting semaphores with a bounded queue.
type admission struct {
	slots chan struct{} // one token per running search
	heavy chan struct{} // one token per running heavy search
	queue chan struct{} // one token per waiting search
	wait  time.Duration
}

func newAdmission(max, heavy, queue int, wait time.Duration) *admission {
	return &admission{slots: make(chan struct{}, max), heavy: make(chan struct{}, min(heavy, max)),
		queue: make(chan struct{}, queue), wait: wait}
}

// acquire takes a slot (and a heavy slot for a heavy search), waiting in
// the queue for at most a.wait or until ctx ends; it fails with errBusy
// when the queue is full or the wait ends, and with ctx's error when ctx
// was cancelled. release gives the slots back and may be called more than
// once.
func (a *admission) acquire(ctx context.Context, heavy bool) (release func(), err error) {
	var sems []chan struct{}
	if heavy {
		sems = append(sems, a.heavy)
	}
	sems = append(sems, a.slots)
	var held []chan struct{}
	releaseAll := func() {
		for _, s := range held {
			<-s
		}
		held = nil
	}
	queued := false
	defer func() {
		if queued {
			<-a.queue
		}
	}()
	var timer <-chan time.Time
	for _, sem := range sems {
		select {
		case sem <- struct{}{}:
			held = append(held, sem)
			continue
		default:
		}
		if !queued {
			select {
			case a.queue <- struct{}{}:
				queued = true
			default:
				releaseAll()
				return nil, errBusy
			}
			t := time.NewTimer(a.wait)
			defer t.Stop()
			timer = t.C
		}
		select {
		case sem <- struct{}{}:
			held = append(held, sem)
		case <-timer:
			releaseAll()
			return nil, errBusy
		case <-ctx.Done():
			releaseAll()
			if ctx.Err() == context.DeadlineExceeded {
				return nil, errBusy
			}
			return nil, ctx.Err()
		}
	}
	var once sync.Once
	return func() { once.Do(releaseAll) }, nil
}

// heavyRequest reports whether a search request is heavy: an export, or a
// query with a phrase, a prefix or more than three words, or a page
// beyond the first thousand results. The test is on the raw parameters,
// before any search runs; a request it misjudges light still runs within
// its deadline.
func heavyRequest(r *http.Request, export bool) bool {
	if export {
		return true
	}
	v := r.URL.Query()
	for _, q := range v["q"] {
		if strings.ContainsAny(q, `"*`) || len(strings.Fields(q)) > 3 {
			return true
		}
	}
	page, _ := strconv.Atoi(v.Get("page"))
	size, _ := strconv.Atoi(v.Get("size"))
	return page > 1 && page*max(size, 10) > 1000
}

// running returns the number of searches running.
func (a *admission) running() int { return len(a.slots) }

// admitClass says which requests of a route admit admits.
type admitClass int

const (
	admitAll     admitClass = iota // every request
	admitQueries                   // requests with a query string (not the landing page)
	admitExports                   // every request, all heavy
)

type slotKey struct{}

// admit runs h once admission control gives it a slot. With admitQueries,
// a request without a query string (the landing page) is not admitted
// through here. The handler may give its slot back early with
// releaseSlot (an export, once its first byte is out).
func (s *Server) admit(h http.Handler, class admitClass) http.Handler {
	return s.handle(func(w http.ResponseWriter, r *http.Request) error {
		if class == admitQueries && r.URL.RawQuery == "" {
			h.ServeHTTP(w, r)
			return nil
		}
		release, err := s.admission.acquire(r.Context(), heavyRequest(r, class == admitExports))
		if err != nil {
			if err == errBusy {
				s.metrics.rejected.Inc()
			}
			return err
		}
		defer release()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), slotKey{}, release)))
		return nil
	})
}

// releaseSlot gives back the admission slot of r's search, if it holds one.
func releaseSlot(r *http.Request) {
	if release, ok := r.Context().Value(slotKey{}).(func()); ok {
		release()
	}
}
