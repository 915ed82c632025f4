package search

import (
	"context"
	"math"

	"github.com/RoaringBitmap/roaring/v2"
	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// Relevance by scoring postings directly.
//
// For words without phrases or prefixes (the common case), the engine does
// not run bleve's searchers, which score every match of the words through a
// disjunction over the prose fields and then discard the ones the filters
// exclude. It reads the postings of each (field, term) restricted to the
// documents already known to match (words, filters and date range, from the
// bitmaps) and computes bleve's BM25 score for them: the same formula, the
// same statistics (document count, the term's document frequency, the
// field's average length), the same query norm and the same coordination
// factor of the disjunctions. Only the order of additions differs, so a
// score can differ from bleve's in its last bits; scores are therefore
// rounded (roundScore) before they are compared, which keeps ties ties.

// snode is a node of the scoring tree, shaped like the bleve query that
// textQuery builds: a conjunction of groups, a group a disjunction of
// clauses, a clause a disjunction of (field, term) leaves.
type snode struct {
	leaf *sleaf
	kids []*snode
	conj bool
}

type sleaf struct {
	field, term string
	boost       float64
	idf, avg    float64
	weight      float64 // boost * idf * query norm
	docs        uint64  // documents having the term in the field
	idx         int     // the leaf's index in its tree (topk.go)
}

// scoreTree returns the scoring tree of the words of pq, or nil when it
// holds a phrase, a prefix or only stop words (bleve scores those).
func (e *Engine) scoreTree(pq *parsedQuery) *snode {
	var groups []*snode
	for _, g := range pq.groups {
		var alts []*snode
		for _, c := range g {
			if c.prefix {
				return nil
			}
			terms := e.analyze(c.text)
			switch len(terms) {
			case 0:
				continue
			case 1:
			default:
				return nil
			}
			fields := c.fields
			if fields == nil {
				fields = index.ProseFields()
			}
			var leaves []*snode
			for _, f := range fields {
				leaves = append(leaves, &snode{leaf: &sleaf{field: f, term: terms[0], boost: boostOf(f) * c.kind.weight()}})
			}
			if len(leaves) == 1 {
				alts = append(alts, leaves[0])
			} else {
				alts = append(alts, &snode{kids: leaves})
			}
		}
		switch len(alts) {
		case 0:
		case 1:
			groups = append(groups, alts[0])
		default:
			groups = append(groups, &snode{kids: alts})
		}
	}
	switch len(groups) {
	case 0:
		return nil
	case 1:
		return groups[0]
	}
	// A relaxed query is a disjunction of its groups (see textQuery).
	return &snode{kids: groups, conj: pq.minMatch == 0}
}

func (n *snode) leaves(out []*sleaf) []*sleaf {
	if n.leaf != nil {
		return append(out, n.leaf)
	}
	for _, k := range n.kids {
		out = k.leaves(out)
	}
	return out
}

// prepare computes each leaf's statistics and weight the way bleve's term
// searchers do.
func (e *Engine) prepare(ctx context.Context, root *snode) error {
	return e.prepareModel(ctx, root, true)
}

// prepareModel is prepare with BM25 (bm25, as the index mapping asks) or
// with tf-idf, bleve's model when a search is not told the mapping's.
func (e *Engine) prepareModel(ctx context.Context, root *snode, bm25 bool) error {
	docCount, err := e.reader.DocCount()
	if err != nil {
		return err
	}
	leaves := root.leaves(nil)
	var sumSq float64
	for _, l := range leaves {
		var card int
		if r, ok := e.reader.(bindex.BM25Reader); ok && bm25 {
			if card, err = r.FieldCardinality(l.field); err != nil {
				return err
			}
		}
		if docCount > 0 || card > 0 {
			l.avg = math.Ceil(float64(card) / float64(docCount))
		}
		tfr, err := e.reader.TermFieldReader(ctx, []byte(l.term), l.field, false, false, false)
		if err != nil {
			return err
		}
		l.docs = tfr.Count()
		if err := tfr.Close(); err != nil {
			return err
		}
		l.idf = idf(l.avg, docCount, l.docs)
		w := l.boost * l.idf
		sumSq += w * w
	}
	norm := 1.0 / math.Sqrt(sumSq)
	for _, l := range leaves {
		l.weight = l.boost * l.idf * norm
	}
	return nil
}

// idf is the inverse document frequency of bleve's term scorer: BM25's
// when the field's average length avg is known, else tf-idf's.
func idf(avg float64, docCount, docTerm uint64) float64 {
	if avg > 0 {
		return math.Log(1 + (float64(docCount)-float64(docTerm)+0.5)/(float64(docTerm)+0.5))
	}
	return 1.0 + math.Log(float64(docCount)/float64(docTerm+1.0))
}

// roundScore drops the last 12 bits of a score's mantissa (keeping about 12
// significant digits), so that sums of the same terms added in another
// order compare equal.
func roundScore(s float64) float64 {
	b := math.Float64bits(s)
	return math.Float64frombits((b + 1<<11) &^ (1<<12 - 1))
}

// addAll adds the scores of leaves to sum and their matches to hits, one
// leaf after the other: the order of additions that value (topk.go)
// reproduces document by document, so that a score does not depend on how
// many matches are kept.
func (ps *postingScorer) addAll(ctx context.Context, leaves []*sleaf, sum []float64, hits []uint16) error {
	for _, l := range leaves {
		if err := ps.add(ctx, l, sum, hits); err != nil {
			return err
		}
	}
	return nil
}

// eval adds the scores of n to out.
func (ps *postingScorer) eval(ctx context.Context, n *snode, out []float64) error {
	if n.leaf != nil {
		hits := make([]uint16, len(ps.docs))
		return ps.add(ctx, n.leaf, out, hits)
	}
	if n.conj {
		for _, k := range n.kids {
			if err := ps.eval(ctx, k, out); err != nil {
				return err
			}
		}
		return nil
	}
	// A disjunction: the sum of the matching children times the share of
	// children that match.
	sum := make([]float64, len(ps.docs))
	hits := make([]uint16, len(ps.docs))
	var leaves []*sleaf
	for _, k := range n.kids {
		if k.leaf != nil {
			leaves = append(leaves, k.leaf)
		}
	}
	if err := ps.addAll(ctx, leaves, sum, hits); err != nil {
		return err
	}
	return coordinate(n, sum, hits, out, func(k *snode, tmp []float64) error { return ps.eval(ctx, k, tmp) })
}

// coordinate ends the disjunction n, whose leaves are in sum and hits
// already: it adds the children that are not leaves, each evaluated into
// a scratch slice by eval, then adds to out each document's sum times the
// share of children it matches. The exact scores and their bounds (topk.go)
// share it, so that they combine alike.
func coordinate(n *snode, sum []float64, hits []uint16, out []float64, eval func(*snode, []float64) error) error {
	var tmp []float64
	defer func() { floatScratch.put(tmp) }()
	for _, k := range n.kids {
		if k.leaf != nil {
			continue
		}
		if tmp == nil {
			tmp = floatScratch.get(len(sum))
		} else {
			clear(tmp)
		}
		if err := eval(k, tmp); err != nil {
			return err
		}
		for i, v := range tmp {
			if v != 0 {
				sum[i] += v
				hits[i]++
			}
		}
	}
	total := float64(len(n.kids))
	for i, v := range sum {
		if hits[i] > 0 {
			out[i] += v * (float64(hits[i]) / total)
		}
	}
	return nil
}

// scoreAll scores root over every document in matched, term at a time,
// and returns the best k (all of them when k is 0 or less), best first (by
// the ranking rules). Its scores are those of topK, bit for bit.
func (e *Engine) scoreAll(ctx context.Context, p *plan, root *snode, matched *roaring.Bitmap, ranks []uint32, k int) ([]scored, error) {
	ps := e.segs.newPostingScorer(matched)
	scores := make([]float64, len(ps.docs))
	if err := ps.eval(ctx, root, scores); err != nil {
		return nil, e.searchErr(err)
	}
	if k <= 0 || k > len(ps.docs) {
		k = len(ps.docs)
	}
	return e.keepBest(ctx, p, ps.docs, scores, ranks, k)
}

// keepBest returns the k best (k ≥ 1) of the documents docs, whose scores
// are scores, best first by the ranking rules.
func (e *Engine) keepBest(ctx context.Context, p *plan, docs []uint32, scores []float64, ranks []uint32, k int) ([]scored, error) {
	h := make(topHeap, 0, min(k, len(docs)))
	tk := ticker{ctx: ctx}
	for i, d := range docs {
		if err := tk.tick(); err != nil {
			return nil, e.searchErr(err)
		}
		c := scored{score: roundScore(scores[i]), rank: ranks[d], doc: d}
		p.keys.set(&c)
		h.offer(c, k)
	}
	return h.sorted(), nil
}

// maxScoreWorkers caps the goroutines that work on the hits of a page.
const maxScoreWorkers = 4
