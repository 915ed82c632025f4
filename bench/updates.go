package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// UpdateReport holds the figures of live updates at one corpus size,
// measured over HTTP on loopback against a faildex server on a copy of
// the bench index.
type UpdateReport struct {
	N int `json:"n"`
	// Visible: from the start of a PUT to the first search that finds the
	// incident, one update at a time (ms).
	VisibleP50 float64 `json:"visible_p50_ms"`
	VisibleP99 float64 `json:"visible_p99_ms"`
	Visible    int     `json:"visible_samples"`
	// Sustained: Updates PUTs by UpdateClients clients while SearchClients
	// clients search; their rate, and the searches' p99 then and idle.
	Updates       int     `json:"updates"`
	UpdateClients int     `json:"update_clients"`
	SearchClients int     `json:"search_clients"`
	Rate          float64 `json:"updates_per_s"`
	Generations   int     `json:"generations"`
	IdleP99       float64 `json:"search_idle_p99_ms"`
	BusyP99       float64 `json:"search_busy_p99_ms"`
	IdleP50       float64 `json:"search_idle_p50_ms"`
	BusyP50       float64 `json:"search_busy_p50_ms"`
	// Index sizes: as built, and after the updates.
	FreshBytes   int64 `json:"fresh_bytes"`
	UpdatedBytes int64 `json:"updated_bytes"`
	Segments     int   `json:"segments"`
}

// UpdateOptions tunes RunUpdates.
type UpdateOptions struct {
	Updates       int // PUTs of the sustained phase (default 10,000)
	Visible       int // single PUTs timed until visible (default 100)
	UpdateClients int // default 32: a curators' tool sending changes concurrently
	SearchClients int // default 20
}

const updateToken = "bench-update-token"

// RunUpdates measures live updates on a copy of the index of cfg's corpus
// (built by Run): time from PUT to visible, updates per second sustained
// with searches running, the searches' p99 then and idle, and the index's
// size after the updates against the fresh build's.
func RunUpdates(ctx context.Context, cfg Config, o UpdateOptions) (*UpdateReport, error) {
	if o.Updates <= 0 {
		o.Updates = 10000
	}
	if o.Visible <= 0 {
		o.Visible = 100
	}
	if o.UpdateClients <= 0 {
		o.UpdateClients = 32
	}
	if o.SearchClients <= 0 {
		o.SearchClients = 20
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	src := IndexDir(cfg.Dir, cfg.Seed, cfg.N)
	if !index.Exists(src) {
		return nil, fmt.Errorf("bench: no index at %s; run the bench of this size first", src)
	}
	work := filepath.Join(cfg.Dir, fmt.Sprintf("updates-s%d-n%d", cfg.Seed, cfg.N))
	if err := os.RemoveAll(work); err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	if err := linkCopy(src, work); err != nil {
		return nil, fmt.Errorf("bench: copying the index: %w", err)
	}
	rep := &UpdateReport{N: cfg.N, Updates: o.Updates, UpdateClients: o.UpdateClients, SearchClients: o.SearchClients}
	gen, err := index.CurrentGeneration(work)
	if err != nil {
		return nil, err
	}
	rep.FreshBytes = dirBytes(filepath.Join(gen, "bleve"))

	u, err := startUpdateServer(ctx, work)
	if err != nil {
		return nil, err
	}
	defer u.stop()
	base, err := u.template(ctx)
	if err != nil {
		return nil, err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: time.Minute}
	c := &updateClient{base: u.url, client: client, tmpl: base}

	// Visible: one PUT at a time, then searches until the new word is found.
	var vis []time.Duration
	for i := range o.Visible {
		start := time.Now()
		word := marker(i)
		if err := c.put(ctx, i, word); err != nil {
			return nil, err
		}
		for {
			n, err := c.total(ctx, word)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				break
			}
			if time.Since(start) > 30*time.Second {
				return nil, fmt.Errorf("bench: update %d not visible after 30 s", i)
			}
		}
		vis = append(vis, time.Since(start))
	}
	rep.Visible = len(vis)
	rep.VisibleP50, _, rep.VisibleP99, _ = Percentiles(vis)
	logf(cfg.Log, "updates n=%d: visible p50 %.1f ms p99 %.1f ms (%d samples)", cfg.N, rep.VisibleP50, rep.VisibleP99, len(vis))

	// Searches alone, then with updates.
	idle, err := c.searchFor(ctx, o.SearchClients, 3*time.Second, nil)
	if err != nil {
		return nil, err
	}
	rep.IdleP50, _, rep.IdleP99, _ = Percentiles(idle)
	gens0 := u.commits.Load()
	var next atomic.Int64
	next.Store(int64(o.Visible))
	last := int64(o.Visible + o.Updates)
	done := make(chan struct{})
	var werr error
	var wmu sync.Mutex
	start := time.Now()
	var wg sync.WaitGroup
	for range o.UpdateClients {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= last {
					return
				}
				if err := c.put(ctx, int(i), marker(int(i))); err != nil {
					wmu.Lock()
					werr = err
					wmu.Unlock()
					return
				}
			}
		})
	}
	go func() { wg.Wait(); close(done) }()
	busy, err := c.searchFor(ctx, o.SearchClients, 0, done)
	elapsed := time.Since(start)
	<-done
	if err != nil {
		return nil, err
	}
	if werr != nil {
		return nil, werr
	}
	rep.Rate = float64(o.Updates) / elapsed.Seconds()
	rep.Generations = int(u.commits.Load() - gens0)
	rep.BusyP50, _, rep.BusyP99, _ = Percentiles(busy)
	logf(cfg.Log, "updates n=%d: %d PUTs in %.1f s (%.0f/s, %d generations); search p99 %.1f ms idle, %.1f ms during updates",
		cfg.N, o.Updates, elapsed.Seconds(), rep.Rate, rep.Generations, rep.IdleP99, rep.BusyP99)
	if gen, err = index.CurrentGeneration(work); err != nil {
		return nil, err
	}
	rep.UpdatedBytes = dirBytes(filepath.Join(gen, "bleve"))
	rep.Segments = u.segments()
	return rep, nil
}

