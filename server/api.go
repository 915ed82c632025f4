package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// runSearch parses the request's parameters and runs the search on eng.
func runSearch(r *http.Request, eng Searcher) (search.Request, *search.Result, error) {
	req, err := search.FromValues(r.URL.Query())
	if err != nil {
		return req, nil, err
	}
	res, err := eng.Search(r.Context(), req)
	return req, res, err
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	req, res, err := runSearch(r, eng)
	if err != nil {
		return err
	}
	setPageLinks(w, r.URL.Path, req, res)
	w.Header().Set("X-Total-Count", strconv.FormatUint(res.Total, 10))
	return writeJSON(w, r, http.StatusOK, res)
}

// setPageLinks adds RFC 8288 Link headers to the previous and next pages.
func setPageLinks(w http.ResponseWriter, path string, req search.Request, res *search.Result) {
	link := func(page int, rel string) {
		q := req.Clone()
		q.Page = page
		u := url.URL{Path: path, RawQuery: q.Values().Encode()}
		w.Header().Add("Link", fmt.Sprintf("<%s>; rel=%q", u.String(), rel))
	}
	if res.Page > 1 && res.Page <= res.Pages+1 {
		link(res.Page-1, "prev")
	}
	if res.Page < res.Pages {
		link(res.Page+1, "next")
	}
}

func (s *Server) handleIncident(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	in, err := eng.Incident(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	return writeJSON(w, r, http.StatusOK, in)
}

// FacetsDoc is the body of /api/v1/facets: the taxonomy and the request
// vocabulary.
type FacetsDoc struct {
	Categories []index.Category `json:"categories"`
	Sorts      []string         `json:"sorts"`
	Fields     []string         `json:"fields"`
}

func (s *Server) handleFacets(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, r, http.StatusOK, FacetsDoc{Categories: index.Taxonomy, Sorts: search.Sorts, Fields: search.FieldNames()})
}

// handleSuggest answers /api/v1/suggest?q=...&size=N: completions of the
// query's last word and the titles of its best matches.
func (s *Server) handleSuggest(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	v := r.URL.Query()
	for _, name := range []string{"q", "size"} {
		if len(v[name]) > 1 {
			return &httpError{status: http.StatusBadRequest, msg: name + ": given more than once", param: name}
		}
	}
	n := search.DefaultSuggestions
	if raw := strings.TrimSpace(v.Get("size")); raw != "" {
		var err error
		if n, err = strconv.Atoi(raw); err != nil || n < 1 || n > search.MaxSuggestions {
			return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf("size: must be a whole number from 1 to %d", search.MaxSuggestions), param: "size"}
		}
	}
	q := v.Get("q")
	if len(q) > search.MaxQueryBytes {
		q = strings.ToValidUTF8(q[:search.MaxQueryBytes], "")
	}
	sg, err := eng.Suggest(r.Context(), q, n)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=60")
	return writeJSON(w, r, http.StatusOK, sg)
}
