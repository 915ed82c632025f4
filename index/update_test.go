package index

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faildex/faildex/index/indextest"
)

// updateCorpus copies n of the bundled reports into a new directory and
// returns it with the names of the files copied.
func updateCorpus(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil || len(files) < n {
		tb.Fatalf("want %d bundled reports, have %d (%v)", n, len(files), err)
	}
	dir := tb.TempDir()
	var names []string
	for _, f := range files[:n] {
		names = append(names, filepath.Base(f))
		writeFile(tb, filepath.Join(dir, filepath.Base(f)), readBytes(tb, f))
	}
	return dir, names
}

// exportAll returns the current generation of dir as JSON Lines.
func exportAll(tb testing.TB, dir string) string {
	tb.Helper()
	ix, err := Open(dir)
	if err != nil {
		tb.Fatal(err)
	}
	defer ix.Close()
	var buf bytes.Buffer
	if _, err := ix.ExportJSONL(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	return buf.String()
}

// idOf returns the id of the incident of a report file.
func idOf(tb testing.TB, path string) string {
	tb.Helper()
	var id string
	if err := ReadFile(path, true, Handler{Record: func(r Record) error { id = r.Incident.ID; return nil }, Problem: func(p Problem) { tb.Fatal(p.Error()) }}); err != nil || id == "" {
		tb.Fatalf("no incident in %s (%v)", path, err)
	}
	return id
}

// editTitle rewrites the title line of a report file.
func editTitle(tb testing.TB, path, title string) {
	tb.Helper()
	lines := strings.Split(string(readBytes(tb, path)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "Incident: ") {
			lines[i] = "Incident: " + title
			writeFile(tb, path, []byte(strings.Join(lines, "\n")))
			return
		}
	}
	tb.Fatalf("%s has no title line", path)
}

func TestUpdateFromFiles(t *testing.T) {
	ctx := context.Background()
	src, names := updateCorpus(t, 8)
	dir := t.TempDir()
	if _, err := Build(ctx, dir, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	update := func(opts UpdateOptions) UpdateStats {
		t.Helper()
		st, err := Update(ctx, dir, []string{src}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	if st := update(UpdateOptions{}); st.Changed() || st.FilesUnchanged != 8 || st.FilesRead != 0 {
		t.Errorf("nothing changed: %+v, want no generation and 8 files unchanged", st)
	}

	// One report edited: only its file is read, only it is replaced.
	edited := filepath.Join(src, names[2])
	editTitle(t, edited, "A title edited by a curator")
	st := update(UpdateOptions{})
	if !st.Changed() || st.Replaced != 1 || st.Added != 0 || st.FilesRead != 1 || st.FilesUnchanged != 7 || st.Count != 8 {
		t.Errorf("one report edited: %+v, want 1 replaced from 1 file read, 8 incidents", st)
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ix.Get(ctx, idOf(t, edited))
	ix.Close()
	if err != nil || in.Title != "A title edited by a curator" {
		t.Errorf("edited incident: title %q, %v", in.Title, err)
	}

	// The same content under a new modification time: read, not indexed.
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(edited, later, later); err != nil {
		t.Fatal(err)
	}
	if st := update(UpdateOptions{}); !st.Changed() || st.FilesRead != 1 || st.Unchanged != 1 || st.Replaced != 0 {
		t.Errorf("a file touched: %+v, want it read, its incident unchanged, its new time recorded", st)
	}

	// A new report is added.
	extra, _ := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	added := writeFile(t, filepath.Join(src, "sub", "added.txt"), readBytes(t, extra[len(extra)-1]))
	if st := update(UpdateOptions{}); st.Added != 1 || st.Count != 9 || st.FilesRead != 1 || st.Unchanged != 0 {
		t.Errorf("a report added: %+v, want 1 added, 9 incidents, 1 file read", st)
	}

	// A report removed: kept without DeleteMissing, deleted with it.
	removed := filepath.Join(src, names[0])
	removedID := idOf(t, removed)
	if err := os.Remove(removed); err != nil {
		t.Fatal(err)
	}
	if st := update(UpdateOptions{}); st.Missing != 1 || st.Deleted != 0 || st.Count != 9 {
		t.Errorf("a report removed, no DeleteMissing: %+v, want 1 missing, kept", st)
	}
	if st := update(UpdateOptions{DeleteMissing: true}); st.Deleted != 1 || st.Count != 8 {
		t.Errorf("a report removed, DeleteMissing: %+v, want 1 deleted, 8 incidents", st)
	}
	ix, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ix.Get(ctx, removedID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted incident: Get error %v, want ErrNotFound", err)
	}
	if _, gone := ix.Deleted(removedID); !gone {
		t.Errorf("Deleted(%s) = false after its deletion", removedID)
	}
	ix.Close()

	// A report edited badly is rejected, named by file and line, and the
	// incident it held is kept, even with DeleteMissing.
	bad := filepath.Join(src, names[3])
	writeFile(t, bad, []byte("Incident: no date and no taxonomy\n"))
	var problems []Problem
	st = update(UpdateOptions{DeleteMissing: true, Problem: func(p Problem) { problems = append(problems, p) }})
	if st.Rejected != 1 || st.Deleted != 0 || st.Missing != 1 || st.Count != 8 {
		t.Errorf("a report edited badly: %+v, want 1 rejected, its incident kept", st)
	}
	if len(problems) != 1 || problems[0].File != bad {
		t.Errorf("problems = %+v, want one naming %s", problems, bad)
	}
	if _, err := Update(ctx, dir, []string{src}, UpdateOptions{Strict: true}); err == nil {
		t.Error("strict update with a rejected report succeeded")
	}
	os.Remove(bad)
	os.Remove(added)

	// After all that, the index holds what a fresh build of the same files
	// holds, incident for incident.
	update(UpdateOptions{DeleteMissing: true})
	fresh := t.TempDir()
	if _, err := Build(ctx, fresh, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := exportAll(t, dir), exportAll(t, fresh); got != want {
		t.Errorf("updated index differs from a fresh build:\n got %d bytes\nwant %d bytes", len(got), len(want))
	}
}

func TestUpdateNeedsIndex(t *testing.T) {
	src, _ := updateCorpus(t, 1)
	_, err := Update(context.Background(), t.TempDir(), []string{src}, UpdateOptions{})
	if !errors.Is(err, ErrNoIndex) {
		t.Errorf("Update without an index: %v, want ErrNoIndex", err)
	}
}

// incidentsOf reads the incidents of report files.
func incidentsOf(tb testing.TB, dir string) []Incident {
	tb.Helper()
	var ins []Incident
	if err := ReadPaths([]string{dir}, Handler{Record: func(r Record) error { ins = append(ins, r.Incident); return nil }, Problem: func(p Problem) { tb.Fatal(p.Error()) }}); err != nil {
		tb.Fatal(err)
	}
	return ins
}

func TestApply(t *testing.T) {
	ctx := context.Background()
	src, _ := updateCorpus(t, 6)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(src, "later"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The last two incidents are not in the first build.
	for _, f := range []string{"a", "b"} {
		p, _ := filepath.Glob(filepath.Join(src, "*.txt"))
		os.Rename(p[len(p)-1], filepath.Join(src, "later", f+".txt"))
	}
	first, _ := filepath.Glob(filepath.Join(src, "*.txt"))
	if _, err := Build(ctx, dir, first, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	later := incidentsOf(t, filepath.Join(src, "later"))
	kept := incidentsOf(t, first[0])[0]
	changed := kept
	changed.Title = "Retitled"

	out, gen, err := Apply(ctx, dir, []Change{
		{Put: &later[0]},
		{Put: &kept},
		{Put: &later[1]},
		{Delete: later[1].ID},
		{Delete: "no-such-incident"},
	}, nil)
	if err != nil || gen == "" {
		t.Fatalf("Apply: %v (generation %q)", err, gen)
	}
	want := []Outcome{Created, Unchanged, Created, Deleted, NotFound}
	if fmt.Sprint(out) != fmt.Sprint(want) {
		t.Errorf("outcomes %v, want %v", out, want)
	}
	out, _, err = Apply(ctx, dir, []Change{{Put: &changed}, {Delete: kept.ID}, {Put: &changed}}, nil)
	if err != nil || fmt.Sprint(out) != fmt.Sprint([]Outcome{Replaced, Deleted, Created}) {
		t.Errorf("replace, delete, put again: %v %v", out, err)
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n, _ := ix.DocCount(); n != 5 {
		t.Errorf("%d incidents, want 5 (4 built + 1 created)", n)
	}
	if got, err := ix.Get(ctx, kept.ID); err != nil || got.Title != "Retitled" {
		t.Errorf("%s: %q %v, want the title Retitled", kept.ID, got.Title, err)
	}
	if _, err := ix.Get(ctx, later[1].ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("%s was put and deleted in one call, Get: %v", later[1].ID, err)
	}

	// Nothing to change writes no generation.
	if out, gen, err := Apply(ctx, dir, []Change{{Delete: "no-such-incident"}}, nil); err != nil || gen != "" || out[0] != NotFound {
		t.Errorf("a no-op: %v %q %v", out, gen, err)
	}
	// An incident that cannot be indexed fails the call, which changes
	// nothing.
	broken := later[0]
	broken.Published = "not a date"
	if _, _, err := Apply(ctx, dir, []Change{{Delete: later[0].ID}, {Put: &broken}}, nil); err == nil || !strings.Contains(err.Error(), broken.ID) {
		t.Errorf("a broken incident: %v, want an error naming it", err)
	}
	if _, err := ix.Get(ctx, later[0].ID); err != nil {
		t.Errorf("a failed call deleted %s: %v", later[0].ID, err)
	}
}

// TestWriterBatches sends many changes at once through a Writer: each
// caller gets its own outcome, the changes share generations, and the
// segments stay bounded.
func TestWriterBatches(t *testing.T) {
	ctx := context.Background()
	src, _ := updateCorpus(t, 3)
	dir := t.TempDir()
	if _, err := Build(ctx, dir, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	base := incidentsOf(t, src)[0]
	var gens []string
	var mu sync.Mutex
	w := &Writer{Dir: dir, OnCommit: func(gen string) { mu.Lock(); gens = append(gens, gen); mu.Unlock() }}
	const n = 60
	var wg sync.WaitGroup
	outs := make([]Outcome, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := base
			in.ID = fmt.Sprintf("copy-%03d", i)
			in.Title = fmt.Sprintf("Copy %d", i)
			outs[i], errs[i] = w.Put(ctx, in)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil || outs[i] != Created {
			t.Errorf("put %d: %v %v", i, outs[i], errs[i])
		}
	}
	if len(gens) == 0 || len(gens) >= n {
		t.Errorf("%d generations for %d concurrent puts, want them batched", len(gens), n)
	}
	// Single updates, one generation each, keep the segments bounded.
	for i := range 3 * maxSegments {
		if out, err := w.Delete(ctx, fmt.Sprintf("copy-%03d", i)); err != nil || out != Deleted {
			t.Fatalf("delete %d: %v %v", i, out, err)
		}
	}
	ix, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if n, _ := ix.DocCount(); n != 3+60-3*maxSegments {
		t.Errorf("%d incidents, want %d", n, 3+60-3*maxSegments)
	}
	if s := segmentCount(ix.Index); s > maxSegments {
		t.Errorf("%d segments after %d updates, want at most %d", s, 3*maxSegments, maxSegments)
	}
	if out, err := w.Delete(ctx, "copy-000"); err != nil || out != NotFound {
		t.Errorf("deleting a deleted incident: %v %v, want not found", out, err)
	}
}

// TestReopenVerifiesNewFiles checks that Reopen skips only the files an
// update shares with the open generation: damage in a new file is found.
func TestReopenVerifiesNewFiles(t *testing.T) {
	ctx := context.Background()
	src, _ := updateCorpus(t, 3)
	dir := t.TempDir()
	if _, err := Build(ctx, dir, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	prev, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer prev.Close()
	in := incidentsOf(t, src)[0]
	in.ID, in.Title = "added-one", "Added"
	if _, gen, err := Apply(ctx, dir, []Change{{Put: &in}}, nil); err != nil || gen == "" {
		t.Fatal(err)
	}
	next, err := Reopen(dir, prev)
	if err != nil {
		t.Fatalf("Reopen after an update: %v", err)
	}
	m := next.Manifest
	next.Close()
	shared, fresh := 0, ""
	for name := range m.Files {
		if sameFile(filepath.Join(next.Gen, bleveDir, name), filepath.Join(prev.Gen, bleveDir, name)) {
			shared++
		} else if filepath.Ext(name) == ".zap" {
			fresh = name
		}
	}
	if shared == 0 || fresh == "" {
		t.Fatalf("the update shares %d files with the generation before, new segment %q", shared, fresh)
	}
	path := filepath.Join(next.Gen, bleveDir, fresh)
	b := readBytes(t, path)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Reopen(dir, prev); !errors.Is(err, ErrDamaged) {
		t.Errorf("Reopen with a damaged new segment: %v, want ErrDamaged", err)
	}
}

// TestUpdateWithoutTable updates an index written before generations had a
// sources table: every file is read once, the incidents whose stored form
// is unchanged are not indexed again, and the new generation has a table.
func TestUpdateWithoutTable(t *testing.T) {
	ctx := context.Background()
	src, names := updateCorpus(t, 5)
	dir := t.TempDir()
	if _, err := Build(ctx, dir, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	gen, err := CurrentGeneration(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := readManifest(gen)
	if err != nil {
		t.Fatal(err)
	}
	m.Sources = nil
	if err := writeJSONSync(filepath.Join(gen, manifestName), m); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(gen, sourcesName)); err != nil {
		t.Fatal(err)
	}
	in := incidentsOf(t, filepath.Join(src, names[0]))[0]
	if out, gen, err := Apply(ctx, dir, []Change{{Put: &in}}, nil); err != nil || gen != "" || out[0] != Unchanged {
		t.Errorf("Apply of an unchanged incident without a table: %v %q %v, want unchanged", out, gen, err)
	}
	editTitle(t, filepath.Join(src, names[1]), "Edited before the first update")
	st, err := Update(ctx, dir, []string{src}, UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if st.FilesRead != 5 || st.Unchanged != 4 || st.Replaced != 1 || !st.Changed() {
		t.Errorf("first update without a table: %+v, want 5 files read, 4 unchanged, 1 replaced", st)
	}
	if st, err := Update(ctx, dir, []string{src}, UpdateOptions{}); err != nil || st.FilesRead != 0 || st.FilesUnchanged != 5 {
		t.Errorf("second update: %+v %v, want every file known", st, err)
	}
}

// TestUpdateSkipsOwnIndex updates from a directory that holds the index
// directory itself: the index's files are never read as reports.
func TestUpdateSkipsOwnIndex(t *testing.T) {
	ctx := context.Background()
	src, _ := updateCorpus(t, 3)
	dir := filepath.Join(src, "index")
	if _, err := Build(ctx, dir, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		var problems []Problem
		st, err := Update(ctx, dir, []string{src}, UpdateOptions{Problem: func(p Problem) { problems = append(problems, p) }})
		if err != nil || st.Rejected != 0 || len(problems) != 0 || st.FilesRead != 0 || st.Count != 3 {
			t.Errorf("update of a tree holding the index: %+v %v, problems %v", st, err, problems)
		}
	}
}
