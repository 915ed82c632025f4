package search

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	"github.com/blevesearch/bleve/v2/search/searcher"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// MaxClauses caps the term clauses one query may expand to (prefixes
// included), so that no request can build an unbounded disjunction.
const MaxClauses = 4096

func init() {
	searcher.DisjunctionMaxClauseCount = MaxClauses
}

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

// Engine answers searches over one open index generation.
type Engine struct {
	ix       *index.Index
	reader   bindex.IndexReader
	mapping  mapping.IndexMapping
	analyzer analysis.Analyzer
	facets   *facetIndex
	count    uint64
	fast     *fastPaths // nil when the index is not scorch, or in tests of the slow paths
}

// New prepares an engine over an open index: it keeps a reader on the
// index's snapshot and loads the facet bitmaps. The engine owns ix; Close
// closes both.
func New(ctx context.Context, ix *index.Index) (*Engine, error) {
	adv, err := ix.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, err
	}
	m := ix.Mapping()
	e := &Engine{ix: ix, reader: r, mapping: m, analyzer: m.AnalyzerNamed(index.TextAnalyzer)}
	if e.analyzer == nil {
		r.Close()
		return nil, errors.New("search: analyzer not found")
	}
	if e.facets, err = loadFacets(ctx, r, m); err != nil {
		r.Close()
		return nil, fmt.Errorf("search: loading facets: %w", err)
	}
	e.count = e.facets.all.GetCardinality()
	e.fast = newFastPaths(r, e.facets.all)
	return e, nil
}

// Open opens the index generation current in dir and prepares an engine
// over it; closing the engine closes the index.
func Open(ctx context.Context, dir string) (*Engine, error) {
	ix, err := index.Open(dir)
	if err != nil {
		return nil, err
	}
	e, err := New(ctx, ix)
	if err != nil {
		ix.Close()
		return nil, err
	}
	return e, nil
}

// Close releases the reader and closes the index.
func (e *Engine) Close() error {
	err := e.reader.Close()
	if err2 := e.ix.Close(); err == nil {
		err = err2
	}
	return err
}

// Index returns the underlying index.
func (e *Engine) Index() *index.Index { return e.ix }

// DocCount returns the number of incidents.
func (e *Engine) DocCount() uint64 { return e.count }

