package index

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// install renames the build's finished generation into the index
// directory, makes it current and removes the generations beyond
// keepGens. It returns the generation's directory.
func (b *build) install() (string, error) {
	gen, err := installGeneration(b.dir, b.tmp)
	if err == nil {
		b.tmp = ""
	}
	return gen, err
}

// installGeneration renames the finished generation tmp into the index
// directory dir under a new name, makes it current and removes the
// generations beyond keepGens. It returns the generation's directory.
func installGeneration(dir, tmp string) (string, error) {
	gen := newGenName(dir)
	if err := os.Rename(tmp, filepath.Join(dir, gen)); err != nil {
		return "", err
	}
	if err := swapCurrent(dir, gen); err != nil {
		os.RemoveAll(filepath.Join(dir, gen))
		return "", err
	}
	pruneGenerations(dir, gen)
	return filepath.Join(dir, gen), nil
}

// newGenName names a new generation after the time, later than the
// current generation's name even when the clock stepped back.
func newGenName(dir string) string {
	n := time.Now().UnixNano()
	if cur, err := os.Readlink(filepath.Join(dir, currentLink)); err == nil {
		var last int64
		if _, err := fmt.Sscanf(cur, "gen-%d", &last); err == nil && last >= n {
			n = last + 1
		}
	}
	return fmt.Sprintf("gen-%d", n)
}

// swapCurrent points DIR/current at gen with a rename, which is atomic.
func swapCurrent(dir, gen string) error {
	tmpLink := filepath.Join(dir, ".current.tmp")
	os.Remove(tmpLink)
	if err := os.Symlink(gen, tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, currentLink)); err != nil {
		os.Remove(tmpLink)
		return err
	}
	return syncDir(dir)
}

// removeStale deletes builds left by killed processes; the caller holds the
// build lock, so none of them is running.
func removeStale(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".build-") {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}

// pruneGenerations keeps the newest keepGens generations, current included.
func pruneGenerations(dir, current string) {
	entries, _ := os.ReadDir(dir)
	var gens []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "gen-") && e.Name() != current {
			gens = append(gens, e.Name())
		}
	}
	sort.Strings(gens)
	for len(gens) > keepGens-1 {
		os.RemoveAll(filepath.Join(dir, gens[0]))
		gens = gens[1:]
	}
}

// lockDir takes the directory's build lock without waiting; it fails with
// ErrBuildRunning while another build (in any process) holds it. The
// returned function releases the lock.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s", ErrBuildRunning, dir)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
