// Package data holds the bundled corpus: the incident reports of this
// directory, embedded in the binary, which faildex indexes when it is given
// no paths.
package data

import "embed"

// FS holds the bundled reports, one plain-text page per incident (*.txt),
// at its root.
//
//go:embed *.txt
var FS embed.FS
