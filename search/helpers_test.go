package search

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

// The shared corpus lives beside the repository (see ../../shared/README.md)
// and is never copied into it; indextest finds it. The bundled corpus is
// ../data.
const (
	bundledDir = "../data"

	seed0 = "000_123143f11ad7b5f7" // Amazon Alexa records and sends a conversation
	seed1 = "001_30542994287988f2" // Alexa platform vulnerabilities
)

// A corpus is a set of report paths; each is indexed at most once per test
// binary.
type corpus struct {
	name  string
	paths func(testing.TB) []string                         // fails or skips the test when the corpus is missing
	build func(dir string, paths []string) (*Engine, error) // nil: buildEngine

	once sync.Once
	eng  *Engine
	err  error
}

var (
	// fixedCorpus is the seeds and the CSV: fixed data, so counts are
	// exact. Its tests fail under CI without the shared corpus and are
	// skipped elsewhere.
	fixedCorpus = &corpus{name: "fixed", paths: func(tb testing.TB) []string {
		seeds, csv := indextest.Shared(tb)
		return []string{seeds, csv}
	}}
	// fullCorpus is every real report available: the seeds, the CSV and
	// the bundled corpus (which may still be growing), or the bundled
	// corpus alone outside CI when the shared corpus is missing. The
	// differential tests, which need no exact counts, run on it.
	fullCorpus = &corpus{name: "full", paths: func(tb testing.TB) []string {
		ps := indextest.Reports(tb)
		if ps[0] != indextest.DataDir() {
			ps = append(ps, indextest.DataDir())
		}
		return ps
	}}

	tempMu   sync.Mutex
	tempDirs []string
	engines  []*Engine
)

func TestMain(m *testing.M) {
	code := m.Run()
	tempMu.Lock()
	for _, e := range engines {
		e.Close()
	}
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	tempMu.Unlock()
	os.Exit(code)
}

// tempDir makes a directory that TestMain removes, for state shared by
// several tests (t.TempDir would be removed after the first).
func tempDir(tb testing.TB) string {
	tb.Helper()
	d, err := os.MkdirTemp("", "faildex-search-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tempMu.Lock()
	tempDirs = append(tempDirs, d)
	tempMu.Unlock()
	return d
}

// engine returns the engine over the corpus, building its index on first
// use. Indexing problems (rejections) fail the build.
func (c *corpus) engine(tb testing.TB) *Engine {
	tb.Helper()
	paths := c.paths(tb)
	c.once.Do(func() {
		build := c.build
		if build == nil {
			build = buildEngine
		}
		c.eng, c.err = build(tempDir(tb), paths)
		if c.err == nil {
			tempMu.Lock()
			engines = append(engines, c.eng)
			tempMu.Unlock()
		}
	})
	if c.err != nil {
		tb.Fatalf("building the %s index: %v", c.name, c.err)
	}
	return c.eng
}

// buildEngine indexes paths into dir and opens an engine over the index.
func buildEngine(dir string, paths []string) (*Engine, error) {
	var rejected []string
	gaz, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		return nil, err
	}
	_, err = index.Build(context.Background(), dir, paths, index.BuildOptions{
		Organisations: gaz,
		Problem: func(p index.Problem) {
			if !p.Warning {
				rejected = append(rejected, p.Error())
			}
		},
	})
	if err != nil {
		return nil, err
	}
	if len(rejected) > 0 {
		return nil, fmt.Errorf("reports rejected: %q", rejected)
	}
	ix, err := index.Open(dir)
	if err != nil {
		return nil, err
	}
	e, err := New(context.Background(), ix)
	if err != nil {
		ix.Close()
		return nil, err
	}
	return e, nil
}

// newTestEngine builds a private index over paths for one test.
func newTestEngine(tb testing.TB, paths ...string) *Engine {
	tb.Helper()
	e, err := buildEngine(tb.TempDir(), paths)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func writeFile(tb testing.TB, path, data string) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// search runs a request that must succeed.
func search(tb testing.TB, e *Engine, req Request) *Result {
	tb.Helper()
	res, err := e.Search(context.Background(), req)
	if err != nil {
		tb.Fatalf("Search(%+v): %v", req, err)
	}
	return res
}

func hitIDs(res *Result) []string {
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	return ids
}

// pageReport renders an incident report in the database's plain-text page
// form (see ../../shared/data/seeds). rows are taxonomy rows, "<Category>
// <options> <rationale>", listed under "Software Taxonomy of Faults";
// sources are the lines of the Sources section.
func pageReport(title, published, summary string, rows, sources []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Incident: %s\n\nPublished Date: %s\n\nPostmortem Analysis\n", title, published)
	fmt.Fprintf(&b, "Summary %s\n", summary)
	b.WriteString("System 1. A test system [1]\n")
	b.WriteString("\nSoftware Taxonomy of Faults\n\nCategory Option Rationale\n")
	for _, r := range rows {
		b.WriteString(r + "\n")
	}
	b.WriteString("\nSources\n")
	for _, s := range sources {
		b.WriteString(s + "\n")
	}
	b.WriteString("\nBack to List\n")
	return b.String()
}
