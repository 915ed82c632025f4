// Package web holds faildex's HTML templates and static assets, embedded in
// the binary.
package web

import "embed"

// FS holds templates/*.html and static/*.
//
//go:embed templates static
var FS embed.FS
