package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/blevesearch/bleve/v2"
)

// An index directory holds generations of the bleve index and a symlink to
// the one being served:
//
//	DIR/current -> gen-1732190000000000000   (swapped atomically by rename)
//	DIR/gen-.../bleve/                       the bleve index
//	DIR/gen-.../manifest.json                count and file checksums
//	DIR/.build-*/                            a build in progress
//	DIR/build.lock                           held while building
//
// Readers only ever follow DIR/current, so a build that fails or is killed
// at any point leaves the previous generation serving.

const (
	currentLink  = "current"
	manifestName = "manifest.json"
	bleveDir     = "bleve"
	lockName     = "build.lock"
	keepGens     = 2
)

// Errors of opening and building.
var (
	ErrNoIndex      = errors.New("no index")
	ErrDamaged      = errors.New("index damaged")
	ErrBuildRunning = errors.New("another build holds the index directory")
)

// Manifest describes one generation of the index.
type Manifest struct {
	Version  int                  `json:"version"`
	Built    time.Time            `json:"built"`
	Count    uint64               `json:"count"`
	Rejected int                  `json:"rejected"`
	Files    map[string]FileCheck `json:"files"`
	// Sources is the check of the generation's sources table (sources.go);
	// generations written before it existed have none.
	Sources *FileCheck `json:"sources,omitempty"`
}

// FileCheck is a file's size and CRC-32C checksum.
type FileCheck struct {
	Size  int64  `json:"size"`
	CRC32 uint32 `json:"crc32c"`
}

const manifestVersion = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Index is an open, read-only generation of the index. Its documents never
// change, so the id order of its documents is computed once (see eachByID).
type Index struct {
	bleve.Index
	Dir      string // the index directory (DIR)
	Gen      string // the generation's directory
	Manifest Manifest

	byID struct {
		sync.Mutex
		docs []docRef // every live document, in id order
	}
	table struct {
		sync.Once
		t *sourceTable
	}
}

// Open opens the generation DIR/current points at, read-only, after checking
// every file against the manifest's sizes and checksums. A damaged index is
// refused with ErrDamaged instead of being served.
func Open(dir string) (*Index, error) { return Reopen(dir, nil) }

// Reopen is Open after prev, an index of the same directory that was
// verified (open or closed: only its generation's path and manifest are
// used): the files the new generation shares with prev's (hard
// links to the same immutable segment files, as updates make them) are not
// read again to verify their checksums, so that switching to a generation
// that differs by a few incidents costs little. prev may be nil.
func Reopen(dir string, prev *Index) (*Index, error) {
	gen, err := CurrentGeneration(dir)
	if err != nil {
		return nil, err
	}
	m, err := readManifest(gen)
	if err != nil {
		return nil, err
	}
	if err := verify(gen, m, prev); err != nil {
		return nil, err
	}
	bi, err := openReadOnly(filepath.Join(gen, bleveDir))
	if err != nil {
		// bleve's messages can span lines (a mapping error quotes the
		// mapping); a log line and a terminal want one.
		return nil, fmt.Errorf("%w: %s: %s", ErrDamaged, gen, strings.Join(strings.Fields(err.Error()), " "))
	}
	n, err := bi.DocCount()
	if err != nil || n != m.Count {
		bi.Close()
		return nil, fmt.Errorf("%w: %s holds %d documents, manifest says %d", ErrDamaged, gen, n, m.Count)
	}
	return &Index{Index: bi, Dir: dir, Gen: gen, Manifest: m}, nil
}

// CurrentGeneration returns the directory of the generation being served.
func CurrentGeneration(dir string) (string, error) {
	target, err := os.Readlink(filepath.Join(dir, currentLink))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("%w at %s", ErrNoIndex, dir)
		}
		return "", fmt.Errorf("%w: %s: %v", ErrDamaged, dir, err)
	}
	if filepath.IsAbs(target) || strings.Contains(target, string(filepath.Separator)) {
		return "", fmt.Errorf("%w: %s/current points outside the directory", ErrDamaged, dir)
	}
	return filepath.Join(dir, target), nil
}

