package bench

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRunMix checks the mix's protocol with a fake engine: every client
// warms up on each class, then goes round the classes from its own
// starting point, one request at a time; the rate counts the timed
// requests only.
func TestRunMix(t *testing.T) {
	classes := MixClasses()
	var mu sync.Mutex
	sent := map[int][]string{}
	busy := map[int]bool{}
	tp, err := RunMix(context.Background(), MixOptions{
		Engine: "fake", Clients: 3, Duration: 20 * time.Millisecond,
		Do: func(_ context.Context, i int, c Class) error {
			mu.Lock()
			if busy[i] {
				t.Errorf("client %d sends two requests at once", i)
			}
			busy[i] = true
			sent[i] = append(sent[i], c.Name)
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			busy[i] = false
			mu.Unlock()
			return nil
		},
		Approx: func(c Class) bool { return c.Name == "deep_page" },
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range classes {
		names = append(names, c.Name)
	}
	if len(sent) != 3 {
		t.Fatalf("%d clients sent requests, want 3", len(sent))
	}
	var timed int64
	for i, got := range sent {
		if len(got) <= len(classes) {
			t.Fatalf("client %d sent %d requests, not past its warm-up", i, len(got))
		}
		if diff := cmp.Diff(names, got[:len(classes)]); diff != "" {
			t.Errorf("client %d's warm-up (-want +got):\n%s", i, diff)
		}
		for k, name := range got[len(classes):] {
			if want := names[(i+k)%len(names)]; name != want {
				t.Fatalf("client %d's request %d: %s, want %s", i, k, name, want)
			}
		}
		timed += int64(len(got) - len(classes))
	}
	if tp.Requests != timed || tp.Clients != 3 || tp.Engine != "fake" || tp.PerSecond <= 0 {
		t.Errorf("throughput %+v, %d timed requests sent", tp, timed)
	}
	if got := tp.Classes[len(tp.Classes)-1]; got != "deep_page*" {
		t.Errorf("last class %q, want deep_page marked *", got)
	}
}

// TestRunMixError checks that a failed request ends the mix with its error,
// in the warm-up and after it.
func TestRunMixError(t *testing.T) {
	boom := errors.New("boom")
	for _, after := range []int{0, 20} {
		var mu sync.Mutex
		calls := 0
		_, err := RunMix(context.Background(), MixOptions{
			Engine: "fake", Clients: 2, Duration: time.Minute,
			Do: func(ctx context.Context, i int, c Class) error {
				mu.Lock()
				defer mu.Unlock()
				calls++
				if calls > after {
					return boom
				}
				return ctx.Err()
			},
		})
		if !errors.Is(err, boom) {
			t.Errorf("failing after %d requests: %v, want boom", after, err)
		}
	}
}

// TestThroughputTable checks that the throughput table carries each
// engine's figures, faildex's multiples of them and a differing mix.
func TestThroughputTable(t *testing.T) {
	mix := []string{"landing", "common_word"}
	r := &Report{When: time.Unix(0, 0).UTC(), Throughputs: []Throughput{
		{Engine: "faildex", Clients: 4, Classes: mix, Seconds: 5, Requests: 1000, PerSecond: 200, CPU: 5},
		{Engine: HTTPEngine, Clients: 4, Classes: mix, Seconds: 5, Requests: 800, PerSecond: 160, CPU: 6, ClientCPU: 0.5},
		{Engine: "sphinx", Clients: 4, Classes: mix, Seconds: 5, Requests: 400, PerSecond: 80, CPU: 9, ClientCPU: 1.3, Note: "max_children = 5"},
		{Engine: "xapian", Clients: 4, Classes: []string{"landing", "common_word*"}, Seconds: 5, Requests: 100, PerSecond: 20, CPU: 20},
	}}
	var b bytes.Buffer
	r.Table(&b)
	for _, want := range []string{
		"throughput: 4 concurrent clients for 5 s each, mix of landing common_word",
		"sphinx                4       400       80.0       9.000        111       1.300         2.50         2.00",
		"xapian†               4       100       20.0      20.000         50           -        10.00         8.00",
		"† xapian's mix: landing common_word*",
		"sphinx: max_children = 5",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}
