package index

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// updateHelperEnv carries an updateJob to the child process of
// TestUpdateKilled.
const updateHelperEnv = "FAILDEX_TEST_HELPER_UPDATE"

type updateJob struct {
	Dir   string `json:"dir"`
	Seed  uint64 `json:"seed"`
	Start int    `json:"start"`
}

var updateKillSeed = flag.Uint64("update-kill.seed", 0, "seed of TestUpdateKilled's random changes and kill times (0: a new one)")

// updateOp is change number i of the stream a seed makes: a put of
// incident "k-N" titled "T<i>", or a deletion of one.
func updateOp(seed uint64, i int) (put bool, id, title string) {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	id = fmt.Sprintf("k-%02d", r.IntN(24))
	return r.IntN(4) != 0, id, fmt.Sprintf("T%d", i)
}

// TestHelperUpdate is not a test: it is the child process of
// TestUpdateKilled, which applies the stream of changes of its seed, one
// Apply each, until it is killed. It prints "start I" before change I and
// "acked I" once Apply has returned.
func TestHelperUpdate(t *testing.T) {
	spec := os.Getenv(updateHelperEnv)
	if spec == "" {
		t.Skip("helper process for TestUpdateKilled")
	}
	var job updateJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	base := parseSeed(t, seed0)
	for i := job.Start; ; i++ {
		put, id, title := updateOp(job.Seed, i)
		c := Change{Delete: id}
		if put {
			in := base
			in.ID, in.Title = id, title
			c = Change{Put: &in}
		}
		fmt.Printf("start %d\n", i)
		if _, _, err := Apply(context.Background(), job.Dir, []Change{c}, nil); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("acked %d\n", i)
	}
}

// TestUpdateKilled kills a process applying a stream of updates with
// SIGKILL at random moments. After each kill, the index must open and
// verify, hold every acknowledged change, and hold the change in flight
// either whole or not at all; its document count and its documents must
// agree. The next process goes on from there. Set -update-kill.seed to
// replay the random choices.
func TestUpdateKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills update processes; skipped with -short")
	}
	seed := *updateKillSeed
	if seed == 0 {
		seed = rand.Uint64()
	}
	t.Logf("seed %d (replay with -update-kill.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	src := t.TempDir()
	writeFile(t, filepath.Join(src, seed0+".txt"), readBytes(t, seedPath(t, seed0)))
	dir := t.TempDir()
	if _, err := Build(context.Background(), dir, []string{src}, BuildOptions{}); err != nil {
		t.Fatal(err)
	}
	state := map[string]string{} // id → title of the "k-" incidents
	apply := func(s map[string]string, i int) map[string]string {
		out := make(map[string]string, len(s)+1)
		for k, v := range s {
			out[k] = v
		}
		put, id, title := updateOp(seed, i)
		if put {
			out[id] = title
		} else {
			delete(out, id)
		}
		return out
	}
	rounds := 8
	if raceEnabled {
		rounds = 4
	}
	next, acked, inFlight, midway := 0, 0, 0, 0
	for round := range rounds {
		job, _ := json.Marshal(updateJob{Dir: dir, Seed: seed, Start: next})
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperUpdate$", "-test.count=1")
		cmd.Env = append(os.Environ(), updateHelperEnv+"="+string(job))
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let a few changes through, then kill at a random moment.
		want := 2 + rng.IntN(4)
		delay := time.Duration(rng.IntN(80)) * time.Millisecond
		sc := bufio.NewScanner(stdout)
		lastAck, lastStart := next-1, next-1
		killed := false
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			n, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "start":
				lastStart = n
			case "acked":
				lastAck = n
				state = apply(state, n)
				acked++
			}
			if lastAck-next+1 >= want && !killed {
				time.Sleep(delay)
				cmd.Process.Signal(syscall.SIGKILL)
				killed = true
			}
		}
		cmd.Wait()
		if !killed {
			t.Fatalf("round %d: the update process ended before it was killed", round)
		}
		if lastStart > lastAck {
			midway++
		}
		got := incidentsByTitle(t, dir)
		switch {
		case cmp.Equal(got, state):
		case lastStart > lastAck && cmp.Equal(got, apply(state, lastStart)):
			// The change in flight reached the disk before the kill.
			state = got
			inFlight++
			lastAck = lastStart
		default:
			t.Fatalf("round %d (kill after change %d acknowledged, %d started): the index holds\n%v\nwant\n%v", round, lastAck, lastStart, got, state)
		}
		next = lastAck + 1
	}
	t.Logf("%d rounds, %d changes acknowledged, %d kills with a change in flight, %d of those found applied", rounds, acked, midway, inFlight)
	if midway == 0 {
		t.Error("no kill landed while a change was being applied")
	}
}

// incidentsByTitle opens the index in dir (verifying it), checks that its
// count agrees with its documents, and returns the titles of its "k-"
// incidents by id.
func incidentsByTitle(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	ix, err := Open(dir)
	if err != nil {
		tb.Fatalf("after a kill: %v", err)
	}
	defer ix.Close()
	got := map[string]string{}
	n := 0
	if err := ix.Each(context.Background(), nil, func(in *Incident) error {
		n++
		if strings.HasPrefix(in.ID, "k-") {
			got[in.ID] = in.Title
		}
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	if c, _ := ix.DocCount(); c != uint64(n) || c != ix.Manifest.Count {
		tb.Fatalf("after a kill: %d documents read, count %d, manifest %d", n, c, ix.Manifest.Count)
	}
	return got
}
