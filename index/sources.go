package index

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Every generation carries a table of its sources (DIR/gen-.../sources):
// for each incident, the report file it was read from and a hash of its
// content; for each report file read, its size and modification time; and
// the incidents deleted lately. An update reads it to touch only what
// changed: files whose size and time are unchanged are not read again, and
// incidents whose hash is unchanged are not indexed again.

const (
	sourcesName    = "sources"
	sourcesVersion = 1
	// goneKeep bounds the deleted ids a generation remembers, and goneFor
	// how long: /incidents/{id} answers 410 Gone for them, then 404.
	goneKeep = 10000
	goneFor  = 30 * 24 * time.Hour
)

// fileState is a report file as it was when last read.
type fileState struct {
	Size  int64
	ModNs int64
}

// docState is where an incident came from ("" when it was sent over the
// API) and the hash of its stored form.
type docState struct {
	File string
	Hash uint64
}

// sourceTable is the decoded table of one generation.
type sourceTable struct {
	files map[string]fileState // by absolute path
	docs  map[string]docState  // by incident id
	gone  map[string]time.Time // deleted ids and when
	// known is false for a generation written before tables existed: every
	// file is then read and every incident it holds indexed again.
	known bool
}

func newSourceTable() *sourceTable {
	return &sourceTable{files: map[string]fileState{}, docs: map[string]docState{}, gone: map[string]time.Time{}, known: true}
}

// The encoded form: slices, files named once.
type sourcesFile struct {
	Version int
	Files   []sourcesFileRow
	Docs    []sourcesDocRow
	Gone    []sourcesGoneRow
}

type sourcesFileRow struct {
	Path        string
	Size, ModNs int64
}

type sourcesDocRow struct {
	ID   string
	File int32 // index into Files, -1 when sent over the API
	Hash uint64
}

type sourcesGoneRow struct {
	ID string
	At int64 // Unix nanoseconds
}

// docHash is the hash of an incident's document: of its stored form, which
// holds every field (organisation tags included).
func docHash(doc map[string]any) uint64 {
	s, _ := doc[FieldStored].(string)
	return xxhash.Sum64String(s)
}

// loadSources reads the table of the generation gen; a generation without
// one gives an empty table that knows nothing.
func loadSources(gen string) (*sourceTable, error) {
	f, err := os.Open(filepath.Join(gen, sourcesName))
	if errors.Is(err, fs.ErrNotExist) {
		t := newSourceTable()
		t.known = false
		return t, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var sf sourcesFile
	if err := gob.NewDecoder(bufio.NewReader(f)).Decode(&sf); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDamaged, f.Name(), err)
	}
	if sf.Version != sourcesVersion {
		return nil, fmt.Errorf("%w: %s: version %d, want %d", ErrDamaged, f.Name(), sf.Version, sourcesVersion)
	}
	t := newSourceTable()
	for _, r := range sf.Files {
		t.files[r.Path] = fileState{Size: r.Size, ModNs: r.ModNs}
	}
	for _, r := range sf.Docs {
		d := docState{Hash: r.Hash}
		if r.File >= 0 && int(r.File) < len(sf.Files) {
			d.File = sf.Files[r.File].Path
		}
		t.docs[r.ID] = d
	}
	for _, r := range sf.Gone {
		t.gone[r.ID] = time.Unix(0, r.At)
	}
	return t, nil
}

// write writes the table into the generation directory gen and syncs it;
// it keeps only the files some incident comes from.
func (t *sourceTable) write(gen string) error {
	t.pruneGone(time.Now())
	used := map[string]bool{}
	for _, d := range t.docs {
		if d.File != "" {
			used[d.File] = true
		}
	}
	sf := sourcesFile{Version: sourcesVersion}
	paths := make([]string, 0, len(used))
	for p := range used {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	at := make(map[string]int32, len(paths))
	for i, p := range paths {
		at[p] = int32(i)
		st := t.files[p]
		sf.Files = append(sf.Files, sourcesFileRow{Path: p, Size: st.Size, ModNs: st.ModNs})
	}
	ids := make([]string, 0, len(t.docs))
	for id := range t.docs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	sf.Docs = make([]sourcesDocRow, len(ids))
	for i, id := range ids {
		d := t.docs[id]
		file := int32(-1)
		if d.File != "" {
			file = at[d.File]
		}
		sf.Docs[i] = sourcesDocRow{ID: id, File: file, Hash: d.Hash}
	}
	for id, when := range t.gone {
		sf.Gone = append(sf.Gone, sourcesGoneRow{ID: id, At: when.UnixNano()})
	}
	sort.Slice(sf.Gone, func(i, j int) bool { return sf.Gone[i].ID < sf.Gone[j].ID })
	f, err := os.Create(filepath.Join(gen, sourcesName))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = gob.NewEncoder(w).Encode(&sf)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// pruneGone forgets deletions older than goneFor and the oldest beyond
// goneKeep.
func (t *sourceTable) pruneGone(now time.Time) {
	for id, when := range t.gone {
		if now.Sub(when) > goneFor {
			delete(t.gone, id)
		}
	}
	if len(t.gone) <= goneKeep {
		return
	}
	type g struct {
		id   string
		when time.Time
	}
	all := make([]g, 0, len(t.gone))
	for id, when := range t.gone {
		all = append(all, g{id, when})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].when.Before(all[j].when) })
	for _, x := range all[:len(all)-goneKeep] {
		delete(t.gone, x.id)
	}
}

// statFile returns a report file's state now.
func statFile(path string) (fileState, error) {
	st, err := os.Stat(path)
	if err != nil {
		return fileState{}, err
	}
	return fileState{Size: st.Size(), ModNs: st.ModTime().UnixNano()}, nil
}

// under reports whether path is root or inside the directory root (both
// absolute and clean).
func under(path, root string) bool {
	if path == root {
		return true
	}
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(path, root)
}

// Deleted reports whether the incident id was deleted from the index
// lately (within 30 days, among the last 10,000 deletions), and when.
func (ix *Index) Deleted(id string) (time.Time, bool) {
	t := ix.sources()
	if t == nil {
		return time.Time{}, false
	}
	when, ok := t.gone[id]
	return when, ok
}

// sources loads the generation's table once; nil when it cannot be read.
func (ix *Index) sources() *sourceTable {
	ix.table.Do(func() {
		t, err := loadSources(ix.Gen)
		if err == nil {
			ix.table.t = t
		}
	})
	return ix.table.t
}

// A tableWriter fills the sources table of a build as records arrive.
type tableWriter struct {
	t   *sourceTable
	abs map[string]string // absolute path of each file name seen
}

func newTableWriter() *tableWriter {
	return &tableWriter{t: newSourceTable(), abs: map[string]string{}}
}

// add records that the incident id, with document doc, was read from
// file, and the file's state when first seen. A later record of the same
// id replaces it, as in the index.
func (w *tableWriter) add(id, file string, doc map[string]any) {
	abs, ok := w.abs[file]
	if !ok {
		abs = file
		if a, err := filepath.Abs(file); err == nil {
			abs = a
		}
		w.abs[file] = abs
		if st, err := statFile(file); err == nil {
			w.t.files[abs] = st
		}
	}
	w.t.docs[id] = docState{File: abs, Hash: docHash(doc)}
}