// Table prints the figures.
func (r *UpdateReport) Table(w io.Writer) {
	fmt.Fprintf(w, "live updates, n=%d (HTTP on loopback)\n", r.N)
	fmt.Fprintf(w, "  PUT to visible in search:   p50 %.1f ms, p99 %.1f ms (%d one at a time)\n", r.VisibleP50, r.VisibleP99, r.Visible)
	fmt.Fprintf(w, "  sustained:                  %.0f updates/s (%d PUTs by %d clients, %d generations, %.1f per generation)\n",
		r.Rate, r.Updates, r.UpdateClients, r.Generations, float64(r.Updates)/float64(max(r.Generations, 1)))
	fmt.Fprintf(w, "  searches (%d clients):      p50 %.1f / p99 %.1f ms idle; p50 %.1f / p99 %.1f ms during updates (%.2f× p99)\n",
		r.SearchClients, r.IdleP50, r.IdleP99, r.BusyP50, r.BusyP99, r.BusyP99/max(r.IdleP99, 1e-9))
	fmt.Fprintf(w, "  index size:                 %.1f MB built, %.1f MB after the updates (%.2f×, %d segments)\n",
		float64(r.FreshBytes)/1e6, float64(r.UpdatedBytes)/1e6, float64(r.UpdatedBytes)/float64(max(r.FreshBytes, 1)), r.Segments)
}

// marker is a word of letters only, different for each i, that no report
// of a generated corpus holds.
func marker(i int) string {
	b := []byte("zqx")
	for {
		b = append(b, byte('a'+i%26))
		i /= 26
		if i == 0 {
			return string(b)
		}
	}
}

// linkCopy copies the index directory src to dst with every file hard
// linked: updates never change a file of an existing generation.
func linkCopy(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			return os.MkdirAll(target, 0o755)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case info.Name() == "build.lock":
			return nil
		}
		return os.Link(path, target)
	})
}

