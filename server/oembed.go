package server

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// oEmbed (https://oembed.com/) lets sites that are given the URL of an
// incident or a search on this server embed it: /oembed answers with an
// <iframe> of /embed.

// OEmbed is the body of /oembed: a "rich" oEmbed 1.0 response.
type OEmbed struct {
	Version      string `json:"version"`
	Type         string `json:"type"`
	Title        string `json:"title"`
	ProviderName string `json:"provider_name"`
	ProviderURL  string `json:"provider_url"`
	CacheAge     int    `json:"cache_age"`
	HTML         string `json:"html"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
}

// Default sizes of embedded frames, in CSS pixels.
const (
	oembedWidth          = 480
	oembedSearchHeight   = 400
	oembedIncidentHeight = 240
)

// oembedTarget is what a URL on this server embeds: an incident or a
// search.
type oembedTarget struct {
	id     string     // an incident, or
	search url.Values // a search's parameters
}

// oembedFor tells whether raw is a URL of this server (its public host,
// see baseURL) that can be embedded: an incident page (/incidents/ID), the
// search page or /embed itself.
func (s *Server) oembedFor(r *http.Request, raw string) (oembedTarget, bool) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.EqualFold(u.Host, s.publicHost(r)) || u.User != nil {
		return oembedTarget{}, false
	}
	if id, ok := strings.CutPrefix(u.Path, "/incidents/"); ok {
		if !index.ValidID(id) || strings.HasSuffix(id, ".bib") {
			return oembedTarget{}, false
		}
		return oembedTarget{id: id}, true
	}
	if isSearchPage(u.Path) || u.Path == "/embed" {
		q := u.Query()
		if id := q.Get("id"); u.Path == "/embed" && id != "" {
			return oembedTarget{id: id}, index.ValidID(id)
		}
		return oembedTarget{search: q}, true
	}
	return oembedTarget{}, false
}

func (s *Server) handleOEmbed(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	v := r.URL.Query()
	if f := v.Get("format"); f != "" && f != "json" {
		return &httpError{status: http.StatusNotImplemented, msg: "format: only json is supported", param: "format"}
	}
	raw := v.Get("url")
	if raw == "" {
		return &httpError{status: http.StatusBadRequest, msg: "url: required", param: "url"}
	}
	t, ok := s.oembedFor(r, raw)
	if !ok {
		return &httpError{status: http.StatusNotFound, msg: "url: not an incident or search of this server", param: "url"}
	}
	maxW, err := oembedLimit(v, "maxwidth")
	if err != nil {
		return err
	}
	maxH, err := oembedLimit(v, "maxheight")
	if err != nil {
		return err
	}

	base := s.baseURL(r)
	o := OEmbed{
		Version:      "1.0",
		Type:         "rich",
		ProviderName: "faildex",
		ProviderURL:  base + "/",
		CacheAge:     3600,
		Width:        oembedWidth,
	}
	var src url.Values
	if t.id != "" {
		in, err := eng.Incident(r.Context(), t.id)
		if err != nil {
			return &httpError{status: http.StatusNotFound, msg: "url: no incident with this id", param: "url"}
		}
		o.Title = in.Title
		o.Height = oembedIncidentHeight
		src = url.Values{"id": {in.ID}}
	} else {
		req, err := search.FromValues(t.search)
		if err != nil {
			return urlParamError(err)
		}
		req.Page = 0
		probe := req.Clone()
		probe.Size = 1
		res, err := eng.Search(r.Context(), probe)
		if err != nil {
			return urlParamError(err)
		}
		o.Title = feedTitle(res)
		o.Height = oembedSearchHeight
		src = req.Values()
	}
	if maxW > 0 && o.Width > maxW {
		o.Width = maxW
	}
	if maxH > 0 && o.Height > maxH {
		o.Height = maxH
	}
	frame := base + "/embed"
	if len(src) > 0 {
		frame += "?" + src.Encode()
	}
	o.HTML = fmt.Sprintf(`<iframe src="%s" width="%d" height="%d" title="%s" loading="lazy" sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="strict-origin-when-cross-origin" style="border:0;max-width:100%%"></iframe>`,
		html.EscapeString(frame), o.Width, o.Height, html.EscapeString(o.Title))
	return writeJSON(w, r, http.StatusOK, o)
}

// oembedLimit reads maxwidth or maxheight: a positive number of pixels, or
// 0 when absent.
func oembedLimit(v url.Values, name string) (int, error) {
	s := v.Get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100000 {
		return 0, &httpError{status: http.StatusBadRequest, msg: name + ": must be a positive number of pixels", param: name}
	}
	return n, nil
}

// urlParamError reports a problem with the search inside the url parameter.
func urlParamError(err error) error {
	status, msg, _ := classify(err)
	if status != http.StatusBadRequest {
		return err
	}
	return &httpError{status: http.StatusBadRequest, msg: "url: " + msg, param: "url"}
}
