// Package bench measures faildex on synthetic corpora: it writes (or reuses)
// a corpus made by package gen, builds an index of it, and times a fixed set
// of query classes against search.Engine in process, with warm-up and many
// repetitions. The peers module (bench/peers) times the same classes on
// other engines and hands its results back as JSON (PeerResult).
package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"time"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/gen"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Class is one kind of request the benchmark times.
type Class struct {
	Name string
	Desc string
	// Req is the request for the search engine; Export classes use
	// ExportLimit instead.
	Req         search.Request
	ExportLimit int
	// Suggest classes time Engine.Suggest for Req.Query (the default
	// number of suggestions) instead of Engine.Search.
	Suggest bool
	// Reading marks classes that time how faildex reads a query (typos,
	// completions, synonyms, suggestions): the peers, which match words
	// as written, skip them, and the throughput mix leaves them out (see
	// MixClasses).
	Reading bool
	// Exploring classes, over the matches of Req: a pivot of Rows by
	// Cols; the similar incidents of Similar's top hit (a search, newest
	// first); a facet value search of FacetPrefix in FacetCategory.
	Rows, Cols                 string
	Similar                    *search.Request
	FacetCategory, FacetPrefix string
	similarID                  string // Similar's top hit, found before timing
}

// Exploring reports whether the class is one of the exploring requests,
// which the peers do not answer.
func (c Class) Exploring() bool { return c.explore() }

func (c Class) explore() bool {
	return c.Rows != "" || c.Similar != nil || c.FacetCategory != ""
}

// Words and filters of the query classes, picked on the synthetic corpus
// (seed 1) for their share of matching reports: RarePhrase about 1.4%,
// FilterWord about a sixth (a tenth with both filters), CommonWord and
// DeepWord nearly all.
const (
	RarePhrase = "clock drift"
	CommonWord = "software"
	FilterWord = "outage"
	DeepWord   = "system"
)

// Words of the classes that time how queries are read, picked on the
// synthetic corpus like the ones above: Misspelled is "configuration" (in
// about two reports in five) with two letters swapped, a word of 9 runes or
// more and so corrected within two edits; Question has four stop words and
// four words that about two reports in five have together (counting the
// synonyms of "offline"), the last one still being typed; Unfinished is the start of "configuration",
// "confirmed" and their kin; Synonym has synonyms in synonyms.txt that the
// reports use ("down", "offline", "unavailable", "disruption", "downtime").
const (
	Misspelled = "configuraiton"
	Question   = "why did the software update take systems offline"
	Unfinished = "confi"
	Synonym    = "outage"
)

