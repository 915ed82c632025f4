package search

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
)

// Reading what people type. Before a query is planned, each word the person
// wrote gets alternatives the index can match, added to the word's group
// (a group matches when any of its clauses does):
//
//   - the completions of the last word, while it is still being typed
//     ("crowdst" → crowdstrike), and of every word ending in '*', taken from
//     the words of the reports as written, never from stems;
//   - corrections of a word no report has, within Damerau–Levenshtein
//     distance 1 (words of Typos.One runes or more) or 2 (Typos.Two or
//     more), numbers excepted ("heartbleeed" → heartbleed);
//   - the split form of a word no report has ("wakeword" → "wake word"),
//     and the joined form of two words one report has as one
//     ("solar winds" → solarwinds);
//   - synonyms (synonyms.txt, and the operator's own file).
//
// Corrections, split forms, synonyms and the longer words that start with a
// complete word are inexact: an incident matching a word only through one
// of them ranks below one matching the word as written (see rankKeys). Quoted phrases and excluded words stay exact.

// Typos sets the word lengths, in runes, from which one and two typos are
// corrected. A length of 0 or less turns that distance off.
type Typos struct {
	One, Two int
}

// DefaultTypos are Meilisearch's defaults.
var DefaultTypos = Typos{One: 5, Two: 9}

// Option configures an Engine.
type Option func(*Engine)

// WithSynonyms adds synonym sets to the shipped ones.
func WithSynonyms(s *Synonyms) Option {
	return func(e *Engine) { e.synonymSets = DefaultSynonyms().With(s) }
}

// WithTypos sets the typo thresholds.
func WithTypos(t Typos) Option {
	return func(e *Engine) { e.typos = t }
}

// Bounds on what one word may expand to.
const (
	maxCompletions = 24 // distinct stems a word being typed expands to
	maxStarWords   = 64 // distinct stems a word ending in '*' expands to
	maxCorrections = 6  // distinct stems of typo corrections
	maxAlternates  = 48 // clauses in one group
)

// matchKind says how a clause relates to the word the person typed.
type matchKind uint8

const (
	kindTyped      matchKind = iota // as typed
	kindCompletion                  // a completion of a word being typed
	kindJoined                      // two typed words written as one
	kindLonger                      // a longer word starting with a complete typed word
	kindCorrection                  // a typo corrected
	kindSplit                       // one typed word written as two
	kindSynonym                     // a synonym
)

// exact reports whether a match through a clause of kind k counts as the
// word matched as written.
func (k matchKind) exact() bool { return k <= kindJoined }

// synonymIndex maps the analysed form of a synonym entry to the entries of
// its sets.
type synonymIndex map[string][]string

