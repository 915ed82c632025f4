package server

import (
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// The search page's actions for the current search: downloads, feeds, a
// link to copy, and ready-to-paste snippets that embed exactly this search
// in another site.

// embedSnippetSize is the number of results the embed snippets ask for.
const embedSnippetSize = 5

// searchActions is what the search page offers to do with its search.
type searchActions struct {
	CSV, NDJSON     string // export URLs (the whole result set)
	Atom, JSONFeed  string // feed URLs
	Link            string // the absolute URL of this search
	Preview         string // the /embed frame of the snippets, relative
	IframeSnippet   string // HTML to paste, as text
	ScriptSnippet   string
	CORSLine        string // the command that lets another site run the script
	ServerURL       string // the base URL the snippets point to
	EmbedTitle      string
	HasWordsOrTerms bool // the search has words or filters (the snippet is not "everything")
}

// newSearchActions returns the actions for req (the search as the engine
// understood it) as seen by a client of base (see baseURL).
func newSearchActions(base string, req search.Request) *searchActions {
	q := req.Clone()
	q.Page = 0
	link := base + searchPageURL(q)

	export := q.Clone()
	export.Size, export.Sort = 0, q.Sort
	ev := export.Values()
	withFormat := func(f string) string {
		v := cloneValues(ev)
		v.Set("format", f)
		return "/api/v1/export?" + v.Encode()
	}
	feed := q.Clone()
	feed.Size, feed.Sort = 0, ""
	feedQS := ""
	if v := feed.Values(); len(v) > 0 {
		feedQS = "?" + v.Encode()
	}

	emb := q.Clone()
	emb.Size = embedSnippetSize
	embQS := emb.Values().Encode()
	title := "faildex: " + describeSearch(req)

	a := &searchActions{
		CSV:             withFormat("csv"),
		NDJSON:          withFormat("ndjson"),
		Atom:            "/feed.atom" + feedQS,
		JSONFeed:        "/feed.json" + feedQS,
		Link:            link,
		Preview:         "/embed?" + embQS,
		ServerURL:       base,
		EmbedTitle:      title,
		HasWordsOrTerms: req.Query != "" || len(req.Filters) > 0 || req.From != "" || req.To != "",
	}
	a.IframeSnippet = `<iframe src="` + html.EscapeString(base+"/embed?"+embQS) + `"` + "\n" +
		`        width="480" height="400" title="` + html.EscapeString(title) + `" loading="lazy"></iframe>`
	a.ScriptSnippet = `<script src="` + html.EscapeString(base+"/embed.js") + `" defer></script>` + "\n" +
		"<div" + embedAttributes(emb) + "></div>"
	a.CORSLine = "faildex serve --cors-origin https://your-site.example"
	return a
}

// embedAttributes writes req as the data-faildex-* attributes embed.js
// reads (with a leading space each).
func embedAttributes(req search.Request) string {
	var b strings.Builder
	attr := func(name, v string) {
		b.WriteString(` data-faildex-` + name + `="` + html.EscapeString(v) + `"`)
	}
	if req.Query != "" {
		attr("search", req.Query)
	}
	for _, c := range index.Taxonomy {
		if opts := req.Filters[c.Name]; len(opts) > 0 {
			attr(c.Name, strings.Join(opts, ","))
		}
	}
	for _, p := range []struct{ name, v string }{{"from", req.From}, {"to", req.To}, {"sort", req.Sort}} {
		if p.v != "" {
			attr(p.name, p.v)
		}
	}
	if req.Size != 0 {
		attr("size", strconv.Itoa(req.Size))
	}
	return b.String()
}

// describeSearch names a search in a few words: its query and filters
// ("crash, Consequence: Death"), or "all incidents".
func describeSearch(req search.Request) string {
	var parts []string
	if req.Query != "" {
		parts = append(parts, req.Query)
	}
	for _, c := range index.Taxonomy {
		for _, v := range req.Filters[c.Name] {
			parts = append(parts, c.Label+": "+filterLabel(&c, v, nil))
		}
	}
	if req.From != "" || req.To != "" {
		parts = append(parts, "published "+periodLabel(req.From, req.To))
	}
	if len(parts) == 0 {
		return "all incidents"
	}
	return strings.Join(parts, ", ")
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// actionsFor returns the actions of the search page that r asks for.
func (s *Server) actionsFor(r *http.Request, req search.Request) *searchActions {
	return newSearchActions(s.baseURL(r), req)
}
