package server

import (
	"context"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// Help for a search without results: the searches with one constraint
// fewer, each with the number of incidents it would find.

// maxRemovals bounds the searches run to count the results of removals.
const maxRemovals = 12

// removal is a search with one constraint of another removed.
type removal struct {
	Label string // "Remove Domain: Finance"
	Href  string
	Count string // "12 incidents"
	None  bool   // it would find nothing either
	req   search.Request
}

// removals lists, for req, the searches with each filter, the date range,
// or (with filters) all but the words, removed.
func removals(req search.Request) []removal {
	var out []removal
	base := req.Clone()
	base.Page = 0
	for _, c := range index.Taxonomy {
		for _, v := range req.Filters[c.Name] {
			q := base.Clone()
			q.Filters[c.Name] = without(q.Filters[c.Name], v)
			out = append(out, removal{Label: "Remove " + c.Label + ": " + filterLabel(&c, v, nil), req: q})
		}
	}
	if req.From != "" || req.To != "" {
		q := base.Clone()
		q.From, q.To = "", ""
		out = append(out, removal{Label: "Remove Published " + periodLabel(req.From, req.To), req: q})
	}
	if req.Query != "" && len(out) > 0 {
		q := base.Clone()
		q.Filters, q.From, q.To = nil, "", ""
		out = append(out, removal{Label: "Search all incidents for “" + req.Query + "”", req: q})
	}
	if len(out) > maxRemovals {
		out = out[:maxRemovals]
	}
	for i := range out {
		out[i].Href = searchPageURL(out[i].req)
	}
	return out
}

// countRemovals runs each removal's search for its count. A search that
// fails leaves its count out; the link is still worth offering.
func countRemovals(ctx context.Context, eng Searcher, rs []removal) {
	for i := range rs {
		q := rs[i].req.Clone()
		q.Page, q.Size = 1, 1
		res, err := eng.Search(ctx, q)
		if err != nil {
			continue
		}
		rs[i].Count = lowerCount(res.Total)
		rs[i].None = res.Total == 0
	}
}

// lowerCount is countLabel in running text: "no incidents", "1 incident".
func lowerCount(n uint64) string {
	if n == 0 {
		return "no incidents"
	}
	return countLabel(n)
}