// Exists reports whether dir holds a built index.
func Exists(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, currentLink))
	return err == nil
}

func readManifest(gen string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(filepath.Join(gen, manifestName))
	if err != nil {
		return m, fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrDamaged, manifestName, err)
	}
	if m.Version != manifestVersion {
		return m, fmt.Errorf("%w: manifest version %d, want %d (rebuild the index)", ErrDamaged, m.Version, manifestVersion)
	}
	return m, nil
}

// writeManifest writes the sources table and the manifest of the
// generation being built in gen, describing the bleve files as they are
// now.
func writeManifest(gen string, count uint64, rejected int, table *sourceTable) error {
	sums, err := checksums(filepath.Join(gen, bleveDir), true)
	if err != nil {
		return err
	}
	if err := table.write(gen); err != nil {
		return err
	}
	sc, err := fileCheck(filepath.Join(gen, sourcesName))
	if err != nil {
		return err
	}
	m := Manifest{Version: manifestVersion, Built: time.Now().UTC(), Count: count, Rejected: rejected, Files: sums, Sources: &sc}
	return writeJSONSync(filepath.Join(gen, manifestName), m)
}

// verify checks that the generation's bleve files are exactly those of the
// manifest, with the same sizes and checksums, and so is its sources table
// when the manifest names one. Sizes and names are checked first, so that
// most damage is found without reading every file. Files that are the very
// files of prev (a verified generation) are not read again.
func verify(gen string, m Manifest, prev *Index) error {
	root := filepath.Join(gen, bleveDir)
	got, err := checksums(root, false)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	for name, want := range m.Files {
		g, ok := got[name]
		switch {
		case !ok:
			return fmt.Errorf("%w: %s is missing", ErrDamaged, filepath.Join(root, name))
		case g.Size != want.Size:
			return fmt.Errorf("%w: %s is %d bytes, manifest says %d", ErrDamaged, filepath.Join(root, name), g.Size, want.Size)
		}
	}
	for name := range got {
		if _, ok := m.Files[name]; !ok {
			return fmt.Errorf("%w: unexpected file %s", ErrDamaged, filepath.Join(root, name))
		}
	}
	for name, want := range m.Files {
		path := filepath.Join(root, name)
		if prev != nil && sameFile(path, filepath.Join(prev.Gen, bleveDir, name)) && prev.Manifest.Files[name] == want {
			continue
		}
		sum, err := crc32c(path)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		if sum != want.CRC32 {
			return fmt.Errorf("%w: %s fails its checksum", ErrDamaged, path)
		}
	}
	if m.Sources != nil {
		path := filepath.Join(gen, sourcesName)
		c, err := fileCheck(path)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		if c != *m.Sources {
			return fmt.Errorf("%w: %s fails its checksum", ErrDamaged, path)
		}
	}
	return nil
}

// sameFile reports whether a and b are the same file (hard links of one).
func sameFile(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// fileCheck returns a file's size and checksum.
func fileCheck(path string) (FileCheck, error) {
	st, err := os.Stat(path)
	if err != nil {
		return FileCheck{}, err
	}
	sum, err := crc32c(path)
	return FileCheck{Size: st.Size(), CRC32: sum}, err
}

// checksums lists the regular files under root with their sizes and, when
// sum is set, their CRC-32C.
func checksums(root string, sum bool) (map[string]FileCheck, error) {
	out := map[string]FileCheck{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		fc := FileCheck{Size: info.Size()}
		if sum {
			if fc.CRC32, err = crc32c(path); err != nil {
				return err
			}
		}
		out[rel] = fc
		return nil
	})
	return out, err
}

// crc32c returns the CRC-32C of a file's content.
func crc32c(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	if _, err := io.Copy(h, f); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}
