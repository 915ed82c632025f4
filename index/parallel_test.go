package index

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReadPathsParallelSameCalls checks that the parallel reader makes
// exactly the calls ReadPaths makes, in the same order.
func TestReadPathsParallelSameCalls(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 40; i++ {
		body := fmt.Sprintf("Incident: Report %d\nPublished Date: 2019-03-%02d\nPostmortem Analysis\nSummary Text %d [%d].\n", i, 1+i%28, i, 1000+i)
		switch i % 7 {
		case 3:
			body = "not a report\n" // rejected
		case 5:
			body += "stray text\nSoftware Taxonomy of Faults\nCategory Option Rationale\nPhase (Design/Operation) design (a) x\nPhase (Design/Operation) operation (a) again\n" // warnings
		}
		writeFile(t, filepath.Join(dir, fmt.Sprintf("d%d", i%3), fmt.Sprintf("r%02d.txt", i)), []byte(body))
	}
	writeFile(t, filepath.Join(dir, "d1", "dup.txt"), []byte("Incident: Dup\nPublished Date: 2020-01-01\n"))
	writeFile(t, filepath.Join(dir, "d2", "list.jsonl"), []byte(`{"id":"j1","title":"J","published":"2020-01-01"}`+"\n{bad\n"))
	writeFile(t, filepath.Join(dir, ".hidden", "x.txt"), []byte("Incident: Hidden\nPublished Date: 2020-01-01\n"))
	writeFile(t, filepath.Join(dir, "notes.md"), []byte("ignored"))
	paths := []string{dir, filepath.Join(dir, "d0", "r00.txt")}
	_, csvs := realReports(t)
	paths = append(paths, csvs...)
	record := func(read func(Handler) error) []string {
		var calls []string
		err := read(Handler{
			Record: func(r Record) error {
				calls = append(calls, fmt.Sprintf("record %s %s %+v", r.Source(), r.Incident.ID, r.Incident.Title))
				return nil
			},
			Problem: func(p Problem) { calls = append(calls, "problem "+p.Error()) },
		})
		return append(calls, fmt.Sprint("err ", err))
	}
	want := record(func(h Handler) error { return ReadPaths(paths, h) })
	got := record(func(h Handler) error { return readPathsParallel(paths, 3, h) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parallel reading differs (-ReadPaths +parallel):\n%s", diff)
	}
	missing := append(paths[:1:1], filepath.Join(dir, "missing"), dir)
	want = record(func(h Handler) error { return ReadPaths(missing, h) })
	got = record(func(h Handler) error { return readPathsParallel(missing, 3, h) })
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with a missing path (-ReadPaths +parallel):\n%s", diff)
	}
}