// Classes returns the fixed query set.
func Classes() []Class {
	return []Class{
		{Name: "landing", Desc: "no query, newest first, all 16 facets and the year histogram",
			Req: search.Request{}},
		{Name: "rare_phrase", Desc: `phrase "` + RarePhrase + `", relevance, all facets`,
			Req: search.Request{Query: `"` + RarePhrase + `"`}},
		{Name: "common_word", Desc: "word " + CommonWord + ", relevance, all facets",
			Req: search.Request{Query: CommonWord}},
		{Name: "word_2_filters", Desc: "word " + FilterWord + " + domain=information + phase=design, all facets (disjunctive)",
			Req: search.Request{Query: FilterWord, Filters: map[string][]string{"domain": {"information"}, "phase": {"design"}}}},
		{Name: "filters_only", Desc: "consequence=property + behaviour=crash, newest first, all facets",
			Req: search.Request{Filters: map[string][]string{"consequence": {"property"}, "behaviour": {"crash"}}}},
		{Name: "deep_page", Desc: "word " + DeepWord + ", relevance, page 100 (hits 1981-2000)",
			Req: search.Request{Query: DeepWord, Page: 100}},
		{Name: "export_1000", Desc: "1,000 full incidents as JSON Lines (index.Each)", ExportLimit: 1000},
		{Name: "misspelled", Desc: "word " + Misspelled + " (no report has it; corrected), relevance, all facets",
			Req: search.Request{Query: Misspelled}, Reading: true},
		{Name: "question", Desc: `8-word question "` + Question + `", relevance, all facets`,
			Req: search.Request{Query: Question}, Reading: true},
		{Name: "unfinished", Desc: "word being typed " + Unfinished + " (completed), relevance, all facets",
			Req: search.Request{Query: Unfinished}, Reading: true},
		{Name: "synonym", Desc: "word " + Synonym + " and its synonyms, relevance, all facets",
			Req: search.Request{Query: Synonym}, Reading: true},
		{Name: "suggest", Desc: "suggestions for " + Unfinished + " (Engine.Suggest: completions and incidents)",
			Req: search.Request{Query: Unfinished}, Suggest: true, Reading: true},
		{Name: "pivot_all", Desc: "pivot of consequence by domain over all incidents, with totals",
			Rows: "consequence", Cols: "domain"},
		{Name: "pivot_word", Desc: "pivot of year by behaviour over the matches of word " + CommonWord + " (the trends)",
			Req: search.Request{Query: CommonWord}, Rows: "year", Cols: "behaviour"},
		{Name: "similar", Desc: "the 5 incidents most similar to the newest one",
			Similar: &search.Request{Size: 1}},
		{Name: "facet_values", Desc: "facet value search: responsible organisations starting with \"b\" among the matches of word " + FilterWord,
			Req: search.Request{Query: FilterWord}, FacetCategory: index.FieldResponsibleOrgs, FacetPrefix: "b"},
	}
}

// Config says what to measure.
type Config struct {
	N      int    // reports
	Seed   uint64 // corpus seed
	Dir    string // work directory: corpora and indexes are kept here
	Corpus string // real reports the generator learns from (data/)
	Reps   int    // timed repetitions per class (after warm-up)
	// Rebuild builds the index even when one of this corpus exists.
	Rebuild bool
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Serve is the command that starts a faildex server ("faildex serve"),
	// for RunHTTP, which adds --index and --addr.
	Serve []string
	// PeerEngines, comma-separated, limits RunPeers to these engines
	// (empty: every engine).
	PeerEngines string
	// MixClients and MixDuration shape the throughput mix (RunMix) of
	// every engine: concurrent clients, and for how long (defaults
	// DefaultMixClients and DefaultMixDuration).
	MixClients  int
	MixDuration time.Duration
	// GCPercent is the garbage collector's target while faildex is timed
	// in process, after the build (faildex serve sets its own; 0: the
	// process's target is left alone).
	GCPercent int
}

// Stats of one class on one engine.
type Stats struct {
	Engine string  `json:"engine"`
	Class  string  `json:"class"`
	N      int     `json:"n"`
	Reps   int     `json:"reps"`
	P50    float64 `json:"p50_ms"`
	P95    float64 `json:"p95_ms"`
	P99    float64 `json:"p99_ms"`
	Mean   float64 `json:"mean_ms"`
	// CPU is the process's CPU time per request (user+system, all
	// goroutines, garbage collection included), in milliseconds: unlike
	// latency, it hardly depends on what else the machine is running. When
	// another process answers, it is that process's, from /proc: the faildex
	// server's over HTTP, searchd's, Xapian's Python process's; 0 for
	// PostgreSQL, whose backends are not measured.
	CPU   float64 `json:"cpu_ms,omitempty"`
	Total uint64  `json:"total"` // matching reports (or exported, or suggested incidents)
	// Counts fingerprints the facet counts, for agreement checks.
	Counts map[string]uint64 `json:"counts,omitempty"`
	// Approx marks a peer's class whose results are expected to differ from
	// faildex's (another stemmer, substring matching).
	Approx bool `json:"approx,omitempty"`
}

