package server

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// The incident page: GET /incidents/{id}.

type incidentPage struct {
	pageMeta
	ID         string
	Title      string
	Published  string
	Date       string
	Back       string // the search it came from, a same-site relative URL
	FromSearch bool   // Back is a search with parameters, not the bare page
	Summary    textView
	Fields     []fieldView
	Groups     []taxGroup
	Articles   []int64
	Sources    []sourceView
	JSON       string
	Cite       Citation
	Similar    []similarView // incidents like this one (explore.go)
	Permalink  string        // the page's absolute URL
	Prev, Next *navLink      // the neighbours in the search it came from
	Position   string        // "3 of 12" in that search
	Highlight  string        // the search's words, for the script to mark
}

type fieldView struct {
	Name, Label string
	Text        textView
}

type taxGroup struct {
	ID, Name, Head string
	Rows           []taxRow
}

type taxRow struct {
	Field, Label, Definition string
	Assessed                 bool
	Options                  []optionView
	Rationale                textView
}

type optionView struct {
	Value, Label, Definition, Href string
}

type sourceView struct {
	Text string
	URL  string // set when the source is an http(s) URL
}

// metaDescriptionBytes bounds an incident page's meta description, before
// the " …" that marks a cut.
const metaDescriptionBytes = 200

func (s *Server) handleIncidentPage(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	id := mux.Vars(r)["id"]
	if !index.ValidID(id) {
		return errNotFound
	}
	in, err := eng.Incident(r.Context(), id)
	if err != nil {
		if errors.Is(err, index.ErrGone) {
			return &httpError{status: http.StatusGone, msg: "The incident “" + id + "” was deleted."}
		}
		if errors.Is(err, index.ErrNotFound) {
			return &httpError{status: http.StatusNotFound, msg: "There is no incident with the id “" + id + "”."}
		}
		return err
	}
	p := newIncidentPage(in, backURL(r))
	p.Head = s.headLinks(r)
	p.Cite = s.citation(r, in)
	p.Similar = s.similarViews(r, eng, in.ID)
	p.Corpus = s.corpusLabel(r, eng)
	p.Permalink = s.baseURL(r) + incidentPath(in.ID)
	p.Script = true // copy buttons, highlighting
	if back, ok := backRequest(r); ok {
		p.Prev, p.Next, p.Position = neighbours(r.Context(), eng, back, in.ID)
		p.Highlight = strings.Join(highlightWords(back.Query), " ")
	}
	return s.ui.render(w, r, http.StatusOK, "incident", p)
}

// backURL returns the search an incident page was opened from: its back
// parameter (a search's query string), else the Referer when it is this
// site's search page, else the search page. It is always "/" or "/?" and
// parameters that the search understands, re-encoded: never another site,
// never a script.
func backURL(r *http.Request) string {
	req, ok := backRequest(r)
	if !ok {
		return "/"
	}
	return searchPageURL(req)
}

// backRequest returns the search an incident page was opened from (see
// backURL), and false when there is none.
func backRequest(r *http.Request) (search.Request, bool) {
	raw, ok := r.URL.Query()["back"]
	if !ok || len(raw) != 1 {
		raw = nil
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path == "/" &&
			(ref.Scheme == "http" || ref.Scheme == "https") {
			raw = []string{ref.RawQuery}
		}
	}
	if len(raw) == 0 {
		return search.Request{}, false
	}
	v, err := url.ParseQuery(strings.TrimPrefix(raw[0], "?"))
	if err != nil {
		return search.Request{}, false
	}
	req, err := search.FromValues(v)
	if err != nil {
		return search.Request{}, false
	}
	return req, true
}

func newIncidentPage(in *index.Incident, back string) *incidentPage {
	p := &incidentPage{
		pageMeta:   pageMeta{Title: in.Title, Description: index.Cut(in.Lead(), metaDescriptionBytes), Canonical: incidentPath(in.ID)},
		ID:         in.ID,
		Title:      in.Title,
		Published:  in.Published,
		Date:       displayDate(in.Published),
		Back:       back,
		FromSearch: back != "/",
		Summary:    splitText(in.Summary),
		Articles:   in.Articles,
		JSON:       apiIncidentPath(in.ID),
	}
	for _, f := range index.TextFields {
		if f.Name == "title" || f.Name == "summary" {
			continue
		}
		if t := *f.Get(in); t != "" {
			p.Fields = append(p.Fields, fieldView{Name: f.Name, Label: f.Label, Text: splitText(t)})
		}
	}
	for _, g := range []struct{ id, name, head string }{
		{"faults", index.GroupFaults, "Category"},
		{"iot", index.GroupIoT, "Layer"},
		{"other", index.GroupOther, "Category"},
	} {
		tg := taxGroup{ID: g.id, Name: g.name, Head: g.head}
		for i := range index.Taxonomy {
			c := &index.Taxonomy[i]
			if c.Group != g.name {
				continue
			}
			row := taxRow{Field: c.Name, Label: c.Label, Definition: c.Definition}
			if cl, ok := in.Taxonomy[c.Name]; ok && len(cl.Options) > 0 {
				row.Assessed = true
				for _, o := range cl.Options {
					q := search.Request{Filters: map[string][]string{c.Name: {o}}}

					row.Options = append(row.Options, optionView{Value: o, Label: c.OptionLabel(o), Definition: optionDefinition(c, o), Href: searchPageURL(q)})
				}
				row.Rationale = splitText(cl.Rationale)
			}
			tg.Rows = append(tg.Rows, row)
		}
		p.Groups = append(p.Groups, tg)
	}
	for _, src := range in.Sources {
		sv := sourceView{Text: src}
		if u, err := url.Parse(strings.TrimSpace(src)); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			sv.URL = u.String()
		}
		p.Sources = append(p.Sources, sv)
	}
	return p
}
