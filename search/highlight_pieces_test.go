package search

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

// TestSpansMatchWholeTextAnalysis checks that analysing only the pieces of a
// text that may match (spans) marks exactly what analysing the whole text
// would, for every word of the bundled reports used as a query term.
func TestSpansMatchWholeTextAnalysis(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if len(files) == 0 {
		t.Fatalf("no bundled reports in %s", indextest.DataDir())
	}
	e := &Engine{analyzer: index.NewMapping().AnalyzerNamed(index.TextAnalyzer)}
	var texts []string
	vocab := map[string]bool{}
	for _, f := range files[:min(len(files), 8)] {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		in, _, err := index.ParseText(f, "x", b)
		if err != nil {
			t.Fatal(err)
		}
		for _, tf := range index.TextFields {
			texts = append(texts, *tf.Get(&in))
		}
		for _, cl := range in.Taxonomy {
			texts = append(texts, cl.Rationale)
		}
	}
	texts = append(texts, "Ünïcode wörds,\u00a0non-breaking\u2003spaces e\u0301t\u200dc. ÉCOLE l'été 3.14 U.S.A. can't e-mail\n\tend ")
	for _, tx := range texts {
		for _, tok := range e.analyzer.Analyze([]byte(tx)) {
			vocab[string(tok.Term)] = true
		}
	}
	whole := func(text string, hs highlightTerms) []span {
		if !hs.mayMatch(strings.ToLower(text)) {
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
	n := 0
	for term := range vocab {
		hs := highlightTerms{{terms: map[string]bool{term: true}}}
		if len(term) >= 3 {
			hs = append(hs, matcher{terms: map[string]bool{}, prefix: term[:3]})
		}
		for _, tx := range texts {
			got, want := e.spans(tx, hs), whole(tx, hs)
			if len(got) != len(want) {
				t.Fatalf("term %q: %d spans, whole-text analysis %d in %.60q", term, len(got), len(want), tx)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("term %q: span %d is %v, whole-text analysis %v", term, i, got[i], want[i])
				}
			}
			n++
		}
	}
	t.Logf("%d term-text pairs agree", n)
}
