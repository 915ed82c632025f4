package search

import (
	"bytes"
	"html"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
)

// Highlighting is done on the stored text with the index's own analyzer, so
// that what is marked is exactly what matched (stemmed, case-folded). All
// text is escaped; <mark> and </mark> are the only markup produced, and this
// file is the only place that produces them.

const (
	fragmentBytes    = 220 // target length of one fragment
	fragmentLead     = 60  // context kept before the first match
	fragmentsByField = 2
)

// matcher is the terms of one query clause and the fields it applies to.
type matcher struct {
	fields map[string]bool // nil: every field
	terms  map[string]bool
	prefix string
}

type highlightTerms []matcher

func (e *Engine) highlightTerms(pq *parsedQuery) highlightTerms {
	var hs highlightTerms
	for _, g := range pq.groups {
		for _, c := range g {
			m := matcher{terms: map[string]bool{}}
			if c.fields != nil {
				m.fields = map[string]bool{}
				for _, f := range c.fields {
					m.fields[f] = true
				}
			}
			if c.prefix {
				m.prefix = index.Fold(c.text)
			} else {
				for _, t := range e.analyze(c.text) {
					m.terms[t] = true
				}
				if len(m.terms) == 0 {
					continue
				}
			}
			hs = append(hs, m)
		}
	}
	return hs
}

// forField returns the matchers that apply to a field.
func (hs highlightTerms) forField(field string) highlightTerms {
	var out highlightTerms
	for _, m := range hs {
		if m.fields == nil || m.fields[field] {
			out = append(out, m)
		}
	}
	return out
}

func (hs highlightTerms) match(term string) bool {
	for _, m := range hs {
		if m.terms[term] || (m.prefix != "" && strings.HasPrefix(term, m.prefix)) {
			return true
		}
	}
	return false
}

// mayMatch is a cheap test that text could hold a match, to skip analysing
// fields that cannot: the Porter stemmer changes at most the last letter of
// the word it keeps ("day" -> "dai", "hoping" -> "hope"), so the stem
// without its last letter must occur in the folded text. Short stems are no
// exception.
func (hs highlightTerms) mayMatch(lower string) bool {
	for _, m := range hs {
		if m.prefix != "" && strings.Contains(lower, m.prefix) {
			return true
		}
		for t := range m.terms {
			probe := t
			if len(probe) > 1 {
				probe = probe[:len(probe)-1]
			}
			if strings.Contains(lower, probe) {
				return true
			}
		}
	}
	return false
}

type span struct{ start, end int }

// spans returns the byte ranges of text whose terms match.
//
// Only the words that may match are analysed: the text is cut into pieces at
// ASCII whitespace followed by an ASCII byte (word segmentation never joins
// words across whitespace, so each piece analyses to exactly the tokens the
// whole text has there), and a piece is analysed only when its folded form
// holds a probe, by the reasoning mayMatch applies to the whole text. Most
// of a long field is then skipped without being tokenized or stemmed.
func (e *Engine) spans(text string, hs highlightTerms) []span {
	if len(hs) == 0 || text == "" {
		return nil
	}
	lower := strings.ToLower(text)
	if !hs.mayMatch(lower) {
		return nil
	}
	probes := hs.probes()
	var out []span
	analyse := func(start, end int) {
		piece := text[start:end]
		for _, t := range e.analyzer.Analyze([]byte(piece)) {
			if hs.match(string(t.Term)) && t.Start >= 0 && t.End <= len(piece) && t.Start < t.End {
				out = append(out, span{start + t.Start, start + t.End})
			}
		}
	}
	if foldAligned(text, lower) {
		// Folding kept every byte in place: find the probes in the folded
		// text once, and analyse the pieces holding them.
		var hits []int
		for _, p := range probes {
			for from := 0; ; {
				i := strings.Index(lower[from:], p)
				if i < 0 {
					break
				}
				hits = append(hits, from+i)
				from += i + 1
			}
		}
		sort.Ints(hits)
		for start, h := 0, 0; start < len(text) && h < len(hits); {
			end := pieceEnd(text, start)
			if hits[h] < end {
				analyse(start, end)
				for h < len(hits) && hits[h] < end {
					h++
				}
			}
			start = end + 1
		}
		return out
	}
	var buf []byte
	for start := 0; start < len(text); {
		end := pieceEnd(text, start)
		if start < end && containsProbe(text[start:end], probes, &buf) {
			analyse(start, end)
		}
		start = end + 1
	}
	return out
}

// foldAligned reports whether lower, strings.ToLower(text), has every
// character at the same byte offset as text (true unless folding changed
// the length of some character's encoding).
func foldAligned(text, lower string) bool {
	if len(lower) != len(text) {
		return false
	}
	for i := 0; i < len(text); i++ {
		if text[i] >= 0x80 {
			for _, r := range text[i:] {
				if utf8.RuneLen(r) != utf8.RuneLen(unicode.ToLower(r)) {
					return false
				}
			}
			return true
		}
	}
	return true
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\v' || b == '\f'
}

