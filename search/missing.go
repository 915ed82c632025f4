package search

import (
	"github.com/blevesearch/bleve/v2/search/query"
)

// NotAssessed is the filter value that selects the incidents not assessed
// in a category (with no option in it): consequence=not_assessed. It is
// accepted in every category, as a parameter and written in a query
// (consequence:not_assessed, -consequence:not_assessed), and combines with
// the category's options like any other value (OR within the category).
const NotAssessed = "not_assessed"

// NotAssessedLabel is how NotAssessed is shown.
const NotAssessedLabel = "Not assessed"

// missingQuery is the bleve query of the documents with none of values, the
// options a category has in the index: everything but any of them. Like
// termsQuery's, its score is 0.
func missingQuery(field string, values []string) query.Query {
	all := query.NewMatchAllQuery()
	all.SetBoost(0)
	if len(values) == 0 {
		return all
	}
	q := query.NewBooleanQuery([]query.Query{all}, nil, []query.Query{termsQuery(field, values)})
	q.SetBoost(0)
	return q
}

// filterQuery matches any of values in a category, NotAssessed included;
// indexed lists the options the category has in the index.
func filterQuery(field string, values []string, indexed []string) query.Query {
	var qs []query.Query
	var terms []string
	for _, v := range values {
		if v == NotAssessed {
			qs = append(qs, missingQuery(field, indexed))
		} else {
			terms = append(terms, v)
		}
	}
	if len(terms) > 0 {
		qs = append(qs, termsQuery(field, terms))
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}