func (e *Engine) buildSynonyms() {
	e.synonyms = synonymIndex{}
	if e.synonymSets == nil {
		return
	}
	for _, set := range e.synonymSets.sets {
		for _, entry := range set {
			key := strings.Join(e.analyze(entry), " ")
			if key == "" {
				continue
			}
			for _, other := range set {
				if other != entry && !containsString(e.synonyms[key], other) {
					e.synonyms[key] = append(e.synonyms[key], other)
				}
			}
		}
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// reading is what understanding a query found, for the person who typed it.
type reading struct {
	corrected map[int]string // group → the best correction of its word
}

// understand adds alternatives to the words of pq (see above). raw is the
// query as typed: a last word followed by a space is complete.
func (e *Engine) understand(ctx context.Context, pq *parsedQuery, raw string) (*reading, error) {
	rd := &reading{corrected: map[int]string{}}
	v := vocab{r: e.reader, ctx: ctx}
	typing := raw != "" && !strings.HasSuffix(raw, " ") && !strings.HasSuffix(raw, `"`)
	last := len(pq.groups) - 1
	words := make([]string, len(pq.groups)) // the folded word of single-word groups
	for gi := range pq.groups {
		g := pq.groups[gi]
		seen := map[string]bool{}
		for _, c := range g {
			seen[e.stemKey(c.text)] = true
		}
		var extra []clause
		add := func(c clause) {
			key := e.stemKey(c.text)
			if key == "" || seen[key] || len(g)+len(extra) >= maxAlternates {
				return
			}
			seen[key] = true
			extra = append(extra, c)
		}
		for ci := range g {
			c := &g[ci]
			if c.phrase {
				continue
			}
			w := index.Fold(c.text)
			if c.prefix {
				// An explicit prefix: the words that start with it.
				c.prefix = false
				c.kind = kindCompletion
				ws, more, err := v.completions(w, maxStarWords, e.stemKey)
				if err != nil {
					return nil, err
				}
				if more {
					pq.notice(fmt.Sprintf("%s* matches many words; the %d most frequent were used.", index.Truncate(c.text, 40), maxStarWords))
				}
				c.text = w // no report may have the prefix itself as a word
				if len(ws) > 0 {
					c.text = ws[0].text
					for _, x := range ws[1:] {
						add(clause{fields: c.fields, text: x.text, kind: kindCompletion, pos: c.pos})
					}
				}
				continue
			}
			if len(e.analyze(c.text)) != 1 {
				continue // stop word, or several words ("e-mail"): exact
			}
			if len(g) == 1 {
				words[gi] = w
			}
			df, err := v.df(w)
			if err != nil {
				return nil, err
			}
			if gi == last && len(g) == 1 && typing {
				ws, _, err := v.completions(w, maxCompletions, e.stemKey)
				if err != nil {
					return nil, err
				}
				var others uint64
				for _, x := range ws {
					if x.text != w {
						others += x.df
					}
				}
				// A complete, common word is not expanded: "software" is
				// not the start of "softwarehouse".
				// Completions of a word the reports have ("car": card,
				// cargo) rank below the word itself.
				kind := kindCompletion
				if df > 0 {
					kind = kindLonger
				}
				if df == 0 || others > df {
					for _, x := range ws {
						add(clause{fields: c.fields, text: x.text, kind: kind, pos: c.pos})
					}
				}
			}
			for _, syn := range e.synonyms[e.stemKey(c.text)] {
				add(clause{fields: c.fields, text: syn, phrase: strings.Contains(syn, " "), kind: kindSynonym, pos: c.pos})
			}
			if df > 0 {
				continue
			}
			if maxDist := e.typos.distance(w); maxDist > 0 {
				fixes, err := v.corrections(w, maxDist, 4*maxCorrections)
				if err != nil {
					return nil, err
				}
				n := 0
				for _, f := range fixes {
					if n == maxCorrections {
						break
					}
					if key := e.stemKey(f.text); key != "" && !seen[key] {
						if _, ok := rd.corrected[gi]; !ok && len(g) == 1 {
							rd.corrected[gi] = f.text
						}
						add(clause{fields: c.fields, text: f.text, kind: kindCorrection, pos: c.pos})
						n++
					}
				}
			}
			if parts, ok, err := v.split(w); err != nil {
				return nil, err
			} else if ok {
				add(clause{fields: c.fields, text: parts, phrase: true, kind: kindSplit, pos: c.pos})
			}
		}
		pq.groups[gi] = append(g, extra...)
	}
	// An excluded prefix excludes the words that start with it.
	var excluded []clause
	for _, c := range pq.excluded {
		if !c.prefix {
			excluded = append(excluded, c)
			continue
		}
		ws, _, err := v.completions(index.Fold(c.text), maxStarWords, e.stemKey)
		if err != nil {
			return nil, err
		}
		for _, x := range ws {
			excluded = append(excluded, clause{fields: c.fields, text: x.text, kind: kindCompletion, pos: c.pos})
		}
	}
	pq.excluded = excluded
	// Two typed words that reports write as one.
	for gi := 0; gi+1 < len(pq.groups); gi++ {
		a, b := words[gi], words[gi+1]
		if a == "" || b == "" {
			continue
		}
		joined := a + b
		df, err := v.df(joined)
		if err != nil {
			return nil, err
		}
		if df == 0 {
			continue
		}
		// The joined word stands for both: neither was misspelled.
		delete(rd.corrected, gi)
		delete(rd.corrected, gi+1)
		for _, i := range []int{gi, gi + 1} {
			if len(pq.groups[i]) < maxAlternates {
				pq.groups[i] = append(pq.groups[i], clause{fields: pq.groups[i][0].fields, text: joined, kind: kindJoined, pos: pq.groups[i][0].pos})
			}
		}
	}
	return rd, nil
}

// distance returns the number of typos corrected in a word: 0 for words
// with digits and short words.
func (t Typos) distance(w string) int {
	for _, r := range w {
		if unicode.IsDigit(r) {
			return 0
		}
	}
	n := utf8.RuneCountInString(w)
	switch {
	case t.Two > 0 && n >= t.Two:
		return 2
	case t.One > 0 && n >= t.One:
		return 1
	}
	return 0
}

// stemKey is the analysed form of text: alternatives with the same one
// match the same documents.
func (e *Engine) stemKey(text string) string {
	return strings.Join(e.analyze(text), " ")
}

// suggestion returns the query as typed with each corrected word replaced
// by its best correction, or "" when no word was corrected.
func (rd *reading) suggestion(pq *parsedQuery, raw string) string {
	if len(rd.corrected) == 0 {
		return ""
	}
	type edit struct {
		at, end int
		with    string
	}
	var edits []edit
	for gi, fix := range rd.corrected {
		c := pq.groups[gi][0]
		i := strings.Index(strings.ToLower(raw[c.pos:]), strings.ToLower(c.text))
		if i < 0 {
			continue
		}
		at := c.pos + i
		edits = append(edits, edit{at, at + len(c.text), fix})
	}
	out := raw
	// Right to left, so that earlier offsets stay valid.
	for len(edits) > 0 {
		j := 0
		for i := range edits {
			if edits[i].at > edits[j].at {
				j = i
			}
		}
		ed := edits[j]
		out = out[:ed.at] + ed.with + out[ed.end:]
		edits = append(edits[:j], edits[j+1:]...)
	}
	return strings.TrimSpace(out)
}

// weight scales the relevance a clause of kind k adds: a correction or a
// synonym says less about an incident than the word as typed.
func (k matchKind) weight() float64 {
	if k.exact() {
		return 1
	}
	return inexactWeight
}

// inexactWeight is the weight of corrections, split forms and synonyms.
const inexactWeight = 0.25

// inexact reports whether some clause of pq matches a word other than as
// written (a correction, a split form, a synonym, a longer word).
func (pq *parsedQuery) inexact() bool {
	for _, g := range pq.groups {
		for _, c := range g {
			if !c.kind.exact() {
				return true
			}
		}
	}
	return false
}
