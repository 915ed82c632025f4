package server

import (
	"crypto/rand"
	"encoding/base64"
	"io/fs"
	"net/http"
	"strconv"
	"strings"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Sizes of the widget's result list.
const (
	embedDefaultSize = 10
	embedMaxSize     = 50
)

// embedPage is the data of templates/embed.html: either a result list or one
// incident, or an error message.
type embedPage struct {
	Nonce    string
	Result   *search.Result
	Incident *embedIncident
	// MoreURL is the full search page for the same request.
	MoreURL string
	// Status and Error are set when the request failed.
	Status int
	Error  string
}

// embedIncident is one incident as the widget shows it.
type embedIncident struct {
	ID, Title, Published, Summary string
	Options                       []embedOption
}

type embedOption struct{ Category, Label string }

// handleEmbed serves /embed: a compact, self-contained result list (or, with
// id=, one incident) made to be framed by other sites. It sets its own CSP:
// no scripts, its one <style> allowed by a nonce, and frame-ancestors from
// Config.FrameAncestors. Errors are shown inside the frame, not as a page;
// only a failure to render the frame is returned.
func (s *Server) handleEmbed(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	nonce := newNonce()
	// faildex's own pages frame it too (the search page's embed preview).
	ancestors := s.cfg.FrameAncestors
	if ancestors != "*" && ancestors != "'none'" && !strings.Contains(ancestors, "'self'") {
		ancestors = "'self' " + ancestors
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+nonce+"'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors "+ancestors)
	data := embedPage{Nonce: nonce}
	status := http.StatusOK
	if err := embedData(w, r, eng, &data); err != nil {
		var msg string
		status, msg, _ = classify(err)
		s.logError(r, status, err)
		if status == 499 {
			return nil
		}
		data.Status, data.Error = status, msg
	}
	return s.ui.render(w, r, status, "embed", data)
}

// embedData fills data with the incident or the search that r asks for.
func embedData(w http.ResponseWriter, r *http.Request, eng Searcher, data *embedPage) error {
	v := r.URL.Query()
	if id := v.Get("id"); id != "" {
		in, err := eng.Incident(r.Context(), id)
		if err != nil {
			return err
		}
		data.Incident = newEmbedIncident(in)
		data.MoreURL = incidentPath(in.ID)
		return nil
	}
	req, err := search.FromValues(v, "id")
	if err != nil {
		return err
	}
	if req.Size == 0 {
		req.Size = embedDefaultSize
	}
	if req.Size > embedMaxSize {
		return &search.Error{Param: "size", Pos: -1, Msg: "must be between 1 and " + strconv.Itoa(embedMaxSize)}
	}
	res, err := eng.Search(r.Context(), req)
	if err != nil {
		return err
	}
	setPageLinks(w, r.URL.Path, req, res)
	data.Result = res
	more := req.Clone()
	more.Page, more.Size = 0, 0
	data.MoreURL = searchPageURL(more)
	return nil
}

// Texts shown in a widget are cut to these many bytes, at a word; the
// widget links to the full incident.
const (
	embedTitleBytes   = 300
	embedSummaryBytes = 600
)

func newEmbedIncident(in *index.Incident) *embedIncident {
	e := &embedIncident{ID: in.ID, Title: index.Cut(in.Title, embedTitleBytes), Published: in.Published, Summary: index.Cut(in.Lead(), embedSummaryBytes)}
	for _, c := range index.Taxonomy {
		if c.Name != "consequence" && c.Name != "domain" {
			continue
		}
		for _, o := range in.Options(c.Name) {
			e.Options = append(e.Options, embedOption{Category: c.Name, Label: c.OptionLabel(o)})
		}
	}
	return e
}

// handleEmbedJS serves the script that renders result lists on other sites
// (web/static/embed.js, also at /static/embed.js).
func (s *Server) handleEmbedJS(w http.ResponseWriter, r *http.Request) error {
	b, err := fs.ReadFile(s.ui.static, "embed.js")
	if err != nil {
		return err
	}
	writeStatic(w, r, "text/javascript; charset=utf-8", b)
	return nil
}

// newNonce returns a fresh CSP nonce.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}
