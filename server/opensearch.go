package server

import (
	"encoding/xml"
	"net/http"
	"net/url"
)

// OpenSearch 1.1 description documents
// (https://github.com/dewitt/opensearch/blob/master/opensearch-1-1-draft-6.md).

const openSearchNS = "http://a9.com/-/spec/opensearch/1.1/"

type openSearchDescription struct {
	XMLName       xml.Name        `xml:"OpenSearchDescription"`
	NS            string          `xml:"xmlns,attr"`
	ShortName     string          `xml:"ShortName"`
	Description   string          `xml:"Description"`
	Tags          string          `xml:"Tags"`
	InputEncoding string          `xml:"InputEncoding"`
	Language      string          `xml:"Language"`
	URLs          []openSearchURL `xml:"Url"`
}

type openSearchURL struct {
	Type     string `xml:"type,attr"`
	Rel      string `xml:"rel,attr,omitempty"`
	Method   string `xml:"method,attr,omitempty"`
	Template string `xml:"template,attr"`
}

// handleOpenSearch serves /opensearch.xml, which lets browsers add faildex
// as a search engine: templates for the HTML results, the JSON API and the
// Atom feed (no suggestions endpoint).
func (s *Server) handleOpenSearch(w http.ResponseWriter, r *http.Request) error {
	base := s.baseURL(r)
	d := openSearchDescription{
		NS:            openSearchNS,
		ShortName:     "faildex",
		Description:   "Search software-failure incident reports",
		Tags:          "software failures incidents postmortems",
		InputEncoding: "UTF-8",
		Language:      "en",
		URLs: []openSearchURL{
			{Type: "text/html", Method: "get", Template: base + searchPagePath + "?q={searchTerms}&page={startPage?}"},
			{Type: "application/json", Method: "get", Template: base + "/api/v1/search?q={searchTerms}&page={startPage?}&size={count?}"},
			{Type: "application/atom+xml", Method: "get", Template: base + "/feed.atom?q={searchTerms}&page={startPage?}&size={count?}"},
			{Type: "application/opensearchdescription+xml", Rel: "self", Template: base + "/opensearch.xml"},
		},
	}
	return writeXML(w, r, "application/opensearchdescription+xml; charset=utf-8", d)
}

// HeadLinks are a page's own discovery links, rendered in its <head> by
// the "discoverylinks" template of web/templates/base.html: the feeds of a
// search and oEmbed for pages that can be embedded. (The OpenSearch link is
// in every page's head already.)
type HeadLinks struct {
	Atom     string // empty on pages that are not searches
	JSONFeed string
	OEmbed   string // empty on pages that cannot be embedded
}

// headLinks returns the discovery links of the page that r asks for. Page
// handlers put the result in their data for "discoverylinks".
func (s *Server) headLinks(r *http.Request) HeadLinks {
	var hl HeadLinks
	page := s.baseURL(r) + r.URL.RequestURI()
	if _, ok := s.oembedFor(r, page); ok {
		hl.OEmbed = "/oembed?" + url.Values{"url": {page}, "format": {"json"}}.Encode()
	}
	if isSearchPage(r.URL.Path) {
		q := r.URL.Query()
		q.Del("page")
		q.Del("sort")
		enc := ""
		if len(q) > 0 {
			enc = "?" + q.Encode()
		}
		hl.Atom = "/feed.atom" + enc
		hl.JSONFeed = "/feed.json" + enc
	}
	return hl
}
