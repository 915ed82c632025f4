package search

import (
	"html"
	"strings"

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
				m.prefix = strings.ToLower(c.text)
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
// fields that cannot: stems are nearly always a prefix of the word, so the
// stem without its last letter must occur in the folded text.
func (hs highlightTerms) mayMatch(lower string) bool {
	for _, m := range hs {
		if m.prefix != "" && strings.Contains(lower, m.prefix) {
			return true
		}
		for t := range m.terms {
			probe := t
			if len(probe) > 3 {
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
func (e *Engine) spans(text string, hs highlightTerms) []span {
	if len(hs) == 0 || text == "" || !hs.mayMatch(strings.ToLower(text)) {
		return nil
	}
	var out []span
	for _, t := range e.analyzer.Analyze([]byte(text)) {
		if hs.match(string(t.Term)) && t.Start >= 0 && t.End <= len(text) && t.Start < t.End {
			out = append(out, span{t.Start, t.End})
		}
	}
	return out
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
	if j := strings.LastIndexAny(text[:i], " \n\t"); j >= 0 && i-j < 30 {
		return j + 1
	}
	for i > 0 && !utf8RuneStart(text[i]) {
		i--
	}
	return i
}

// snapForward moves i forward to the end of a word (len(text) at most).
func snapForward(text string, i int) int {
	if i >= len(text) {
		return len(text)
	}
	if j := strings.IndexAny(text[i:], " \n\t"); j >= 0 && j < 30 {
		return i + j
	}
	for i < len(text) && !utf8RuneStart(text[i]) {
		i++
	}
	return i
}
