package index

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"short text", 20, "short text"},
		{"  spaced \n  out   text ", 40, "spaced out text"},
		{"one two three four five", 12, "one two …"},
		// No space in the second half: cut inside the word, never the whole text.
		{"a " + "bbbbbbbbbbbbbbbbbbbb", 10, "a bbbbbbbb …"},
		{"ééééééééééé", 5, "éé …"},
	} {
		got := Cut(tc.in, tc.n)
		if got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// FuzzCut checks Cut, which reads a long text only as far as its cut,
// against collapsing the whole text first.
func FuzzCut(f *testing.F) {
	f.Add("  spaced \n  out   text ", 12)
	f.Add("a\u00a0b\u0085c\u2003d  e", 3)
	f.Add("ééé ééé ééé", 7)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 1 || n > 1<<12 || !utf8.ValidString(s) {
			return
		}
		want := strings.Join(strings.Fields(s), " ")
		if len(want) > n {
			at := strings.LastIndexByte(want[:n], ' ')
			if at < n/2 {
				at = n
				for at > 0 && !utf8.RuneStart(want[at]) {
					at--
				}
			}
			want = want[:at] + " …"
		}
		if got := Cut(s, n); got != want {
			t.Errorf("Cut(%q, %d) = %q, want %q", s, n, got, want)
		}
	})
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 3, "abc"},
		{"abcd", 3, "abc…"},
		{"ééé", 3, "ééé"},
		{"éééé", 2, "éé…"},
	} {
		if got := Truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestLeadAndOptionLabel(t *testing.T) {
	in := &Incident{SoftwareCauses: "causes", Impacts: "impacts"}
	if got := in.Lead(); got != "causes" {
		t.Errorf("Lead = %q", got)
	}
	in.Summary = "summary"
	if got := in.Lead(); got != "summary" {
		t.Errorf("Lead = %q", got)
	}
	c := &Taxonomy[0]
	if got := c.OptionLabel(c.Options[0].Value); got != c.Options[0].Label {
		t.Errorf("OptionLabel = %q", got)
	}
	if got := c.OptionLabel("nope"); got != "nope" {
		t.Errorf("OptionLabel(unknown) = %q", got)
	}
}
