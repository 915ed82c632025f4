package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/RoaringBitmap/roaring/v2"

	"github.com/faildex/faildex/index"
)

// Phrases from positions.
//
// A clause whose text analyses to several terms ("clock drift", a synonym
// of two words, "e-mail") is a phrase: bleve's MatchPhraseQuery in each of
// its fields (textquery.go). The engine matches and scores it from the
// postings' locations instead of running bleve's phrase searcher:
//
//   - matching: the documents having every term in a field (the AND of the
//     postings bitmaps), then, for those only, the terms' positions in the
//     field: term i at p+offs[i] for some p, a stop word left out being a
//     gap (segments.phrasePostings);
//   - scoring: the way bleve's phrase searcher scores, a conjunction of the
//     terms' searchers: where the phrase occurs in a field, the sum of each
//     term's BM25 score in that field (sleaf.docScore; the frequency is the
//     term's, not the phrase's), every term weighing in the query norm as a
//     plain word does. Across fields and groups the arithmetic is the
//     scoring tree's (score.go): disjunctions add their matching children
//     times the share that match, conjunctions add.
//
// TestPhrasesMatchBleve holds both to bleve's phrase searcher on many
// phrases, over a merged index and one of many segments with deletions.

// phraseOf returns the terms of a phrase's text and each one's offset from
// the first (stop words leave gaps); ok is false when two terms share a
// position, which bleve matches as alternatives and phraseAt does not.
func (e *Engine) phraseOf(text string) (terms []string, offs []uint64, ok bool) {
	toks := e.analyzer.Analyze([]byte(text))
	if len(toks) == 0 {
		return nil, nil, true
	}
	first := toks[0].Position
	for i, t := range toks {
		if t.Position < first || (i > 0 && t.Position <= toks[i-1].Position) {
			return nil, nil, false
		}
		terms = append(terms, string(t.Term))
		offs = append(offs, uint64(t.Position-first))
	}
	return terms, offs, true
}

// phraseAt reports whether the positions of each term of a phrase (pos[i]
// for term i, sorted in place when they are not) hold the phrase: some p in
// pos[0] with p+offs[i] in pos[i] for every i. at is scratch space of
// len(pos).
func phraseAt(pos [][]uint64, offs []uint64, at []int) bool {
	for i := range pos {
		if !slices.IsSorted(pos[i]) {
			slices.Sort(pos[i])
		}
		at[i] = 0
	}
next:
	for _, p := range pos[0] {
		for i := 1; i < len(pos); i++ {
			want := p + offs[i]
			ps := pos[i]
			for at[i] < len(ps) && ps[at[i]] < want {
				at[i]++
			}
			if at[i] == len(ps) {
				// Later starts need later positions still.
				return false
			}
			if ps[at[i]] != want {
				continue next
			}
		}
		return true
	}
	return false
}

// phraseBits returns the live documents in which the phrase clause c
// occurs in one of its fields; ok is false when the postings cannot tell
// (see segments.phrasePostings) or c is not a phrase.
func (e *Engine) phraseBits(ctx context.Context, memo *phraseMemo, c clause) (bm *roaring.Bitmap, ok bool, err error) {
	if e.segs == nil || c.prefix {
		return nil, false, nil
	}
	terms, offs, ok := e.phraseOf(c.text)
	if !ok || len(terms) < 2 {
		return nil, false, nil
	}
	fields := c.fields
	if fields == nil {
		fields = index.ProseFields()
	}
	bm = roaring.New()
	buf := make([]uint32, 0, 256)
	for _, f := range fields {
		var m *phraseMatches
		if memo != nil {
			m = &phraseMatches{}
		}
		ok, err := e.segs.phrasePostings(ctx, f, terms, offs, nil, func(d uint32, freqs []uint64, norm float64) {
			if m != nil {
				m.add(d, freqs, norm)
			}
			if buf = append(buf, d); len(buf) == cap(buf) {
				bm.AddMany(buf)
				buf = buf[:0]
			}
		})
		if err != nil || !ok {
			return nil, ok, err
		}
		memo.put(phraseKey(f, terms, offs), m)
		bm.AddMany(buf)
		buf = buf[:0]
	}
	return bm, true, nil
}

