package search

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/faildex/faildex/index"
)

// TestHighlightMatchesWholeText holds the highlighting of a page of hits
// (fields narrowed to those whose postings hold a query term, pieces
// analysed only around probes, spans cut where the fragments end, escaping
// without copies) to the plain way: every field whose folded text may match
// analysed whole, every matching token marked, fragments cut from all the
// spans and escaped with html.EscapeString. Over every incident, for words,
// prefixes, phrases, field scopes, synonyms and corrections.
func TestHighlightMatchesWholeText(t *testing.T) {
	eachIndex(t, testHighlightMatchesWholeText)
}

func testHighlightMatchesWholeText(t *testing.T, e *Engine) {
	ctx := context.Background()
	docs := e.facets.all.ToArray()
	checked, marked := 0, 0
	for _, q := range []string{
		"software", "outage", "the software update", `"wake word" alexa`, "recor*", "title:boeing OR summary:amazon",
		"causes:sensor firmware", "e-mail & <script>", "softwre", "Ünïcode café", "data breach -amazon", "sys* failure",
	} {
		p, err := e.plan(ctx, Request{Query: q})
		if err != nil {
			t.Fatal(err)
		}
		for from := 0; from < len(docs); from += 20 {
			page := make([]scored, 0, 20)
			for _, d := range docs[from:min(from+20, len(docs))] {
				page = append(page, scored{doc: d})
			}
			pf, err := e.pageFields(p.terms, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				in, err := e.storedIncident(c.doc)
				if err != nil {
					t.Fatal(err)
				}
				gotTitle, got := e.highlight(in, pf.narrow(in, c.doc))
				wantTitle, want := wholeHighlight(e, in, p.terms)
				if gotTitle != wantTitle {
					t.Fatalf("%q, %s: title %q, whole-text %q", q, in.ID, gotTitle, wantTitle)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("%q, %s: fragments differ (-whole +got):\n%s", q, in.ID, diff)
				}
				checked++
				if len(got) > 0 {
					marked++
				}
			}
		}
	}
	t.Logf("%d highlighted hits agree, %d with fragments", checked, marked)
	if marked < checked/4 {
		t.Errorf("only %d of %d hits have fragments: the test does not exercise highlighting", marked, checked)
	}
}

// wholeHighlight is highlight done the plain way (see
// TestHighlightMatchesWholeText).
func wholeHighlight(e *Engine, in *index.Incident, hs highlightTerms) (string, []Fragment) {
	spans := func(text string, hs highlightTerms) []span {
		if len(hs) == 0 || text == "" || !hs.mayMatch(strings.ToLower(text)) {
			return nil
		}
		var out []span
		for _, tok := range e.analyzer.Analyze([]byte(text)) {
			if hs.match(string(tok.Term)) {
				out = append(out, span{tok.Start, tok.End})
			}
		}
		return out
	}
	marked := func(text string, from, to int, sp []span) string {
		var b strings.Builder
		pos := from
		for _, s := range sp {
			if s.start < pos || s.end > to {
				continue
			}
			b.WriteString(html.EscapeString(text[pos:s.start]) + "<mark>" + html.EscapeString(text[s.start:s.end]) + "</mark>")
			pos = s.end
		}
		b.WriteString(html.EscapeString(text[pos:to]))
		return b.String()
	}
	frags := func(text string, sp []span) []string {
		var out []string
		for i := 0; i < len(sp) && len(out) < fragmentsByField; {
			start := snapBack(text, sp[i].start-fragmentLead)
			end := snapForward(text, start+fragmentBytes)
			if end < sp[i].end {
				end = snapForward(text, sp[i].end)
			}
			j := i
			for j < len(sp) && sp[j].end <= end {
				j++
			}
			f := marked(text, start, end, sp[i:j])
			if start > 0 {
				f = "… " + f
			}
			if end < len(text) {
				f += " …"
			}
			out = append(out, f)
			i = j
		}
		return out
	}
	title := marked(in.Title, 0, len(in.Title), spans(in.Title, hs.forField("title")))
	out := []Fragment{}
	if len(hs) == 0 {
		return title, out
	}
	for _, f := range index.TextFields[1:] {
		text := *f.Get(in)
		if sp := spans(text, hs.forField(f.Name)); len(sp) > 0 {
			out = append(out, Fragment{Field: f.Name, Label: f.Label, HTML: frags(text, sp)})
		}
	}
	for _, c := range index.Taxonomy {
		text := in.Taxonomy[c.Name].Rationale
		if sp := spans(text, hs.forField(index.FieldRationale)); len(sp) > 0 {
			out = append(out, Fragment{Field: index.FieldRationale, Category: c.Name, Label: c.Label + " rationale", HTML: frags(text, sp)})
		}
	}
	if src := strings.Join(in.Sources, "\n"); src != "" {
		if sp := spans(src, hs.forField(index.FieldSources)); len(sp) > 0 {
			out = append(out, Fragment{Field: index.FieldSources, Label: "Sources", HTML: frags(src, sp)})
		}
	}
	return title, out
}

// TestEscapeMatchesHTML holds escape to html.EscapeString.
func TestEscapeMatchesHTML(t *testing.T) {
	for _, s := range []string{"", "plain", `<a href="x">'&'</a>`, "&&", "é<ü>", "\x00<", "tail&"} {
		var b strings.Builder
		escape(&b, s)
		if got, want := b.String(), html.EscapeString(s); got != want {
			t.Errorf("escape(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestIndexFold holds indexFold to strings.Index over the folded text.
func TestIndexFold(t *testing.T) {
	texts := []string{"", "Software", "SOFTWARE software SoftWare", "a soft-ware softwar", "xSx sx SX 3D 3d", "The Day, the DAI dai."}
	for _, text := range texts {
		lower := strings.ToLower(text)
		for _, p := range []string{"s", "softwar", "sx", "3d", "d", "dai", "x", "z", "S", "day,", "."} {
			for from := 0; from <= len(text); from++ {
				want := strings.Index(lower[from:], p)
				if want >= 0 {
					want += from
				}
				if p != strings.ToLower(p) {
					want = -1 // folded text has no capitals
				}
				if got := indexFold(text, from, p); got != want {
					t.Errorf("indexFold(%q, %d, %q) = %d, want %d", text, from, p, got, want)
				}
			}
		}
	}
	for _, s := range []string{"", "ascii only, 16+ bytes long.", "é", "0123456789abcdeé", "0123456é"} {
		want := true
		for _, r := range s {
			want = want && r < 0x80
		}
		if got := isASCII(s); got != want {
			t.Errorf("isASCII(%q) = %v", s, got)
		}
	}
}
