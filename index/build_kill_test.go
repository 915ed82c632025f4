package index

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
)

// helperEnv carries a helperJob to the child process of TestBuildKilled.
const helperEnv = "FAILDEX_TEST_HELPER_BUILD"

type helperJob struct {
	Dir   string   `json:"dir"`
	Paths []string `json:"paths"`
	// PauseAt, if positive, stops the build in its progress callback once
	// it has indexed at least PauseAt documents: before its swap, for good.
	PauseAt int `json:"pause_at"`
}

// killSeed sets the seed of TestBuildKilled's random choices, to replay a
// failure; 0 picks a new seed, which the test logs.
var killSeed = flag.Uint64("kill.seed", 0, "seed of TestBuildKilled's random kill times (0: a new one)")

// TestHelperBuild is not a test: it is the child process of TestBuildKilled,
// which runs Build until it is killed. It prints "indexed N" after each
// batch so that the parent can aim its kill, and "paused" when it stops
// for good at PauseAt.
func TestHelperBuild(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("helper process for TestBuildKilled")
	}
	var job helperJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), job.Dir, job.Paths, BuildOptions{
		BatchSize: 50,
		Progress: func(n int, _ int64) {
			fmt.Printf("indexed %d\n", n)
			if job.PauseAt > 0 && n >= job.PauseAt {
				fmt.Println("paused")
				time.Sleep(time.Hour) // until killed
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println("built")
}

// killCorpus writes n small reports templated from a seed, each with its own
// id and title, and returns their directory.
func killCorpus(tb testing.TB, n int) string {
	tb.Helper()
	var lines []string
	for _, l := range strings.Split(string(readBytes(tb, seedPath(tb, seed0))), "\n") {
		// Shorten the prose so that the corpus stays small; labels and
		// options come first on each line and survive.
		if len(l) > 160 {
			l = Truncate(l, 160)
		}
		lines = append(lines, l)
	}
	tmpl := strings.Join(lines, "\n")
	dir := tb.TempDir()
	for i := range n {
		text := strings.Replace(tmpl, "Incident: ", fmt.Sprintf("Incident: Copy %d of ", i), 1)
		writeFile(tb, filepath.Join(dir, fmt.Sprintf("k%05d.txt", i)), []byte(text))
	}
	return dir
}

// TestBuildKilled kills a build with SIGKILL while it reads and indexes
// (paused in its progress callback, so surely before its swap) and at
// random moments after its last batch (while it merges, writes its
// manifest and swaps generations). After a kill before the swap, the
// previous generation must still be current, verify against its manifest,
// read exactly as before, and keep serving a reader that had it open; after
// a kill past the swap, the new generation must be complete. The next build
// must succeed and clean up. Set -kill.seed to replay the random choices.
func TestBuildKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills build processes; skipped with -short")
	}
	seeds, _ := indextest.Shared(t)
	n := 1500
	if raceEnabled {
		n = 150
	}
	big := []string{killCorpus(t, n), seeds}
	small := []string{seeds}
	total := n + 2
	dir := t.TempDir()

	// A kill waits for the child to have indexed at least after documents
	// (and, with pause, for it to stop there), then for delay.
	type kill struct {
		after int
		pause bool
		delay time.Duration
	}
	// runChild builds the big corpus in a child process, killed as k says
	// unless k is nil. It reports whether the child was killed and how long
	// the build ran after its last batch (when it was not killed).
	runChild := func(k *kill) (killed bool, tail time.Duration) {
		t.Helper()
		job := helperJob{Dir: dir, Paths: big}
		if k != nil && k.pause {
			job.PauseAt = k.after
		}
		spec, err := json.Marshal(job)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBuild$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"="+string(spec))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		var lastBatch time.Time
		var out strings.Builder
		sc := bufio.NewScanner(stdout)
		fired := k == nil
		fire := func() {
			fired = true
			time.AfterFunc(k.delay, func() { cmd.Process.Signal(syscall.SIGKILL) })
		}
		for sc.Scan() {
			out.WriteString(sc.Text() + "\n")
			if sc.Text() == "built" && !lastBatch.IsZero() {
				tail = time.Since(lastBatch)
			}
			if sc.Text() == "paused" && !fired {
				fire()
			}
			var indexed int
			if _, err := fmt.Sscanf(sc.Text(), "indexed %d", &indexed); err != nil {
				continue
			}
			if indexed == total {
				lastBatch = time.Now()
			}
			if !fired && !k.pause && indexed >= k.after {
				fire()
			}
		}
		err = cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, tail
		}
		if err != nil {
			t.Fatalf("child build failed: %v\n%s%s", err, out.String(), stderr.Bytes())
		}
		return false, tail
	}

	// A complete run of the child gives the first generation and the time
	// a build takes after its last batch.
	start := time.Now()
	killed, tail := runChild(nil)
	if killed {
		t.Fatal("child killed without being asked to")
	}
	t.Logf("%d reports: a build took %v, %v of it after the last batch", n, time.Since(start), tail)

	seed := *killSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("random seed %d (replay with -kill.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	prev := takeSnapshot(t, dir, seed0)
	if prev.Count != uint64(total) {
		t.Fatalf("first generation has %d documents, want %d", prev.Count, total)
	}
	// round runs one killed build, checks what readers see and builds
	// again. It reports whether the previous generation was kept, that is
	// whether the kill came before the build's swap.
	round := func(name string, k kill) (kept bool) {
		t.Helper()
		reader, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer reader.Close()
		killed, _ := runChild(&k)
		after := takeSnapshot(t, dir, seed0)
		kept = after.Gen == prev.Gen
		t.Logf("%s: kill %v after %d documents (paused %v): killed %v, previous generation kept %v", name, k.delay, k.after, k.pause, killed, kept)
		if k.pause && (!killed || !kept) {
			t.Errorf("%s: a build paused before its swap: killed %v, previous generation kept %v; want both", name, killed, kept)
		}
		if kept {
			checkServes(t, name, reader, prev)
		} else if after.Count != uint64(total) || after.Get.ID != seed0 {
			// The kill came after the new generation became current, or
			// not at all; it must be complete.
			t.Errorf("%s: new generation holds %d documents, want %d", name, after.Count, total)
		}

		// The next build succeeds, removes what the killed one left and
		// keeps at most two generations.
		st := mustBuild(t, dir, small, BuildOptions{})
		if st.Indexed != 2 {
			t.Errorf("%s: next build indexed %d, want 2", name, st.Indexed)
		}
		if left := buildLeftovers(t, dir); len(left) != 0 {
			t.Errorf("%s: after the next build: leftovers %v", name, left)
		}
		if gens, _ := filepath.Glob(filepath.Join(dir, "gen-*")); len(gens) > keepGens {
			t.Errorf("%s: after the next build: %d generations, want at most %d", name, len(gens), keepGens)
		}
		prev = takeSnapshot(t, dir, seed0)
		if prev.Gen != st.Gen || prev.Count != 2 {
			t.Errorf("%s: after the next build: current %+v, want %s with 2 documents", name, prev, st.Gen)
		}
		return kept
	}

	// While reading and indexing: the child stops after a batch, its
	// earlier batches still being indexed and persisted in the background.
	round("early", kill{after: 1, pause: true, delay: time.Duration(rng.Int64N(int64(50 * time.Millisecond)))})
	round("indexing", kill{after: 1 + rng.IntN(total-1), pause: true, delay: time.Duration(rng.Int64N(int64(20 * time.Millisecond)))})
	// After the last batch, while the build merges, writes its manifest and
	// swaps; builds vary in speed, so a kill that comes too late is tried
	// again earlier.
	frac := 0.05 + 0.85*rng.Float64()
	for try := 0; try < 3; try++ {
		if round(fmt.Sprintf("late %d", try), kill{after: total, delay: time.Duration(frac * float64(tail))}) {
			break
		}
		frac /= 2
	}
}

// checkServes checks that the generation of snapshot prev is still current
// after a killed build: it passes verification against its manifest, reads
// as prev does, and reader, opened on it before the build, still serves it.
func checkServes(tb testing.TB, name string, reader *Index, prev snapshot) {
	tb.Helper()
	m, err := readManifest(prev.Gen)
	if err == nil {
		err = verify(prev.Gen, m, nil)
	}
	if err != nil {
		tb.Errorf("%s: the previous generation no longer verifies: %v", name, err)
	}
	if diff := cmp.Diff(prev, takeSnapshot(tb, reader.Dir, prev.Get.ID)); diff != "" {
		tb.Errorf("%s: same generation, but it reads differently (-before +after):\n%s", name, diff)
	}
	in, err := reader.Get(context.Background(), prev.Get.ID)
	if err != nil {
		tb.Fatalf("%s: a reader open before the build: Get: %v", name, err)
	}
	if diff := cmp.Diff(prev.Get, in); diff != "" || docCount(tb, reader) != prev.Count {
		tb.Errorf("%s: a reader open before the build reads differently (-before +after):\n%s", name, diff)
	}
}
