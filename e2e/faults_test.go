package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
	"github.com/faildex/faildex/search"
)

// Faults: killed builds, a full disk, damaged indexes and a second process
// on the same index, all through the real binary.

// faildexCmd returns a command running the binary, bounded by timeout.
func faildexCmd(tb testing.TB, timeout time.Duration, args ...string) (*exec.Cmd, *bytes.Buffer) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tb.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "FAILDEX_ADMIN_TOKEN=", "FAILDEX_INDEX=")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	return cmd, &out
}

// runFaildex runs the binary to its end and returns its exit code and
// output; it fails the test if the run takes longer than timeout.
func runFaildex(tb testing.TB, timeout time.Duration, args ...string) (int, string) {
	tb.Helper()
	cmd, out := faildexCmd(tb, timeout, args...)
	start := time.Now()
	err := cmd.Run()
	if time.Since(start) >= timeout {
		tb.Fatalf("faildex %s did not finish within %s:\n%s", strings.Join(args, " "), timeout, out)
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.String()
	}
	tb.Fatalf("faildex %s: %v", strings.Join(args, " "), err)
	return 0, ""
}

// templatedCorpus writes n text reports into a new directory: copies of a
// real report page (the first, by name, of the real reports' directory) with
// new ids (file names) and numbered titles.
func templatedCorpus(tb testing.TB, n int) string {
	tb.Helper()
	pages, err := filepath.Glob(filepath.Join(indextest.Reports(tb)[0], "*.txt"))
	if err != nil || len(pages) == 0 {
		tb.Fatalf("no report page to copy: %v", err)
	}
	src, err := os.ReadFile(pages[0])
	if err != nil {
		tb.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(src), "\n")
	dir := filepath.Join(tb.TempDir(), "corpus")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("%s (copy %d)\n%s", first, i, rest)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("copy-%05d.txt", i)), []byte(body), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// faultQueries are the searches whose answers must not change.
var faultQueries = []search.Request{
	{Query: "wake word"},
	{},
	{Filters: map[string][]string{"consequence": {"death"}}},
	{Query: "software", Sort: "title", Page: 2, Size: 5},
}

// answers opens the index in dir as `faildex serve` does and returns its
// document count and its answers to faultQueries, timing removed.
func answers(tb testing.TB, dir string) (uint64, string) {
	tb.Helper()
	eng, err := search.Open(context.Background(), dir)
	if err != nil {
		tb.Fatalf("opening %s: %v", dir, err)
	}
	defer eng.Close()
	var b strings.Builder
	for _, q := range faultQueries {
		res, err := eng.Search(context.Background(), q)
		if err != nil {
			tb.Fatalf("search %+v: %v", q, err)
		}
		res.TookMS = 0
		j, _ := json.Marshal(res)
		b.Write(j)
		b.WriteByte('\n')
	}
	return eng.DocCount(), b.String()
}

var faultSeed = flag.Uint64("fault-seed", 0, "seed of TestKillIndexBuild's kill times (0: from the clock)")

