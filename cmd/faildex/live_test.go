package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faildex/faildex/index/indextest"
)

// liveCorpus copies n bundled reports into a new directory and returns it
// with the copies' paths.
func liveCorpus(tb testing.TB, n int) (string, []string) {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil || len(files) < n {
		tb.Fatalf("want %d bundled reports, have %d (%v)", n, len(files), err)
	}
	dir := tb.TempDir()
	var out []string
	for _, f := range files[:n] {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Base(f))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			tb.Fatal(err)
		}
		out = append(out, p)
	}
	return dir, out
}

// retitle writes a copy of the report at src to dst with another title.
func retitle(tb testing.TB, src, dst, title string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "Incident: ") {
			l = "Incident: " + title
		}
		lines = append(lines, l)
	}
	tmp := filepath.Join(filepath.Dir(dst), ".tmp-"+filepath.Base(dst))
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		tb.Fatal(err)
	}
}

func idOfFile(path string) string { return strings.TrimSuffix(filepath.Base(path), ".txt") }

func TestIndexUpdateAndDeleteCommands(t *testing.T) {
	src, files := liveCorpus(t, 5)
	dir := filepath.Join(t.TempDir(), "index")
	run := func(args ...string) (int, string, string) {
		env, out, logs := testEnv(nil)
		code := Run(context.Background(), env, args)
		return code, out.String(), logs.String()
	}
	if code, _, logs := run("index", "--index", dir, src); code != 0 {
		t.Fatalf("index: %d\n%s", code, logs)
	}
	retitle(t, files[1], files[1], "Retitled by a curator")
	code, _, logs := run("index", "--update", "--index", dir, src)
	if code != 0 || !strings.Contains(logs, "0 added, 1 replaced, 0 deleted, 0 unchanged; 1 files read, 4 not") {
		t.Errorf("index --update after one edit: %d\n%s", code, logs)
	}
	if code, _, logs := run("index", "--update", "--index", dir, src); code != 0 || !strings.Contains(logs, "nothing changed") {
		t.Errorf("index --update with nothing changed: %d\n%s", code, logs)
	}
	os.Remove(files[2])
	if code, _, logs := run("index", "--update", "--index", dir, src); code != 0 || !strings.Contains(logs, "1 no longer in their file, kept") {
		t.Errorf("index --update after a removal: %d\n%s", code, logs)
	}
	if code, _, logs := run("index", "--update", "--delete-missing", "--index", dir, src); code != 0 || !strings.Contains(logs, "1 deleted") {
		t.Errorf("index --update --delete-missing: %d\n%s", code, logs)
	}
	code, out, logs := run("delete", "--index", dir, idOfFile(files[3]), "no-such-incident")
	if code != 1 || !strings.Contains(out, idOfFile(files[3])+": deleted") || !strings.Contains(logs, "no-such-incident") {
		t.Errorf("delete of one present and one absent id: %d\nout %s\nlogs %s", code, out, logs)
	}
	code, out, _ = run("show", "--index", dir, idOfFile(files[1]))
	if code != 0 || !strings.Contains(out, "Retitled by a curator") {
		t.Errorf("show after the updates: %d %s", code, out)
	}
	for _, args := range [][]string{
		{"index", "--delete-missing", "--index", dir, src},
		{"index", "--update", "--index", dir},
		{"delete", "--index", dir},
	} {
		if code, _, logs := run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (usage)\n%s", args, code, logs)
		}
	}
}