// updateServer is a faildex server taking updates on an index directory.
type updateServer struct {
	url     string
	dir     string
	srv     *server.Server
	commits atomic.Int64
	mu      sync.Mutex
	last    *search.Engine
	cancel  context.CancelFunc
	done    chan error
}

func startUpdateServer(ctx context.Context, dir string) (*updateServer, error) {
	u := &updateServer{dir: dir}
	eng, err := u.open(ctx)
	if err != nil {
		return nil, err
	}
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		return nil, err
	}
	w := &index.Writer{Dir: dir, Organisations: gaz}
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Log: zerolog.Nop(), AdminToken: updateToken, Updates: w,
		MaxSearches: 64, SearchTimeout: 30 * time.Second,
		Open: func(ctx context.Context) (server.Searcher, error) { return u.open(ctx) }}, eng)
	if err != nil {
		eng.Close()
		return nil, err
	}
	w.OnCommit = func(string) {
		u.commits.Add(1)
		srv.Reload(context.Background())
	}
	if err := srv.Listen(); err != nil {
		eng.Close()
		return nil, err
	}
	u.srv, u.url = srv, srv.URL()
	sctx, cancel := context.WithCancel(ctx)
	u.cancel, u.done = cancel, make(chan error, 1)
	go func() { u.done <- srv.Serve(sctx) }()
	return u, nil
}

func (u *updateServer) open(ctx context.Context) (*search.Engine, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	eng, err := search.Reopen(ctx, u.dir, u.last)
	if err == nil {
		u.last = eng
	}
	return eng, err
}

func (u *updateServer) stop() {
	u.cancel()
	<-u.done
}

// template returns an incident of the index to send copies of.
func (u *updateServer) template(ctx context.Context) (index.Incident, error) {
	u.mu.Lock()
	eng := u.last
	u.mu.Unlock()
	var in index.Incident
	err := eng.Index().Each(ctx, nil, func(x *index.Incident) error { in = *x; return errStop })
	if err != nil && !errors.Is(err, errStop) {
		return in, err
	}
	return in, nil
}

// segments returns the number of segments of the generation served last.
func (u *updateServer) segments() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.last.Segments()
}

// updateClient sends PUTs and searches over HTTP.
type updateClient struct {
	base   string
	client *http.Client
	tmpl   index.Incident
}

// put sends update i: a new incident titled with word (ids repeat every
// 5,000 updates, so that later updates replace earlier incidents).
func (c *updateClient) put(ctx context.Context, i int, word string) error {
	in := c.tmpl
	in.ID = fmt.Sprintf("bench-update-%d", i%5000)
	in.Title = "Update " + word + " of " + c.tmpl.Title
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/api/v1/incidents/"+in.ID, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+updateToken)
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("bench: PUT %s: %d %s", in.ID, resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}

// total returns the number of incidents a search for q finds.
func (c *updateClient) total(ctx context.Context, q string) (uint64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/api/v1/search?q="+url.QueryEscape(q), nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var res struct {
		Total uint64 `json:"total"`
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("bench: search %q: %d", q, resp.StatusCode)
	}
	err = json.NewDecoder(resp.Body).Decode(&res)
	return res.Total, err
}

// searchFor runs clients searching for CommonWord in a loop for d, or
// until done is closed when d is 0, and returns every latency.
func (c *updateClient) searchFor(ctx context.Context, clients int, d time.Duration, done <-chan struct{}) ([]time.Duration, error) {
	var mu sync.Mutex
	var all []time.Duration
	var firstErr error
	stop := make(chan struct{})
	if d > 0 {
		time.AfterFunc(d, func() { close(stop) })
	} else {
		stop = nil
	}
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			defer func() {
				mu.Lock()
				all = append(all, mine...)
				mu.Unlock()
			}()
			for {
				select {
				case <-stop:
					return
				case <-done:
					return
				default:
				}
				start := time.Now()
				if _, err := c.total(ctx, CommonWord); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(start))
			}
		})
	}
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return all, firstErr
}
