package search

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
	bsearch "github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/faildex/faildex/index"
)

// Similar incidents: an incident's distinctive words, weighted by field and
// rarity, are searched for (a more-like-this query scored with BM25), and
// the matches are ranked by that score combined with the taxonomy options
// they share with the incident, each weighted by its rarity.

// Limits of similar-incident requests.
const (
	DefaultSimilar = 5
	MaxSimilar     = 20
)

// similarFields are the prose fields whose words describe an incident, with
// their weights: what failed, who built it, and why.
var similarFields = []struct {
	name   string
	weight float64
}{
	{"title", 3},
	{"summary", 2},
	{"system", 1.5},
	{"responsible_organization", 1.5},
	{"software_causes", 1.5},
	{"non_software_causes", 1},
}

// Tuning of the similarity. The weights were chosen before the ranking was
// measured on the judged set (testdata/similar.json); the number of terms
// was then raised from 25 to 40 after a sweep on that set (precision@5:
// 15 terms 0.331, 25 0.337, 40 0.369, 100 0.381), so its figures are a
// little optimistic. Text alone gives 0.303, the taxonomy alone 0.291.
const (
	similarTerms    = 40   // distinctive terms searched for
	similarMaxShare = 0.25 // a term in more than this share of incidents is not distinctive
	similarTextPart = 0.65 // the text's part of the combined score; the taxonomy has the rest
	similarShown    = 8    // shared terms listed per result
)

// SimilarResult is the answer to a similar-incidents request: the JSON
// contract of /api/v1/incidents/{id}/similar.
type SimilarResult struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	TookMS  float64       `json:"took_ms"`
	Similar []SimilarItem `json:"similar"`
}

// SimilarItem is one similar incident and why it is similar. Score is in
// [0, 1]: the text part is the BM25 score relative to the best other
// match's, the taxonomy part the rarity-weighted share of the incident's
// options the other has.
type SimilarItem struct {
	ID            string         `json:"id"`
	Title         string         `json:"title"`
	Published     string         `json:"published"`
	Score         float64        `json:"score"`
	TextScore     float64        `json:"text_score"`
	TaxonomyScore float64        `json:"taxonomy_score"`
	SharedTerms   []string       `json:"shared_terms"`
	SharedOptions []ActiveFilter `json:"shared_options"`
}

// simTerm is one distinctive term of an incident in one field.
type simTerm struct {
	field, term, word string // word: the term as first written in the incident
	weight            float64
}

// simOption is one option of an incident with its rarity weight.
type simOption struct {
	cat, value string
	weight     float64
	bits       *roaring.Bitmap
}

// Similar returns up to n incidents most similar to the incident id, or an
// error wrapping index.ErrNotFound.
func (e *Engine) Similar(ctx context.Context, id string, n int) (*SimilarResult, error) {
	start := time.Now()
	if n < 1 || n > MaxSimilar {
		return nil, &Error{Param: "size", Pos: -1, Msg: fmt.Sprintf("must be between 1 and %d", MaxSimilar)}
	}
	in, err := e.Incident(ctx, id)
	if err != nil {
		return nil, err
	}
	iid, err := e.reader.InternalID(in.ID)
	if err != nil || iid == nil {
		return nil, fmt.Errorf("%w: %q", index.ErrNotFound, in.ID)
	}
	self, err := docNum(iid)
	if err != nil {
		return nil, err
	}
	terms, err := e.distinctiveTerms(ctx, in)
	if err != nil {
		return nil, e.searchErr(err)
	}
	opts := e.weightedOptions(in)
	var ownWeight float64
	for _, o := range opts {
		ownWeight += o.weight
	}
	cands, ok, err := e.similarByPostings(ctx, terms, opts, ownWeight, self, n)
	if err == nil && !ok {
		cands, err = e.similarBySearcher(ctx, terms, opts, ownWeight, self, n)
	}
	if err != nil {
		return nil, e.searchErr(err)
	}
	res := &SimilarResult{ID: in.ID, Title: in.Title, Similar: []SimilarItem{}}
	for _, c := range cands {
		other, err := e.incidentAt(ctx, c.doc)
		if err != nil {
			return nil, err
		}
		item := SimilarItem{
			ID: other.ID, Title: other.Title, Published: other.Published,
			Score: round3(c.both), TextScore: round3(c.text), TaxonomyScore: round3(c.tax),
			SharedTerms: sharedTerms(e, terms, other), SharedOptions: []ActiveFilter{},
		}
		for _, o := range opts {
			if o.bits.Contains(c.doc) {
				label, _ := optionLabel(o.cat, o.value)
				item.SharedOptions = append(item.SharedOptions, ActiveFilter{Field: o.cat, Value: o.value, Label: label})
			}
		}
		res.Similar = append(res.Similar, item)
	}
	res.TookMS = float64(time.Since(start).Microseconds()) / 1000
	return res, nil
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// simCand is a candidate similar incident: its text score relative to the
// best other match's, its taxonomy score and the two combined.
type simCand struct {
	doc             uint32
	text, tax, both float64
}

// simBetter orders candidates: combined score, then document number.
func simBetter(a, b simCand) bool {
	if a.both != b.both {
		return a.both > b.both
	}
	return a.doc < b.doc
}

// combine fills in c's combined score from its text and taxonomy scores.
func (c *simCand) combine() {
	c.both = similarTextPart*c.text + (1-similarTextPart)*c.tax
}

// similarBySearcher returns the n best candidates, best first, scoring
// every match of the terms with bleve's searcher: the reference for
// similarByPostings, and the way without a scorch snapshot.
func (e *Engine) similarBySearcher(ctx context.Context, terms []simTerm, opts []simOption, ownWeight float64, self uint32, n int) ([]simCand, error) {
	text, err := e.moreLikeThis(ctx, terms)
	if err != nil {
		return nil, err
	}
	var bestText float64
	for d, s := range text {
		if d != self {
			bestText = max(bestText, s)
		}
	}
	cands := make([]simCand, 0, len(text))
	for d, s := range text {
		if d == self || !e.facets.all.Contains(d) {
			continue
		}
		c := simCand{doc: d, text: s / bestText}
		if ownWeight > 0 {
			for _, o := range opts {
				if o.bits.Contains(d) {
					c.tax += o.weight
				}
			}
			c.tax /= ownWeight
		}
		c.combine()
		cands = append(cands, c)
	}
	sort.Slice(cands, func(i, j int) bool { return simBetter(cands[i], cands[j]) })
	return cands[:min(n, len(cands))], nil
}

// distinctiveTerms returns the incident's most distinctive terms, by field
// weight, term frequency and inverse document frequency, heaviest first. A
// term no other incident has, or too common to tell incidents apart, is
// left out.
func (e *Engine) distinctiveTerms(ctx context.Context, in *index.Incident) ([]simTerm, error) {
	n := float64(e.count)
	byKey := map[[2]string]*simTerm{}
	tfs := map[[2]string]int{}
	for _, f := range similarFields {
		tf, ok := textField(f.name)
		if !ok {
			continue
		}
		text := *tf.Get(in)
		for _, tok := range e.analyzer.Analyze([]byte(text)) {
			t := string(tok.Term)
			if len([]rune(t)) < 2 {
				continue
			}
			k := [2]string{f.name, t}
			tfs[k]++
			if byKey[k] == nil {
				byKey[k] = &simTerm{field: f.name, term: t, word: strings.ToLower(text[tok.Start:tok.End])}
			}
		}
	}
	weightOf := map[string]float64{}
	for _, f := range similarFields {
		weightOf[f.name] = f.weight
	}
	var out []simTerm
	for k, st := range byKey {
		tfr, err := e.reader.TermFieldReader(ctx, []byte(k[1]), k[0], false, false, false)
		if err != nil {
			return nil, err
		}
		df := float64(tfr.Count())
		tfr.Close()
		if df <= 1 || df > similarMaxShare*n {
			continue
		}
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		st.weight = weightOf[k[0]] * (1 + math.Log(float64(tfs[k]))) * idf
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].weight != out[j].weight {
			return out[i].weight > out[j].weight
		}
		if out[i].field != out[j].field {
			return out[i].field < out[j].field
		}
		return out[i].term < out[j].term
	})
	return out[:min(similarTerms, len(out))], nil
}

