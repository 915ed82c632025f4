package search

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSearchersStopWithinPostings: once its context ends, a term field
// reader of the engine fails within checkEvery postings, whatever the
// searcher above it has matched, and a phrase search fails with
// ErrTooExpensive instead of running on.
func TestSearchersStopWithinPostings(t *testing.T) {
	e := fullCorpus.engine(t)
	ctx, cancel := context.WithCancel(context.Background())
	tfr, err := e.reader.TermFieldReader(ctx, []byte("system"), "summary", true, true, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tfr.Close()
	if tfr.Count() <= checkEvery {
		t.Skipf("only %d postings", tfr.Count())
	}
	cancel()
	n := 0
	for {
		d, err := tfr.Next(nil)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			break
		}
		if d == nil {
			t.Fatalf("read all %d postings after the context ended", n)
		}
		n++
	}
	if n >= checkEvery {
		t.Errorf("read %d postings after the context ended, want fewer than %d", n, checkEvery)
	}

	// A search whose deadline passes while bleve's phrase searchers run.
	q := strings.TrimSuffix(strings.Repeat(`"the system failed to" OR `, 32), " OR ")
	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	start := time.Now()
	_, err = e.Search(dctx, Request{Query: q})
	if err != nil && !errors.Is(err, ErrTooExpensive) {
		t.Errorf("error %v, want ErrTooExpensive", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("the search ran %s past a 1 ms deadline", d)
	}
}
