//go:build !race

package index

// raceEnabled reports whether the tests run under the race detector, which
// makes indexing about twenty times slower.
const raceEnabled = false
