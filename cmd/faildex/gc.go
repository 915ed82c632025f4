package main

import (
	"runtime/debug"

	"github.com/rs/zerolog"
)

// defaultServeGCPercent is the Go collector's target while serving. A
// server's live heap is small (tens of MB at 100,000 reports: the index is
// memory-mapped, not on the heap) while every search allocates about a
// megabyte, so at Go's default of 100 the collector runs every few dozen
// searches and takes a fifth to a third of their CPU; at 400 it runs a
// quarter as often for a heap of a few hundred MB at most.
const defaultServeGCPercent = 400

// servingGC sets the collector's target for serving: percent, unless the
// GOGC environment variable chose one or percent is 0 (Go's default). It
// returns the target in force.
func servingGC(env *Env, percent int, log zerolog.Logger) int {
	if gogc := env.Getenv("GOGC"); gogc != "" {
		log.Info().Str("GOGC", gogc).Msg("garbage collector target from GOGC")
		prev := debug.SetGCPercent(100)
		debug.SetGCPercent(prev)
		return prev
	}
	if percent <= 0 {
		percent = 100
	}
	debug.SetGCPercent(percent)
	return percent
}
