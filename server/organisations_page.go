package server

import (
	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// filterLabel is the label of a selected facet value: an option's label,
// or the name of an organisation as the result's filters give it (the
// value itself when the search did not run).
func filterLabel(c *index.Category, value string, filters []search.ActiveFilter) string {
	if value == search.NotAssessed {
		return search.NotAssessedLabel
	}
	if !index.IsOrgFacet(c.Name) {
		return c.OptionLabel(value)
	}
	for _, f := range filters {
		if f.Field == c.Name && f.Value == value {
			return f.Label
		}
	}
	return value
}
