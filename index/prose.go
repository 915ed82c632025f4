package index

import (
	"strings"
	"unicode/utf8"
)

// Cut collapses runs of white space in s and shortens it to at most n bytes
// at a word boundary, marking the cut with " …". A text whose last space
// before n is in its first half is cut inside a word (at a rune boundary)
// rather than kept whole.
func Cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
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
