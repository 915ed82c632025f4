// Package gen writes deterministic synthetic incident reports in the
// Failures Database's plain-text page form, for benchmarks at sizes the real
// database does not reach.
//
// A report's shape follows the real data: field lengths, option
// distributions, article counts and years are the figures measured from the
// real reports (profile.go). Its prose comes from a word Markov chain
// (order 2, backing off to order 1) trained on a corpus of real reports,
// normally the bundled data/ directory: each synthetic report draws mostly
// on one corpus report (its topic), so topic words occur in a fraction of
// the reports as they do in real data, not in all of them. Organization
// names are made up from syllables and drawn from a Zipf distribution, so
// that a name occurs in a few reports and the vocabulary grows with the
// corpus as real vocabulary does.
//
// Report i of a corpus depends only on the model, the seed and i, so corpora
// can be written in parallel and regenerated exactly.
package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/faildex/faildex/index"
)

const (
	tokEnd   = 0 // end of sentence
	tokStart = 1 // before the first word
)

// chain is a word Markov chain: successors of each pair and of each word.
// Successor lists hold repeats, so sampling uniformly from a list follows the
// observed frequencies.
type chain struct {
	o2 map[uint64][]int32
	o1 map[int32][]int32
}

func newChain() *chain {
	return &chain{o2: map[uint64][]int32{}, o1: map[int32][]int32{}}
}

