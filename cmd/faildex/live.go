package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
	"github.com/faildex/faildex/server"
)

// engines opens the engines a server serves from its index directory, each
// after the one before (search.Reopen verifies only the files that
// changed), and knows which generation was opened last.
type engines struct {
	dir  string
	opts []search.Option
	mu   sync.Mutex
	last *search.Engine // possibly closed since: only its generation is read
}

func (e *engines) open(ctx context.Context) (*search.Engine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	eng, err := search.Reopen(ctx, e.dir, e.last, e.opts...)
	if err == nil {
		e.last = eng
	}
	return eng, err
}

func (e *engines) searcher(ctx context.Context) (server.Searcher, error) { return e.open(ctx) }

// gen returns the directory of the generation opened last.
func (e *engines) gen() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.last == nil {
		return ""
	}
	return e.last.Index().Gen
}

// followGenerations switches the server to the generation current in dir
// whenever it changes (a build, an update by another process), checking
// every interval until ctx ends. A generation that fails to open is
// logged once and the one serving keeps serving.
func followGenerations(ctx context.Context, log zerolog.Logger, srv *server.Server, e *engines, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	failed := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		gen, err := index.CurrentGeneration(e.dir)
		if err != nil || gen == e.gen() || gen == failed {
			continue
		}
		if err := srv.Reload(ctx); err != nil {
			failed = gen
			log.Error().Err(err).Str("generation", gen).Msg("new generation not served")
			continue
		}
		failed = ""
		log.Info().Str("generation", gen).Msg("switched to the new generation")
	}
}

// watchOptions tunes watchReports.
type watchOptions struct {
	// quiet is how long the files must stay unchanged before an update;
	// most is the longest wait after the first change.
	quiet, most time.Duration
	// rescan is the interval of full checks, which also catch changes the
	// file system's notifications missed.
	rescan time.Duration
	update index.UpdateOptions
}

// watchReports keeps the index in dir up to date with the report files
// under paths until ctx ends: it updates once at the start, then after
// each burst of changes (all of a burst in one update) and every rescan.
// onChange is called after each update that wrote a generation.
func watchReports(ctx context.Context, env *Env, dir string, paths []string, o watchOptions, onChange func()) error {
	log := env.Log
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	own, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := watchTree(w, p, own); err != nil {
			return err
		}
	}
	update := func(why string) {
		st, err := updateIndex(ctx, env, dir, paths, o.update)
		if err != nil {
			if ctx.Err() == nil {
				log.Error().Err(err).Str("trigger", why).Msg("update failed; the index is unchanged")
			}
			return
		}
		if st.Changed() {
			onChange()
		}
	}
	update("start")
	rescan := time.NewTicker(o.rescan)
	defer rescan.Stop()
	var first time.Time
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	pending := 0
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if hidden(ev.Name) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if st, err := os.Lstat(ev.Name); err == nil && st.IsDir() {
					watchTree(w, ev.Name, own)
				}
			}
			if a, err := filepath.Abs(ev.Name); err == nil && (a == own || strings.HasPrefix(a, own+string(filepath.Separator))) {
				continue // the index's own writes
			}
			if pending == 0 {
				first = time.Now()
			}
			pending++
			wait := o.quiet
			if left := o.most - time.Since(first); left < wait {
				wait = max(left, 0)
			}
			timer.Reset(wait)
		case err, ok := <-w.Errors:
			if !ok {
				return nil
			}
			log.Warn().Err(err).Msg("watching report files; checking them all")
			update("watch error")
		case <-timer.C:
			log.Debug().Int("changes", pending).Msg("report files changed")
			pending = 0
			update("files changed")
		case <-rescan.C:
			update("rescan")
		}
	}
}

// watchTree watches the directory p and every directory under it (a file
// is watched through its directory), leaving out hidden ones and the index
// directory own.
func watchTree(w *fsnotify.Watcher, p, own string) error {
	st, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return w.Add(filepath.Dir(p))
	}
	return filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			return nil
		}
		if path != p && hidden(path) {
			return filepath.SkipDir
		}
		if a, err := filepath.Abs(path); err == nil && a == own {
			return filepath.SkipDir
		}
		if err := w.Add(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// hidden reports whether a file's name starts with a dot (editors' swap
// files, the index's own temporary directories); reading skips them too.
func hidden(path string) bool { return strings.HasPrefix(filepath.Base(path), ".") }
