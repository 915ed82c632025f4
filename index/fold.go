package index

import (
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// foldUnicode is the token filter that puts every non-ASCII term into
// Unicode normalisation form NFKC and lower case (before bleve's lower-case
// filter, which truncates terms holding 'İ'), so that compatibility
// forms (fullwidth "ｃｒａｓｈ", ligatures "ﬁle", superscripts) and
// differently composed accents index and match as their plain forms. ASCII
// terms, nearly all of them, pass untouched. Offsets keep pointing at the
// text as written, so highlighting marks the original characters.
type foldUnicode struct{}

func (foldUnicode) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		if isASCII(t.Term) {
			continue
		}
		t.Term = []byte(Fold(string(t.Term)))
	}
	return input
}

// dotlessI undoes the dot that lower-casing 'İ' (U+0130) leaves as a
// combining mark, so that "İstanbul" and "Istanbul" are one word.
var dotlessI = strings.NewReplacer("i\u0307", "i")

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// Fold returns s as the analyzers see it before stemming: NFKC and lower
// case. Query words compared with index terms must go through it.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return dotlessI.Replace(strings.ToLower(norm.NFKC.String(s)))
		}
	}
	return strings.ToLower(s)
}

// WordsAnalyzer analyses the vocabulary field (FieldWords): words as
// written, folded (lower case, NFKC) but neither stemmed nor stop-listed.
// Completions, typo corrections and split or joined words are looked up
// in it, so that they work on words, not on stems.
const WordsAnalyzer = "faildex_words"

func registerWords() {
	err := registry.RegisterAnalyzer(WordsAnalyzer, func(config map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(fastTokenizerName)
		if err != nil {
			return nil, err
		}
		lower, err := cache.TokenFilterNamed(lowercase.Name)
		if err != nil {
			return nil, err
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: []analysis.TokenFilter{foldUnicode{}, lower, dropOffsets{}}}, nil
	})
	if err != nil {
		panic(err)
	}
}