func pair(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

func (c *chain) add(words []int32) {
	a, b := int32(tokStart), int32(tokStart)
	for _, w := range append(words, tokEnd) {
		c.o2[pair(a, b)] = append(c.o2[pair(a, b)], w)
		c.o1[b] = append(c.o1[b], w)
		a, b = b, w
	}
}

// Model is a trained generator.
type Model struct {
	words  []string
	ids    map[string]int32
	global *chain
	topics []*chain
	titles [][]int32 // title words of each topic
	// Fingerprint identifies the training corpus (FNV-64a of its files).
	Fingerprint string
}

func (m *Model) id(w string) int32 {
	if id, ok := m.ids[w]; ok {
		return id
	}
	id := int32(len(m.words))
	m.words = append(m.words, w)
	m.ids[w] = id
	return id
}

var (
	citation = regexp.MustCompile(`\s*\[[^\]]*\]`)
	listMark = regexp.MustCompile(`(?:^|\s)(?:\d{1,2}\.|\([a-z]\))\s`)
	sentEnd  = regexp.MustCompile(`([.!?])\s+`)
)

// sentences cuts prose into sentences without citations or list markers.
func sentences(text string) []string {
	text = citation.ReplaceAllString(text, "")
	text = listMark.ReplaceAllString(text, " ")
	text = sentEnd.ReplaceAllString(text, "$1\n")
	var out []string
	for _, s := range strings.Split(text, "\n") {
		if s = strings.TrimSpace(s); len(strings.Fields(s)) >= 3 {
			out = append(out, s)
		}
	}
	return out
}

// Train builds a model from every plain-text report (*.txt) at the root of
// corpus. It needs at least one report.
func Train(corpus fs.FS) (*Model, error) {
	names, err := fs.Glob(corpus, "*.txt")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	m := &Model{words: []string{"", ""}, ids: map[string]int32{}, global: newChain()}
	h := fnv.New64a()
	for _, name := range names {
		data, err := fs.ReadFile(corpus, name)
		if err != nil {
			return nil, err
		}
		h.Write([]byte(name))
		h.Write(data)
		in, _, err := index.ParseText(name, "t", data)
		if err != nil {
			continue
		}
		topic := newChain()
		var texts []string
		for _, f := range index.TextFields[1:] {
			texts = append(texts, *f.Get(&in))
		}
		for _, cl := range in.Taxonomy {
			texts = append(texts, cl.Rationale)
		}
		sort.Strings(texts) // map order must not leak into the model
		for _, t := range texts {
			for _, s := range sentences(t) {
				var ws []int32
				for _, w := range strings.Fields(s) {
					ws = append(ws, m.id(w))
				}
				topic.add(ws)
				m.global.add(ws)
			}
		}
		var tw []int32
		for _, w := range strings.Fields(in.Title) {
			tw = append(tw, m.id(w))
		}
		m.topics = append(m.topics, topic)
		m.titles = append(m.titles, tw)
	}
	if len(m.topics) == 0 {
		return nil, errors.New("gen: the corpus has no plain-text reports to learn from")
	}
	m.Fingerprint = strconv.FormatUint(h.Sum64(), 16)
	return m, nil
}

// Topics returns the number of corpus reports the model learned from.
func (m *Model) Topics() int { return len(m.topics) }

// topicShare is the probability that the next word is drawn from the
// report's own topic (its corpus report) rather than from the whole corpus.
// At 0.95 a phrase typical of one corpus report occurs in a few percent of
// synthetic reports, as a topic's words do in the real database, instead of
// spreading to most of them.
const topicShare = 0.95

// writer builds one report.
type writer struct {
	m     *Model
	r     *rand.Rand
	topic *chain
	arts  []int64
	cite  int
}

func (w *writer) sentence() string {
	var out []string
	a, b := int32(tokStart), int32(tokStart)
	for len(out) < 60 {
		var succ []int32
		if w.r.Float64() < topicShare {
			succ = w.topic.o2[pair(a, b)]
		}
		if succ == nil && w.r.Float64() < 0.92 {
			succ = w.m.global.o2[pair(a, b)]
		}
		if succ == nil {
			succ = w.m.global.o1[b]
		}
		if len(succ) == 0 {
			break
		}
		next := succ[w.r.IntN(len(succ))]
		if next == tokEnd {
			break
		}
		out = append(out, w.m.words[next])
		a, b = b, next
	}
	s := strings.Join(out, " ")
	if s == "" {
		s = "The sources give no further details"
	}
	if !strings.ContainsAny(s[len(s)-1:], ".!?") {
		s += "."
	}
	return s
}

// citeNext returns " [id]" for the next article, cycling so that every
// article of the report is cited.
func (w *writer) citeNext() string {
	id := w.arts[w.cite%len(w.arts)]
	w.cite++
	return " [" + strconv.FormatInt(id, 10) + "]"
}

// withCitation puts a citation before the sentence's final punctuation.
func (w *writer) withCitation(s string) string {
	return s[:len(s)-1] + w.citeNext() + s[len(s)-1:]
}

// length draws a length from a measured distribution.
func (w *writer) length(st lengthStat) int {
	x := st.mean + st.sd*w.r.NormFloat64()
	return int(math.Max(st.min, math.Min(st.max, x)))
}

// items writes numbered items ("1. ... [id]. 2. ...") of about n bytes; a
// non-empty first item is used as given.
func (w *writer) items(n int, marker func(int) string, first string) string {
	var b strings.Builder
	// Items average about 150 bytes: stop when the next would overshoot
	// by more than half of one, so that lengths stay unbiased.
	for i := 1; b.Len()+75 < n || i == 1; i++ {
		if i > 1 {
			b.WriteByte(' ')
		}
		b.WriteString(marker(i))
		b.WriteByte(' ')
		if i == 1 && first != "" {
			b.WriteString(w.withCitation(first))
			continue
		}
		s := w.sentence()
		if w.r.IntN(3) == 0 {
			s += " " + w.sentence()
		}
		b.WriteString(w.withCitation(s))
	}
	return b.String()
}

func numbered(i int) string { return strconv.Itoa(i) + "." }

func lettered(i int) string {
	if i <= 26 {
		return "(" + string(rune('a'+i-1)) + ")"
	}
	return "(" + strconv.Itoa(i) + ")"
}

// prose writes plain sentences of about n bytes.
func (w *writer) prose(n int, first string) string {
	var b strings.Builder
	b.WriteString(first)
	for b.Len()+60 < n {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.sentence())
	}
	return b.String()
}

