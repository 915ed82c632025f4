package index

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
)

// mustBuild runs Build and fails the test on error.
func mustBuild(tb testing.TB, dir string, paths []string, opts BuildOptions) BuildStats {
	tb.Helper()
	st, err := Build(context.Background(), dir, paths, opts)
	if err != nil {
		tb.Fatalf("Build(%s, %v): %v", dir, paths, err)
	}
	return st
}

// openIndex opens dir and closes it when the test ends.
func openIndex(tb testing.TB, dir string) *Index {
	tb.Helper()
	idx, err := Open(dir)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	tb.Cleanup(func() { idx.Close() })
	return idx
}

// copyTree copies an index directory (files, directories and the current
// symlink) so that one build can serve several tests.
func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, to)
		default:
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(to, b, 0o644)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
}

// copyIndex returns a fresh copy of the index directory template and its
// current generation's directory.
func copyIndex(tb testing.TB, template string) (dir, gen string) {
	tb.Helper()
	dir = tb.TempDir()
	copyTree(tb, template, dir)
	gen, err := CurrentGeneration(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return dir, gen
}

func docCount(tb testing.TB, idx *Index) uint64 {
	tb.Helper()
	n, err := idx.DocCount()
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func exportJSONL(tb testing.TB, idx *Index) []byte {
	tb.Helper()
	var buf bytes.Buffer
	if _, err := idx.ExportJSONL(context.Background(), &buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// parsedCorpus reads the shared corpus and returns its incidents by id.
func parsedCorpus(tb testing.TB) map[string]Incident {
	tb.Helper()
	seeds, csv := indextest.Shared(tb)
	c := readPaths(tb, seeds, csv)
	if len(c.problems) != 0 {
		tb.Fatalf("problems reading the corpus: %v", c.problems)
	}
	m := map[string]Incident{}
	for _, in := range c.incidents() {
		m[in.ID] = in
	}
	return m
}

func TestBuildCorpus(t *testing.T) {
	ctx := context.Background()
	seeds, csv := indextest.Shared(t)
	paths := []string{seeds, csv}
	dir := t.TempDir()
	var progress []int
	st := mustBuild(t, dir, paths, BuildOptions{BatchSize: 10, Progress: func(n int, _ int64) { progress = append(progress, n) }})
	if st.Indexed != 33 || st.Rejected != 0 || st.Duplicates != 0 {
		t.Errorf("stats %+v, want 33 indexed, 0 rejected, 0 duplicates", st)
	}
	if diff := cmp.Diff([]int{10, 20, 30, 33}, progress); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	if st.TextBytes == 0 || !strings.HasPrefix(st.Gen, dir) {
		t.Errorf("stats %+v", st)
	}

	idx := openIndex(t, dir)
	if n := docCount(t, idx); n != 33 {
		t.Errorf("DocCount = %d, want 33", n)
	}
	if idx.Gen != st.Gen || idx.Manifest.Count != 33 || idx.Manifest.Rejected != 0 {
		t.Errorf("Gen %s, Manifest %+v; want %s and count 33", idx.Gen, idx.Manifest, st.Gen)
	}

	want := parsedCorpus(t)
	for _, id := range []string{"2751", seed0, seed1} {
		got, err := idx.Get(ctx, id)
		if err != nil {
			t.Fatalf("Get(%s): %v", id, err)
		}
		if diff := cmp.Diff(want[id], got); diff != "" {
			t.Errorf("Get(%s) (-want +got):\n%s", id, diff)
		}
	}
	if _, err := idx.Get(ctx, "no-such-id"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(no-such-id) error = %v, want ErrNotFound", err)
	}

	// The export holds every parsed incident, in id order.
	export := exportJSONL(t, idx)
	c := readFormat(t, FormatJSONL, "export.jsonl", export)
	if len(c.problems) != 0 || len(c.warnings) != 0 {
		t.Fatalf("reading the export: problems %v, warnings %v", c.problems, c.warnings)
	}
	var ids []string
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var wantList []Incident
	for _, id := range ids {
		wantList = append(wantList, want[id])
	}
	if diff := cmp.Diff(wantList, c.incidents()); diff != "" {
		t.Errorf("exported incidents (-want +got):\n%s", diff)
	}

	// Building from the export is lossless.
	exportPath := writeFile(t, filepath.Join(t.TempDir(), "export.jsonl"), export)
	dir2 := t.TempDir()
	if st2 := mustBuild(t, dir2, []string{exportPath}, BuildOptions{Strict: true}); st2.Indexed != 33 || st2.Warnings != 0 {
		t.Errorf("rebuild stats %+v", st2)
	}
	if export2 := exportJSONL(t, openIndex(t, dir2)); !bytes.Equal(export, export2) {
		t.Errorf("export of the rebuilt index differs:\n%s", cmp.Diff(string(export), string(export2)))
	}
}

// snapshot is what a reader sees of an index.
type snapshot struct {
	Gen   string
	Count uint64
	Get   Incident
}

func takeSnapshot(tb testing.TB, dir, id string) snapshot {
	tb.Helper()
	idx, err := Open(dir)
	if err != nil {
		tb.Fatalf("Open(%s): %v", dir, err)
	}
	defer idx.Close()
	in, err := idx.Get(context.Background(), id)
	if err != nil {
		tb.Fatalf("Get(%s): %v", id, err)
	}
	return snapshot{Gen: idx.Gen, Count: docCount(tb, idx), Get: in}
}

// buildLeftovers lists the directory's entries that a finished build should
// not leave behind.
func buildLeftovers(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build-") || e.Name() == ".current.tmp" {
			out = append(out, e.Name())
		}
	}
	return out
}

func TestBuildFailureKeepsPreviousGeneration(t *testing.T) {
	seeds, csv := indextest.Shared(t)
	paths := []string{seeds, csv}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		paths   func(tb testing.TB) []string
		opts    BuildOptions
		wantErr string
	}{
		{
			name: "no reports in the input",
			paths: func(tb testing.TB) []string {
				d := tb.TempDir()
				writeFile(tb, filepath.Join(d, "README.md"), []byte("# not a report\n"))
				return []string{d}
			},
			wantErr: "no incidents to index",
		},
		{
			name: "strict with one bad file",
			paths: func(tb testing.TB) []string {
				bad := writeFile(tb, filepath.Join(tb.TempDir(), "bad.txt"), []byte("Incident: T\nPublished Date: 2019-02-30\n"))
				return append(paths[:len(paths):len(paths)], bad)
			},
			opts:    BuildOptions{Strict: true},
			wantErr: "1 reports rejected in strict mode",
		},
		{
			name:    "cancelled",
			ctx:     cancelled,
			paths:   func(testing.TB) []string { return paths },
			wantErr: context.Canceled.Error(),
		},
		{
			name:    "missing input path",
			paths:   func(tb testing.TB) []string { return []string{filepath.Join(tb.TempDir(), "absent")} },
			wantErr: "no such file or directory",
		},
	}
	template := t.TempDir()
	mustBuild(t, template, paths, BuildOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, _ := copyIndex(t, template)
			before := takeSnapshot(t, dir, "2751")

			// A reader that has the index open keeps working.
			reader := openIndex(t, dir)
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			st, err := Build(ctx, dir, tt.paths(t), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Build error = %v (stats %+v), want one containing %q", err, st, tt.wantErr)
			}
			if diff := cmp.Diff(before, takeSnapshot(t, dir, "2751")); diff != "" {
				t.Errorf("after the failed build (-before +after):\n%s", diff)
			}
			if n := docCount(t, reader); n != before.Count {
				t.Errorf("open reader DocCount = %d, want %d", n, before.Count)
			}
			if left := buildLeftovers(t, dir); len(left) != 0 {
				t.Errorf("failed build left %v", left)
			}
		})
	}
}

