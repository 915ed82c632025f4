package index

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Cut collapses runs of white space in s and shortens it to at most n bytes
// at a word boundary, marking the cut with " …". A text whose last space
// before n is in its first half is cut inside a word (at a rune boundary)
// rather than kept whole.
func Cut(s string, n int) string {
	s = collapse(s, n+1)
	if len(s) <= n {
		return s
	}
	at := strings.LastIndexByte(s[:n], ' ')
	if at < n/2 {
		at = n
		for at > 0 && !utf8.RuneStart(s[at]) {
			at--
		}
	}
	return s[:at] + " …"
}

// collapse returns strings.Join(strings.Fields(s), " ") when it is at most
// limit bytes long, else a prefix of it at least limit bytes long: a long
// text is read only as far as its cut.
func collapse(s string, limit int) string {
	var b strings.Builder
	for {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
		if s == "" || b.Len() >= limit {
			return b.String()
		}
		end := strings.IndexFunc(s, unicode.IsSpace)
		if end < 0 {
			end = len(s)
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[:end])
		s = s[end:]
	}
}

// Truncate shortens s to at most n runes, marking the cut with "…". It is
// meant for echoing untrusted input in messages.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n {
			break
		}
		count++
	}
	return s[:i] + "…"
}

// Lead returns the text that introduces an incident in lists, feeds and
// metadata: its summary, else its software causes, else its impacts.
func (in *Incident) Lead() string {
	switch {
	case in.Summary != "":
		return in.Summary
	case in.SoftwareCauses != "":
		return in.SoftwareCauses
	}
	return in.Impacts
}

// OptionLabel returns the display label of one of c's options, or v itself
// when c has no such option.
func (c *Category) OptionLabel(v string) string {
	for _, o := range c.Options {
		if o.Value == v {
			return o.Label
		}
	}
	return v
}