// waitFor polls check every 100 ms until it holds or timeout passes, and
// returns how long that took.
func waitFor(tb testing.TB, timeout time.Duration, what string, check func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for !check() {
		if time.Since(start) > timeout {
			tb.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return time.Since(start)
}

// total returns the number of incidents a search finds.
func total(tb testing.TB, base, q string) int {
	tb.Helper()
	resp, err := http.Get(base + "/api/v1/search?q=" + url.QueryEscape(q))
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		tb.Fatal(err)
	}
	return res.Total
}

func status(tb testing.TB, target string) int {
	tb.Helper()
	resp, err := http.Get(target)
	if err != nil {
		tb.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeWatch changes report files under a watching server: a new
// file, an edit, a removal and a burst of new files each show in searches
// within seconds, the burst in a few updates, not one per file.
func TestServeWatch(t *testing.T) {
	src, files := liveCorpus(t, 6)
	dir := filepath.Join(t.TempDir(), "index")
	base, logs := startServeCmdLogs(t, "--index", dir, "--addr", "127.0.0.1:0", "--watch", "--follow-index", "0", src)
	if n := total(t, base, ""); n != 6 {
		t.Fatalf("%d incidents served, want 6", n)
	}
	const limit = 20 * time.Second
	retitle(t, files[0], filepath.Join(src, "added-one.txt"), "Quasiperiodic flangeworks collapse")
	took := waitFor(t, limit, "a new report file", func() bool { return total(t, base, "flangeworks") == 1 })
	t.Logf("a new file was searchable after %v", took)
	retitle(t, files[1], files[1], "Hyperbolic gasket recall")
	waitFor(t, limit, "an edited report", func() bool { return total(t, base, "gasket") == 1 })
	os.Remove(files[2])
	waitFor(t, limit, "a removed report", func() bool {
		return status(t, base+"/api/v1/incidents/"+idOfFile(files[2])) == http.StatusGone
	})
	if n := total(t, base, ""); n != 6 {
		t.Errorf("%d incidents after add, edit and removal, want 6", n)
	}

	// A burst of files, written as fast as possible.
	burst := filepath.Join(src, "burst")
	if err := os.Mkdir(burst, 0o755); err != nil {
		t.Fatal(err)
	}
	const n = 300
	updatesBefore := strings.Count(logs.String(), "files read")
	for i := range n {
		retitle(t, files[3], filepath.Join(burst, fmt.Sprintf("burst-%03d.txt", i)), fmt.Sprintf("Burst copy zeugmatic %d", i))
	}
	waitFor(t, 60*time.Second, "a burst of files", func() bool { return total(t, base, "zeugmatic") == n })
	// Writing 300 files takes well under the 3 s a burst may wait: a few
	// updates at most, not one per file.
	if u := strings.Count(logs.String(), "files read") - updatesBefore; u > 5 {
		t.Errorf("%d updates for a burst of %d files, want a few", u, n)
	}
}

// TestServeFollowsNewGeneration checks that a server switches to a
// generation that another process (faildex index) writes into its index
// directory, without being told.
func TestServeFollowsNewGeneration(t *testing.T) {
	src, files := liveCorpus(t, 4)
	dir := filepath.Join(t.TempDir(), "index")
	base := startServeCmd(t, "--index", dir, "--addr", "127.0.0.1:0", "--follow-index", "200ms", src)
	if n := total(t, base, ""); n != 4 {
		t.Fatalf("%d incidents served, want 4", n)
	}
	retitle(t, files[0], filepath.Join(src, "followed.txt"), "Anisotropic sprocket drift")
	env, _, logs := testEnv(nil)
	if code := Run(context.Background(), env, []string{"index", "--update", "--index", dir, src}); code != 0 {
		t.Fatalf("index --update: %d\n%s", code, logs)
	}
	waitFor(t, 20*time.Second, "the new generation", func() bool { return total(t, base, "sprocket") == 1 })
	if code := Run(context.Background(), env, []string{"delete", "--index", dir, "followed"}); code != 0 {
		t.Fatalf("delete: %d\n%s", code, logs)
	}
	waitFor(t, 20*time.Second, "the deletion", func() bool { return total(t, base, "sprocket") == 0 })
}

// TestServeWatchHoldingItsIndex watches a directory that holds the index
// directory itself: the index's own writes start no update, and its files
// are never read as reports.
func TestServeWatchHoldingItsIndex(t *testing.T) {
	src, files := liveCorpus(t, 3)
	base, logs := startServeCmdLogs(t, "--index", filepath.Join(src, "index"), "--addr", "127.0.0.1:0", "--watch", "--follow-index", "0", src)
	retitle(t, files[0], filepath.Join(src, "another.txt"), "Orthogonal widget fault")
	waitFor(t, 20*time.Second, "a new report", func() bool { return total(t, base, "widget") == 1 })
	time.Sleep(2 * time.Second) // long enough for a loop of updates to show
	l := logs.String()
	if n := strings.Count(l, "files read"); n > 3 || strings.Contains(l, `"level":"warn"`) || strings.Contains(l, `"level":"error"`) {
		t.Errorf("%d updates, or problems, from watching a tree holding the index:\n%s", n, l)
	}
}
