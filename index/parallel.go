package index

import (
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
	done := make(chan struct{})
	defer close(done)
	jobs := make(chan *readUnit)
	queue := make(chan *readUnit, 4*workers)
	for w := 0; w < workers; w++ {
		go parseUnits(jobs)
	}
	go queueUnits(paths, queue, jobs, done)

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

// A readUnit is one step of readPathsParallel, handled in queue order: a
// file to read, problems to report or an error that stops reading.
type readUnit struct {
	path     string
	explicit bool
	parallel bool            // the file is parsed by a worker, which sends its calls on done
	problems []Problem       // reported before anything else of the unit
	err      error           // stops reading
	done     chan []recorded // the calls of a parallel unit
}

// recorded is one call a worker's Handler received.
type recorded struct {
	problem *Problem
	record  *Record
}

// parseUnits reads each parallel unit's file and sends the Handler calls it
// made on the unit's done channel.
func parseUnits(jobs <-chan *readUnit) {
	for u := range jobs {
		var calls []recorded
		ReadFile(u.path, u.explicit, Handler{
			Record: func(r Record) error {
				calls = append(calls, recorded{record: &r})
				return nil
			},
			Problem: func(p Problem) { calls = append(calls, recorded{problem: &p}) },
		})
		u.done <- calls
	}
}

// queueUnits sends the units of paths, in ReadPaths order, to queue, and
// the parallel ones also to jobs, until done is closed. It closes both
// channels when it returns.
func queueUnits(paths []string, queue, jobs chan<- *readUnit, done <-chan struct{}) {
	defer close(queue)
	defer close(jobs)
	send := func(u *readUnit) bool {
		if u.parallel {
			u.done = make(chan []recorded, 1)
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
	file := func(path string, explicit bool) *readUnit {
		return &readUnit{path: path, explicit: explicit, parallel: strings.EqualFold(filepath.Ext(path), ".txt")}
	}
	for _, p := range paths {
		root, isDir, err := statPath(p)
		if err != nil {
			send(&readUnit{err: err})
			return
		}
		if !isDir {
			if !send(file(p, true)) {
				return
			}
			continue
		}
		var problems []Problem
		files, err := listReports(root, func(pr Problem) { problems = append(problems, pr) })
		if len(problems) > 0 && !send(&readUnit{problems: problems}) {
			return
		}
		if err != nil {
			send(&readUnit{err: err})
			return
		}
		for _, f := range files {
			if !send(file(f, false)) {
				return
			}
		}
	}
}