// Report is one benchmark run at one corpus size.
type Report struct {
	N            int        `json:"n"`
	Seed         uint64     `json:"seed"`
	CorpusBytes  int64      `json:"corpus_bytes"` // report files
	TextBytes    int64      `json:"text_bytes"`   // prose fields and rationales
	Built        bool       `json:"built"`        // the index was built in this run
	BuildSeconds float64    `json:"build_seconds"`
	BuildRSSMB   float64    `json:"build_peak_rss_mb"`
	BuildCPU     float64    `json:"build_cpu_seconds"` // user+system CPU time of the build
	LoadAvg      float64    `json:"load_average"`      // the machine's 1-minute load average at the start`
	IndexBytes   int64      `json:"index_bytes"`
	OpenSeconds  float64    `json:"open_first_query_seconds"`
	PeakRSSMB    float64    `json:"peak_rss_mb"`
	Throughput   float64    `json:"mixed_requests_per_second"`
	Stats        []Stats    `json:"stats"`
	HTTP         []Stats    `json:"http,omitempty"` // faildex over HTTP (RunHTTP)
	HTTPInfo     []string   `json:"http_info,omitempty"`
	Peers        []Stats    `json:"peers,omitempty"`
	PeerLoads    []PeerLoad `json:"peer_loads,omitempty"`
	PeersWhen    time.Time  `json:"peers_when,omitempty"`
	PeerInfo     []string   `json:"peer_info,omitempty"`
	When         time.Time  `json:"when"`
	GoMaxProcs   int        `json:"gomaxprocs"`
	GCPercent    int        `json:"gc_percent"` // the collector's target while timing in process
	Fingerprint  string     `json:"corpus_fingerprint"`

	// Throughputs are every engine's rates on the same mix with the same
	// concurrent clients (RunMix): faildex in process (its requests per
	// second also in Throughput), over HTTP, the peers.
	Throughputs []Throughput `json:"throughput,omitempty"`
}

// BuildMBps is the build speed in MB of report files per second.
func (r *Report) BuildMBps() float64 {
	if r.BuildSeconds == 0 {
		return 0
	}
	return float64(r.CorpusBytes) / 1e6 / r.BuildSeconds
}

// CorpusDir returns the directory of the corpus made with seed.
func CorpusDir(dir string, seed uint64) string {
	return filepath.Join(dir, "corpus-s"+strconv.FormatUint(seed, 10))
}

// EnsureCorpus makes sure the corpus directory holds at least n reports of
// the model and seed, writing the missing ones, and returns the paths of the
// first n reports (whole subdirectories where possible) and their bytes.
func EnsureCorpus(ctx context.Context, cfg Config, m *gen.Model) (paths []string, bytes int64, err error) {
	dir := CorpusDir(cfg.Dir, cfg.Seed)
	if st := gen.ReadStamp(dir); st.Seed != cfg.Seed || st.Fingerprint != m.Fingerprint || st.N < cfg.N {
		logf(cfg.Log, "writing %d reports into %s", cfg.N, dir)
		os.Remove(filepath.Join(dir, gen.StampName))
		if _, err := m.Write(ctx, dir, cfg.Seed, cfg.N, 2); err != nil {
			return nil, 0, err
		}
	}
	return CorpusPaths(dir, cfg.N)
}

// CorpusPaths returns the paths of the first n reports of a corpus directory
// (whole subdirectories of 1,000 where possible, then single files) and
// their size in bytes.
func CorpusPaths(dir string, n int) (paths []string, bytes int64, err error) {
	full := n / 1000
	for i := 0; i < full; i++ {
		paths = append(paths, filepath.Dir(gen.Path(dir, i*1000, "x")))
	}
	if rest := n - full*1000; rest > 0 {
		sub := filepath.Dir(gen.Path(dir, full*1000, "x"))
		entries, err := os.ReadDir(sub)
		if err != nil {
			return nil, 0, err
		}
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		sort.Strings(names)
		if len(names) < rest {
			return nil, 0, fmt.Errorf("bench: %s holds %d reports, want %d", sub, len(names), rest)
		}
		for _, n := range names[:rest] {
			paths = append(paths, filepath.Join(sub, n))
		}
	}
	for _, p := range paths {
		bytes += dirBytes(p)
	}
	return paths, bytes, nil
}

func logf(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, "bench: "+format+"\n", args...)
	}
}

