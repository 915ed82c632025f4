package main

import (
	"runtime/debug"
	"testing"

	"github.com/rs/zerolog"
)

// TestServingGC checks the collector's target while serving: the flag's,
// Go's default for 0, and GOGC's whenever it is set.
func TestServingGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	current := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	env := func(gogc string) *Env {
		return &Env{Getenv: func(k string) string { return map[string]string{"GOGC": gogc}[k] }}
	}
	for _, tc := range []struct {
		gogc    string
		percent int
		want    int
	}{
		{"", 400, 400},
		{"", 0, 100},
		{"", 250, 250},
		{"150", 400, 250}, // GOGC set: the target in force (the previous case's) is kept
	} {
		got := servingGC(env(tc.gogc), tc.percent, zerolog.Nop())
		if got != tc.want || current() != tc.want {
			t.Errorf("GOGC=%q --gc-percent %d: returned %d, in force %d; want %d", tc.gogc, tc.percent, got, current(), tc.want)
		}
	}
}
