package server

import (
	"crypto/sha1"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Feeds take the search parameters of /api/v1/search and list the matching
// incidents newest first (the sort parameter is ignored), a page at a time,
// with links to the neighbouring pages (RFC 5005 in Atom, next_url in JSON
// Feed, and Link headers in both).

// feedSearch runs the search behind a feed on eng.
func feedSearch(w http.ResponseWriter, r *http.Request, eng Searcher) (search.Request, *search.Result, error) {
	req, err := search.FromValues(r.URL.Query())
	if err != nil {
		return req, nil, err
	}
	req.Sort = search.SortDate
	res, err := eng.Search(r.Context(), req)
	if err != nil {
		return req, nil, err
	}
	links := req.Clone()
	links.Sort = ""
	setPageLinks(w, r.URL.Path, links, res)
	return req, res, nil
}

// feedTitle describes a request in words: "ransomware, consequence: Death".
func feedTitle(res *search.Result) string {
	var parts []string
	if res.Query != "" {
		parts = append(parts, res.Query)
	}
	byField := map[string][]string{}
	var fields []string
	for _, f := range res.Filters {
		if byField[f.Field] == nil {
			fields = append(fields, f.Field)
		}
		byField[f.Field] = append(byField[f.Field], f.Label)
	}
	for _, f := range fields {
		parts = append(parts, f+": "+strings.Join(byField[f], " or "))
	}
	switch {
	case res.From != "" && res.To != "":
		parts = append(parts, res.From+" to "+res.To)
	case res.From != "":
		parts = append(parts, "from "+res.From)
	case res.To != "":
		parts = append(parts, "to "+res.To)
	}
	if len(parts) == 0 {
		return "faildex: all incidents"
	}
	return "faildex: " + strings.Join(parts, ", ")
}

// feedID returns a stable urn:uuid (a name-based UUID, RFC 9562 version 5)
// for a name in faildex's namespace. Incidents are "incident/ID", feeds
// "feed/" plus their canonical query, so ids do not depend on the host name
// the server is reached by.
func feedID(name string) string {
	return "urn:uuid:" + formatUUID(uuid5(feedNamespace, name))
}

// feedNamespace is faildex's UUID namespace: the version 5 UUID of the URL
// "https://github.com/faildex/faildex" in RFC 9562's URL namespace.
var feedNamespace = uuid5(
	[16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8},
	"https://github.com/faildex/faildex")

// uuid5 returns the version 5 UUID of name in namespace ns.
func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 9562 variant
	return u
}

