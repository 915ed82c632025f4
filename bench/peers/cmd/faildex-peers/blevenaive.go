package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/bench"
	"github.com/faildex/faildex/index"
)

// bleveNaive is bleve used plainly: bleve's English analyzer with term
// vectors on every prose field, the incident stored as JSON, facets with
// bleve's facet requests (one extra search per filtered category for
// disjunctive counts), hits decoded from the stored JSON.
type bleveNaive struct {
	idx bleve.Index
}

func (b *bleveNaive) Name() string              { return "bleve_naive" }
func (b *bleveNaive) Approx(c bench.Class) bool { return false }
func (b *bleveNaive) Close() error              { return b.idx.Close() }

// Clients shares the index among the clients of the mix, goroutines of
// this process, as a server would: a bleve index serves concurrent
// searches. CPU is this process's, the clients' included.
func (b *bleveNaive) Clients(_ context.Context, n int) (*clientSet, error) {
	cs := &clientSet{cpu: selfCPU, close: func() error { return nil }, note: "goroutines sharing the index in one process"}
	for range n {
		cs.run = append(cs.run, b.Run)
	}
	return cs, nil
}

func naiveMapping() mapping.IndexMapping {
	doc := mapping.NewDocumentStaticMapping()
	for _, name := range index.ProseFields() {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = en.AnalyzerName
		f.IncludeInAll = false
		doc.AddFieldMappingsAt(name, f)
	}
	kw := func() *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.IncludeInAll = false
		f.DocValues = true
		return f
	}
	for _, c := range index.Taxonomy {
		doc.AddFieldMappingsAt(c.Name, kw())
	}
	doc.AddFieldMappingsAt(index.FieldYear, kw())
	pub := mapping.NewDateTimeFieldMapping()
	pub.IncludeInAll = false
	doc.AddFieldMappingsAt(index.FieldPublished, pub)
	src := mapping.NewTextFieldMapping()
	src.Index, src.Store, src.IncludeInAll = false, true, false
	doc.AddFieldMappingsAt(index.FieldStored, src)
	im := mapping.NewIndexMapping()
	im.DefaultMapping = doc
	im.IndexDynamic, im.StoreDynamic, im.DocValuesDynamic = false, false, false
	im.ScoringModel = bindex.BM25Scoring
	return im
}

func openBleveNaive(ctx context.Context, dir string, seed uint64, n int, load func() ([]index.Incident, error)) (peer, error) {
	path := filepath.Join(dir, fmt.Sprintf("peer-bleve-s%d-n%d.bleve", seed, n))
	if idx, err := bleve.Open(path); err == nil {
		if c, err := idx.DocCount(); err == nil && c == uint64(n) {
			return &bleveNaive{idx}, nil
		}
		idx.Close()
	}
	os.RemoveAll(path)
	ins, err := load()
	if err != nil {
		return nil, err
	}
	idx, err := bleve.New(path, naiveMapping())
	if err != nil {
		return nil, err
	}
	b := idx.NewBatch()
	for i := range ins {
		doc, err := index.Document(&ins[i])
		if err != nil {
			idx.Close()
			return nil, err
		}
		// As faildex first stored it: the incident as JSON.
		js, err := json.Marshal(&ins[i])
		if err != nil {
			idx.Close()
			return nil, err
		}
		doc[index.FieldStored] = string(js)
		delete(doc, index.FieldCard)
		delete(doc, index.FieldTitleSort)
		delete(doc, index.FieldArticles)
		if err := b.Index(ins[i].ID, doc); err != nil {
			idx.Close()
			return nil, err
		}
		if b.Size() >= 500 {
			if err := idx.Batch(b); err != nil {
				idx.Close()
				return nil, err
			}
			b.Reset()
		}
	}
	if err := idx.Batch(b); err != nil {
		idx.Close()
		return nil, err
	}
	return &bleveNaive{idx}, nil
}

