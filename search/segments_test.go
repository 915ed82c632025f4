package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	checkReplacedAndDeleted(t, e)
}

// checkReplacedAndDeleted checks that e's segments number deleted
// documents, and that the incidents replaced (titled "... (revised ...)")
// are served in their new version.
func checkReplacedAndDeleted(t *testing.T, e *Engine) {
	t.Helper()
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

// updatedCorpus is fullCorpus as live updates leave it on disk: a third
// built, the rest added by index.Apply in small batches, in a seeded random
// order with replacements (new titles) and deletions among them, so that
// the index has the segments, deletions and tiered merges of real updates.
var updatedCorpus = &corpus{
	name:  "updated",
	paths: func(tb testing.TB) []string { return fullCorpus.paths(tb) },
	build: buildUpdatedEngine,
}

// updatedSeed fixes the order of updatedCorpus's changes.
const updatedSeed = 20261128

func buildUpdatedEngine(dir string, paths []string) (*Engine, error) {
	ctx := context.Background()
	var ins []index.Incident
	err := index.ReadPaths(paths, index.Handler{Record: func(r index.Record) error {
		ins = append(ins, r.Incident)
		return nil
	}})
	if err != nil {
		return nil, err
	}
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		return nil, err
	}
	// The first third, as a build of one JSON Lines file.
	src := filepath.Join(dir, "first.jsonl")
	f, err := os.Create(src)
	if err != nil {
		return nil, err
	}
	third := len(ins) / 3
	for i := range ins[:third] {
		if err := index.WriteJSONL(f, &ins[i]); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	ixDir := filepath.Join(dir, "index")
	if _, err := index.Build(ctx, ixDir, []string{src}, index.BuildOptions{Organisations: gaz}); err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(updatedSeed, 0))
	present := map[string]index.Incident{}
	for _, in := range ins[:third] {
		present[in.ID] = in
	}
	pick := func() (index.Incident, bool) {
		for _, in := range ins { // in corpus order, so the pick is seeded
			if _, ok := present[in.ID]; ok && rng.IntN(len(present)) == 0 {
				return present[in.ID], true
			}
		}
		return index.Incident{}, false
	}
	next := third
	for round := 0; next < len(ins); round++ {
		var changes []index.Change
		for range 1 + rng.IntN(8) {
			switch r := rng.IntN(20); {
			case r < 12 && next < len(ins):
				in := ins[next]
				next++
				present[in.ID] = in
				changes = append(changes, index.Change{Put: &in})
			case r < 17:
				if in, ok := pick(); ok {
					in.Title += fmt.Sprintf(" (revised %d)", round)
					present[in.ID] = in
					changes = append(changes, index.Change{Put: &in})
				}
			default:
				if in, ok := pick(); ok {
					delete(present, in.ID)
					changes = append(changes, index.Change{Delete: in.ID})
				}
			}
		}
		if _, _, err := index.Apply(ctx, ixDir, changes, gaz); err != nil {
			return nil, err
		}
	}
	// Merges (by the update's tiered policy, or by scorch in the
	// background) may leave one segment; a few more revisions give the
	// index the several segments the differential tests need.
	for round := 0; ; round++ {
		e, err := Open(ctx, ixDir)
		if err != nil || len(e.segs.segs) >= 2 || round == 3 {
			return e, err
		}
		if err := e.Close(); err != nil {
			return nil, err
		}
		in, ok := pick()
		if !ok {
			return nil, fmt.Errorf("no incident left to revise")
		}
		in.Title += fmt.Sprintf(" (revised again %d)", round)
		present[in.ID] = in
		if _, _, err := index.Apply(ctx, ixDir, []index.Change{{Put: &in}}, gaz); err != nil {
			return nil, err
		}
	}
}

// TestUpdatedIndex checks that the updated index is what the differential
// tests need: several segments, deleted documents, the latest version of
// each replaced incident.
func TestUpdatedIndex(t *testing.T) {
	e := updatedCorpus.engine(t)
	if len(e.segs.segs) < 2 {
		t.Fatalf("%d segments, want several", len(e.segs.segs))
	}
	checkReplacedAndDeleted(t, e)
}
