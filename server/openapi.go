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
	writeStatic(w, r, "application/json; charset=utf-8", openAPIDoc)
	return nil
}
