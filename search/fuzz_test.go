package search

import (
	"strings"
	"testing"
)

// FuzzParseQuery checks that no query makes the parser panic and that what
// it reads stays within the limits: no empty group, no wildcard left in a
// word, at most MaxTerms words.
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
		p := parseQuery(q)
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
