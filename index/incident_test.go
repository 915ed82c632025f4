package index

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		in, want string // want "" means an error
	}{
		{"2020-09-18", "2020-09-18"},
		{" 2020-09-18 ", "2020-09-18"},
		{"2020-09-18 07:00:00+00:00", "2020-09-18"},
		{"2020-09-18T07:00:00Z", "2020-09-18"},
		{"2019-02-30", ""},
		{"2019-13-01", ""},
		{"2020-9-18", ""},
		{"2020-09-18x", ""},
		{"18/09/2020", ""},
		{"２０２０-09-18", ""},
		{"", ""},
	}
	for _, tt := range tests {
		d, err := ParseDate(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("ParseDate(%q) = %v, want an error", tt.in, d)
		case tt.want != "" && (err != nil || d.Format(DateLayout) != tt.want):
			t.Errorf("ParseDate(%q) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
}

func TestValidID(t *testing.T) {
	tests := map[string]bool{
		"2751": true, seed0: true, "a.b-c_d": true, strings.Repeat("a", 128): true,
		"": false, "-a": false, ".hidden": false, "a b": false, "a/b": false, "é": false,
		strings.Repeat("a", 129): false, "a\n": false,
	}
	for id, want := range tests {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
}

func TestArticleIDs(t *testing.T) {
	tests := []struct {
		texts []string
		want  []int64
	}{
		{[]string{"System 1. Echo [71241]"}, []int64{71241}},
		{[]string{"[103796, 103828] and [103828]", "[Article 1, Article 2]"}, []int64{103796, 103828, 1, 2}},
		{[]string{"[ 5 ]", "[a, 1]", "[]", "(a) [1.5]"}, []int64{5}},
		{nil, []int64{}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, ArticleIDs(tt.texts...)); diff != "" {
			t.Errorf("ArticleIDs(%q) (-want +got):\n%s", tt.texts, diff)
		}
	}
}

func TestSplitOptions(t *testing.T) {
	tests := []struct {
		cell string
		want []string
	}{
		{"", nil},
		{" , ,", nil},
		{"design, operation", []string{"design", "operation"}},
		{"Design,design , DESIGN", []string{"design"}},
		{"No consequence, Theoretical  consequence.", []string{"no_consequence", "theoretical_consequence"}},
		{`"value", ‘other’`, []string{"value", "other"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, SplitOptions(tt.cell)); diff != "" {
			t.Errorf("SplitOptions(%q) (-want +got):\n%s", tt.cell, diff)
		}
	}
}

func TestValidate(t *testing.T) {
	valid := func() Incident {
		return Incident{ID: "a", Title: " T ", Published: "2020-01-02 07:00:00+00:00", Summary: " s \n",
			Taxonomy: map[string]Classification{
				"Phase":     {Options: []string{"Design, operation"}, Rationale: " r "},
				"cps":       {Rationale: "a rationale alone is not an assessment"},
				"behaviour": {Options: []string{"value", "wobble"}},
			}}
	}
	in := valid()
	warns, err := in.Validate()
	if err != nil {
		t.Fatal(err)
	}
	want := Incident{ID: "a", Title: "T", Published: "2020-01-02", Summary: "s", Articles: []int64{},
		Taxonomy: map[string]Classification{
			"phase":     {Options: []string{"design", "operation"}, Rationale: "r"},
			"behaviour": {Options: []string{"value", "wobble"}},
		}}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("Validate (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{`behaviour: option "wobble" is not in the vocabulary`}, warns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}

	bad := []struct {
		name   string
		change func(*Incident)
		msg    string
	}{
		{"id", func(in *Incident) { in.ID = "a b" }, `id "a b" must be`},
		{"title", func(in *Incident) { in.Title = " \t" }, "missing title"},
		{"date", func(in *Incident) { in.Published = "2019-02-30" }, "published date"},
		{"old date", func(in *Incident) { in.Published = "1066-10-14" }, "published date 1066-10-14 is outside 1900-2200"},
		{"far date", func(in *Incident) { in.Published = "9999-01-01" }, "is outside 1900-2200"},
		{"UTF-8", func(in *Incident) { in.Fixes = "\xff" }, "fixes is not valid UTF-8"},
		{"category", func(in *Incident) { in.Taxonomy["colour"] = Classification{Options: []string{"red"}} }, `unknown taxonomy category "colour"`},
	}
	for _, tt := range bad {
		in := valid()
		tt.change(&in)
		_, err := in.Validate()
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: Validate error = %v, want ErrInvalid with %q", tt.name, err, tt.msg)
		}
	}
}
