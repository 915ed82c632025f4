package search

import (
	"context"
	"sort"
	"unicode/utf8"

	bindex "github.com/blevesearch/bleve_index_api"

	"github.com/faildex/faildex/index"
)

// vocab looks words up in the index's vocab field
// (index.FieldWords): every prose word as written, folded but not stemmed.
// Completions, typo corrections and split or joined words come from it.
type vocab struct {
	r bindex.IndexReader
	// ctx, when not nil, ends dictionary walks: they fail with its error,
	// checked every checkEvery entries.
	ctx context.Context
}

// word is a vocab entry: a word and the number of incidents having it.
type word struct {
	text string
	df   uint64
	dist int // edit distance from the word looked up, for corrections
}

// df returns the number of incidents having w (0 when none do).
func (v vocab) df(w string) (uint64, error) {
	d, err := v.r.FieldDictRange(index.FieldWords, []byte(w), []byte(w))
	if err != nil {
		return 0, err
	}
	defer d.Close()
	e, err := d.Next()
	if err != nil || e == nil || e.Term != w {
		return 0, err
	}
	return e.Count, nil
}

// prefixed returns up to limit words starting with prefix, the most
// frequent first, and whether more were left out.
func (v vocab) prefixed(prefix string, limit int) ([]word, error) {
	d, err := v.r.FieldDictPrefix(index.FieldWords, []byte(prefix))
	if err != nil {
		return nil, err
	}
	defer d.Close()
	var out []word
	tk := ticker{ctx: v.ctx}
	for {
		if err := tk.tick(); err != nil {
			return nil, err
		}
		e, err := d.Next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		out = append(out, word{text: e.Term, df: e.Count})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].df != out[j].df {
			return out[i].df > out[j].df
		}
		return out[i].text < out[j].text
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// corrections returns the words within Damerau–Levenshtein distance maxDist
// of w (w itself excluded), nearest first and then most frequent, at most
// limit. The index's Levenshtein automaton finds the candidates; adjacent
// transpositions, which it counts as two edits, are looked up directly.
func (v vocab) corrections(w string, maxDist, limit int) ([]word, error) {
	fr, ok := v.r.(bindex.IndexReaderFuzzy)
	if !ok || maxDist <= 0 {
		return nil, nil
	}
	seen := map[string]bool{w: true}
	var out []word
	d, err := fr.FieldDictFuzzy(index.FieldWords, w, maxDist, "")
	if err != nil {
		return nil, err
	}
	tk := ticker{ctx: v.ctx}
	for {
		if err := tk.tick(); err != nil {
			d.Close()
			return nil, err
		}
		e, err := d.Next()
		if err != nil {
			d.Close()
			return nil, err
		}
		if e == nil {
			break
		}
		if seen[e.Term] {
			continue
		}
		seen[e.Term] = true
		if dist := damerau(w, e.Term); dist <= maxDist {
			out = append(out, word{text: e.Term, df: e.Count, dist: dist})
		}
	}
	d.Close()
	for _, t := range transpositions(w) {
		if seen[t] {
			continue
		}
		seen[t] = true
		n, err := v.df(t)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, word{text: t, df: n, dist: 1})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		if a.df != b.df {
			return a.df > b.df
		}
		return a.text < b.text
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// transpositions returns w with each pair of adjacent runes swapped.
func transpositions(w string) []string {
	r := []rune(w)
	var out []string
	for i := 0; i+1 < len(r); i++ {
		if r[i] == r[i+1] {
			continue
		}
		r[i], r[i+1] = r[i+1], r[i]
		out = append(out, string(r))
		r[i], r[i+1] = r[i+1], r[i]
	}
	return out
}

// damerau returns the optimal-string-alignment distance between a and b:
// insertions, deletions, substitutions and transpositions of adjacent
// runes each count one.
func damerau(a, b string) int {
	if a == b {
		return 0
	}
	ra, rb := []rune(a), []rune(b)
	if utf8.RuneCountInString(a) == 0 {
		return len(rb)
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// completions returns the words starting with prefix, the most frequent
// first, one for each distinct stem (key), at most limit of them; more
// reports whether others were left out.
func (v vocab) completions(prefix string, limit int, key func(string) string) (ws []word, more bool, err error) {
	all, err := v.prefixed(prefix, 1<<30)
	if err != nil {
		return nil, false, err
	}
	seen := map[string]bool{}
	for _, w := range all {
		k := key(w.text)
		if k == "" || seen[k] {
			continue
		}
		if len(ws) == limit {
			return ws, true, nil
		}
		seen[k] = true
		ws = append(ws, w)
	}
	return ws, false, nil
}

// split returns w cut into two words that the reports have ("wakeword" →
// "wake word", "ariane5" → "ariane 5"), the cut whose rarer half is the
// most frequent; ok is false when there is none. Halves are two runes or
// more, but for a number.
func (v vocab) split(w string) (string, bool, error) {
	r := []rune(w)
	best, bestDF := "", uint64(0)
	for i := 1; i < len(r); i++ {
		left, right := string(r[:i]), string(r[i:])
		if (len([]rune(left)) < 2 && !isNumber(left)) || (len([]rune(right)) < 2 && !isNumber(right)) {
			continue
		}
		l, err := v.df(left)
		if err != nil || l == 0 {
			if err != nil {
				return "", false, err
			}
			continue
		}
		rt, err := v.df(right)
		if err != nil {
			return "", false, err
		}
		if m := min(l, rt); m > bestDF {
			best, bestDF = left+" "+right, m
		}
	}
	return best, bestDF > 0, nil
}

func isNumber(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}
