package index

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/faildex/faildex/index/indextest"
)

func analyzers(tb testing.TB) (want, got analysis.Analyzer) {
	tb.Helper()
	cache := registry.NewCache()
	en, err := cache.AnalyzerNamed(en.AnalyzerName)
	if err != nil {
		tb.Fatal(err)
	}
	// The reference is bleve's English analyzer with the Unicode folding
	// step inserted before lower-casing, as in the prose analyzer.
	d := *en.(*analysis.DefaultAnalyzer)
	d.TokenFilters = append([]analysis.TokenFilter{d.TokenFilters[0], foldUnicode{}}, d.TokenFilters[1:]...)
	want = &d
	got, err = cache.AnalyzerNamed(TextAnalyzer)
	if err != nil {
		tb.Fatal(err)
	}
	return want, got
}

func sameTokens(tb testing.TB, want, got analysis.Analyzer, text string) {
	tb.Helper()
	w := want.Analyze([]byte(text))
	g := got.Analyze([]byte(text))
	if len(w) != len(g) {
		tb.Fatalf("%q: %d tokens, en gives %d:\n got %v\nwant %v", Truncate(text, 200), len(g), len(w), g, w)
	}
	for i := range w {
		if string(w[i].Term) != string(g[i].Term) || w[i].Start != g[i].Start || w[i].End != g[i].End ||
			w[i].Position != g[i].Position || w[i].Type != g[i].Type || w[i].KeyWord != g[i].KeyWord {
			tb.Fatalf("%q: token %d is %v, en gives %v", Truncate(text, 200), i, g[i], w[i])
		}
	}
}

// TestAnalyzerMatchesEnglish checks that the prose analyzer (with offsets)
// produces exactly the tokens of bleve's English analyzer with Unicode
// folding, on the bundled
// and shared reports and on random text built to hit the word-boundary
// rules, and that the indexing analyzer differs only in having no offsets.
func TestAnalyzerMatchesEnglish(t *testing.T) {
	want, got := analyzers(t)
	files, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	texts, csvs := realReports(t)
	files = append(append(files, texts...), csvs...)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sameTokens(t, want, got, string(b))
	}
	pieces := []string{"a", "Z", "e", "9", "0", ".", ",", ";", ":", "'", "_", "-", " ", "  ", "\n", "\r\n", "\t", "\"", "(", ")",
		"[", "]", "!", "/", "@", "#", "$", "%", "&", "*", "+", "=", "?", "s", "'s", "’s", "’", "é", "É", "ß", "£", "€", "\u00a0",
		"\u2003", "\u0301", "\u200d", "\u200b", "中文", "カタカナ", "한국", "🙂", "1.5", "3,000", "U.S.A.", "e.g.", "can't", "http://x.y/z",
		"a_b", "__", "10:30", "x:y", "The", "running", "generalization", "sky's", "\x00", "\x7f", "\v", "\f", "ǅ", "İ"}
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 60000; i++ {
		var b strings.Builder
		for n := 1 + r.IntN(12); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		sameTokens(t, want, got, b.String())
	}
	idx, err := registry.NewCache().AnalyzerNamed(Analyzer)
	if err != nil {
		t.Fatal(err)
	}
	text := "The Heartbleed bug's \"wake word\" 3.14 e-mail"
	a, b := idx.Analyze([]byte(text)), got.Analyze([]byte(text))
	if len(a) != len(b) {
		t.Fatalf("%d tokens without offsets, %d with", len(a), len(b))
	}
	for i := range a {
		if string(a[i].Term) != string(b[i].Term) || a[i].Position != b[i].Position || a[i].Start != 0 || a[i].End != 0 {
			t.Errorf("token %d without offsets: %v; with: %v", i, a[i], b[i])
		}
	}
}

func BenchmarkAnalyzer(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(indextest.DataDir(), "2014-heartbleed-openssl.txt"))
	if err != nil {
		b.Fatal(err) // data/ is part of the repository
	}
	want, got := analyzers(b)
	for _, a := range []struct {
		name string
		an   analysis.Analyzer
	}{{"en", want}, {"faildex_en", got}} {
		b.Run(a.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				a.an.Analyze(append([]byte(nil), data...))
			}
		})
	}
}

// TestFoldUnicode checks that compatibility and case forms index as their
// plain forms, with offsets into the text as written.
func TestFoldUnicode(t *testing.T) {
	_, a := analyzers(t)
	for text, want := range map[string]string{
		"ｃｒａｓｈ":    "crash",
		"CRASH":    "crash",
		"ﬁle":      "file",
		"İstanbul": "istanbul",
		"Ｅｑｕｉｆａｘ":  "equifax",
	} {
		toks := a.Analyze([]byte(text))
		if len(toks) != 1 || string(toks[0].Term) != want || toks[0].Start != 0 || toks[0].End != len(text) {
			t.Errorf("%q analyses to %v, want one token %q over the whole text", text, toks, want)
		}
	}
	if got, want := Fold("Ｃｒａｓｈ"), "crash"; got != want {
		t.Errorf("Fold = %q, want %q", got, want)
	}
}