func pick(r *rand.Rand, weights []float64) int {
	var sum float64
	for _, x := range weights {
		sum += x
	}
	x := r.Float64() * sum
	for i, wt := range weights {
		if x < wt {
			return i
		}
		x -= wt
	}
	return len(weights) - 1
}

// options draws a category's options from its measured profile.
func (w *writer) options(c index.Category) []string {
	p := optionProfiles[c.Name]
	k := pick(w.r, p.perIncident)
	var vals []string
	var weights []float64
	for _, o := range c.Options {
		vals = append(vals, o.Value)
		weights = append(weights, p.counts[o.Value]+optionSmoothing)
	}
	var out []string
	for len(out) < k && len(out) < len(vals) {
		i := pick(w.r, weights)
		out = append(out, vals[i])
		weights[i] = 0
	}
	return out
}

var (
	syllables = []string{"ka", "lo", "ve", "ra", "ni", "sto", "mar", "el", "qui", "den", "tor", "va",
		"lin", "sa", "po", "gre", "xa", "bel", "cor", "ta", "mi", "ron", "fe", "lux", "an", "dri", "os", "zen"}
	orgKinds = []string{"Systems", "Bank", "Airlines", "Health", "Energy", "Telecom", "Labs", "Networks",
		"Motors", "Council", "Rail", "Insurance", "Games", "Logistics", "Software", "Hospital", "Water", "Media"}
)

// orgName returns the made-up name of organization i of a corpus.
func orgName(seed uint64, i uint64) string {
	r := rand.New(rand.NewPCG(seed^0x6f7267, i))
	var b strings.Builder
	for n := 2 + r.IntN(2); n > 0; n-- {
		b.WriteString(syllables[r.IntN(len(syllables))])
	}
	name := []byte(b.String())
	name[0] -= 'a' - 'A'
	return string(name) + " " + orgKinds[r.IntN(len(orgKinds))]
}

// orgPool is the number of made-up organizations. Names are drawn from it
// with a Zipf law, independently of the corpus size, so that the number of
// distinct names grows with the corpus and a smaller corpus is exactly the
// first reports of a larger one.
const orgPool = 50000

// Report returns report i of the corpus made with seed: its id and its text
// in the plain-text page form.
func (m *Model) Report(seed uint64, i int) (id string, text []byte) {
	r := rand.New(rand.NewPCG(seed, uint64(i)))
	t := r.IntN(len(m.topics))
	w := &writer{m: m, r: r, topic: m.topics[t]}
	id = fmt.Sprintf("%07d_%016x", i, r.Uint64())

	nart := pick(r, articleCounts)
	for k := 0; k < nart; k++ {
		w.arts = append(w.arts, int64(10000+r.IntN(990000)))
	}
	zipf := rand.NewZipf(r, 1.1, 4, orgPool-1)
	org, other := orgName(seed, zipf.Uint64()), orgName(seed, zipf.Uint64())

	years := make([]int, 0, 13)
	yw := make([]float64, 0, 13)
	for y := 2010; y <= 2022; y++ {
		years = append(years, y)
		yw = append(yw, yearCounts[y]+yearSmoothing)
	}
	year := years[pick(r, yw)]
	month := 1 + r.IntN(12)
	day := 1 + r.IntN(28)

	// Title: the organization, then words walked from the topic's title.
	target := w.length(fieldLengths["title"])
	tw := m.titles[t]
	title := org
	for j := r.IntN(max(1, len(tw))); len(title) < target && len(tw) > 0; j++ {
		title += " " + m.words[tw[j%len(tw)]]
	}

	b := &bytes.Buffer{}
	b.Grow(20 << 10)
	fmt.Fprintf(b, "Incident: %s\n\nPublished Date: %04d-%02d-%02d\n\nPostmortem Analysis\n", title, year, month, day)
	for _, f := range index.TextFields[1:] {
		st := fieldLengths[f.Name]
		var text string
		switch f.Name {
		case "summary":
			text = w.prose(w.length(st), fmt.Sprintf("In %s %d %s reported a software failure that affected %s.",
				monthNames[month-1], year, org, other))
		case "responsible_organization":
			text = w.items(w.length(st), numbered, org+" was responsible for the software failure incident.")
		case "impacted_organization":
			text = w.items(w.length(st), numbered, other+" and its customers.")
		case "timeline":
			text = w.items(w.length(st), numbered, fmt.Sprintf("The incident happened in %s %d.", monthNames[month-1], year))
		default:
			text = w.items(w.length(st), numbered, "")
		}
		fmt.Fprintf(b, "%s %s\n", f.Label, text)
	}
	section := ""
	for _, c := range index.Taxonomy {
		if c.Group != section {
			section = c.Group
			header := "Category Option Rationale"
			if section == index.GroupIoT {
				header = "Layer Option Rationale"
			}
			fmt.Fprintf(b, "\n%s\n\n%s\n", section, header)
		}
		opts := w.options(c)
		if len(opts) == 0 {
			continue // not assessed: the page has no row
		}
		label := c.Label
		fmt.Fprintf(b, "%s %s %s\n", label, strings.Join(opts, ", "),
			w.items(w.length(rationaleLengths[c.Name]), lettered, ""))
	}
	b.WriteString("\nSources\n\nBack to List\n")
	return id, b.Bytes()
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July",
	"August", "September", "October", "November", "December"}

