package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/faildex/faildex/web"
)

// ui renders the HTML pages and serves the static assets. In dev mode
// templates and assets are re-read from disk on every request; otherwise
// they are parsed once from the embedded files.
//
// Templates: templates/base.html is the layout, parsed into every page's
// set. Every other templates/NAME.html is a page, parsed into a set of its
// own (so pages can fill the layout's blocks without clashing), and rendered
// as the template NAME: a page defines NAME, usually as
// {{template "base" .}} plus the blocks it overrides, or as a whole
// document of its own.
type ui struct {
	dev bool
	dir string
	// Parsed once when not in dev mode.
	pages  *templateSet
	static fs.FS
}

// templateSet is every page's parsed templates and the assets' versions.
type templateSet struct {
	byName   map[string]*template.Template // template name -> the set defining it
	files    []string                      // page names, sorted
	versions map[string]string             // static file -> content hash
}

const layoutFile = "base.html"

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
	if u.pages, err = parseTemplates(web.FS); err != nil {
		return nil, err
	}
	return u, nil
}

// parseTemplates parses the templates of a web directory (holding
// templates/ and static/) and hashes its static files.
func parseTemplates(fsys fs.FS) (*templateSet, error) {
	ts := &templateSet{byName: map[string]*template.Template{}, versions: map[string]string{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ts.versions[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: hashing static files: %w", err)
	}
	layout, err := fs.ReadFile(fsys, path.Join("templates", layoutFile))
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	funcs := templateFuncs(ts.versions)
	// Other names a page defines are found by name too when no other page
	// defines them (a page's own name always wins).
	owners := map[string][]*template.Template{}
	for _, f := range files {
		base := path.Base(f)
		if base == layoutFile {
			continue
		}
		name := strings.TrimSuffix(base, ".html")
		src, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		t, err := template.New(layoutFile).Funcs(funcs).Parse(string(layout))
		if err != nil {
			return nil, fmt.Errorf("web: templates/%s: %w", layoutFile, err)
		}
		if _, err := t.New(base).Parse(string(src)); err != nil {
			return nil, fmt.Errorf("web: %s: %w", f, err)
		}
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("web: %s does not define the template %q", f, name)
		}
		ts.byName[name] = t
		ts.files = append(ts.files, name)
		for _, d := range t.Templates() {
			owners[d.Name()] = append(owners[d.Name()], t)
		}
	}
	for n, sets := range owners {
		if _, ok := ts.byName[n]; !ok && len(sets) == 1 {
			ts.byName[n] = sets[0]
		}
	}
	sort.Strings(ts.files)
	return ts, nil
}

// templateFuncs are the functions templates may call. asset returns the
// URL of a static file, versioned by its content so that it can be cached
// for good.
func templateFuncs(versions map[string]string) template.FuncMap {
	return template.FuncMap{
		"asset": func(name string) string {
			if v, ok := versions[name]; ok {
				return "/static/" + name + "?v=" + v
			}
			return "/static/" + name
		},
	}
}

func (u *ui) templates() (*templateSet, error) {
	if !u.dev {
		return u.pages, nil
	}
	return parseTemplates(os.DirFS(u.dir))
}

// render executes a template into a buffer, then writes it, so a template
// failure is a clean 500 and never half a page.
func (u *ui) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) error {
	ts, err := u.templates()
	if err != nil {
		return err
	}
	t, ok := ts.byName[name]
	if !ok {
		return fmt.Errorf("web: no template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-cache")
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(buf.Bytes())
	}
	return nil
}

// pageMeta is what the layout (templates/base.html) needs from every page.
type pageMeta struct {
	Title       string // the page's <title>, before " · faildex"; empty for the site name alone
	Description string // the meta description, if any
	Canonical   string // the canonical path ("/incidents/x"), if any
	Script      bool   // load the search page's script
	Corpus      string // what the index holds ("51 incidents, 1986–2024"), for the footer
	Head        HeadLinks
}

type errorPage struct {
	pageMeta
	Status     int
	StatusText string
	Message    string
}

func (u *ui) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := errorPage{
		pageMeta:   pageMeta{Title: fmt.Sprintf("%d %s", status, http.StatusText(status))},
		Status:     status,
		StatusText: http.StatusText(status),
		Message:    msg,
	}
	if err := u.render(w, r, status, "error", p); err != nil {
		http.Error(w, http.StatusText(status), status)
	}
}

// serveStatic serves web/static's files (not its directory listings). A
// request carrying the file's current version (?v=, as asset writes it) may
// be cached for good; others are revalidated against the version as an
// ETag.
func (s *Server) serveStatic() http.Handler {
	u := s.ui
	files := http.StripPrefix("/static/", http.FileServer(http.FS(u.static)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if fi, err := fs.Stat(u.static, name); name == "" || err != nil || fi.IsDir() {
			s.writeError(w, r, errNotFound)
			return
		}
		ver := ""
		if !u.dev {
			ver = u.pages.versions[name]
		}
		switch {
		case ver != "" && r.URL.Query().Get("v") == ver:
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		default:
			h.Set("Cache-Control", "no-cache")
		}
		if ver != "" {
			h.Set("ETag", `"`+ver+`"`)
		}
		files.ServeHTTP(w, r)
	})
}
