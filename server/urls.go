package server

import (
	"net/url"
	"regexp"

	"github.com/faildex/faildex/search"
)

// The server's own URLs: the paths of its pages, and the absolute URLs that
// feeds, OpenSearch, oEmbed and citations need.

// searchPagePath is the path of the HTML search page, which takes the same
// parameters as /api/v1/search.
const searchPagePath = "/"

// searchPageURL returns the path and query of the search page for req.
func searchPageURL(req search.Request) string {
	u := url.URL{Path: searchPagePath, RawQuery: req.Values().Encode()}
	return u.String()
}

// incidentPath returns the path of an incident's page.
func incidentPath(id string) string {
	return "/incidents/" + url.PathEscape(id)
}

// apiIncidentPath returns the path of an incident in the JSON API.
func apiIncidentPath(id string) string {
	return "/api/v1/incidents/" + url.PathEscape(id)
}

// isSearchPage reports whether path is the HTML search page.
func isSearchPage(path string) bool {
	return path == searchPagePath
}

// pageURL returns the absolute URL of a page of a feed or search.
func pageURL(base, path string, req search.Request, page int) string {
	q := req.Clone()
	q.Page = page
	if path == "/feed.atom" || path == "/feed.json" {
		q.Sort = "" // feeds ignore it
	}
	u := url.URL{Path: path, RawQuery: q.Values().Encode()}
	return base + u.String()
}

// hostPattern matches the Host headers that absolute URLs may be built from.
var hostPattern = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::[0-9]{1,5})?$`)