// Incident returns one incident by id, or an error wrapping index.ErrNotFound.
func (e *Engine) Incident(ctx context.Context, id string) (*index.Incident, error) {
	if !index.ValidID(id) {
		return nil, fmt.Errorf("%w: %q", index.ErrNotFound, truncate(id, 40))
	}
	in, err := e.ix.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// plan is a request turned into bleve queries and bitmaps.
type plan struct {
	n        *normalized
	text     query.Query // nil without words
	filters  map[string][]string
	excluded map[string][]string // negated inline filters
	dateQ    query.Query         // nil without a date range
	terms    highlightTerms
}

func (e *Engine) plan(req Request) (*plan, error) {
	n, err := req.normalize(e.facets.known)
	if err != nil {
		return nil, err
	}
	p := &plan{n: n, filters: map[string][]string{}, excluded: map[string][]string{}}
	for k, v := range n.Filters {
		p.filters[k] = append([]string(nil), v...)
	}
	from, to := n.from, n.to
	for _, f := range n.parsed.filters {
		switch {
		case f.category == "year":
			y, _ := strconv.Atoi(f.value)
			yf := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
			yt := time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)
			if f.negated {
				n.parsed.notice("-year: cannot exclude a year; it was left out (use from and to).")
				continue
			}
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
	if !from.IsZero() || !to.IsZero() {
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
		p.dateQ = dq
	}
	p.text, err = e.textQuery(n.parsed)
	if err != nil {
		return nil, err
	}
	p.terms = e.highlightTerms(n.parsed)
	return p, nil
}

// clampDate moves t into the range of dates bleve can search (it refuses
// others with an error), so that a bound far in the past or future ("to=2999",
// "year:0001") is still a valid range: no incident can be dated outside it.
func clampDate(t time.Time) time.Time {
	switch {
	case t.Before(query.MinRFC3339CompatibleTime):
		return query.MinRFC3339CompatibleTime
	case t.After(query.MaxRFC3339CompatibleTime):
		return query.MaxRFC3339CompatibleTime
	}
	return t
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
			pq := query.NewPrefixQuery(terms[0])
			pq.SetField(f)
			pq.SetBoost(boostOf(f))
			q = pq
			if stems := prefixStems(terms[0]); len(stems) > 0 {
				qs := []query.Query{pq}
				for _, st := range stems {
					tq := query.NewTermQuery(st)
					tq.SetField(f)
					tq.SetBoost(boostOf(f))
					qs = append(qs, tq)
				}
				q = query.NewDisjunctionQuery(qs)
			}
		case len(terms) == 1:
			tq := query.NewTermQuery(terms[0])
			tq.SetField(f)
			tq.SetBoost(boostOf(f))
			q = tq
		default:
			mp := query.NewMatchPhraseQuery(c.text)
			mp.SetField(f)
			mp.Analyzer = index.Analyzer
			mp.SetBoost(boostOf(f))
			q = mp
		}
		alts = append(alts, q)
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return query.NewDisjunctionQuery(alts)
}

// prefixStems returns the index terms that words starting with prefix may
// have been stemmed to although they do not start with prefix themselves:
// the index holds stems ("vulner" for "vulnerable", "secur" for
// "security"), which are usually a little shorter than the word, so
// "vulnerab*" must also match the term "vulner". The candidates are the
// prefix cut by one to four letters, keeping at least four.
func prefixStems(prefix string) []string {
	r := []rune(prefix)
	if len(r) < 5 {
		return nil
	}
	var out []string
	for n := len(r) - 1; n >= 4 && n >= len(r)-4; n-- {
		out = append(out, string(r[:n]))
	}
	return out
}

// analyze returns the index terms of text.
func (e *Engine) analyze(text string) []string {
	var out []string
	for _, t := range e.analyzer.Analyze([]byte(text)) {
		out = append(out, string(t.Term))
	}
	return out
}

// Search runs a request.
func (e *Engine) Search(ctx context.Context, req Request) (*Result, error) {
	start := time.Now()
	p, err := e.plan(req)
	if err != nil {
		return nil, err
	}
	n := p.n

	// Documents matching the words and the negated filters.
	var base *roaring.Bitmap
	var scanned []Hit // hits of a single scored pass (singlePass)
	if e.singlePass(p) {
		if scanned, base, _, err = e.relevanceScan(ctx, p, true); err != nil {
			return nil, err
		}
	}
	ms, err := e.matchSets(ctx, p, base)
	if err != nil {
		return nil, err
	}
	context, filterBits := ms.context, ms.filters
	matched := context("")
	res := &Result{
		Query:   n.Query,
		Filters: []ActiveFilter{},
		From:    n.From,
		To:      n.To,
		Sort:    n.Sort,
		Total:   matched.GetCardinality(),
		Page:    n.Page,
		Size:    n.Size,
		Hits:    []Hit{},
	}
	reachable := res.Total
	if reachable > MaxDepth {
		reachable = MaxDepth
	}
	res.Pages = int((reachable + uint64(n.Size) - 1) / uint64(n.Size))
	for _, c := range index.Taxonomy {
		for _, v := range p.filters[c.Name] {
			label, _ := optionLabel(c.Name, v)
			res.Filters = append(res.Filters, ActiveFilter{Field: c.Name, Value: v, Label: label})
		}
	}
	for _, c := range index.Taxonomy {
		ctxBits := matched
		if _, ok := filterBits[c.Name]; ok {
			ctxBits = context(c.Name)
		}
		res.Facets = append(res.Facets, e.facet(c, ctxBits, p.filters[c.Name]))
	}
	res.Years = e.yearCounts(context("year"))

	if uint64((n.Page-1)*n.Size) < res.Total {
		switch {
		case scanned != nil:
			res.Hits = scanned
		case e.fast != nil && n.Sort != SortRelevance:
			res.Hits, err = e.orderedHits(ctx, p, matched)
		case e.fast != nil:
			res.Hits, err = e.relevanceHits(ctx, p, matched)
		default:
			res.Hits, err = e.hits(ctx, p, res.Total)
		}
		if err != nil {
			return nil, err
		}
	}
	res.Notices = n.parsed.notices
	res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

// sets holds the documents a request matches, in parts: base (the words
// and the negated filters), the date range and each category filter.
type sets struct {
	base, dates *roaring.Bitmap // dates nil without a range
	filters     map[string]*roaring.Bitmap
}

// context returns base ∧ dates ∧ every filter but skip's ("" skips none;
// "year" skips the dates): the documents a facet of skip counts.
func (s *sets) context(skip string) *roaring.Bitmap {
	bms := []*roaring.Bitmap{s.base}
	if s.dates != nil && skip != "year" {
		bms = append(bms, s.dates)
	}
	for cat, bm := range s.filters {
		if cat != skip {
			bms = append(bms, bm)
		}
	}
	if len(bms) == 1 {
		return s.base
	}
	return roaring.FastAnd(bms...)
}

// matchSets computes the sets of a request; base, when not nil, is the
// documents matching its words, already known.
func (e *Engine) matchSets(ctx context.Context, p *plan, base *roaring.Bitmap) (*sets, error) {
	var err error
	if base == nil {
		base = e.facets.all
		if p.text != nil {
			if e.fast != nil {
				base, err = e.textBits(ctx, p.n.parsed)
			} else {
				base, err = collect(ctx, e.reader, e.mapping, p.text)
			}
			if err != nil {
				return nil, e.searchErr(err)
			}
		}
	}
	if len(p.excluded) > 0 {
		base = base.Clone()
		for cat, vals := range p.excluded {
			base.AndNot(e.facets.filterBits(cat, vals))
		}
	}
	s := &sets{base: base, filters: map[string]*roaring.Bitmap{}}
	if p.dateQ != nil {
		if s.dates, err = collect(ctx, e.reader, e.mapping, p.dateQ); err != nil {
			return nil, e.searchErr(err)
		}
	}
	for cat, vals := range p.filters {
		s.filters[cat] = e.facets.filterBits(cat, vals)
	}
	return s, nil
}

func (e *Engine) facet(c index.Category, ctxBits *roaring.Bitmap, selected []string) Facet {
	cb := e.facets.cats[c.Name]
	f := Facet{Field: c.Name, Label: c.Label, Values: []FacetValue{}}
	sel := map[string]bool{}
	for _, v := range selected {
		sel[v] = true
	}
	for _, v := range cb.order {
		var count uint64
		if bm, ok := cb.values[v]; ok {
			count = ctxBits.AndCardinality(bm)
		}
		if count == 0 && !sel[v] {
			continue
		}
		label, def := optionLabel(c.Name, v)
		f.Values = append(f.Values, FacetValue{Value: v, Label: label, Definition: def, Count: count, Selected: sel[v]})
	}
	// Selected values that the index has never seen (a vocabulary word with
	// no incidents) are still listed.
	for _, v := range selected {
		if _, ok := cb.values[v]; !ok && !containsValue(f.Values, v) {
			label, def := optionLabel(c.Name, v)
			f.Values = append(f.Values, FacetValue{Value: v, Label: label, Definition: def, Selected: true})
		}
	}
	sort.SliceStable(f.Values, func(i, j int) bool { return f.Values[i].Count > f.Values[j].Count })
	f.Missing = ctxBits.GetCardinality() - ctxBits.AndCardinality(cb.assessed)
	return f
}

func containsValue(vals []FacetValue, v string) bool {
	for _, x := range vals {
		if x.Value == v {
			return true
		}
	}
	return false
}

func (e *Engine) yearCounts(ctxBits *roaring.Bitmap) []YearCount {
	out := []YearCount{}
	for y, bm := range e.facets.years {
		if c := ctxBits.AndCardinality(bm); c > 0 {
			out = append(out, YearCount{Year: y, Count: c})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

// fullQuery is the bleve query for the page of hits: the words, the
// filters, the negated filters and the date range. Only the words score.
func (p *plan) fullQuery() query.Query {
	var must, mustNot []query.Query
	if p.text != nil {
		must = append(must, p.text)
	}
	for _, cat := range sortedKeys(p.filters) {
		must = append(must, termsQuery(cat, p.filters[cat]))
	}
	for _, cat := range sortedKeys(p.excluded) {
		mustNot = append(mustNot, termsQuery(cat, p.excluded[cat]))
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

func (e *Engine) hits(ctx context.Context, p *plan, total uint64) ([]Hit, error) {
	n := p.n
	req := bleve.NewSearchRequestOptions(p.fullQuery(), n.Size, (n.Page-1)*n.Size, false)
	req.Fields = []string{index.FieldStored}
	req.SortBy(n.sortBy)
	if n.Sort != SortRelevance {
		req.Score = "none"
	}
	sr, err := e.ix.SearchInContext(ctx, req)
	if err != nil {
		return nil, e.searchErr(err)
	}
	if sr.Total != total {
		return nil, fmt.Errorf("search: bleve found %d incidents, the facet index %d", sr.Total, total)
	}
	hits := make([]Hit, 0, len(sr.Hits))
	for _, h := range sr.Hits {
		in, err := index.IncidentFromFields(h.Fields)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", h.ID, err)
		}
		hits = append(hits, e.hitOf(&in, h.Score, p.terms))
	}
	return hits, nil
}

// summaryOf returns a short plain-text description of an incident: its
// summary, or its first postmortem field, cut to about 300 characters.
func summaryOf(in *index.Incident) string {
	s := in.Summary
	if s == "" {
		s = in.SoftwareCauses
	}
	if s == "" {
		s = in.Impacts
	}
	return cutWords(s, 300)
}

func cutWords(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], ' ')
	if cut < n/2 {
		cut = n
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
	}
	return s[:cut] + " …"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// searchErr turns bleve errors caused by the request into request errors.
func (e *Engine) searchErr(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Param: "q", Pos: -1, Msg: "the search took too long; narrow the query"}
	case strings.Contains(err.Error(), "TooManyClauses"):
		return &Error{Param: "q", Pos: -1, Msg: "the query expands to too many terms; use a longer prefix"}
	}
	return err
}

// Each calls fn for every incident matching the request's words, filters
// and dates, in the request's order, fetching a page at a time so that
// memory stays bounded however many incidents match. Page and size are
// ignored.
func (e *Engine) Each(ctx context.Context, req Request, fn func(*index.Incident) error) error {
	req.Page, req.Size = 1, MaxSize
	p, err := e.plan(req)
	if err != nil {
		return err
	}
	if e.fast != nil {
		if docs, ok, err := e.eachOrder(ctx, p); err != nil {
			return err
		} else if ok {
			return e.eachStored(ctx, docs, fn)
		}
	}
	q := p.fullQuery()
	var after []string
	for {
		sr := bleve.NewSearchRequestOptions(q, eachPage, 0, false)
		sr.Fields = []string{index.FieldStored}
		sr.SortBy(p.n.sortBy)
		if p.n.Sort != SortRelevance {
			sr.Score = "none"
		}
		if after != nil {
			sr.SetSearchAfter(after)
		}
		res, err := e.ix.SearchInContext(ctx, sr)
		if err != nil {
			return e.searchErr(err)
		}
		for _, h := range res.Hits {
			in, err := index.IncidentFromFields(h.Fields)
			if err != nil {
				return fmt.Errorf("%s: %w", h.ID, err)
			}
			if err := fn(&in); err != nil {
				return err
			}
		}
		if len(res.Hits) < eachPage {
			return nil
		}
		after = res.Hits[len(res.Hits)-1].Sort
	}
}

const eachPage = 200

// eachOrder returns every document matching a request, in its order, from
// the fast paths: the matching bitmap in a fixed sort order, or scored
// from postings for relevance. ok is false for relevance over phrases or
// prefixes, which bleve's searchers score.
func (e *Engine) eachOrder(ctx context.Context, p *plan) (docs []uint32, ok bool, err error) {
	ms, err := e.matchSets(ctx, p, nil)
	if err != nil {
		return nil, false, err
	}
	matched := ms.context("")
	if p.n.Sort != SortRelevance {
		order, err := e.fast.order(ctx, p.n.Sort, p.n.sortBy)
		if err != nil {
			return nil, false, err
		}
		docs = make([]uint32, 0, matched.GetCardinality())
		for _, d := range order {
			if matched.Contains(d) {
				docs = append(docs, d)
			}
		}
		return docs, true, nil
	}
	root := e.scoreTree(p.n.parsed)
	if root == nil {
		return nil, false, nil
	}
	best, err := e.score(ctx, p, root, matched, int(matched.GetCardinality()))
	if err != nil {
		return nil, false, err
	}
	docs = make([]uint32, len(best))
	for i, c := range best {
		docs[i] = c.doc
	}
	return docs, true, nil
}

// eachStored calls fn with the stored incident of each document, read
// ahead by another goroutine (index.ReadAhead).
func (e *Engine) eachStored(ctx context.Context, docs []uint32, fn func(*index.Incident) error) error {
	err := index.ReadAhead(ctx, len(docs), func(i int) (*index.Incident, error) {
		return e.storedIncident(docs[i])
	}, fn)
	if err != nil && err == ctx.Err() {
		return e.searchErr(err)
	}
	return err
}

// storedIncident decodes the stored incident of document d.
func (e *Engine) storedIncident(d uint32) (*index.Incident, error) {
	b, err := e.fast.stored(d, index.FieldStored)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, fmt.Errorf("search: document %d has no stored incident", d)
	}
	in, err := index.DecodeStored(b)
	if err != nil {
		return nil, err
	}
	return &in, nil
}

// IndexSize returns the size on disk of the index generation, in bytes.
func (e *Engine) IndexSize() int64 {
	var n int64
	for _, f := range e.ix.Manifest.Files {
		n += f.Size
	}
	return n
}
