package index

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
)

// TestEachByIDMatchesSearch checks that Each over every incident, read
// straight from the segments, gives what paging through bleve searches
// sorted by id gives: the same incidents, in the same order.
func TestEachByIDMatchesSearch(t *testing.T) {
	dir := t.TempDir()
	// Small batches: several segments before the final merge.
	seeds, csv := indextest.Shared(t)
	mustBuild(t, dir, []string{seeds, csv, indextest.DataDir()}, BuildOptions{BatchSize: 7})
	ix := openIndex(t, dir)
	collect := func(q query.Query) []Incident {
		var out []Incident
		if err := ix.Each(context.Background(), q, func(in *Incident) error {
			out = append(out, *in)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	fast := collect(nil)
	slow := collect(query.NewMatchAllQuery())
	if len(fast) < 50 {
		t.Fatalf("%d incidents exported", len(fast))
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Errorf("Each from segments differs from paged searches (-search +segments):\n%s", diff)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := ix.Each(ctx, nil, func(*Incident) error { return nil }); err == nil {
		t.Error("Each with a cancelled context: no error")
	}
}

// TestReadAheadStopsReading checks that ReadAhead returns only once its
// reader has stopped: an export that fails midway must not read an index
// its caller closes next.
func TestReadAheadStopsReading(t *testing.T) {
	for range 50 {
		var returned atomic.Bool
		read := func(i int) (*Incident, error) {
			time.Sleep(50 * time.Microsecond)
			if returned.Load() {
				t.Error("read called after ReadAhead returned")
			}
			return &Incident{ID: "x"}, nil
		}
		stop := errors.New("stop")
		err := ReadAhead(context.Background(), 1000, read, func(*Incident) error { return stop })
		returned.Store(true)
		if !errors.Is(err, stop) {
			t.Fatalf("ReadAhead: %v, want fn's error", err)
		}
		time.Sleep(time.Millisecond)
	}
}
