package index

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// removedRune reports whether r is removed from every text of a report:
// control characters other than tab and line feed (NUL, escape, form feed,
// DEL, the C1 controls, ...) and the bidirectional embeddings, overrides
// and isolates (U+202A-U+202E, U+2066-U+2069), which can make text shown in
// a page read differently from what is stored and searched. Carriage
// returns are not removed but read as line breaks (normalizeText).
//
// Other format characters are kept: zero-width joiners and non-joiners are
// part of emoji and of words in several scripts, soft hyphens and the
// left-to-right and right-to-left marks reorder nothing.
func removedRune(r rune) bool {
	switch {
	case r == '\t' || r == '\n' || r == '\r':
		return false
	case r < 0x20 || (r >= 0x7f && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	}
	return false
}

// hasRemoved reports whether s holds a rune that normalizeText changes.
func hasRemoved(s string) bool {
	for _, r := range s {
		if r == '\r' || removedRune(r) {
			return true
		}
	}
	return false
}

// normalizeText returns s with carriage returns read as line breaks ("\r\n"
// and a lone "\r" become "\n") and the runes of removedRune removed. It
// returns how many runes it removed and the first of them.
func normalizeText(s string) (out string, removed int, first rune) {
	if !hasRemoved(s) {
		return s, 0, 0
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch {
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				continue
			}
			b.WriteByte('\n')
		case removedRune(r):
			if removed == 0 {
				first = r
			}
			removed++
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), removed, first
}

// removedWarning is the warning about n runes removed from a field.
func removedWarning(field string, n int, first rune) string {
	name := "character"
	if n > 1 {
		name = "characters"
	}
	msg := fmt.Sprintf("removed %d control or bidirectional-override %s (the first is %s)", n, name, runeName(first))
	if field == "" {
		return msg
	}
	return field + ": " + msg
}

// runeName names a rune as "U+202E".
func runeName(r rune) string {
	if unicode.IsPrint(r) {
		return fmt.Sprintf("%q (U+%04X)", r, r)
	}
	return fmt.Sprintf("U+%04X", r)
}

// normalizeFields applies normalizeText to every text of in (its prose
// fields, rationales, options and sources) and returns a warning for each
// field it removed runes from.
func normalizeFields(in *Incident) []string {
	var warns []string
	norm := func(field string, p *string) {
		s, n, first := normalizeText(*p)
		*p = s
		if n > 0 {
			warns = append(warns, removedWarning(field, n, first))
		}
	}
	for _, f := range TextFields {
		norm(f.Name, f.Get(in))
	}
	normList := func(field string, list []string) {
		removed, first := 0, rune(0)
		for i := range list {
			s, n, f := normalizeText(list[i])
			list[i] = s
			if n > 0 && removed == 0 {
				first = f
			}
			removed += n
		}
		if removed > 0 {
			warns = append(warns, removedWarning(field, removed, first))
		}
	}
	normList("sources", in.Sources)
	cats := make([]string, 0, len(in.Taxonomy))
	for c := range in.Taxonomy {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		cl := in.Taxonomy[c]
		norm(c+" rationale", &cl.Rationale)
		normList(c+" options", cl.Options)
		in.Taxonomy[c] = cl
	}
	return warns
}
