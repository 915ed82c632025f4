package index

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sort"
	"time"
)

// UpdateOptions tunes Update.
type UpdateOptions struct {
	// DeleteMissing deletes the incidents that came from a file under the
	// paths read that no longer holds them (or no longer exists). Without
	// it they are kept and counted as Missing.
	DeleteMissing bool
	// Strict fails the update when any report is rejected.
	Strict bool
	// Problem receives each rejected report, each warning and each file of
	// a directory that was skipped.
	Problem func(Problem)
	// Duplicate is called when a later record replaces an earlier one with
	// the same id.
	Duplicate func(id, first, second string)
	// Organisations tags each incident indexed with the organisations its
	// organisation fields mention; nil tags none.
	Organisations *Gazetteer
}

// UpdateStats summarises an update.
type UpdateStats struct {
	Added     int
	Replaced  int
	Unchanged int // incidents read again whose content had not changed
	Deleted   int
	// Missing counts incidents whose file no longer holds them, kept
	// because DeleteMissing was not set or because their file has a
	// rejected report (which may be them, edited badly).
	Missing        int
	Rejected       int
	Warnings       int
	Skipped        int
	FilesRead      int // files read because they were new or changed
	FilesUnchanged int // files not read: same size and modification time
	Count          uint64
	Gen            string // the new generation; "" when nothing changed
	Elapsed        time.Duration
}

// Changed reports whether the update wrote a new generation.
func (s UpdateStats) Changed() bool { return s.Gen != "" }

// Update brings the index in dir up to date with the reports under paths,
// touching only what changed: files with the size and modification time
// they had when last read are not read again; incidents whose content is
// unchanged are not indexed again; new incidents are added, changed ones
// replaced and, with DeleteMissing, those gone from their file deleted.
// The changes go into a new generation made current atomically, as a
// build's; when nothing changed, none is written. The index must exist.
func Update(ctx context.Context, dir string, paths []string, opts UpdateOptions) (UpdateStats, error) {
	start := time.Now()
	ctx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	if err := CheckPaths(paths); err != nil {
		return UpdateStats{}, err
	}
	if !Exists(dir) {
		return UpdateStats{}, fmt.Errorf("%w at %s: build it first with 'faildex index'", ErrNoIndex, dir)
	}
	d, err := derive(ctx, dir, fail)
	if err != nil {
		return UpdateStats{}, err
	}
	defer d.cleanup()
	u := &updater{d: d, opts: opts, docs: map[string]map[string]any{}, from: map[string]string{}, bad: map[string]bool{}}
	if err := u.read(ctx, paths); err != nil {
		return u.st, err
	}
	if opts.Strict && u.st.Rejected > 0 {
		return u.st, fmt.Errorf("%d reports rejected in strict mode; the index is unchanged", u.st.Rejected)
	}
	del := u.missing()
	// A file with a rejected report is read again by the next update, which
	// reports it again, until it is fixed.
	for f := range u.bad {
		delete(d.table.files, f)
	}
	// Files read again whose incidents are all unchanged still make a
	// generation, for the table to record their new state (else they would
	// be read at every update); and a generation without a table gets one.
	if len(u.docs) == 0 && len(del) == 0 && d.indexed == 0 && d.table.known && u.st.FilesRead == 0 && len(u.gone) == 0 {
		u.st.Count = d.prevMan.Count
		u.st.Elapsed = time.Since(start)
		return u.st, nil
	}
	gen, count, err := d.commit(ctx, u.docs, del)
	if err != nil {
		var we *writeError
		if errors.As(context.Cause(ctx), &we) {
			err = we
		}
		return u.st, err
	}
	u.st.Gen, u.st.Count, u.st.Elapsed = gen, count, time.Since(start)
	return u.st, nil
}

// commit applies docs and deletions and installs the generation.
func (d *derivation) commit(ctx context.Context, docs map[string]map[string]any, del []string) (string, uint64, error) {
	now := time.Now()
	for _, id := range del {
		delete(d.table.docs, id)
		d.table.gone[id] = now
	}
	// An update indexes few documents: the garbage collector's default
	// target is kept (a build relaxes it).
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	if err := d.apply(ctx, docs, del); err != nil {
		return "", 0, err
	}
	return d.finish(ctx)
}

// An updater reads the files of an update and works out its changes.
type updater struct {
	d    *derivation
	opts UpdateOptions
	st   UpdateStats
	docs map[string]map[string]any // to index, by id (flushed in batches)
	text int64                     // stored bytes of docs
	from map[string]string         // "file:line" of each id read
	// reread lists the files read (absolute), gone the files of the table
	// under the paths that no longer exist, bad the files with a rejected
	// report.
	reread, gone []string
	bad          map[string]bool
}

func (u *updater) problem(p Problem) {
	switch {
	case p.Skipped:
		u.st.Skipped++
	case p.Warning:
		u.st.Warnings++
	default:
		u.st.Rejected++
		if abs, err := filepath.Abs(p.File); err == nil {
			u.bad[abs] = true
		}
	}
	if u.opts.Problem != nil {
		u.opts.Problem(p)
	}
}