// phraseMemo keeps, for one request, the live documents where each phrase
// occurs in each field, with the terms' frequencies and the field's norm:
// matching finds them (phraseBits) and scoring reads them back
// (phraseScorer.addPhrase) instead of reading the postings' locations
// again.
type phraseMemo struct {
	mu sync.Mutex
	m  map[string]*phraseMatches
}

// phraseMatches are a phrase's matches in one field, in document order.
type phraseMatches struct {
	docs  []uint32
	freqs []uint64 // len(terms) per document
	norms []float64
}

func (m *phraseMatches) add(d uint32, freqs []uint64, norm float64) {
	m.docs = append(m.docs, d)
	m.freqs = append(m.freqs, freqs...)
	m.norms = append(m.norms, norm)
}

// phraseKey identifies a phrase in a field.
func phraseKey(field string, terms []string, offs []uint64) string {
	var b strings.Builder
	b.WriteString(field)
	for i, t := range terms {
		fmt.Fprintf(&b, "\x00%d\x00%s", offs[i], t)
	}
	return b.String()
}

func (pm *phraseMemo) put(key string, m *phraseMatches) {
	if pm == nil {
		return
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	if pm.m == nil {
		pm.m = map[string]*phraseMatches{}
	}
	pm.m[key] = m
}

func (pm *phraseMemo) get(key string) *phraseMatches {
	if pm == nil {
		return nil
	}
	pm.mu.Lock()
	defer pm.mu.Unlock()
	return pm.m[key]
}

// pnode is a node of the scoring tree of words with phrases: scoreTree's
// tree (a conjunction of groups, a group a disjunction of clauses, a
// clause a disjunction over its fields) whose leaves are a word or a
// phrase in one field.
type pnode struct {
	leaf   *sleaf
	phrase *sphrase
	kids   []*pnode
	conj   bool
}

// sphrase is a phrase in one field: a leaf for each of its terms (their
// statistics and weights), with the terms' offsets (phraseOf).
type sphrase struct {
	field string
	terms []*sleaf
	offs  []uint64
}

// phraseTree returns the scoring tree of the words of pq when they hold a
// phrase and neither a prefix nor only stop words; nil otherwise (no
// phrase: scoreTree's tree; else bleve's searchers score them).
func (e *Engine) phraseTree(pq *parsedQuery) *pnode {
	if e.segs == nil {
		return nil
	}
	phrases := false
	var groups []*pnode
	for _, g := range pq.groups {
		var alts []*pnode
		for _, c := range g {
			if c.prefix {
				return nil
			}
			terms, offs, ok := e.phraseOf(c.text)
			if !ok {
				return nil
			}
			if len(terms) == 0 {
				continue
			}
			fields := c.fields
			if fields == nil {
				fields = index.ProseFields()
			}
			boost := c.kind.weight()
			var leaves []*pnode
			for _, f := range fields {
				b := boostOf(f) * boost
				if len(terms) == 1 {
					leaves = append(leaves, &pnode{leaf: &sleaf{field: f, term: terms[0], boost: b}})
					continue
				}
				phrases = true
				ph := &sphrase{field: f, offs: offs}
				for _, t := range terms {
					ph.terms = append(ph.terms, &sleaf{field: f, term: t, boost: b})
				}
				leaves = append(leaves, &pnode{phrase: ph})
			}
			if len(leaves) == 1 {
				alts = append(alts, leaves[0])
			} else {
				alts = append(alts, &pnode{kids: leaves})
			}
		}
		switch len(alts) {
		case 0:
		case 1:
			groups = append(groups, alts[0])
		default:
			groups = append(groups, &pnode{kids: alts})
		}
	}
	if !phrases {
		return nil
	}
	if len(groups) == 1 {
		return groups[0]
	}
	// A relaxed query is a disjunction of its groups (see textQuery).
	return &pnode{kids: groups, conj: pq.minMatch == 0}
}

// leaves appends every term leaf of the tree, phrases' terms included, as
// scoring-tree leaves (for prepare).
func (n *pnode) leaves(out []*snode) []*snode {
	switch {
	case n.leaf != nil:
		return append(out, &snode{leaf: n.leaf})
	case n.phrase != nil:
		for _, l := range n.phrase.terms {
			out = append(out, &snode{leaf: l})
		}
		return out
	}
	for _, k := range n.kids {
		out = k.leaves(out)
	}
	return out
}

// phraseScorer evaluates a phrase tree over the documents of a
// postingScorer.
type phraseScorer struct {
	*postingScorer
	ok   bool        // false once the postings could not tell a phrase
	memo *phraseMemo // the request's phrase matches
}

// eval adds the scores of n to out and counts the documents it matches in
// hits (at most once each).
func (ps *phraseScorer) eval(ctx context.Context, n *pnode, out []float64, hits []uint16) error {
	switch {
	case n.leaf != nil:
		return ps.add(ctx, n.leaf, out, hits)
	case n.phrase != nil:
		return ps.addPhrase(ctx, n.phrase, out, hits)
	}
	sum := make([]float64, len(ps.docs))
	count := make([]uint16, len(ps.docs))
	var tmp []float64
	var tmpHits []uint16
	for _, k := range n.kids {
		if k.leaf != nil || k.phrase != nil || n.conj {
			if err := ps.eval(ctx, k, sum, count); err != nil {
				return err
			}
			continue
		}
		if tmp == nil {
			tmp, tmpHits = make([]float64, len(sum)), make([]uint16, len(sum))
		} else {
			clear(tmp)
			clear(tmpHits)
		}
		if err := ps.eval(ctx, k, tmp, tmpHits); err != nil {
			return err
		}
		for i, h := range tmpHits {
			if h > 0 {
				sum[i] += tmp[i]
				count[i]++
			}
		}
	}
	total := len(n.kids)
	for i, c := range count {
		switch {
		case n.conj && int(c) == total:
			out[i] += sum[i]
		case !n.conj && c > 0:
			// A disjunction: the sum of the matching children times the
			// share of children that match.
			out[i] += sum[i] * (float64(c) / float64(total))
		default:
			continue
		}
		hits[i]++
	}
	return nil
}

// addPhrase adds the phrase's score to sum for the documents where it
// occurs in its field and counts them in hits.
func (ps *phraseScorer) addPhrase(ctx context.Context, ph *sphrase, sum []float64, hits []uint16) error {
	terms := make([]string, len(ph.terms))
	for i, l := range ph.terms {
		terms[i] = l.term
	}
	add := func(d uint32, freqs []uint64, norm float64) {
		at := ps.index(uint64(d))
		if at < 0 {
			return // not among the documents scored
		}
		var s float64
		for i, l := range ph.terms {
			s += l.docScore(freqs[i], norm)
		}
		sum[at] += s
		hits[at]++
	}
	if m := ps.memo.get(phraseKey(ph.field, terms, ph.offs)); m != nil {
		// Both lists ascend: merged, with no table of positions (which
		// would cost a pass over every document number).
		n := len(terms)
		intersect(ps.docs, m.docs, 0, func(at, i int) {
			var s float64
			for j, l := range ph.terms {
				s += l.docScore(m.freqs[i*n+j], m.norms[i])
			}
			sum[at] += s
			hits[at]++
		})
		return nil
	}
	ok, err := ps.s.phrasePostings(ctx, ph.field, terms, ph.offs, ps.set, add)
	if !ok {
		ps.ok = false
	}
	return err
}

// scorePhrases scores the phrase tree of p over the documents in matched
// and returns the best k, best first (by score, then newest first, then
// id), as score does for the scoring tree. When the postings cannot tell
// a phrase, bleve's searcher scores the request instead.
func (e *Engine) scorePhrases(ctx context.Context, p *plan, matched *roaring.Bitmap, k int) ([]scored, error) {
	root := p.phrases
	if err := e.prepare(ctx, &snode{kids: root.leaves(nil)}); err != nil {
		return nil, e.searchErr(err)
	}
	ranks, err := e.dateRanks(ctx, p)
	if err != nil {
		return nil, err
	}
	ps := &phraseScorer{postingScorer: e.segs.newPostingScorer(matched), ok: true, memo: p.n.parsed.phrases}
	scores := make([]float64, len(ps.docs))
	hits := make([]uint16, len(scores))
	if err := ps.eval(ctx, root, scores, hits); err != nil {
		return nil, e.searchErr(err)
	}
	if !ps.ok {
		return e.best(ctx, p, producerSearcher, matched, k)
	}
	if k <= 0 {
		return nil, nil
	}
	return e.keepBest(ctx, p, ps.docs, scores, ranks, k)
}
