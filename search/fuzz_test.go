package search

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseQuery checks that no query makes the parser panic, that every
// rejection is a request error with a position inside the query, and that
// accepted queries stay within the limits.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"wake word", `"wake word"`, "-hack", "title:boeing causes:firmware", "consequence:death",
		"ransomware OR malware", "recor*", "*", "a*", "/.*/", "/(a|aa)*b/", "foo~3", "foo^abc",
		`"unbalanced`, `\`, "http://x", "10:30", `C:\path`, "::1", "field:", ":value",
		"a\x00b", "\xff\xfe", "zero\u200bwidth \u202eltr", "OR", "a OR", "OR a", "-consequence:death x",
		"year:2018 wake", `title:"wake word"`, "- -- ---",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := parseQuery(q)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("%q: error %v is not a request error", q, err)
			}
			if e.Pos >= len(q)+1 || e.Pos < -1 {
				t.Fatalf("%q: position %d outside the query", q, e.Pos)
			}
			return
		}
		n := len(p.excluded)
		for _, g := range p.groups {
			if len(g) == 0 {
				t.Fatalf("%q: empty group", q)
			}
			n += len(g)
			for _, c := range g {
				// A phrase goes through the analyzer, which drops '*';
				// only a word could become a wildcard query.
				if !c.phrase && strings.Contains(c.text, "*") {
					t.Fatalf("%q: wildcard left in clause %q", q, c.text)
				}
			}
		}
		if n > MaxTerms {
			t.Fatalf("%q: %d terms, limit %d", q, n, MaxTerms)
		}
	})
}
