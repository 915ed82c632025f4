package server

import (
	"bytes"
	"encoding/xml"
	"net/http"
)

// writeXML writes v as an XML document (declaration, one-space indent,
// final newline) with the given Content-Type; a HEAD request gets the
// headers alone. v is encoded into a buffer first, so an encoding failure
// is returned before anything is written.
func writeXML(w http.ResponseWriter, r *http.Request, contentType string, v any) error {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", " ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	buf.WriteByte('\n')
	w.Header().Set("Content-Type", contentType)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
	return nil
}

// writeStatic writes b, a document that changes only with the program,
// with the given Content-Type and five minutes of public caching; a HEAD
// request gets the headers alone.
func writeStatic(w http.ResponseWriter, r *http.Request, contentType string, b []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "public, max-age=300")
	if r.Method != http.MethodHead {
		w.Write(b)
	}
}
