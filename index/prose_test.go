package index

import "testing"

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