// Path returns the file of report id under a corpus directory: reports are
// spread over subdirectories of 1,000 so that no directory grows huge.
func Path(dir string, i int, id string) string {
	return filepath.Join(dir, fmt.Sprintf("%04d", i/1000), id+".txt")
}

// Stats describes a written corpus.
type Stats struct {
	Reports int
	Bytes   int64
}

// Write writes reports 0..n-1 made with seed under dir, using workers
// goroutines (0 means 2), and records them in the directory's stamp.
// Existing files are overwritten.
func (m *Model) Write(ctx context.Context, dir string, seed uint64, n, workers int) (Stats, error) {
	if workers <= 0 {
		workers = 2
	}
	var st Stats
	var total atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if i%256 == 0 && ctx.Err() != nil {
					errs <- ctx.Err()
					return
				}
				id, text := m.Report(seed, i)
				p := Path(dir, i, id)
				err := os.WriteFile(p, text, 0o644)
				if errors.Is(err, fs.ErrNotExist) {
					if err = os.MkdirAll(filepath.Dir(p), 0o755); err == nil {
						err = os.WriteFile(p, text, 0o644)
					}
				}
				if err != nil {
					errs <- err
					return
				}
				total.Add(int64(len(text)))
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return st, err
	}
	st.Reports, st.Bytes = n, total.Load()
	stamp, _ := json.Marshal(Stamp{Seed: seed, N: n, Bytes: st.Bytes, Fingerprint: m.Fingerprint})
	return st, os.WriteFile(filepath.Join(dir, StampName), stamp, 0o644)
}

// StampName is the file in which Write records what a corpus directory
// holds, so that it can be reused.
const StampName = ".corpus.json" // hidden: index.ReadPaths skips it

// Stamp describes a corpus written by Write.
type Stamp struct {
	Seed        uint64 `json:"seed"`
	N           int    `json:"n"`
	Bytes       int64  `json:"bytes"`
	Fingerprint string `json:"fingerprint"` // of the model's training corpus
}

// ReadStamp returns the stamp of a corpus directory (zero if it has none).
func ReadStamp(dir string) Stamp {
	var st Stamp
	if b, err := os.ReadFile(filepath.Join(dir, StampName)); err == nil {
		json.Unmarshal(b, &st)
	}
	return st
}