// Run measures faildex at one corpus size.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if cfg.Reps <= 0 {
		cfg.Reps = 200
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	m, err := gen.Train(os.DirFS(cfg.Corpus))
	if err != nil {
		return nil, fmt.Errorf("bench: learning from %s: %w", cfg.Corpus, err)
	}
	paths, corpusBytes, err := EnsureCorpus(ctx, cfg, m)
	if err != nil {
		return nil, err
	}
	rep := &Report{N: cfg.N, Seed: cfg.Seed, CorpusBytes: corpusBytes, When: time.Now().UTC(), LoadAvg: loadAverage(),
		GoMaxProcs: runtimeProcs(), Fingerprint: m.Fingerprint}
	ixDir := IndexDir(cfg.Dir, cfg.Seed, cfg.N)
	if cfg.Rebuild || !index.Exists(ixDir) {
		logf(cfg.Log, "building %s from %d reports (%.0f MB)", ixDir, cfg.N, float64(corpusBytes)/1e6)
		resetPeak()
		cpu0 := CPUSeconds()
		gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
		if err != nil {
			return nil, err
		}
		st, err := index.Build(ctx, ixDir, paths, index.BuildOptions{Strict: true, Organisations: gaz})
		if err != nil {
			return nil, fmt.Errorf("bench: build: %w", err)
		}
		if st.Indexed != cfg.N {
			return nil, fmt.Errorf("bench: built %d reports, want %d", st.Indexed, cfg.N)
		}
		rep.Built, rep.BuildSeconds, rep.TextBytes = true, st.Elapsed.Seconds(), st.TextBytes
		rep.BuildRSSMB = peakRSSMB()
		rep.BuildCPU = CPUSeconds() - cpu0
		logf(cfg.Log, "built in %.1fs: %.1f MB/s of report files, peak RSS %.0f MB", rep.BuildSeconds, rep.BuildMBps(), rep.BuildRSSMB)
		writeBuildInfo(ixDir, rep)
	} else {
		readBuildInfo(ixDir, rep)
	}
	gen, err := index.CurrentGeneration(ixDir)
	if err != nil {
		return nil, err
	}
	rep.IndexBytes = dirBytes(filepath.Join(gen, "bleve"))

	if cfg.GCPercent > 0 {
		defer debug.SetGCPercent(debug.SetGCPercent(cfg.GCPercent))
	}
	rep.GCPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(rep.GCPercent)
	start := time.Now()
	eng, err := search.Open(ctx, ixDir)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	if _, err := eng.Search(ctx, search.Request{}); err != nil {
		return nil, err
	}
	rep.OpenSeconds = time.Since(start).Seconds()

	for _, c := range Classes() {
		st, err := timeClass(ctx, eng, c, cfg.Reps)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", c.Name, err)
		}
		st.N = cfg.N
		rep.Stats = append(rep.Stats, st)
		logf(cfg.Log, "%-15s p50 %8.3f ms  p99 %8.3f ms  total %d", c.Name, st.P50, st.P99, st.Total)
	}
	tp, err := inProcessMix(ctx, eng, cfg)
	if err != nil {
		return nil, fmt.Errorf("bench: mix: %w", err)
	}
	rep.Throughput, rep.Throughputs = tp.PerSecond, []Throughput{tp}
	logf(cfg.Log, "mix, %d clients: %.0f requests/s, cpu %.3f ms per request", tp.Clients, tp.PerSecond, tp.CPU)
	rep.PeakRSSMB = peakRSSMB()
	return rep, nil
}

// IndexDir returns the index directory of a corpus size.
func IndexDir(dir string, seed uint64, n int) string {
	return filepath.Join(dir, fmt.Sprintf("index-s%d-n%d", seed, n))
}

const buildInfoName = "bench-build.json"

// writeBuildInfo keeps the build figures beside the index, so that a later
// run reusing the index can still report them.
func writeBuildInfo(ixDir string, r *Report) {
	b, _ := json.Marshal(map[string]float64{"seconds": r.BuildSeconds, "rss_mb": r.BuildRSSMB, "text_bytes": float64(r.TextBytes), "cpu_seconds": r.BuildCPU})
	os.WriteFile(filepath.Join(ixDir, buildInfoName), b, 0o644)
}

