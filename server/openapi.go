package server

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 description of the JSON API and of the
// other machine-readable endpoints. It is written by hand; openapi_test.go
// keeps it true by validating real responses against it.
//
//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	if r.Method != http.MethodHead {
		w.Write(openAPIDoc)
	}
	return nil
}