func TestBuildEmptyDirWithoutIndex(t *testing.T) {
	dir := t.TempDir()
	in := t.TempDir()
	writeFile(t, filepath.Join(in, "README.md"), []byte("# notes\n"))
	if _, err := Build(context.Background(), dir, []string{in}, BuildOptions{}); err == nil {
		t.Fatal("Build of nothing succeeded")
	}
	if Exists(dir) {
		t.Error("Exists after a failed first build")
	}
	if _, err := Open(dir); !errors.Is(err, ErrNoIndex) {
		t.Errorf("Open error = %v, want ErrNoIndex", err)
	}
}

// TestBuildLocked checks that a build holds the directory's build lock
// while it runs, that a second build fails with ErrBuildRunning while the
// lock is held and leaves the current generation alone, and that the lock
// is released when a build ends.
func TestBuildLocked(t *testing.T) {
	seeds, _ := indextest.Shared(t)
	paths := []string{seeds}
	dir := t.TempDir()
	var lockErr error
	mustBuild(t, dir, paths, BuildOptions{
		BatchSize: 1,
		Progress: func(int, int64) {
			if unlock, err := lockDir(dir); err == nil {
				unlock()
			} else if lockErr == nil {
				lockErr = err
			}
		},
	})
	if !errors.Is(lockErr, ErrBuildRunning) {
		t.Errorf("taking the lock during a build: error %v, want ErrBuildRunning", lockErr)
	}
	before := takeSnapshot(t, dir, seed0)

	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatalf("taking the lock after a build: %v", err)
	}
	st, err := Build(context.Background(), dir, paths, BuildOptions{})
	if !errors.Is(err, ErrBuildRunning) {
		t.Errorf("Build while the lock is held: error %v (stats %+v), want ErrBuildRunning", err, st)
	}
	if diff := cmp.Diff(before, takeSnapshot(t, dir, seed0)); diff != "" {
		t.Errorf("after the refused build (-before +after):\n%s", diff)
	}
	if left := buildLeftovers(t, dir); len(left) != 0 {
		t.Errorf("the refused build left %v", left)
	}
	unlock()
	// The lock is released: a later build runs.
	if st := mustBuild(t, dir, paths, BuildOptions{}); st.Indexed != 2 {
		t.Errorf("Build after the lock is released: indexed %d, want 2", st.Indexed)
	}
}