// textQuery is the words of a class over every prose field.
func (b *bleveNaive) textQuery(c bench.Class) query.Query {
	text, phrase := words(c)
	if text == "" {
		return nil
	}
	if set := widened(c); set != nil {
		text = strings.Join(set, " ") // a match query is the OR of its words
	}
	var alts []query.Query
	for _, f := range index.ProseFields() {
		if phrase {
			q := query.NewMatchPhraseQuery(text)
			q.SetField(f)
			alts = append(alts, q)
		} else {
			q := query.NewMatchQuery(text)
			q.SetField(f)
			alts = append(alts, q)
		}
	}
	return query.NewDisjunctionQuery(alts)
}

func (b *bleveNaive) query(c bench.Class, skip string) query.Query {
	var must []query.Query
	if t := b.textQuery(c); t != nil {
		must = append(must, t)
	}
	for cat, vals := range c.Req.Filters {
		if cat == skip {
			continue
		}
		var alts []query.Query
		for _, v := range vals {
			q := query.NewTermQuery(v)
			q.SetField(cat)
			alts = append(alts, q)
		}
		must = append(must, query.NewDisjunctionQuery(alts))
	}
	if len(must) == 0 {
		return query.NewMatchAllQuery()
	}
	return query.NewConjunctionQuery(must)
}

func (b *bleveNaive) Run(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	if c.ExportLimit > 0 {
		req := bleve.NewSearchRequestOptions(query.NewMatchAllQuery(), c.ExportLimit, 0, false)
		req.Fields = []string{index.FieldStored}
		req.SortBy([]string{"_id"})
		req.Score = "none"
		res, err := b.idx.SearchInContext(ctx, req)
		if err != nil {
			return 0, nil, err
		}
		for _, h := range res.Hits {
			in, err := index.IncidentFromFields(h.Fields)
			if err != nil {
				return 0, nil, err
			}
			if err := index.WriteJSONL(w, &in); err != nil {
				return 0, nil, err
			}
		}
		return uint64(len(res.Hits)), nil, nil
	}
	offset, size := page(c)
	req := bleve.NewSearchRequestOptions(b.query(c, ""), size, offset, false)
	req.Fields = []string{index.FieldStored}
	text, _ := words(c)
	if text != "" {
		req.SortBy([]string{"-_score", "-" + index.FieldPublished, "_id"})
	} else {
		req.SortBy([]string{"-" + index.FieldPublished, "_id"})
		req.Score = "none"
	}
	for _, cat := range index.Taxonomy {
		if _, filtered := c.Req.Filters[cat.Name]; !filtered {
			req.AddFacet(cat.Name, bleve.NewFacetRequest(cat.Name, 50))
		}
	}
	req.AddFacet(index.FieldYear, bleve.NewFacetRequest(index.FieldYear, 50))
	res, err := b.idx.SearchInContext(ctx, req)
	if err != nil {
		return 0, nil, err
	}
	counts := map[string]uint64{}
	addFacets := func(fr search.FacetResults) {
		for name, f := range fr {
			if f.Terms == nil {
				continue
			}
			for _, t := range f.Terms.Terms() {
				if t.Count > 0 {
					counts[name+"="+t.Term] = uint64(t.Count)
				}
			}
		}
	}
	addFacets(res.Facets)
	for cat := range c.Req.Filters {
		// Disjunctive counts: the category's own filter left out.
		r := bleve.NewSearchRequestOptions(b.query(c, cat), 0, 0, false)
		r.Score = "none"
		r.AddFacet(cat, bleve.NewFacetRequest(cat, 50))
		fr, err := b.idx.SearchInContext(ctx, r)
		if err != nil {
			return 0, nil, err
		}
		addFacets(fr.Facets)
	}
	out := result{Total: res.Total, Counts: counts}
	for _, h := range res.Hits {
		in, err := index.IncidentFromFields(h.Fields)
		if err != nil {
			return 0, nil, err
		}
		hh := hit{ID: in.ID, Title: in.Title, Published: in.Published, Summary: lead(&in), Score: h.Score, Options: map[string][]string{}}
		for _, cat := range index.Taxonomy {
			if o := in.Options(cat.Name); len(o) > 0 {
				hh.Options[cat.Name] = o
			}
		}
		out.Hits = append(out.Hits, hh)
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return 0, nil, err
	}
	return res.Total, counts, nil
}
