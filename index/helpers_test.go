package index

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/faildex/faildex/index/indextest"
)

// Two reports of the shared corpus's seeds (indextest.Shared).
const (
	seed0 = "000_123143f11ad7b5f7"
	seed1 = "001_30542994287988f2"
)

// seedPath returns the path of a seed report of the shared corpus.
func seedPath(tb testing.TB, name string) string {
	tb.Helper()
	seeds, _ := indextest.Shared(tb)
	return filepath.Join(seeds, name+".txt")
}

// realReports returns the real report files that indextest.Reports names:
// the shared seeds and CSV file or, outside CI without them, the bundled
// reports (and no CSV file).
func realReports(tb testing.TB) (texts, csvs []string) {
	tb.Helper()
	for _, p := range indextest.Reports(tb) {
		if filepath.Ext(p) == ".csv" {
			csvs = append(csvs, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.txt"))
		if err != nil || len(m) == 0 {
			tb.Fatalf("no reports in %s (%v)", p, err)
		}
		texts = append(texts, m...)
	}
	return texts, csvs
}

func readBytes(tb testing.TB, path string) []byte {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func writeFile(tb testing.TB, path string, data []byte) string {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// parseSeed parses one seed report and fails on rejection or warnings.
func parseSeed(tb testing.TB, name string) Incident {
	tb.Helper()
	in, warns, err := ParseText(name+".txt", name, readBytes(tb, seedPath(tb, name)))
	if err != nil {
		tb.Fatalf("ParseText(%s): %v", name, err)
	}
	if len(warns) > 0 {
		tb.Errorf("ParseText(%s) warnings: %v", name, warns)
	}
	return in
}

// collected is everything a Handler received.
type collected struct {
	records  []Record
	problems []Problem // rejections
	warnings []Problem
}

func (c *collected) incidents() []Incident {
	out := make([]Incident, len(c.records))
	for i, r := range c.records {
		out[i] = r.Incident
	}
	return out
}

func (c *collected) handler() Handler {
	return Handler{
		Record: func(r Record) error {
			c.records = append(c.records, r)
			return nil
		},
		Problem: func(p Problem) {
			if p.Warning {
				c.warnings = append(c.warnings, p)
			} else {
				c.problems = append(c.problems, p)
			}
		},
	}
}

// readFormat reads data in one format with Read and returns what the handler
// received. A non-nil error from Read fails the test.
func readFormat(tb testing.TB, format Format, name string, data []byte) *collected {
	tb.Helper()
	var c collected
	if err := Read(format, name, bytes.NewReader(data), c.handler()); err != nil {
		tb.Fatalf("Read(%s, %s): %v", format, name, err)
	}
	return &c
}

// readPaths reads files and directories with ReadPaths.
func readPaths(tb testing.TB, paths ...string) *collected {
	tb.Helper()
	var c collected
	if err := ReadPaths(paths, c.handler()); err != nil {
		tb.Fatalf("ReadPaths(%v): %v", paths, err)
	}
	return &c
}

// optionsOf returns the incident's options by category; categories that were
// not assessed are absent.
func optionsOf(in Incident) map[string][]string {
	m := map[string][]string{}
	for name, cl := range in.Taxonomy {
		m[name] = cl.Options
	}
	return m
}