// TestKillIndexBuild kills `faildex index` at random points of a build, 20
// times: the previous index always opens with the same answers, and the
// next build succeeds. Some kills must land while a build is writing. The
// seed of the kill times is logged; -fault-seed replays a run.
func TestKillIndexBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("kills builds for tens of seconds")
	}
	data := indextest.Reports(t)
	const copies = 400
	corpus := templatedCorpus(t, copies)

	// How long a full build takes, so that kills land all through it.
	start := time.Now()
	if code, out := runFaildex(t, 5*time.Minute, "index", "--index", filepath.Join(t.TempDir(), "timing"), corpus); code != 0 {
		t.Fatalf("timing build: exit %d:\n%s", code, out)
	}
	buildTime := time.Since(start)
	t.Logf("a build of %d reports takes %s", copies, buildTime)
	if buildTime < time.Second {
		t.Logf("builds are shorter than 1 s on this machine; kills still land at random points")
	}

	dir := filepath.Join(t.TempDir(), "index")
	if code, out := runFaildex(t, 2*time.Minute, append([]string{"index", "--index", dir}, data...)...); code != 0 {
		t.Fatalf("first build: exit %d:\n%s", code, out)
	}
	wantCount, want := answers(t, dir)
	wantGen, _ := index.CurrentGeneration(dir)

	seed := *faultSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("kill times seed %d (replay with -fault-seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	killed, finished, midBuild := 0, 0, 0
	for i := 0; i < 20; i++ {
		before := buildDirs(dir)
		cmd, out := faildexCmd(t, 5*time.Minute, "index", "--index", dir, corpus)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		delay := time.Duration(rng.Int64N(int64(buildTime)))
		time.Sleep(delay)
		// The build is writing when a temporary directory not there
		// before it started exists.
		writing := false
		for name := range buildDirs(dir) {
			writing = writing || !before[name]
		}
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if err == nil {
			// The build ended before the kill: the new index is current
			// and is the one that must survive the next kills.
			finished++
			gen, _ := index.CurrentGeneration(dir)
			count, _ := answers(t, dir)
			if gen == wantGen || count != copies {
				t.Fatalf("kill %d: the build finished, but current is %s with %d documents:\n%s", i, gen, count, out)
			}
			wantGen = gen
			wantCount, want = answers(t, dir)
			continue
		}
		killed++
		gen, err := index.CurrentGeneration(dir)
		if err != nil {
			t.Fatalf("kill %d after %s: %v", i, delay, err)
		}
		if gen != wantGen {
			// The kill landed after the atomic swap (while old
			// generations were pruned or the summary logged): the new
			// generation must then be complete.
			count, _ := answers(t, dir)
			if count != copies {
				t.Fatalf("kill %d after %s: current moved to %s with %d documents, want the old one or a complete new one (%d)", i, delay, gen, count, copies)
			}
			wantGen = gen
			wantCount, want = answers(t, dir)
			continue
		}
		count, got := answers(t, dir)
		if count != wantCount || got != want {
			t.Fatalf("kill %d after %s: %d documents and different answers; want %d", i, delay, count, wantCount)
		}
		if writing {
			midBuild++
		}
	}
	t.Logf("%d builds killed (%d while writing, the previous index kept), %d finished before their kill", killed, midBuild, finished)
	if midBuild == 0 {
		t.Errorf("no kill landed while a build was writing; the test did not check what it claims")
	}

	// The next build succeeds, cleans up what the killed ones left and
	// serves the new corpus.
	if code, out := runFaildex(t, 5*time.Minute, "index", "--index", dir, corpus); code != 0 {
		t.Fatalf("build after the kills: exit %d:\n%s", code, out)
	}
	if count, _ := answers(t, dir); count != copies {
		t.Errorf("after the last build: %d documents, want %d", count, copies)
	}
	for name := range buildDirs(dir) {
		t.Errorf("leftover %s after a successful build", name)
	}
}

// smallDisk returns a directory on a tmpfs of size bytes, or "" when
// mounting is not permitted.
func smallDisk(tb testing.TB, size int) string {
	tb.Helper()
	dir := tb.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).Run(); err != nil {
		return ""
	}
	tb.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			tb.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}

