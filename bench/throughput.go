package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faildex/faildex/search"
)

// Throughput is one engine's rate on the mix (MixClasses) sent by several
// concurrent clients for a fixed time.
type Throughput struct {
	Engine  string `json:"engine"`
	Clients int    `json:"clients"`
	// Classes are the classes in the mix, each client going round them
	// from its own starting point; a name ending in * is the engine's
	// nearest equivalent of the class.
	Classes   []string `json:"classes"`
	Seconds   float64  `json:"seconds"` // from the start until the last request ended
	Requests  int64    `json:"requests"`
	PerSecond float64  `json:"requests_per_second"`
	// CPU is the CPU time of the process or processes that answer, per
	// request, in milliseconds (see Stats.CPU); ClientCPU that of the
	// clients when they run in another process (0 when they share the
	// answering process, whose CPU then counts them).
	CPU       float64 `json:"cpu_ms_per_request,omitempty"`
	ClientCPU float64 `json:"client_cpu_ms_per_request,omitempty"`
	// LoadAvg is the machine's 1-minute load average at the end: other
	// processes competing for the CPUs lower the rate, and hardly the CPU
	// per request.
	LoadAvg float64 `json:"load_average"`
	Note    string  `json:"note,omitempty"`
}

// Mix defaults: four clients for five seconds.
const (
	DefaultMixClients  = 4
	DefaultMixDuration = 5 * time.Second
)

// MixClasses returns the classes of the throughput mix: the search classes
// that every engine answers as faildex does (landing, rare_phrase,
// common_word, word_2_filters, filters_only, deep_page). The classes
// reading what people type, the exploring ones and export are left out:
// not every peer has them.
func MixClasses() []Class {
	var out []Class
	for _, c := range Classes() {
		if c.ExportLimit == 0 && !c.Reading && !c.explore() {
			out = append(out, c)
		}
	}
	return out
}

// MixOptions says how to run a mix.
type MixOptions struct {
	Engine   string
	Clients  int           // concurrent clients (DefaultMixClients if 0)
	Duration time.Duration // DefaultMixDuration if 0
	Classes  []Class       // the mix (MixClasses if nil)
	// Do answers one request of class c for client i (0 <= i < Clients)
	// and reads or writes the whole answer. Calls for different clients
	// run concurrently; calls for one client never do.
	Do func(ctx context.Context, client int, c Class) error
	// CPU returns the CPU seconds used so far by what answers, and
	// ClientCPU, if not nil, by the clients (see Throughput).
	CPU, ClientCPU func() (float64, error)
	// Approx marks the classes answered with the nearest equivalent.
	Approx func(c Class) bool
}

