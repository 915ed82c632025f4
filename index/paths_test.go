//go:build unix

package index

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const goodReport = "Incident: %s\nPublished Date: 2020-01-02\nSummary fine\n"

func writeReport(tb testing.TB, path, title string) {
	tb.Helper()
	writeFile(tb, path, []byte(strings.Replace(goodReport, "%s", title, 1)))
}

// A named pipe named on the command line is refused without being opened
// (opening it would wait for a writer for ever, holding the build lock),
// and the build lock is free afterwards.
func TestNamedPipeRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "reports.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	ix := filepath.Join(dir, "ix")
	done := make(chan error, 1)
	go func() {
		_, err := Build(context.Background(), ix, []string{fifo}, BuildOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), fifo+": a named pipe (FIFO), not a regular file or directory") {
			t.Errorf("Build: %v", err)
		}
	case <-time.After(10 * time.Second):
		// Unblock the open so that the test ends.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("Build opened the named pipe and waited")
	}
	if err := ReadPaths([]string{fifo}, (&collected{}).handler()); err == nil {
		t.Error("ReadPaths read a named pipe")
	}
	// The lock was released (or never taken): a build of a report works.
	good := filepath.Join(dir, "good.txt")
	writeReport(t, good, "Good")
	if st := mustBuild(t, ix, []string{good}, BuildOptions{}); st.Indexed != 1 {
		t.Errorf("indexed %d", st.Indexed)
	}
}

// A symbolic link to a directory is read with or without a trailing
// slash; links and other files that are not regular inside directories are
// skipped, each with a problem marked Skipped that the build counts.
func TestSymlinks(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real")
	writeReport(t, filepath.Join(real, "a.txt"), "A")
	writeReport(t, filepath.Join(real, "sub", "b.txt"), "B")
	outside := filepath.Join(dir, "outside")
	writeReport(t, filepath.Join(outside, "c.txt"), "C")
	if err := os.Symlink(filepath.Join(outside, "c.txt"), filepath.Join(real, "c.txt")); err != nil {
		t.Skipf("symlink: %v", err)
	}
	mustSymlink(t, outside, filepath.Join(real, "linked-dir"))
	if err := syscall.Mkfifo(filepath.Join(real, "pipe.txt"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	mustSymlink(t, real, link)

	for _, root := range []string{link, link + "/", real} {
		t.Run(filepath.Base(root)+strings.Repeat("/", strings.Count(root, "/")-strings.Count(filepath.Clean(root), "/")), func(t *testing.T) {
			c := readPaths(t, root)
			var titles []string
			for _, r := range c.records {
				titles = append(titles, r.Incident.Title)
			}
			if diff := cmp.Diff([]string{"A", "B"}, titles); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			var skipped []string
			for _, p := range c.problems {
				if !p.Skipped {
					t.Errorf("problem %v", &p)
					continue
				}
				skipped = append(skipped, filepath.Base(p.File)+": "+p.Msg)
			}
			want := []string{
				"c.txt: skipped: a symbolic link, which is not followed inside a directory; name its target to read it",
				"linked-dir: skipped: a symbolic link, which is not followed inside a directory; name its target to read it",
				"pipe.txt: skipped: a named pipe (FIFO), not a regular file",
			}
			if diff := cmp.Diff(want, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
	st := mustBuild(t, filepath.Join(dir, "ix"), []string{link}, BuildOptions{})
	if st.Indexed != 2 || st.Skipped != 3 || st.Warnings != 0 || st.Rejected != 0 {
		t.Errorf("stats %+v; want 2 indexed, 3 skipped", st)
	}
	// A link to a file named explicitly is read.
	if c := readPaths(t, filepath.Join(real, "c.txt")); len(c.records) != 1 {
		t.Errorf("explicit link: %d records, problems %v", len(c.records), c.problems)
	}
}

func mustSymlink(tb testing.TB, target, link string) {
	tb.Helper()
	if err := os.Symlink(target, link); err != nil {
		tb.Fatal(err)
	}
}