func readBuildInfo(ixDir string, r *Report) {
	var m map[string]float64
	if b, err := os.ReadFile(filepath.Join(ixDir, buildInfoName)); err == nil && json.Unmarshal(b, &m) == nil {
		r.BuildSeconds, r.BuildRSSMB, r.TextBytes, r.BuildCPU = m["seconds"], m["rss_mb"], int64(m["text_bytes"]), m["cpu_seconds"]
	}
}

func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

var errStop = errors.New("stop")

// once runs one request of a class and returns the number of reports it
// matched (or exported, or suggested) and its facet counts.
func once(ctx context.Context, eng *search.Engine, c Class, w io.Writer) (uint64, map[string]uint64, error) {
	if c.Suggest {
		sg, err := eng.Suggest(ctx, c.Req.Query, 0)
		if err != nil {
			return 0, nil, err
		}
		if err := json.NewEncoder(w).Encode(sg); err != nil {
			return 0, nil, err
		}
		return uint64(len(sg.Incidents)), nil, nil
	}
	if c.ExportLimit > 0 {
		n := 0
		err := eng.Index().Each(ctx, nil, func(in *index.Incident) error {
			if err := index.WriteJSONL(w, in); err != nil {
				return err
			}
			n++
			if n >= c.ExportLimit {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			return 0, nil, err
		}
		return uint64(n), nil, nil
	}
	if c.explore() {
		return onceExplore(ctx, eng, c, w)
	}
	res, err := eng.Search(ctx, c.Req)
	if err != nil {
		return 0, nil, err
	}
	// The JSON encoding is part of answering a request.
	if err := json.NewEncoder(w).Encode(res); err != nil {
		return 0, nil, err
	}
	return res.Total, FacetCounts(res), nil
}

// FacetCounts flattens a result's facet counts ("domain=health" -> n) and
// year counts ("year=2015" -> n) for agreement checks.
func FacetCounts(res *search.Result) map[string]uint64 {
	out := map[string]uint64{}
	for _, f := range res.Facets {
		for _, v := range f.Values {
			if v.Count > 0 {
				out[f.Field+"="+v.Value] = v.Count
			}
		}
	}
	for _, y := range res.Years {
		out["year="+strconv.Itoa(y.Year)] = y.Count
	}
	return out
}

func timeClass(ctx context.Context, eng *search.Engine, c Class, reps int) (Stats, error) {
	st := Stats{Engine: "faildex", Class: c.Name}
	if c.ExportLimit > 0 && reps > 20 {
		reps = 20
	}
	warm := max(3, reps/10)
	c, err := resolveClass(ctx, eng, c)
	if err != nil {
		return st, err
	}
	for i := 0; i < warm; i++ {
		if st.Total, st.Counts, err = once(ctx, eng, c, io.Discard); err != nil {
			return st, err
		}
	}
	d := make([]time.Duration, reps)
	cpu0 := CPUSeconds()
	for i := range d {
		t := time.Now()
		if _, _, err := once(ctx, eng, c, io.Discard); err != nil {
			return st, err
		}
		d[i] = time.Since(t)
	}
	st.CPU = (CPUSeconds() - cpu0) * 1000 / float64(reps)
	st.Reps = reps
	st.P50, st.P95, st.P99, st.Mean = Percentiles(d)
	return st, nil
}

// Percentiles returns the 50th, 95th and 99th percentiles and the mean of
// durations, in milliseconds (nearest rank).
func Percentiles(d []time.Duration) (p50, p95, p99, mean float64) {
	if len(d) == 0 {
		return
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(p float64) float64 {
		i := int(p*float64(len(s))+0.999999) - 1
		i = min(max(i, 0), len(s)-1)
		return float64(s[i].Microseconds()) / 1000
	}
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return at(0.50), at(0.95), at(0.99), float64(sum.Microseconds()) / 1000 / float64(len(s))
}