func formatUUID(u [16]byte) string {
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// feedTime returns the RFC 3339 time of an incident's publication date
// (midnight UTC; the reports carry no time of day).
func feedTime(published string) string {
	t, err := index.ParseDate(published)
	if err != nil {
		return "1970-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339)
}

// feedUpdated is the time of the newest incident listed, or of the epoch
// when none is.
func feedUpdated(res *search.Result) string {
	newest := ""
	for _, h := range res.Hits {
		if h.Published > newest {
			newest = h.Published
		}
	}
	return feedTime(newest)
}

// Atom (RFC 4287) documents.

const atomNS = "http://www.w3.org/2005/Atom"

type atomFeed struct {
	XMLName  xml.Name    `xml:"feed"`
	NS       string      `xml:"xmlns,attr"`
	ID       string      `xml:"id"`
	Title    string      `xml:"title"`
	Subtitle string      `xml:"subtitle,omitempty"`
	Updated  string      `xml:"updated"`
	Author   atomPerson  `xml:"author"`
	Links    []atomLink  `xml:"link"`
	Gen      atomGen     `xml:"generator"`
	Entries  []atomEntry `xml:"entry"`
}

type atomPerson struct {
	Name string `xml:"name"`
	URI  string `xml:"uri,omitempty"`
}

type atomGen struct {
	URI  string `xml:"uri,attr,omitempty"`
	Name string `xml:",chardata"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID         string         `xml:"id"`
	Title      atomText       `xml:"title"`
	Published  string         `xml:"published"`
	Updated    string         `xml:"updated"`
	Links      []atomLink     `xml:"link"`
	Summary    *atomText      `xml:"summary,omitempty"`
	Categories []atomCategory `xml:"category"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomCategory struct {
	Term   string `xml:"term,attr"`
	Scheme string `xml:"scheme,attr,omitempty"`
	Label  string `xml:"label,attr,omitempty"`
}

func (s *Server) handleAtom(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	req, res, err := feedSearch(w, r, eng)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	html := req.Clone()
	html.Page, html.Size, html.Sort = 0, 0, ""
	f := atomFeed{
		NS:       atomNS,
		ID:       feedID("feed/" + feedQuery(req)),
		Title:    feedTitle(res),
		Subtitle: fmt.Sprintf("%d software-failure incidents, newest first", res.Total),
		Updated:  feedUpdated(res),
		Author:   atomPerson{Name: "faildex", URI: base + "/"},
		Gen:      atomGen{URI: "https://github.com/faildex/faildex", Name: "faildex"},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: pageURL(base, "/feed.atom", req, res.Page)},
			{Rel: "alternate", Type: "text/html", Href: base + searchPageURL(html)},
		},
	}
	if res.Page > 1 && res.Page <= res.Pages+1 {
		f.Links = append(f.Links, atomLink{Rel: "previous", Type: "application/atom+xml", Href: pageURL(base, "/feed.atom", req, res.Page-1)})
	}
	if res.Page < res.Pages {
		f.Links = append(f.Links, atomLink{Rel: "next", Type: "application/atom+xml", Href: pageURL(base, "/feed.atom", req, res.Page+1)})
	}
	for _, h := range res.Hits {
		e := atomEntry{
			ID:        feedID("incident/" + h.ID),
			Title:     atomText{Type: "text", Text: h.Title},
			Published: feedTime(h.Published),
			Updated:   feedTime(h.Published),
			Links: []atomLink{
				{Rel: "alternate", Type: "text/html", Href: base + incidentPath(h.ID)},
				{Rel: "related", Type: "application/json", Href: base + apiIncidentPath(h.ID)},
			},
		}
		if h.Summary != "" {
			e.Summary = &atomText{Type: "text", Text: h.Summary}
		}
		e.Categories = feedCategories(base, h)
		f.Entries = append(f.Entries, e)
	}
	return writeXML(w, r, "application/atom+xml; charset=utf-8", f)
}

// feedCategories lists a hit's taxonomy options as feed categories; a
// category's scheme points into the taxonomy at /api/v1/facets.
func feedCategories(base string, h search.Hit) []atomCategory {
	var cats []atomCategory
	for _, c := range index.Taxonomy {
		for _, o := range h.Options[c.Name] {
			cats = append(cats, atomCategory{Term: o, Scheme: base + "/api/v1/facets#" + c.Name, Label: c.Label + ": " + c.OptionLabel(o)})
		}
	}
	return cats
}

// feedQuery is the canonical form of a feed's request, without its page.
func feedQuery(req search.Request) string {
	q := req.Clone()
	q.Page, q.Sort = 0, ""
	return q.Values().Encode()
}

// JSON Feed (https://www.jsonfeed.org/version/1.1/) documents.

type jsonFeed struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Description string         `json:"description"`
	NextURL     string         `json:"next_url,omitempty"`
	Authors     []jsonAuthor   `json:"authors"`
	Language    string         `json:"language"`
	Items       []jsonFeedItem `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

type jsonFeedItem struct {
	ID            string   `json:"id"`
	URL           string   `json:"url"`
	Title         string   `json:"title"`
	ContentText   string   `json:"content_text"`
	Summary       string   `json:"summary,omitempty"`
	DatePublished string   `json:"date_published"`
	DateModified  string   `json:"date_modified"`
	Tags          []string `json:"tags,omitempty"`
}

func (s *Server) handleJSONFeed(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	req, res, err := feedSearch(w, r, eng)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	html := req.Clone()
	html.Page, html.Size, html.Sort = 0, 0, ""
	f := jsonFeed{
		Version:     "https://jsonfeed.org/version/1.1",
		Title:       feedTitle(res),
		HomePageURL: base + searchPageURL(html),
		FeedURL:     pageURL(base, "/feed.json", req, res.Page),
		Description: fmt.Sprintf("%d software-failure incidents, newest first", res.Total),
		Authors:     []jsonAuthor{{Name: "faildex", URL: base + "/"}},
		Language:    "en",
		Items:       []jsonFeedItem{},
	}
	if res.Page < res.Pages {
		f.NextURL = pageURL(base, "/feed.json", req, res.Page+1)
	}
	for _, h := range res.Hits {
		it := jsonFeedItem{
			ID:            feedID("incident/" + h.ID),
			URL:           base + incidentPath(h.ID),
			Title:         h.Title,
			ContentText:   h.Summary,
			Summary:       h.Summary,
			DatePublished: feedTime(h.Published),
			DateModified:  feedTime(h.Published),
		}
		if it.ContentText == "" {
			it.ContentText = h.Title
		}
		for _, c := range index.Taxonomy {
			for _, o := range h.Options[c.Name] {
				it.Tags = append(it.Tags, c.Name+":"+o)
			}
		}
		f.Items = append(f.Items, it)
	}
	w.Header().Set("Content-Type", "application/feed+json; charset=utf-8")
	return writeJSON(w, r, http.StatusOK, f)
}
