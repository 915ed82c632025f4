package server

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// An incident page opened from a search leads on through it: previous and
// next incidents of the same search, carried in the URL (back=), not in
// server state.

// navLink is a neighbour in the originating search.
type navLink struct {
	Href, Title string
}

// neighbours returns the incidents before and after id in the search back
// (at its page), and id's position; nils and "" when id is not on that
// page or the search fails.
func neighbours(ctx context.Context, eng Searcher, back search.Request, id string) (prev, next *navLink, pos string) {
	req := back.Clone()
	if req.Page < 1 {
		req.Page = 1
	}
	res, err := eng.Search(ctx, req)
	if err != nil {
		return nil, nil, ""
	}
	i := -1
	for j, h := range res.Hits {
		if h.ID == id {
			i = j
			break
		}
	}
	if i < 0 {
		return nil, nil, ""
	}
	link := func(h search.Hit, page int) *navLink {
		q := req.Clone()
		q.Page = page
		return &navLink{Href: incidentPath(h.ID) + "?back=" + url.QueryEscape(q.Values().Encode()), Title: h.Title}
	}
	// adjacent returns the first or last hit of another page.
	adjacent := func(page int, last bool) *navLink {
		q := req.Clone()
		q.Page = page
		r, err := eng.Search(ctx, q)
		if err != nil || len(r.Hits) == 0 {
			return nil
		}
		h := r.Hits[0]
		if last {
			h = r.Hits[len(r.Hits)-1]
		}
		return link(h, page)
	}
	switch {
	case i > 0:
		prev = link(res.Hits[i-1], res.Page)
	case res.Page > 1:
		prev = adjacent(res.Page-1, true)
	}
	switch {
	case i < len(res.Hits)-1:
		next = link(res.Hits[i+1], res.Page)
	case res.Page < res.Pages:
		next = adjacent(res.Page+1, false)
	}
	pos = fmt.Sprintf("%d of %d", (res.Page-1)*res.Size+i+1, res.Total)
	return prev, next, pos
}

// highlightWords returns the words of a query worth marking on an incident
// page: no operators, exclusions, field or category prefixes, quotes or
// wildcards, and at least 3 letters each.
func highlightWords(q string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Fields(q) {
		if f == "OR" || strings.HasPrefix(f, "-") {
			continue
		}
		if field, after, ok := strings.Cut(f, ":"); ok {
			if _, isCat := index.LookupCategory(field); isCat || field == "year" {
				continue // a filter, not words
			}
			f = after
		}
		f = strings.ToLower(strings.Trim(f, `"'*()`))
		if utf8.RuneCountInString(f) < 3 || seen[f] {
			continue
		}
		seen[f] = true
		out = append(out, f)
		if len(out) == 16 {
			break
		}
	}
	return out
}