// read lists the files under paths, reads those that are new or changed
// and notes the table's files under paths that are gone.
func (u *updater) read(ctx context.Context, paths []string) error {
	t := u.d.table
	seen := map[string]bool{}
	var roots []string
	// The index directory itself is never read as reports, even when it
	// lies under a path (an update of "." with the index in ".").
	own, err := filepath.Abs(u.d.dir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		root, isDir, err := statPath(p)
		if err != nil {
			return err
		}
		files := []string{p}
		if isDir {
			notOwn := func(pr Problem) {
				if a, err := filepath.Abs(pr.File); err != nil || !under(a, own) {
					u.problem(pr)
				}
			}
			if files, err = listReports(root, notOwn); err != nil {
				return err
			}
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return err
		}
		roots = append(roots, abs)
		for _, f := range files {
			if err := ctx.Err(); err != nil {
				return err
			}
			if a, err := filepath.Abs(f); err == nil && under(a, own) {
				continue
			}
			if err := u.readFile(f, !isDir, seen); err != nil {
				return err
			}
		}
	}
	for path := range t.files {
		if seen[path] {
			continue
		}
		for _, r := range roots {
			if under(path, r) {
				u.gone = append(u.gone, path)
				break
			}
		}
	}
	sort.Strings(u.gone)
	return nil
}

// readFile reads one file unless the table has it unchanged.
func (u *updater) readFile(f string, explicit bool, seen map[string]bool) error {
	t := u.d.table
	abs, err := filepath.Abs(f)
	if err != nil {
		return err
	}
	if seen[abs] {
		return nil
	}
	seen[abs] = true
	st, err := statFile(f)
	if err != nil {
		u.problem(Problem{File: f, Msg: err.Error()})
		return nil
	}
	if old, ok := t.files[abs]; ok && old == st && t.known {
		u.st.FilesUnchanged++
		return nil
	}
	u.st.FilesRead++
	u.reread = append(u.reread, abs)
	t.files[abs] = st
	return ReadFile(f, explicit, Handler{
		Problem: u.problem,
		Record:  func(r Record) error { return u.record(r, abs) },
	})
}

// record compares one incident read with the table.
func (u *updater) record(r Record, file string) error {
	in := r.Incident
	if first, dup := u.from[in.ID]; dup {
		if u.opts.Duplicate != nil {
			u.opts.Duplicate(in.ID, first, r.Source())
		}
		// The later record wins, as in a build: forget the earlier one.
		delete(u.docs, in.ID)
		u.uncount(in.ID)
	}
	u.from[in.ID] = r.Source()
	doc, hash, err := prepareDoc(&in, u.opts.Organisations)
	if err != nil {
		u.problem(Problem{File: r.File, Line: r.Line, Msg: err.Error()})
		return nil
	}
	t := u.d.table
	old, known := t.docs[in.ID]
	if !t.known && !known {
		// No table: the index's stored form tells what it holds.
		var err error
		if old.Hash, known, err = u.d.storedHash(in.ID); err != nil {
			return err
		}
	}
	had := known
	t.docs[in.ID] = docState{File: file, Hash: hash}
	switch {
	case known && old.Hash == hash:
		u.st.Unchanged++
		return nil
	case had:
		u.st.Replaced++
	default:
		u.st.Added++
	}
	u.docs[in.ID] = doc
	u.text += int64(len(doc[FieldStored].(string)))
	if len(u.docs) >= defaultBatchSize || u.text >= maxBatchText {
		// Memory stays bounded however much changed.
		u.text = 0
		err := u.d.index(u.docs)
		u.docs = map[string]map[string]any{}
		return err
	}
	return nil
}

// uncount takes back the count of an id's earlier record in this update.
func (u *updater) uncount(id string) {
	if _, ok := u.docs[id]; ok {
		return // counted as added or replaced; the later record counts again
	}
	if u.st.Unchanged > 0 {
		u.st.Unchanged--
	}
}

// missing returns, when DeleteMissing is set, the ids whose file was read
// again (or is gone) without them; otherwise it counts them.
func (u *updater) missing() []string {
	t := u.d.table
	files := map[string]bool{}
	for _, f := range u.reread {
		files[f] = true
	}
	for _, f := range u.gone {
		files[f] = true
		delete(t.files, f)
	}
	var del []string
	for id, ds := range t.docs {
		if !files[ds.File] {
			continue
		}
		if _, ok := u.from[id]; ok {
			continue
		}
		if u.opts.DeleteMissing && !u.bad[ds.File] {
			del = append(del, id)
		} else {
			u.st.Missing++
		}
	}
	sort.Strings(del)
	u.st.Deleted = len(del)
	return del
}

// prepareDoc tags an incident with its organisations and returns its
// document and the hash of its content.
func prepareDoc(in *Incident, g *Gazetteer) (map[string]any, uint64, error) {
	g.Tag(in)
	doc, err := Document(in)
	if err != nil {
		return nil, 0, err
	}
	return doc, docHash(doc), nil
}
