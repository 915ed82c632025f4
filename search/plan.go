package search

import (
	"context"
	"strconv"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/faildex/faildex/index"
)

// plan is a request turned into bleve queries and bitmaps: what every
// producer needs to answer it.
type plan struct {
	n        *normalized
	text     query.Query // nil without words
	tree     *snode      // the words as a scoring tree; nil when postings cannot score them (see scoreTree)
	phrases  *pnode      // the words with phrases as a scoring tree; nil when tree is not, or postings cannot score them (see phraseTree)
	filters  map[string][]string
	excluded map[string][]string // negated inline filters
	dateQ    query.Query         // nil without a date range
	terms    highlightTerms

	words      *roaring.Bitmap // documents matching the words; nil when not computed
	keys       *rankKeys       // nil when every match ranks the same on them
	dropped    []string        // words some matches lack, in a relaxed query (relax.go)
	suggestion string          // the query with its corrections
	facets     *facetIndex     // the options each category has, for NotAssessed
}

// plan reads and plans a request: it validates it, reads the query's
// words (understand.go), drops words when together they match nothing
// (relax.go) and builds the queries and the scoring tree of what is left.
func (e *Engine) plan(ctx context.Context, req Request) (*plan, error) {
	n, err := req.normalize(e.facets.known)
	if err != nil {
		return nil, err
	}
	p := &plan{n: n, filters: map[string][]string{}, excluded: map[string][]string{}, facets: e.facets}
	n.parsed.phrases = &phraseMemo{}
	for k, v := range n.Filters {
		p.filters[k] = append([]string(nil), v...)
	}
	from, to := n.from, n.to
	for _, f := range n.parsed.filters {
		switch {
		case f.category == "year":
			if f.negated {
				n.parsed.notice("-year: cannot exclude a year; it was left out (use from and to).")
				continue
			}
			y, _ := strconv.Atoi(f.value)
			yf := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
			yt := time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)
			if from.IsZero() || yf.After(from) {
				from = yf
			}
			if to.IsZero() || yt.Before(to) {
				to = yt
			}
		case f.negated:
			p.excluded[f.category] = appendUnique(p.excluded[f.category], f.value)
		default:
			p.filters[f.category] = appendUnique(p.filters[f.category], f.value)
		}
	}
	p.dateQ = dateQuery(from, to)
	if err := e.readWords(ctx, p); err != nil {
		return nil, e.searchErr(err)
	}
	if p.text, err = e.textQuery(n.parsed); err != nil {
		return nil, err
	}
	p.tree = e.scoreTree(n.parsed)
	if p.tree == nil {
		p.phrases = e.phraseTree(n.parsed)
	}
	p.terms = e.highlightTerms(n.parsed)
	return p, nil
}

// dateQuery matches publication dates from from to to, both days included
// (zero for open); nil when both are open.
func dateQuery(from, to time.Time) query.Query {
	if from.IsZero() && to.IsZero() {
		return nil
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		// Contradictory year: filters and range: nothing matches.
		to = from.AddDate(0, 0, -1)
	}
	var start, end time.Time
	if !from.IsZero() {
		start = clampDate(from)
	}
	if !to.IsZero() {
		end = clampDate(to.AddDate(0, 0, 1))
	}
	incl, excl := true, false
	dq := query.NewDateRangeInclusiveQuery(start, end, &incl, &excl)
	dq.SetField(index.FieldPublished)
	dq.SetBoost(0) // a filter: it does not change relevance
	return dq
}

// Incidents are published from firstDate up to, not including, afterDate
// (index.MinYear to index.MaxYear), well within the dates bleve can search
// (it refuses others with an error).
var (
	firstDate = time.Date(index.MinYear, 1, 1, 0, 0, 0, 0, time.UTC)
	afterDate = time.Date(index.MaxYear+1, 1, 1, 0, 0, 0, 0, time.UTC)
)

// clampDate moves a range bound into the dates incidents may have, so that
// a bound far in the future ("to=2999", "from=2263") is still a valid
// range and matches what it should: everything, or nothing.
func clampDate(t time.Time) time.Time {
	switch {
	case t.Before(firstDate):
		return firstDate
	case t.After(afterDate):
		return afterDate
	}
	return t
}

// wordsOnly reports whether the request has words and nothing else that
// narrows it: its matches are those of the words' query alone.
func (p *plan) wordsOnly() bool {
	return p.text != nil && len(p.filters) == 0 && len(p.excluded) == 0 && p.dateQ == nil
}

// fullQuery is the bleve query of the whole request: the words, the
// filters, the negated filters and the date range. Only the words score.
func (p *plan) fullQuery() query.Query {
	var must, mustNot []query.Query
	if p.text != nil {
		must = append(must, p.text)
	}
	for _, cat := range sortedKeys(p.filters) {
		must = append(must, filterQuery(cat, p.filters[cat], p.indexed(cat)))
	}
	for _, cat := range sortedKeys(p.excluded) {
		mustNot = append(mustNot, filterQuery(cat, p.excluded[cat], p.indexed(cat)))
	}
	if p.dateQ != nil {
		must = append(must, p.dateQ)
	}
	if len(must) == 0 {
		must = append(must, query.NewMatchAllQuery())
	}
	if len(mustNot) == 0 {
		if len(must) == 1 {
			return must[0]
		}
		return query.NewConjunctionQuery(must)
	}
	return query.NewBooleanQuery(must, nil, mustNot)
}

// indexed lists the options category cat has in the index.
func (p *plan) indexed(cat string) []string {
	if p.facets == nil || p.facets.cats[cat] == nil {
		return nil
	}
	return p.facets.cats[cat].indexed
}

// termsQuery matches any of values in a category field. Its boost is 0: a
// filter selects incidents but adds nothing to their relevance (a term
// query of boost 0 has weight 0 in bleve's query norm and scores 0), so
// relevance is the score of the words alone.
func termsQuery(field string, values []string) query.Query {
	qs := make([]query.Query, len(values))
	for i, v := range values {
		tq := query.NewTermQuery(v)
		tq.SetField(field)
		tq.SetBoost(0)
		qs[i] = tq
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return query.NewDisjunctionQuery(qs)
}

// readWords adds alternatives to the words of the query, and relaxes it
// to most of its words when all of them together match nothing.
func (e *Engine) readWords(ctx context.Context, p *plan) error {
	pq := p.n.parsed
	if len(pq.groups) == 0 {
		return nil
	}
	rd, err := e.understand(ctx, pq, p.n.Query)
	if err != nil {
		return err
	}
	p.suggestion = rd.suggestion(pq, p.n.Query)
	if len(pq.groups) < 2 && !pq.inexact() {
		// Nothing to relax and every match ranks the same on the first
		// rules: the producers match the words themselves (a phrase
		// alone is matched and scored in one pass).
		return nil
	}
	ws, err := e.wordSets(ctx, pq)
	if err != nil {
		return err
	}
	// Words that match together, but not within the filters, are not
	// relaxed: the way out is a filter fewer, which the page offers.
	m, relaxed := ws.relax(e.facets.all, nil)
	// Every match of a relaxed query has the same number of words (m), so
	// only the second ranking rule can tell matches apart.
	p.keys = newRankKeys(ws, false)
	if m == 0 {
		p.words = ws.matching(e.facets.all, nil)
		return nil
	}
	p.words = relaxed
	pq.minMatch = m
	for _, bm := range ws.any {
		if bm != nil {
			pq.minOf++
		}
	}
	for _, gi := range ws.missing(relaxed) {
		p.dropped = append(p.dropped, pq.groups[gi][0].text)
	}
	return nil
}
