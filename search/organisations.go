package search

import (
	"sort"
	"strings"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// The organisation facets (index.OrgFacets) are counted, filtered and
// pivoted like the categories; their values are the slugs of the
// organisations the index was built with, and their labels the
// organisations' names, read from the index's FieldOrgNames dictionary.

// loadOrgNames reads the organisations' names by slug.
func loadOrgNames(r bindex.IndexReader) (map[string]string, error) {
	dict, err := r.FieldDict(index.FieldOrgNames)
	if err != nil {
		return nil, err
	}
	defer dict.Close()
	names := map[string]string{}
	for {
		e, err := dict.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			return names, nil
		}
		if slug, name, ok := strings.Cut(e.Term, "\t"); ok {
			names[slug] = name
		}
	}
}

// sortOrgs sorts organisation facet values by name, ignoring case.
func (f *facetIndex) sortOrgs(values []string) {
	sort.Slice(values, func(i, j int) bool {
		a, b := strings.ToLower(f.orgName(values[i])), strings.ToLower(f.orgName(values[j]))
		if a != b {
			return a < b
		}
		return values[i] < values[j]
	})
}

// orgName returns the name of an organisation facet value, or the value
// itself when the index does not know it.
func (f *facetIndex) orgName(value string) string {
	if n, ok := f.orgNames[value]; ok {
		return n
	}
	return value
}

// label returns the display label and definition of a facet value: an
// option's label, or an organisation's name.
func (f *facetIndex) label(facet, value string) (label, definition string) {
	if index.IsOrgFacet(facet) {
		return f.orgName(value), ""
	}
	return optionLabel(facet, value)
}