// pieceEnd returns the end of the piece starting at start: the next ASCII
// whitespace byte that is followed by an ASCII byte or ends the text.
func pieceEnd(text string, start int) int {
	for i := start; i < len(text); i++ {
		if isSpace(text[i]) && (i+1 == len(text) || text[i+1] < 0x80) {
			return i
		}
	}
	return len(text)
}

// probes returns substrings that the folded form of every matching word
// contains: a term or prefix without its last letter (see mayMatch).
func (hs highlightTerms) probes() []string {
	var out []string
	cut := func(s string) string {
		if len(s) > 1 {
			return s[:len(s)-1]
		}
		return s
	}
	for _, m := range hs {
		if m.prefix != "" {
			out = append(out, cut(m.prefix))
		}
		for t := range m.terms {
			out = append(out, cut(t))
		}
	}
	return out
}

// containsProbe reports whether the folded piece contains a probe; buf is
// scratch space for folding ASCII pieces.
func containsProbe(piece string, probes []string, buf *[]byte) bool {
	lower := ""
	ascii := true
	for i := 0; i < len(piece); i++ {
		if piece[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		b := (*buf)[:0]
		for i := 0; i < len(piece); i++ {
			c := piece[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b = append(b, c)
		}
		*buf = b
		for _, p := range probes {
			if len(p) <= len(b) && bytes.Contains(b, []byte(p)) {
				return true
			}
		}
		return false
	}
	lower = strings.ToLower(piece)
	for _, p := range probes {
		if strings.Contains(lower, p) {
			return true
		}
	}
	return false
}

// highlight returns the escaped title with marks and the fragments of every
// other field that matched.
func (e *Engine) highlight(in *index.Incident, hs highlightTerms) (string, []Fragment) {
	frags := []Fragment{}
	title := markAll(in.Title, e.spans(in.Title, hs.forField("title")))
	if len(hs) == 0 {
		return title, frags
	}
	for _, f := range index.TextFields[1:] {
		text := *f.Get(in)
		if sp := e.spans(text, hs.forField(f.Name)); len(sp) > 0 {
			frags = append(frags, Fragment{Field: f.Name, Label: f.Label, HTML: fragments(text, sp)})
		}
	}
	rh := hs.forField(index.FieldRationale)
	for _, c := range index.Taxonomy {
		text := in.Taxonomy[c.Name].Rationale
		if sp := e.spans(text, rh); len(sp) > 0 {
			frags = append(frags, Fragment{Field: index.FieldRationale, Category: c.Name, Label: c.Label + " rationale", HTML: fragments(text, sp)})
		}
	}
	if src := strings.Join(in.Sources, "\n"); src != "" {
		if sp := e.spans(src, hs.forField(index.FieldSources)); len(sp) > 0 {
			frags = append(frags, Fragment{Field: index.FieldSources, Label: "Sources", HTML: fragments(src, sp)})
		}
	}
	return title, frags
}

// markAll escapes the whole text, marking the spans.
func markAll(text string, sp []span) string {
	var b strings.Builder
	writeMarked(&b, text, 0, len(text), sp)
	return b.String()
}

// fragments cuts up to fragmentsByField windows of text around the spans.
func fragments(text string, sp []span) []string {
	var out []string
	i := 0
	for i < len(sp) && len(out) < fragmentsByField {
		start := snapBack(text, sp[i].start-fragmentLead)
		end := snapForward(text, start+fragmentBytes)
		if end < sp[i].end {
			end = snapForward(text, sp[i].end)
		}
		j := i
		for j < len(sp) && sp[j].end <= end {
			j++
		}
		var b strings.Builder
		if start > 0 {
			b.WriteString("… ")
		}
		writeMarked(&b, text, start, end, sp[i:j])
		if end < len(text) {
			b.WriteString(" …")
		}
		out = append(out, b.String())
		i = j
	}
	return out
}

// writeMarked writes text[from:to] escaped, with spans (which must lie in
// the range and be ordered) wrapped in <mark>.
func writeMarked(b *strings.Builder, text string, from, to int, sp []span) {
	pos := from
	for _, s := range sp {
		if s.start < pos || s.end > to {
			continue
		}
		b.WriteString(html.EscapeString(text[pos:s.start]))
		b.WriteString("<mark>")
		b.WriteString(html.EscapeString(text[s.start:s.end]))
		b.WriteString("</mark>")
		pos = s.end
	}
	b.WriteString(html.EscapeString(text[pos:to]))
}

// snapBack moves i back to the start of a word (0 at most).
func snapBack(text string, i int) int {
	if i <= 0 {
		return 0
	}
	// The text's start is a word's start too (j = -1).
	if j := strings.LastIndexAny(text[:i], " \n\t"); i-j < 30 {
		return j + 1
	}
	for i > 0 && !utf8.RuneStart(text[i]) {
		i--
	}
	return i
}

// snapForward moves i forward to the end of a word (len(text) at most).
func snapForward(text string, i int) int {
	if i >= len(text) {
		return len(text)
	}
	j := strings.IndexAny(text[i:], " \n\t")
	if j < 0 {
		// The text's end is a word's end too.
		j = len(text) - i
	}
	if j < 30 {
		return i + j
	}
	for i < len(text) && !utf8.RuneStart(text[i]) {
		i++
	}
	return i
}
