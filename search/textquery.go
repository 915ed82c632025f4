package search

import (
	"strings"

	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/faildex/faildex/index"
)

// The words of a query as a bleve query: the text matching that the
// searcher and reference producers run, and that postings bitmaps
// (textBits) and the scoring tree (scoreTree) reproduce.

// Field weights: the title counts most, then the summary, then the rest.
var fieldBoost = map[string]float64{
	"title":              5,
	"summary":            2.5,
	"system":             1.2,
	index.FieldRationale: 0.6,
	index.FieldSources:   0.5,
}

func boostOf(field string) float64 {
	if b, ok := fieldBoost[field]; ok {
		return b
	}
	return 1
}

// textQuery builds the bleve query of the words: every group must match in
// some field (a group's clauses are alternatives), no excluded clause may.
func (e *Engine) textQuery(pq *parsedQuery) (query.Query, error) {
	var must, mustNot []query.Query
	for _, g := range pq.groups {
		var alts []query.Query
		for _, c := range g {
			if q := e.clauseQuery(c); q != nil {
				alts = append(alts, q)
			}
		}
		switch len(alts) {
		case 0:
			// Only stop words ("the"): the group matches everything.
		case 1:
			must = append(must, alts[0])
		default:
			must = append(must, query.NewDisjunctionQuery(alts))
		}
	}
	if pq.minMatch > 0 && len(must) > 1 {
		// A relaxed query: most of the groups, not all (relax.go).
		dq := query.NewDisjunctionQuery(must)
		dq.SetMin(float64(pq.minMatch))
		must = []query.Query{dq}
	}
	for _, c := range pq.excluded {
		if q := e.clauseQuery(c); q != nil {
			mustNot = append(mustNot, q)
		}
	}
	if len(must) == 0 && len(mustNot) == 0 {
		return nil, nil
	}
	if len(must) == 0 {
		must = []query.Query{query.NewMatchAllQuery()}
	}
	if len(mustNot) == 0 {
		if len(must) == 1 {
			return must[0], nil
		}
		return query.NewConjunctionQuery(must), nil
	}
	return query.NewBooleanQuery(must, nil, mustNot), nil
}

// clauseQuery is the query of one word, prefix or phrase across its fields;
// nil when the text analyses to nothing (stop words).
func (e *Engine) clauseQuery(c clause) query.Query {
	fields := c.fields
	if fields == nil {
		fields = index.ProseFields()
	}
	var terms []string
	if c.prefix {
		terms = []string{strings.ToLower(c.text)}
	} else {
		terms = e.analyze(c.text)
		if len(terms) == 0 {
			return nil
		}
	}
	var alts []query.Query
	for _, f := range fields {
		var q query.Query
		switch {
		case c.prefix:
			// Words ending in '*' become their completions when the query
			// is read (understand.go); a prefix query matches index terms
			// (stems) that start with the prefix.
			pq := query.NewPrefixQuery(terms[0])
			pq.SetField(f)
			pq.SetBoost(boostOf(f) * c.kind.weight())
			q = pq
		case len(terms) == 1:
			tq := query.NewTermQuery(terms[0])
			tq.SetField(f)
			tq.SetBoost(boostOf(f) * c.kind.weight())
			q = tq
		default:
			mp := query.NewMatchPhraseQuery(c.text)
			mp.SetField(f)
			mp.Analyzer = index.Analyzer
			mp.SetBoost(boostOf(f) * c.kind.weight())
			q = mp
		}
		alts = append(alts, q)
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return query.NewDisjunctionQuery(alts)
}

// analyze returns the index terms of text.
func (e *Engine) analyze(text string) []string {
	var out []string
	for _, t := range e.analyzer.Analyze([]byte(text)) {
		out = append(out, string(t.Term))
	}
	return out
}
