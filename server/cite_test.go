package server_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/server"
)

// TestBibTeX pins the entry of an incident whose title holds every TeX
// special character.
func TestBibTeX(t *testing.T) {
	in := &index.Incident{
		ID:        "tex_and_csv-edge.case",
		Title:     "Edge case: 50% of $HOME & C_programs #1 {braces} ~tilde ^caret \\backslash \"quoted\" <b>bold</b>\nsecond line",
		Published: "2019-02-28",
	}
	got := server.BibTeX(in, "http://faildex.test/incidents/tex_and_csv-edge.case", time.Date(2024, 5, 6, 23, 0, 0, 0, time.UTC))
	want := `@misc{faildex:tex_and_csv-edge.case,
  title        = {{Edge case: 50\% of \$HOME \& C\_programs \#1 \textbraceleft{}braces\textbraceright{} \textasciitilde{}tilde \textasciicircum{}caret \textbackslash{}backslash "quoted" \textless{}b\textgreater{}bold\textless{}/b\textgreater{} second line}},
  year         = {2019},
  month        = feb,
  howpublished = {\url{http://faildex.test/incidents/tex_and_csv-edge.case}},
  url          = {http://faildex.test/incidents/tex_and_csv-edge.case},
  note         = {Software-failure incident report tex\_and\_csv-edge.case, faildex. Accessed 2024-05-06},
  key          = {tex\_and\_csv-edge.case}
}
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("BibTeX (-want +got):\n%s", diff)
	}
}

// braces counts the braces of a BibTeX entry. BibTeX counts them all,
// escaped or not, and needs them balanced.
func braces(s string) (open, close int) {
	return strings.Count(s, "{"), strings.Count(s, "}")
}

// FuzzBibTeX checks that no title breaks an entry: braces balance,
// and each field stays on its own line.
func FuzzBibTeX(f *testing.F) {
	for _, s := range []string{"plain", "{", "}{", `\`, "\\}", "50% & $x_1^2$ #~", "two\nlines\r\n", "}}},\n  note = {evil"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		in := &index.Incident{ID: "x", Title: title, Published: "2020-01-31"}
		bib := server.BibTeX(in, "http://h/incidents/x", time.Unix(0, 0))
		if o, c := braces(bib); o != c {
			t.Fatalf("%d { and %d }:\n%s", o, c, bib)
		}
		lines := strings.Split(strings.TrimSuffix(bib, "\n"), "\n")
		if len(lines) != 9 || !strings.HasPrefix(lines[1], "  title        = {{") || !strings.HasSuffix(lines[1], "}},") {
			t.Fatalf("title %q broke the entry:\n%s", title, bib)
		}
		depth := 0
		for _, r := range lines[1][len("  title        = "):] {
			switch r {
			case '{':
				depth++
			case '}':
				depth--
			}
			if depth < 0 {
				t.Fatalf("a } closes the title early:\n%s", lines[1])
			}
		}
	})
}

// TestBibTeXEndpoint fetches /incidents/{id}.bib for every incident and
// checks that each is one well-formed @misc entry with the fields a
// citation needs.
func TestBibTeXEndpoint(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	w := f.get(t, "/api/v1/export")
	mustStatus(t, w, http.StatusOK)
	ids := regexp.MustCompile(`(?m)^\{"id":"([^"]+)"`).FindAllStringSubmatch(w.Body.String(), -1)
	if len(ids) != 35 {
		t.Fatalf("%d incidents", len(ids))
	}
	field := regexp.MustCompile(`(?m)^  (\w+)\s+= `)
	for _, m := range ids {
		id := m[1]
		w := f.get(t, "/incidents/"+id+".bib")
		mustStatus(t, w, http.StatusOK)
		if ct := w.Header().Get("Content-Type"); ct != "application/x-bibtex; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", id, ct)
		}
		bib := w.Body.String()
		if !strings.HasPrefix(bib, "@misc{faildex:"+id+",\n") || !strings.HasSuffix(bib, "\n}\n") {
			t.Errorf("%s: not one @misc entry:\n%s", id, bib)
		}
		if o, c := braces(bib); o != c {
			t.Errorf("%s: %d { and %d }:\n%s", id, o, c, bib)
		}
		var fields []string
		for _, fm := range field.FindAllStringSubmatch(bib, -1) {
			fields = append(fields, fm[1])
		}
		if diff := cmp.Diff([]string{"title", "year", "month", "howpublished", "url", "note", "key"}, fields); diff != "" {
			t.Errorf("%s: fields (-want +got):\n%s", id, diff)
		}
		if !strings.Contains(bib, "url          = {http://"+testHost+"/incidents/"+id+"}") {
			t.Errorf("%s: no URL of the incident page:\n%s", id, bib)
		}
	}
	w = f.get(t, "/incidents/"+ransomID+".bib")
	for _, s := range []string{"title        = {{Ransomware Attack on Düsseldorf University Hospital Diverts an Emergency Patient}}", "year         = {2020}", "month        = sep"} {
		if !strings.Contains(w.Body.String(), s) {
			t.Errorf("no %q in\n%s", s, w.Body.String())
		}
	}
	w = f.get(t, "/incidents/no-such-incident.bib")
	mustStatus(t, w, http.StatusNotFound)
}
