package server

import (
	"bytes"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/web"
)

// ui renders the HTML pages. In dev mode templates are re-read from disk on
// every render; otherwise they are parsed once from the embedded files.
type ui struct {
	dev    bool
	dir    string
	mu     sync.Mutex
	tmpl   *template.Template
	static fs.FS
}

func newUI(dev bool, dir string) (*ui, error) {
	u := &ui{dev: dev, dir: dir}
	if dev {
		u.static = os.DirFS(filepath.Join(dir, "static"))
		if _, err := u.templates(); err != nil {
			return nil, err
		}
		return u, nil
	}
	sub, err := fs.Sub(web.FS, "static")
	if err != nil {
		return nil, err
	}
	u.static = sub
	t, err := parseTemplates(web.FS)
	if err != nil {
		return nil, err
	}
	u.tmpl = t
	return u, nil
}

func parseTemplates(fsys fs.FS) (*template.Template, error) {
	return template.New("").Funcs(templateFuncs).ParseFS(fsys, "templates/*.html")
}

var templateFuncs = template.FuncMap{}

func (u *ui) templates() (*template.Template, error) {
	if !u.dev {
		return u.tmpl, nil
	}
	return parseTemplates(os.DirFS(u.dir))
}

// render executes a template into a buffer, then writes it, so a template
// failure is a clean 500 and never half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	t, err := u.templates()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
	return nil
}

type errorPage struct {
	Status     int
	StatusText string
	Message    string
}

func (u *ui) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	err := u.render(w, r, status, "error", errorPage{Status: status, StatusText: http.StatusText(status), Message: msg})
	if err != nil {
		http.Error(w, http.StatusText(status), status)
	}
}

func (s *Server) uiRoutes(r *mux.Router) {
	r.PathPrefix("/static/").Handler(http.StripPrefix("/static/", http.FileServer(http.FS(s.ui.static)))).
		Methods(http.MethodGet, http.MethodHead).Name("static")
}