func TestBuildKeepsTwoGenerations(t *testing.T) {
	seeds, _ := indextest.Shared(t)
	paths := []string{seeds}
	dir := t.TempDir()
	var gens []string
	for range 3 {
		gens = append(gens, filepath.Base(mustBuild(t, dir, paths, BuildOptions{}).Gen))
	}
	got, err := filepath.Glob(filepath.Join(dir, "gen-*"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	if diff := cmp.Diff(gens[1:], got); diff != "" {
		t.Errorf("generations (-want +got):\n%s", diff)
	}
	cur, err := CurrentGeneration(dir)
	if err != nil || filepath.Base(cur) != gens[2] {
		t.Errorf("CurrentGeneration = %s, %v; want %s", cur, err, gens[2])
	}
}

// segmentFile returns the generation's only .zap segment.
func segmentFile(tb testing.TB, gen string) string {
	tb.Helper()
	zaps, err := filepath.Glob(filepath.Join(gen, bleveDir, "store", "*.zap"))
	if err != nil || len(zaps) != 1 {
		tb.Fatalf("segments in %s: %v, %v; want one", gen, zaps, err)
	}
	return zaps[0]
}

// resign rewrites the generation's manifest to match its files, so that
// only bleve itself can notice damage.
func resign(tb testing.TB, gen string) {
	tb.Helper()
	m, err := readManifest(gen)
	if err != nil {
		tb.Fatal(err)
	}
	if m.Files, err = checksums(filepath.Join(gen, bleveDir), true); err != nil {
		tb.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		tb.Fatal(err)
	}
	writeFile(tb, filepath.Join(gen, manifestName), b)
}

func TestOpenDamaged(t *testing.T) {
	truncate := func(tb testing.TB, path string, size func(int64) int64) {
		tb.Helper()
		st, err := os.Stat(path)
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.Truncate(path, size(st.Size())); err != nil {
			tb.Fatal(err)
		}
	}
	half := func(n int64) int64 { return n / 2 }
	flip := func(tb testing.TB, path string, at func(int64) int64) {
		tb.Helper()
		b := readBytes(tb, path)
		b[at(int64(len(b)))] ^= 0x40
		writeFile(tb, path, b)
	}
	bolt := func(gen string) string { return filepath.Join(gen, bleveDir, "store", "root.bolt") }
	tests := []struct {
		name    string
		damage  func(tb testing.TB, dir, gen string)
		wantErr error
	}{
		{"truncated segment", func(tb testing.TB, _, gen string) { truncate(tb, segmentFile(tb, gen), half) }, ErrDamaged},
		{"segment emptied", func(tb testing.TB, _, gen string) { truncate(tb, segmentFile(tb, gen), func(int64) int64 { return 0 }) }, ErrDamaged},
		{"flipped byte in segment", func(tb testing.TB, _, gen string) { flip(tb, segmentFile(tb, gen), half) }, ErrDamaged},
		{"flipped last byte of segment", func(tb testing.TB, _, gen string) {
			flip(tb, segmentFile(tb, gen), func(n int64) int64 { return n - 1 })
		}, ErrDamaged},
		{"segment deleted", func(tb testing.TB, _, gen string) {
			if err := os.Remove(segmentFile(tb, gen)); err != nil {
				tb.Fatal(err)
			}
		}, ErrDamaged},
		{"truncated root.bolt", func(tb testing.TB, _, gen string) { truncate(tb, bolt(gen), half) }, ErrDamaged},
		{"root.bolt deleted", func(tb testing.TB, _, gen string) {
			if err := os.Remove(bolt(gen)); err != nil {
				tb.Fatal(err)
			}
		}, ErrDamaged},
		{"unexpected file", func(tb testing.TB, _, gen string) {
			writeFile(tb, filepath.Join(gen, bleveDir, "store", "extra.zap"), []byte("x"))
		}, ErrDamaged},
		{"manifest deleted", func(tb testing.TB, _, gen string) {
			if err := os.Remove(filepath.Join(gen, manifestName)); err != nil {
				tb.Fatal(err)
			}
		}, ErrDamaged},
		{"manifest garbage", func(tb testing.TB, _, gen string) { writeFile(tb, filepath.Join(gen, manifestName), []byte("{")) }, ErrDamaged},
		{"manifest of another version", func(tb testing.TB, _, gen string) {
			writeFile(tb, filepath.Join(gen, manifestName), []byte(`{"version": 99}`))
		}, ErrDamaged},
		{"manifest count wrong", func(tb testing.TB, _, gen string) {
			m, err := readManifest(gen)
			if err != nil {
				tb.Fatal(err)
			}
			m.Count++
			b, _ := json.Marshal(m)
			writeFile(tb, filepath.Join(gen, manifestName), b)
		}, ErrDamaged},
		{"generation deleted", func(tb testing.TB, _, gen string) {
			if err := os.RemoveAll(gen); err != nil {
				tb.Fatal(err)
			}
		}, ErrDamaged},
		{"current points outside", func(tb testing.TB, dir, _ string) {
			os.Remove(filepath.Join(dir, currentLink))
			if err := os.Symlink("/tmp", filepath.Join(dir, currentLink)); err != nil {
				tb.Fatal(err)
			}
		}, ErrDamaged},
		{"current is not a link", func(tb testing.TB, dir, _ string) {
			os.Remove(filepath.Join(dir, currentLink))
			writeFile(tb, filepath.Join(dir, currentLink), []byte("gen-1"))
		}, ErrDamaged},
		{"current missing", func(tb testing.TB, dir, _ string) {
			if err := os.Remove(filepath.Join(dir, currentLink)); err != nil {
				tb.Fatal(err)
			}
		}, ErrNoIndex},
		// With a manifest that matches the damaged files, bleve itself
		// must notice the damage.
		{"truncated segment, manifest re-signed", func(tb testing.TB, _, gen string) {
			truncate(tb, segmentFile(tb, gen), half)
			resign(tb, gen)
		}, ErrDamaged},
		{"segment emptied, manifest re-signed", func(tb testing.TB, _, gen string) {
			truncate(tb, segmentFile(tb, gen), func(int64) int64 { return 0 })
			resign(tb, gen)
		}, ErrDamaged},
		{"root.bolt cut to one page, manifest re-signed", func(tb testing.TB, _, gen string) {
			truncate(tb, bolt(gen), func(int64) int64 { return 4096 })
			resign(tb, gen)
		}, ErrDamaged},
		{"root.bolt overwritten, manifest re-signed", func(tb testing.TB, _, gen string) {
			writeFile(tb, bolt(gen), bytes.Repeat([]byte{0xa5}, 64<<10))
			resign(tb, gen)
		}, ErrDamaged},
		{"segment deleted, manifest re-signed", func(tb testing.TB, _, gen string) {
			if err := os.Remove(segmentFile(tb, gen)); err != nil {
				tb.Fatal(err)
			}
			resign(tb, gen)
		}, ErrDamaged},
	}
	seeds, csv := indextest.Shared(t)
	paths := []string{seeds, csv}
	template := t.TempDir()
	mustBuild(t, template, paths, BuildOptions{})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, gen := copyIndex(t, template)
			idx, err := Open(dir)
			if err != nil {
				t.Fatalf("Open before the damage: %v", err)
			}
			idx.Close()
			tt.damage(t, dir, gen)
			idx, err = Open(dir)
			if err == nil {
				idx.Close()
				t.Fatal("Open succeeded on a damaged index")
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Open error = %v, want %v", err, tt.wantErr)
			}
			// The next build repairs the directory (checked once; builds
			// are slow under the race detector).
			if i == 0 {
				mustBuild(t, dir, paths, BuildOptions{})
				if n := docCount(t, openIndex(t, dir)); n != 33 {
					t.Errorf("DocCount after rebuild = %d, want 33", n)
				}
			}
		})
	}
}

// TestOpenTwice checks that opening an index (read-only) does not change
// its files: the second Open still passes the manifest's checksums.
func TestOpenTwice(t *testing.T) {
	dir := t.TempDir()
	seeds, csv := indextest.Shared(t)
	mustBuild(t, dir, []string{seeds, csv}, BuildOptions{})
	for range 3 {
		idx, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if n := docCount(t, idx); n != 33 {
			t.Errorf("DocCount = %d, want 33", n)
		}
		if err := idx.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