// RunMix runs the mix: every client first sends each class once (warming
// its connection and caches, untimed), then, from a common start, the
// clients send the classes round-robin, client i starting at class i, one
// request at a time, until the duration has passed. The rate counts the
// requests completed, over the time until the last one ended.
func RunMix(ctx context.Context, o MixOptions) (Throughput, error) {
	if o.Clients <= 0 {
		o.Clients = DefaultMixClients
	}
	if o.Duration <= 0 {
		o.Duration = DefaultMixDuration
	}
	if o.Classes == nil {
		o.Classes = MixClasses()
	}
	if len(o.Classes) == 0 {
		return Throughput{}, errors.New("bench: empty mix")
	}
	tp := Throughput{Engine: o.Engine, Clients: o.Clients}
	for _, c := range o.Classes {
		name := c.Name
		if o.Approx != nil && o.Approx(c) {
			name += "*"
		}
		tp.Classes = append(tp.Classes, name)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		ready, done sync.WaitGroup
		start       = make(chan struct{})
		deadline    time.Time // set before start is closed
		n           atomic.Int64
		errOnce     sync.Once
		firstErr    error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for i := 0; i < o.Clients; i++ {
		ready.Add(1)
		done.Add(1)
		go func(i int) {
			defer done.Done()
			warmed := false
			defer func() {
				if !warmed {
					ready.Done()
				}
			}()
			for _, c := range o.Classes {
				if err := o.Do(ctx, i, c); err != nil {
					fail(fmt.Errorf("client %d, %s (warm-up): %w", i, c.Name, err))
					return
				}
			}
			warmed = true
			ready.Done()
			select {
			case <-start:
			case <-ctx.Done():
				return
			}
			for k := i; time.Now().Before(deadline); k++ {
				c := o.Classes[k%len(o.Classes)]
				if err := o.Do(ctx, i, c); err != nil {
					fail(fmt.Errorf("client %d, %s: %w", i, c.Name, err))
					return
				}
				n.Add(1)
			}
		}(i)
	}
	ready.Wait()
	if firstErr != nil {
		cancel()
		done.Wait()
		return tp, firstErr
	}
	cpu := o.CPU
	if cpu == nil {
		cpu = func() (float64, error) { return CPUSeconds(), nil }
	}
	cpu0, err := cpu()
	if err != nil {
		cancel()
		done.Wait()
		return tp, err
	}
	var ccpu0 float64
	if o.ClientCPU != nil {
		if ccpu0, err = o.ClientCPU(); err != nil {
			cancel()
			done.Wait()
			return tp, err
		}
	}
	t0 := time.Now()
	deadline = t0.Add(o.Duration)
	close(start)
	done.Wait()
	elapsed := time.Since(t0)
	if firstErr != nil {
		return tp, firstErr
	}
	cpu1, err := cpu()
	if err != nil {
		return tp, err
	}
	tp.Requests, tp.Seconds, tp.LoadAvg = n.Load(), elapsed.Seconds(), loadAverage()
	if tp.Requests == 0 {
		return tp, errors.New("bench: no request completed in the mix")
	}
	tp.PerSecond = float64(tp.Requests) / tp.Seconds
	tp.CPU = (cpu1 - cpu0) * 1000 / float64(tp.Requests)
	if o.ClientCPU != nil {
		ccpu1, err := o.ClientCPU()
		if err != nil {
			return tp, err
		}
		tp.ClientCPU = (ccpu1 - ccpu0) * 1000 / float64(tp.Requests)
	}
	return tp, nil
}

// inProcessMix runs the mix against faildex in process: each client a
// goroutine calling the engine, JSON encoding included.
func inProcessMix(ctx context.Context, eng *search.Engine, cfg Config) (Throughput, error) {
	return RunMix(ctx, MixOptions{
		Engine: "faildex", Clients: cfg.MixClients, Duration: cfg.MixDuration,
		Do: func(ctx context.Context, _ int, c Class) error {
			_, _, err := once(ctx, eng, c, io.Discard)
			return err
		},
	})
}

// throughputTable writes every engine's rate on the mix, with faildex's
// (in process and over HTTP) as multiples of each peer's.
func (r *Report) throughputTable(w io.Writer) {
	if len(r.Throughputs) == 0 {
		return
	}
	var ours, http Throughput
	for _, tp := range r.Throughputs {
		switch tp.Engine {
		case "faildex":
			ours = tp
		case HTTPEngine:
			http = tp
		}
	}
	first := r.Throughputs[0]
	fmt.Fprintf(w, "\nthroughput: %d concurrent clients for %.0f s each, mix of %s\n", first.Clients, first.Seconds, strings.Join(first.Classes, " "))
	fmt.Fprintf(w, "%-15s %7s %9s %10s %11s %10s %11s %12s %12s %6s\n", "engine", "clients", "requests", "requests/s", "cpu ms/req", "req/cpu-s", "client cpu", "faildex x", "http x", "load")
	ratio := func(ours Throughput, tp Throughput) string {
		if ours.PerSecond <= 0 || tp.PerSecond <= 0 || tp.Engine == ours.Engine {
			return "-"
		}
		return fmt.Sprintf("%.2f", ours.PerSecond/tp.PerSecond)
	}
	for _, tp := range r.Throughputs {
		ccpu := "-"
		if tp.ClientCPU > 0 {
			ccpu = fmt.Sprintf("%.3f", tp.ClientCPU)
		}
		cpu, perCPU := "-", "-"
		if tp.CPU > 0 {
			cpu, perCPU = fmt.Sprintf("%.3f", tp.CPU), fmt.Sprintf("%.0f", 1000/tp.CPU)
		}
		name := tp.Engine
		if !slices.Equal(tp.Classes, first.Classes) {
			name += "†"
		}
		fmt.Fprintf(w, "%-15s %7d %9d %10.1f %11s %10s %11s %12s %12s %6.1f\n", name, tp.Clients, tp.Requests, tp.PerSecond, cpu, perCPU, ccpu,
			ratio(ours, tp), ratio(http, tp), tp.LoadAvg)
	}
	for _, tp := range r.Throughputs {
		if !slices.Equal(tp.Classes, first.Classes) {
			fmt.Fprintf(w, "† %s's mix: %s\n", tp.Engine, strings.Join(tp.Classes, " "))
		}
		if tp.Note != "" {
			fmt.Fprintf(w, "%s: %s\n", tp.Engine, tp.Note)
		}
	}
	fmt.Fprintf(w, "cpu: the answering process(es) per request (faildex in process: its clients' goroutines included), req/cpu-s its inverse, which other load on the machine hardly changes; client cpu: the clients' process when it is another; faildex x, http x: faildex's requests/s in process, over HTTP, over the engine's; load: the machine's load average after the mix\n")
}