// TestDiskFull fills the disk during a build: the build fails with a clear
// error, the previous index keeps its answers, and a later build on a disk
// with room succeeds.
func TestDiskFull(t *testing.T) {
	data := indextest.Reports(t)
	corpus := templatedCorpus(t, 600)
	disk := smallDisk(t, 4<<20)
	limitFileSize := false
	if disk == "" {
		// No mount: limit the size of any file the build writes instead
		// (RLIMIT_FSIZE; the Go runtime ignores SIGXFSZ, so writes fail
		// with EFBIG).
		disk = t.TempDir()
		limitFileSize = true
	}
	dir := filepath.Join(disk, "index")
	if code, out := runFaildex(t, 2*time.Minute, append([]string{"index", "--index", dir}, data...)...); code != 0 {
		t.Fatalf("first build: exit %d:\n%s", code, out)
	}
	wantCount, want := answers(t, dir)
	wantGen, _ := index.CurrentGeneration(dir)

	var code int
	var out string
	if limitFileSize {
		code, out = runWithFileSizeLimit(t, 1<<20, "index", "--index", dir, corpus)
	} else {
		code, out = runFaildex(t, 5*time.Minute, "index", "--index", dir, corpus)
	}
	if code != 1 {
		t.Fatalf("build on a full disk: exit %d, want 1:\n%s", code, out)
	}
	last := lastLine(out)
	if !strings.Contains(last, "no space left on device") && !strings.Contains(last, "file too large") {
		t.Errorf("the error does not say the disk is full: %s", last)
	}
	t.Logf("build on a full disk: %s", last)
	gen, _ := index.CurrentGeneration(dir)
	count, got := answers(t, dir)
	if gen != wantGen || count != wantCount || got != want {
		t.Errorf("after the failed build: generation %s with %d documents, want %s with %d and the same answers", gen, count, wantGen, wantCount)
	}
	for name := range buildDirs(dir) {
		t.Errorf("the failed build left %s behind", name)
	}
	// serve starts on the untouched index.
	inst := serveIndex(t, dir)
	if status, body := inst.get(t, "/readyz"); status != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"documents":%d`, wantCount)) {
		t.Errorf("/readyz after the failed build: %d %s", status, body)
	}
}

// runWithFileSizeLimit runs the binary with RLIMIT_FSIZE set to limit bytes.
// The limit is set in this process around the child's start (children
// inherit it) and restored at once; the tests of this package do not run in
// parallel.
func runWithFileSizeLimit(tb testing.TB, limit uint64, args ...string) (int, string) {
	tb.Helper()
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		tb.Skipf("getrlimit: %v", err)
	}
	cmd, out := faildexCmd(tb, 5*time.Minute, args...)
	lim := syscall.Rlimit{Cur: limit, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		tb.Skipf("setrlimit: %v", err)
	}
	err := cmd.Start()
	syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old)
	if err != nil {
		tb.Fatal(err)
	}
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), out.String()
	}
	if err != nil {
		tb.Fatal(err)
	}
	return 0, out.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// resign rewrites the manifest of dir's current generation with the files'
// present sizes and checksums, so that damage reaches bleve itself.
func resign(tb testing.TB, gen string) {
	tb.Helper()
	var m index.Manifest
	b, err := os.ReadFile(filepath.Join(gen, "manifest.json"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	m.Files = map[string]index.FileCheck{}
	root := filepath.Join(gen, "bleve")
	table := crc32.MakeTable(crc32.Castagnoli)
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		m.Files[rel] = index.FileCheck{Size: int64(len(data)), CRC32: crc32.Checksum(data, table)}
		return nil
	})
	b, _ = json.Marshal(m)
	if err := os.WriteFile(filepath.Join(gen, "manifest.json"), b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// bleveFile returns the path of the first file of the generation's bleve
// index whose name has suffix.
func bleveFile(tb testing.TB, gen, suffix string) string {
	tb.Helper()
	var found string
	filepath.WalkDir(filepath.Join(gen, "bleve"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && found == "" && d.Type().IsRegular() && strings.HasSuffix(p, suffix) {
			found = p
		}
		return nil
	})
	if found == "" {
		tb.Fatalf("no *%s in %s", suffix, gen)
	}
	return found
}

func truncateHalf(tb testing.TB, path string) {
	tb.Helper()
	st, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()/2); err != nil {
		tb.Fatal(err)
	}
}

func flipBytes(tb testing.TB, path string, at float64) {
	tb.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	off := int64(float64(st.Size()) * at)
	b := make([]byte, 64)
	n, _ := f.ReadAt(b, off)
	for i := range b[:n] {
		b[i] ^= 0x5a
	}
	if _, err := f.WriteAt(b[:n], off); err != nil {
		tb.Fatal(err)
	}
}

// copyDir copies a directory tree, symlinks as symlinks.
func copyDir(tb testing.TB, src, dst string) {
	tb.Helper()
	if out, err := exec.Command("cp", "-a", src, dst).CombinedOutput(); err != nil {
		tb.Fatalf("cp: %v: %s", err, out)
	}
}

// startOrExit runs `faildex serve` on dir and waits, bounded, until it
// either serves (returning its URL) or exits (returning its exit code and
// output). A serving process is stopped when the test ends.
func startOrExit(tb testing.TB, dir string) (url string, code int, output string) {
	tb.Helper()
	cmd, out := faildexCmd(tb, 2*time.Minute, "serve", "--index", dir, "--addr", "127.0.0.1:0")
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(out, pw)
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	urlc := servingURL(pr, nil)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); pw.Close() }()
	deadline := time.After(90 * time.Second)
	for {
		select {
		case u, ok := <-urlc:
			if !ok {
				urlc = nil // the log ended: the process has exited
				continue
			}
			tb.Cleanup(func() {
				cmd.Process.Signal(os.Interrupt)
				<-exited
			})
			return u, 0, ""
		case err := <-exited:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return "", ee.ExitCode(), out.String()
			}
			return "", 0, out.String()
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			tb.Fatalf("faildex serve neither served nor exited within 90 s:\n%s", out)
		}
	}
}

// TestServeRefusesDamagedIndex damages a built index in each way and checks
// that `faildex serve` refuses to start with a clear message, promptly,
// instead of crashing, hanging or serving wrong answers.
func TestServeRefusesDamagedIndex(t *testing.T) {
	data := indextest.Reports(t)
	built := filepath.Join(t.TempDir(), "built")
	if code, out := runFaildex(t, 2*time.Minute, append([]string{"index", "--index", built}, data...)...); code != 0 {
		t.Fatalf("build: exit %d:\n%s", code, out)
	}
	wantCount, _ := answers(t, built)
	healthy, _, _ := startOrExit(t, built)
	wantSearch := getBody(t, healthy, "/api/v1/search?q=wake+word&size=100")
	wantAll := getBody(t, healthy, "/api/v1/search?size=100&sort=title")
	for _, tc := range []struct {
		name   string
		damage func(tb testing.TB, dir, gen string)
		want   string
		// resigned damage passes the manifest's checks; bleve may notice
		// it, or the data may still be whole: serve must then answer
		// exactly as the undamaged index does.
		resigned bool
	}{
		{"truncated segment", func(tb testing.TB, dir, gen string) { truncateHalf(tb, bleveFile(tb, gen, ".zap")) }, "manifest says", false},
		{"deleted segment", func(tb testing.TB, dir, gen string) { os.Remove(bleveFile(tb, gen, ".zap")) }, "is missing", false},
		{"truncated root.bolt", func(tb testing.TB, dir, gen string) { truncateHalf(tb, bleveFile(tb, gen, "root.bolt")) }, "manifest says", false},
		{"empty root.bolt", func(tb testing.TB, dir, gen string) { os.Truncate(bleveFile(tb, gen, "root.bolt"), 0) }, "manifest says", false},
		{"flipped bytes in a segment", func(tb testing.TB, dir, gen string) { flipBytes(tb, bleveFile(tb, gen, ".zap"), 0.5) }, "fails its checksum", false},
		{"flipped bytes in root.bolt", func(tb testing.TB, dir, gen string) { flipBytes(tb, bleveFile(tb, gen, "root.bolt"), 0.1) }, "fails its checksum", false},
		{"extra file", func(tb testing.TB, dir, gen string) {
			os.WriteFile(filepath.Join(gen, "bleve", "store", "stray.zap"), []byte("x"), 0o644)
		}, "unexpected file", false},
		{"manifest deleted", func(tb testing.TB, dir, gen string) { os.Remove(filepath.Join(gen, "manifest.json")) }, "manifest.json", false},
		{"manifest garbled", func(tb testing.TB, dir, gen string) {
			os.WriteFile(filepath.Join(gen, "manifest.json"), []byte("{\"version\":1,"), 0o644)
		}, "manifest.json", false},
		{"generation deleted", func(tb testing.TB, dir, gen string) { os.RemoveAll(gen) }, "index damaged", false},
		{"current points outside", func(tb testing.TB, dir, gen string) {
			os.Remove(filepath.Join(dir, "current"))
			os.Symlink("/etc", filepath.Join(dir, "current"))
		}, "points outside", false},
		{"truncated segment, manifest re-signed", func(tb testing.TB, dir, gen string) {
			truncateHalf(tb, bleveFile(tb, gen, ".zap"))
			resign(tb, gen)
		}, "index damaged", true},
		{"truncated root.bolt, manifest re-signed", func(tb testing.TB, dir, gen string) {
			truncateHalf(tb, bleveFile(tb, gen, "root.bolt"))
			resign(tb, gen)
		}, "index damaged", true},
		{"flipped root.bolt, manifest re-signed", func(tb testing.TB, dir, gen string) {
			flipBytes(tb, bleveFile(tb, gen, "root.bolt"), 0)
			resign(tb, gen)
		}, "index damaged", true},
		{"segment deleted, manifest re-signed", func(tb testing.TB, dir, gen string) {
			os.Remove(bleveFile(tb, gen, ".zap"))
			resign(tb, gen)
		}, "index damaged", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "index")
			copyDir(t, built, dir)
			gen, err := index.CurrentGeneration(dir)
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, dir, gen)
			url, code, out := startOrExit(t, dir)
			if url != "" {
				if !tc.resigned {
					t.Fatalf("serve started on a damaged index")
				}
				// Serving: only with exactly the right answers.
				if got := getBody(t, url, "/api/v1/search?q=wake+word&size=100"); got != wantSearch {
					t.Errorf("serves a different answer to wake word")
				}
				if got := getBody(t, url, "/api/v1/search?size=100&sort=title"); got != wantAll {
					t.Errorf("serves a different list of all %d incidents", wantCount)
				}
				t.Logf("the damage left the data whole; serve answers as the undamaged index does")
				return
			}
			if code == 0 {
				t.Fatalf("serve exited with 0 on a damaged index:\n%s", out)
			}
			last := lastLine(out)
			if !strings.HasPrefix(last, "faildex serve: ") || !strings.Contains(last, tc.want) {
				t.Errorf("exit %d; last line %q, want a message with %q", code, last, tc.want)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("serve crashed:\n%s", out)
			}
			if !strings.Contains(last, "faildex index --index") && !strings.Contains(last, "points outside") {
				t.Errorf("the message does not say how to rebuild: %s", last)
			}
			t.Logf("refused: %s", last)
		})
	}
}

// getBody fetches a path and returns the body with the timing removed, so
// that two servers' answers compare equal.
func getBody(tb testing.TB, base, path string) string {
	tb.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(base + path)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil {
		tb.Fatalf("%s: %d %s", path, resp.StatusCode, b)
	}
	delete(v, "took_ms")
	j, _ := json.Marshal(v)
	return string(j)
}

// TestSecondProcess runs two processes on one index directory.
func TestSecondProcess(t *testing.T) {
	data := indextest.Reports(t)
	corpus := templatedCorpus(t, 600)
	dir := filepath.Join(t.TempDir(), "index")
	if code, out := runFaildex(t, 2*time.Minute, append([]string{"index", "--index", dir}, data...)...); code != 0 {
		t.Fatalf("build: exit %d:\n%s", code, out)
	}
	wantCount, _ := answers(t, dir)

	// Two servers on one index both serve it, read-only.
	a := serveIndex(t, dir)
	b := serveIndex(t, dir, "--admin-token", "tok")
	for _, inst := range []*instance{a, b} {
		if status, body := inst.get(t, "/readyz"); status != http.StatusOK || !strings.Contains(body, fmt.Sprintf(`"documents":%d`, wantCount)) {
			t.Errorf("%s/readyz: %d %s", inst.URL, status, body)
		}
	}

	// Two builds at once: the second fails at once with a clear message.
	first, firstOut := faildexCmd(t, 5*time.Minute, "index", "--index", dir, corpus)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait (bounded) until the first build holds the lock: its temporary
	// directory appears.
	for i := 0; i < 600 && !hasBuildDir(dir); i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if !hasBuildDir(dir) {
		first.Process.Kill()
		first.Wait()
		t.Fatalf("the first build did not start within 6 s:\n%s", firstOut)
	}
	code, out := runFaildex(t, 30*time.Second, "index", "--index", dir, corpus)
	if code != 1 || !strings.Contains(lastLine(out), "another build holds the index directory") {
		t.Errorf("second build: exit %d, %s", code, lastLine(out))
	}
	// Searches keep working on both servers during the build.
	if status, _ := a.get(t, "/api/v1/search?q=wake+word"); status != http.StatusOK {
		t.Errorf("search during the build: %d", status)
	}
	if !hasBuildDir(dir) {
		t.Errorf("the first build ended before the second one and the search ran; they did not overlap")
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first build: %v:\n%s", err, firstOut)
	}

	// SIGHUP makes a server switch to the new build; POST /admin/reload
	// does the same on the other.
	if err := a.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, b.URL+"/admin/reload", nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"documents":600`) {
		t.Errorf("POST /admin/reload: %d %s", resp.StatusCode, body)
	}
	// The signal is handled asynchronously: poll, bounded.
	ok := false
	for i := 0; i < 300 && !ok; i++ {
		_, body := a.get(t, "/readyz")
		ok = strings.Contains(body, `"documents":600`)
		if !ok {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !ok {
		t.Error("SIGHUP did not switch the server to the new index within 15 s")
	}
}

// hasBuildDir reports whether dir holds a build's temporary directory.
func hasBuildDir(dir string) bool { return len(buildDirs(dir)) > 0 }

// buildDirs returns the names of the builds' temporary directories in dir.
func buildDirs(dir string) map[string]bool {
	names := map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build-") {
			names[e.Name()] = true
		}
	}
	return names
}