// moreLikeThis scores every document matching any of the terms with BM25,
// each term boosted by its weight.
func (e *Engine) moreLikeThis(ctx context.Context, terms []simTerm) (map[uint32]float64, error) {
	scores := map[uint32]float64{}
	if len(terms) == 0 {
		return scores, nil
	}
	qs := make([]query.Query, len(terms))
	for i, t := range terms {
		tq := query.NewTermQuery(t.term)
		tq.SetField(t.field)
		tq.SetBoost(t.weight)
		qs[i] = tq
	}
	s, err := query.NewDisjunctionQuery(qs).Searcher(ctx, e.reader, e.mapping, bsearch.SearcherOptions{})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := visit(ctx, s, func(d uint32, dm *bsearch.DocumentMatch) { scores[d] = dm.Score }); err != nil {
		return nil, err
	}
	return scores, nil
}

// weightedOptions returns the incident's options, each weighted by its
// rarity: ln(N/df), 0 for an option every incident has.
func (e *Engine) weightedOptions(in *index.Incident) []simOption {
	var out []simOption
	n := float64(e.count)
	for _, c := range index.Taxonomy {
		cl, ok := in.Taxonomy[c.Name]
		if !ok {
			continue
		}
		for _, v := range cl.Options {
			bm, ok := e.facets.cats[c.Name].values[v]
			if !ok || bm.IsEmpty() {
				continue
			}
			if w := math.Log(n / float64(bm.GetCardinality())); w > 0 {
				out = append(out, simOption{cat: c.Name, value: v, weight: w, bits: bm})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].weight > out[j].weight })
	return out
}

// sharedTerms lists the words of terms (heaviest first, each once) that
// other has in any of the similar fields.
func sharedTerms(e *Engine, terms []simTerm, other *index.Incident) []string {
	has := map[string]bool{}
	for _, f := range similarFields {
		if tf, ok := textField(f.name); ok {
			for _, tok := range e.analyzer.Analyze([]byte(*tf.Get(other))) {
				has[string(tok.Term)] = true
			}
		}
	}
	out := []string{}
	seen := map[string]bool{}
	for _, t := range terms {
		if has[t.term] && !seen[t.term] && len(out) < similarShown {
			seen[t.term] = true
			out = append(out, t.word)
		}
	}
	return out
}

// incidentAt returns the stored incident of document number d.
func (e *Engine) incidentAt(ctx context.Context, d uint32) (*index.Incident, error) {
	if e.segs != nil {
		return e.storedIncident(d)
	}
	id, err := e.reader.ExternalID(internalID(make([]byte, 8), d))
	if err != nil {
		return nil, err
	}
	return e.Incident(ctx, id)
}

// textField returns the incident's prose field of a name.
func textField(name string) (index.TextField, bool) {
	for _, f := range index.TextFields {
		if f.Name == name {
			return f, true
		}
	}
	return index.TextField{}, false
}
