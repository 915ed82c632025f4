package search

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/faildex/faildex/index"
)

// Suggestions are what a search box offers while a query is typed.
type Suggestions struct {
	Query string `json:"query"`
	// Completions are the query with its last word completed, the
	// completions found with the other words first.
	Completions []Completion `json:"completions"`
	// Incidents are the best matches of the query as typed so far.
	Incidents []SuggestedIncident `json:"incidents"`
}

// Completion is one completed query.
type Completion struct {
	Text      string `json:"text"`
	Incidents uint64 `json:"incidents"` // incidents having the completed word with the other words
}

// SuggestedIncident is a matching incident's title.
type SuggestedIncident struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	TitleHTML string `json:"title_html"` // the title, escaped, with the query's words marked
	Published string `json:"published"`
}

// Limits of suggestions.
const (
	DefaultSuggestions = 6
	MaxSuggestions     = 20
	suggestCandidates  = 64 // completions considered for the last word
)

// Suggest returns up to n completions and n incidents for q, a query being
// typed. Like Search, it never fails on what q holds.
func (e *Engine) Suggest(ctx context.Context, q string, n int) (*Suggestions, error) {
	if n <= 0 {
		n = DefaultSuggestions
	}
	n = min(n, MaxSuggestions)
	out := &Suggestions{Query: q, Completions: []Completion{}, Incidents: []SuggestedIncident{}}
	if strings.TrimSpace(q) == "" {
		return out, nil
	}
	var err error
	if out.Completions, err = e.completions(ctx, q, n); err != nil {
		return nil, err
	}
	if out.Incidents, err = e.topTitles(ctx, Request{Query: q, Size: n}); err != nil {
		return nil, err
	}
	return out, nil
}

// completions completes the last word of q with the words of the reports
// that occur with the other words, the most such incidents first.
func (e *Engine) completions(ctx context.Context, q string, n int) ([]Completion, error) {
	out := []Completion{}
	if strings.HasSuffix(q, " ") {
		return out, nil
	}
	cut := strings.LastIndexByte(q, ' ') + 1
	head, last := q[:cut], index.Fold(strings.Trim(q[cut:], `"-*`))
	if last == "" || !hasWordChars(last) || utf8.RuneCountInString(last) > 64 {
		return out, nil
	}
	var with *roaring.Bitmap // incidents matching the other words
	if strings.TrimSpace(head) != "" {
		bm, err := e.textBits(ctx, parseQuery(head))
		if err != nil {
			return nil, e.searchErr(err)
		}
		with = bm
	}
	cands, err := vocab{r: e.reader, ctx: ctx}.prefixed(last, suggestCandidates)
	if err != nil {
		return nil, e.searchErr(err)
	}
	for _, w := range cands {
		count := w.df
		if e.segs != nil {
			bm, ok, err := e.segs.termBits(index.FieldWords, w.text)
			if err != nil {
				return nil, e.searchErr(err)
			}
			if ok {
				if with != nil {
					bm.And(with)
				}
				count = bm.GetCardinality()
			}
		}
		if count > 0 {
			out = append(out, Completion{Text: head + w.text, Incidents: count})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Incidents > out[j].Incidents })
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// topTitles returns the titles of the first page of hits of req by
// relevance, without facets, read from the incidents' cards: a search box
// shows titles, not fragments.
func (e *Engine) topTitles(ctx context.Context, req Request) ([]SuggestedIncident, error) {
	out := []SuggestedIncident{}
	p, err := e.plan(ctx, req)
	if err != nil {
		return nil, err
	}
	prod := e.producerFor(p)
	ms, err := e.matchSets(ctx, p, prod, nil)
	if err != nil {
		return nil, err
	}
	matched := ms.context("")
	if matched.IsEmpty() {
		return out, nil
	}
	if prod == producerReference {
		hits, err := e.pageHits(ctx, p, prod, matched, matched.GetCardinality())
		if err != nil {
			return nil, err
		}
		for _, h := range hits {
			out = append(out, SuggestedIncident{ID: h.ID, Title: h.Title, TitleHTML: h.TitleHTML, Published: h.Published})
		}
		return out, nil
	}
	docs, err := e.matchOrder(ctx, p, prod, matched, req.Size)
	if err != nil {
		return nil, err
	}
	titles := p.terms.forField("title")
	for _, d := range docs {
		b, err := e.segs.stored(d, index.FieldCard)
		if err != nil {
			return nil, err
		}
		var c index.Card
		if b != nil {
			if c, err = index.DecodeCard(b); err != nil {
				return nil, fmt.Errorf("search: document %d: card: %w", d, err)
			}
		} else {
			in, err := e.storedIncident(d)
			if err != nil {
				return nil, err
			}
			c = index.CardOf(in)
		}
		out = append(out, SuggestedIncident{ID: c.ID, Title: c.Title, TitleHTML: markAll(c.Title, e.spans(c.Title, titles)), Published: c.Published})
	}
	return out, nil
}
