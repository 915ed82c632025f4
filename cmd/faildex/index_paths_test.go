//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// `faildex index` refuses a named pipe named on the command line at once
// (it used to open it and wait for ever, holding the build lock).
func TestIndexRefusesNamedPipe(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "reports.jsonl")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	env, _, logs := testEnv(nil)
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), env, []string{"index", "--index", filepath.Join(dir, "ix"), fifo})
	}()
	select {
	case code := <-done:
		if code == 0 || !strings.Contains(logs.String(), "reports.jsonl: a named pipe (FIFO), not a regular file or directory") {
			t.Errorf("exit %d:\n%s", code, logs)
		}
	case <-time.After(10 * time.Second):
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("faildex index opened the named pipe and waited")
	}
}

// Symbolic links skipped in a directory are counted in the summary.
func TestIndexCountsSkippedLinks(t *testing.T) {
	dir := t.TempDir()
	reports := filepath.Join(dir, "reports")
	writeFiles(t, reports, map[string]string{"a.txt": "Incident: A\nPublished Date: 2020-01-02\n"})
	if err := os.Symlink(filepath.Join(reports, "a.txt"), filepath.Join(reports, "b.txt")); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(reports, link); err != nil {
		t.Fatal(err)
	}
	env, _, logs := testEnv(nil)
	if code := Run(context.Background(), env, []string{"index", "--index", filepath.Join(dir, "ix"), link}); code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs)
	}
	msgs := strings.Join(logMessages(t, logs.String()), "\n")
	for _, want := range []string{
		filepath.Join(link, "b.txt") + ": skipped: a symbolic link, which is not followed inside a directory",
		"1 indexed, 0 rejected, 1 skipped (symbolic links or files that are not regular; see the warnings)",
	} {
		if !strings.Contains(msgs, want) {
			t.Errorf("log lacks %q:\n%s", want, msgs)
		}
	}
}
