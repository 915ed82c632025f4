// Package indextest locates the real-world reports that tests read: the
// shared corpus beside the repository (../shared, see its README) and, when
// that is absent outside CI, the bundled corpus in data/.
package indextest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// root is the repository root, found from this file's location so that
// tests in any package agree on it.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SeedDir and CSVPath are the shared corpus's two inputs, relative to the
// repository root's parent.
const (
	SeedDir = "shared/data/seeds"
	CSVPath = "shared/data/fail/incident_data.csv"
)

// Shared returns the absolute paths of the shared seeds directory and CSV
// file. When they are missing, the test fails under CI (CI always has them)
// and is skipped elsewhere, with the reason.
func Shared(tb testing.TB) (seeds, csv string) {
	tb.Helper()
	seeds = filepath.Join(root(), "..", SeedDir)
	csv = filepath.Join(root(), "..", CSVPath)
	for _, p := range []string{seeds, csv} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("CI") != "" {
				tb.Fatalf("shared corpus missing under CI: %v", err)
			}
			tb.Skipf("shared corpus not available: %v", err)
		}
	}
	return seeds, csv
}

// Reports returns paths of real reports to index: the shared seeds and CSV
// when present, else (outside CI) the bundled corpus in data/, so that tests
// that only need real-world input run everywhere. Under CI a missing shared
// corpus fails the test.
func Reports(tb testing.TB) []string {
	tb.Helper()
	seeds := filepath.Join(root(), "..", SeedDir)
	csv := filepath.Join(root(), "..", CSVPath)
	if _, err := os.Stat(seeds); err == nil {
		if _, err := os.Stat(csv); err == nil {
			return []string{seeds, csv}
		}
	}
	if os.Getenv("CI") != "" {
		tb.Fatalf("shared corpus missing under CI: %s and %s", seeds, csv)
	}
	return []string{DataDir()}
}

// DataDir returns the absolute path of the bundled corpus.
func DataDir() string { return filepath.Join(root(), "data") }
