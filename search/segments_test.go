package search

import (
	"context"
	"fmt"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
)

// segmentedCorpus is fullCorpus indexed the way incremental updates will
// leave an index: in many small batches, never merged, with some incidents
// replaced by a later batch and some deleted, so that document numbers
// span several segments and every segment but the last has deletions.
var segmentedCorpus = &corpus{
	name:  "segmented",
	paths: func(tb testing.TB) []string { return fullCorpus.paths(tb) },
	build: buildSegmentedEngine,
}

// Batch sizes and the share of incidents replaced and deleted in the
// segmented index.
const (
	segmentBatch  = 7
	replaceEvery  = 5
	deleteEvery   = 11
	replacedTitle = " (revised)"
)

// buildSegmentedEngine indexes the incidents of paths into an in-memory
// scorch index, which has no merger: each batch stays a segment.
func buildSegmentedEngine(_ string, paths []string) (*Engine, error) {
	var ins []index.Incident
	err := index.ReadPaths(paths, index.Handler{Record: func(r index.Record) error {
		ins = append(ins, r.Incident)
		return nil
	}})
	if err != nil {
		return nil, err
	}
	bi, err := bleve.NewUsing("", index.NewMapping(), scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*Engine, error) {
		bi.Close()
		return nil, err
	}
	batch := bi.NewBatch()
	send := func() error {
		if batch.Size() == 0 {
			return nil
		}
		err := bi.Batch(batch)
		batch = bi.NewBatch()
		return err
	}
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		return fail(err)
	}
	add := func(in *index.Incident) error {
		gaz.Tag(in)
		doc, err := index.Document(in)
		if err != nil {
			return fmt.Errorf("%s: %w", in.ID, err)
		}
		if err := batch.Index(in.ID, doc); err != nil {
			return err
		}
		if batch.Size() >= segmentBatch {
			return send()
		}
		return nil
	}
	for i := range ins {
		if err := add(&ins[i]); err != nil {
			return fail(err)
		}
	}
	if err := send(); err != nil {
		return fail(err)
	}
	// Replace every replaceEvery-th incident (a new title, so that a stale
	// copy would show) and delete every deleteEvery-th, in later batches.
	for i := 0; i < len(ins); i += replaceEvery {
		in := ins[i]
		in.Title += replacedTitle
		if err := add(&in); err != nil {
			return fail(err)
		}
	}
	if err := send(); err != nil {
		return fail(err)
	}
	for i := 3; i < len(ins); i += deleteEvery {
		batch.Delete(ins[i].ID)
	}
	if err := send(); err != nil {
		return fail(err)
	}
	e, err := New(context.Background(), &index.Index{Index: bi})
	if err != nil {
		return fail(err)
	}
	return e, nil
}

// TestSegmentedIndex checks that the segmented index is what the
// differential tests need: several segments, deleted documents among their
// numbers, replaced incidents served in their new version.
func TestSegmentedIndex(t *testing.T) {
	e := segmentedCorpus.engine(t)
	if len(e.segs.segs) < 3 {
		t.Fatalf("%d segments, want several", len(e.segs.segs))
	}
	var numbers uint64
	for _, s := range e.segs.segs {
		numbers += s.Count()
	}
	if numbers <= e.DocCount() {
		t.Fatalf("%d document numbers for %d incidents: no deleted documents", numbers, e.DocCount())
	}
	res := search(t, e, Request{Query: "revised", Sort: SortTitle, Size: MaxSize})
	if res.Total == 0 {
		t.Fatal("no replaced incident found by its new title")
	}
	for _, h := range res.Hits {
		in, err := e.storedIncident(docOf(t, e, h.ID))
		if err != nil {
			t.Fatal(err)
		}
		if in.Title != h.Title {
			t.Errorf("%s: stored title %q, hit title %q", h.ID, in.Title, h.Title)
		}
	}
}

// docOf returns the document number of the live incident id.
func docOf(tb testing.TB, e *Engine, id string) uint32 {
	tb.Helper()
	iid, err := e.reader.InternalID(id)
	if err != nil || iid == nil {
		tb.Fatalf("%s: no internal id (%v)", id, err)
	}
	d, err := docNum(iid)
	if err != nil {
		tb.Fatal(err)
	}
	return d
}
