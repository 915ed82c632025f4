package search

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
)

// MaxPrefixBytes bounds the prefix of a facet value search.
const MaxPrefixBytes = 100

// FacetValues is the answer to a facet value search: the JSON contract of
// /api/v1/facets/{category}.
type FacetValues struct {
	Facet
	Prefix string  `json:"prefix"`
	Total  uint64  `json:"total"` // incidents the search matches
	TookMS float64 `json:"took_ms"`
}

// FacetValues returns the options of a category that match prefix, with
// their counts among the incidents a request matches, counted as the
// search's facet counts them (with every filter but the category's own).
// An option matches when its value or a word of its label starts with the
// prefix, ignoring case; an empty prefix matches every option. Selected
// options are listed even without incidents. Most frequent first.
func (e *Engine) FacetValues(ctx context.Context, req Request, category, prefix string) (*FacetValues, error) {
	start := time.Now()
	c, ok := index.LookupFacet(category)
	if !ok || c.Name != category {
		return nil, &Error{Param: "category", Pos: -1, Msg: fmt.Sprintf("%q is not a category; use one of %s", index.Truncate(category, 40), strings.Join(index.FacetNames(), ", "))}
	}
	if len(prefix) > MaxPrefixBytes || !utf8.ValidString(prefix) {
		return nil, &Error{Param: "prefix", Pos: -1, Msg: fmt.Sprintf("must be valid text of at most %d bytes", MaxPrefixBytes)}
	}
	req.Page, req.Size = 1, 1
	p, err := e.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	ms, err := e.matchSets(ctx, p, e.producerFor(p), nil)
	if err != nil {
		return nil, err
	}
	matched := ms.context("")
	f := e.facet(*c, ms.context(c.Name), p.filters[c.Name])
	want := strings.ToLower(strings.TrimSpace(prefix))
	vals := f.Values[:0]
	for _, v := range f.Values {
		if optionMatches(v, want) {
			vals = append(vals, v)
		}
	}
	f.Values = vals
	sort.SliceStable(f.Values, func(i, j int) bool { return f.Values[i].Count > f.Values[j].Count })
	res := &FacetValues{Facet: f, Prefix: prefix, Total: matched.GetCardinality()}
	res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// optionMatches reports whether an option's value or a word of its label
// starts with prefix (lower case).
func optionMatches(v FacetValue, prefix string) bool {
	if prefix == "" || strings.HasPrefix(v.Value, strings.ReplaceAll(prefix, " ", "_")) {
		return true
	}
	label := strings.ToLower(v.Label)
	if strings.HasPrefix(label, prefix) {
		return true
	}
	for _, w := range strings.FieldsFunc(label, func(r rune) bool { return r == ' ' || r == '-' || r == '/' || r == '(' }) {
		if strings.HasPrefix(w, prefix) {
			return true
		}
	}
	return false
}
