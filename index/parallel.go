package index

import (
	"os"
	"path/filepath"
	"strings"
)

// readPathsParallel is ReadPaths with plain-text reports read and parsed by
// workers goroutines. h sees exactly the calls ReadPaths would make, in the
// same order, on the calling goroutine. Files of other formats (which may
// hold many reports) are read in turn on the calling goroutine, so memory
// stays bounded by a few reports per worker.
func readPathsParallel(paths []string, workers int, h Handler) error {
	if workers < 2 {
		return ReadPaths(paths, h)
	}
	type call struct {
		problem *Problem
		record  *Record
	}
	type unit struct {
		path     string
		explicit bool
		parallel bool
		problems []Problem // reported before anything else of the unit
		err      error     // stops reading
		done     chan []call
	}
	done := make(chan struct{})
	defer close(done)
	jobs := make(chan *unit)
	queue := make(chan *unit, 4*workers)

	for w := 0; w < workers; w++ {
		go func() {
			for u := range jobs {
				var calls []call
				ReadFile(u.path, u.explicit, Handler{
					Record: func(r Record) error {
						calls = append(calls, call{record: &r})
						return nil
					},
					Problem: func(p Problem) { calls = append(calls, call{problem: &p}) },
				})
				u.done <- calls
			}
		}()
	}
	go func() {
		defer close(queue)
		defer close(jobs)
		send := func(u *unit) bool {
			if u.parallel {
				u.done = make(chan []call, 1)
			}
			select {
			case queue <- u:
			case <-done:
				return false
			}
			if u.parallel {
				select {
				case jobs <- u:
				case <-done:
					return false
				}
			}
			return true
		}
		file := func(path string, explicit bool) *unit {
			return &unit{path: path, explicit: explicit, parallel: strings.EqualFold(filepath.Ext(path), ".txt")}
		}
		for _, p := range paths {
			st, err := os.Stat(p)
			if err != nil {
				send(&unit{err: err})
				return
			}
			if !st.IsDir() {
				if !send(file(p, true)) {
					return
				}
				continue
			}
			var problems []Problem
			files, err := listReports(p, func(pr Problem) { problems = append(problems, pr) })
			if len(problems) > 0 && !send(&unit{problems: problems}) {
				return
			}
			if err != nil {
				send(&unit{err: err})
				return
			}
			for _, f := range files {
				if !send(file(f, false)) {
					return
				}
			}
		}
	}()

	for u := range queue {
		for _, p := range u.problems {
			h.Problem(p)
		}
		switch {
		case u.err != nil:
			return u.err
		case u.parallel:
			for _, c := range <-u.done {
				if c.problem != nil {
					h.Problem(*c.problem)
					continue
				}
				if err := h.Record(*c.record); err != nil {
					return err
				}
			}
		case u.path != "":
			if err := ReadFile(u.path, u.explicit, h); err != nil {
				return err
			}
		}
	}
	return nil
}
