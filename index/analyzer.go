package index

import (
	"bytes"
	"hash/maphash"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	"github.com/blevesearch/go-porterstemmer"
)

// The prose analyzer is bleve's English analyzer ("en": Unicode word
// segmentation, possessive removal, lower case, English stop words, Porter
// stemming) made faster without changing a single token:
//
//   - Text is cut into pieces at ASCII white space followed by an ASCII byte
//     (word segmentation never joins words across white space), and pieces
//     of pure ASCII are segmented by a direct implementation of the Unicode
//     word-boundary rules for ASCII (UAX #29), the others by bleve's Unicode
//     tokenizer. Tokens, offsets, positions and types are the same.
//   - Stems are memoised: the Porter stemmer is a pure function of the word.
//
// TestAnalyzerMatchesEnglish checks the equivalence on real and random text.
//
// The index keeps term positions (for phrase queries) but not the tokens'
// byte offsets, which only a highlighter needs and faildex's highlighter
// finds by analysing the stored text: fastEnglish, used for indexing and
// queries, sets every offset to zero, so that each term occurrence stores
// one byte for each instead of up to three; TextAnalyzer is the same
// analyzer with offsets.
const (
	fastEnglish        = "faildex_en"
	fastEnglishOffsets = "faildex_en_offsets"
)

// TextAnalyzer is Analyzer with the tokens' byte offsets in the text, for
// highlighting; its terms and positions are Analyzer's.
const TextAnalyzer = fastEnglishOffsets

func init() {
	err := registry.RegisterTokenizer(fastTokenizerName, func(map[string]any, *registry.Cache) (analysis.Tokenizer, error) {
		return &fastTokenizer{unicode: unicode.NewUnicodeTokenizer()}, nil
	})
	if err != nil {
		panic(err)
	}
	for _, name := range []string{fastEnglish, fastEnglishOffsets} {
		registerEnglish(name, name == fastEnglishOffsets)
	}
	registerWords()
}

// dropOffsets is the token filter that zeroes byte offsets.
type dropOffsets struct{}

func (dropOffsets) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, t := range input {
		t.Start, t.End = 0, 0
	}
	return input
}

func registerEnglish(name string, offsets bool) {
	err := registry.RegisterAnalyzer(name, func(config map[string]any, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(fastTokenizerName)
		if err != nil {
			return nil, err
		}
		poss, err := cache.TokenFilterNamed(en.PossessiveName)
		if err != nil {
			return nil, err
		}
		lower, err := cache.TokenFilterNamed(lowercase.Name)
		if err != nil {
			return nil, err
		}
		stop, err := cache.TokenFilterNamed(en.StopName)
		if err != nil {
			return nil, err
		}
		filters := []analysis.TokenFilter{poss, foldUnicode{}, lower, stop, stems}
		if !offsets {
			filters = append(filters, dropOffsets{})
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
	})
	if err != nil {
		panic(err)
	}
}

const fastTokenizerName = "faildex_unicode"

type fastTokenizer struct {
	unicode analysis.Tokenizer
}

// ASCII word-break classes (Unicode WordBreakProperty).
const (
	wbOther byte = iota
	wbLetter
	wbNumeric
	wbExtendNumLet // _
	wbMidLetter    // :
	wbMidNumLet    // . and ' (MidNumLetQ)
	wbMidNum       // , ;
)

var wbClass = func() (t [128]byte) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = wbLetter
		t[c-'a'+'A'] = wbLetter
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = wbNumeric
	}
	t['_'] = wbExtendNumLet
	t[':'] = wbMidLetter
	t['.'], t['\''] = wbMidNumLet, wbMidNumLet
	t[','], t[';'] = wbMidNum, wbMidNum
	return
}()

func isASCIISpace(b byte) bool {
	return b == ' ' || b == '\n' || b == '\t' || b == '\r' || b == '\v' || b == '\f'
}

func (t *fastTokenizer) Tokenize(input []byte) analysis.TokenStream {
	n := 0 // rough count of tokens, for one allocation
	for _, b := range input {
		if isASCIISpace(b) {
			n++
		}
	}
	tokens := t.appendTokens(make([]analysis.Token, 0, n+1), input)
	out := make(analysis.TokenStream, len(tokens))
	for i := range tokens {
		out[i] = &tokens[i]
	}
	return out
}

// appendTokens appends the tokens of input to tokens, as Tokenize returns
// them.
func (t *fastTokenizer) appendTokens(tokens []analysis.Token, input []byte) []analysis.Token {
	pos := 1
	for start := 0; start < len(input); {
		end := start
		ascii := true
		for end < len(input) {
			b := input[end]
			if b >= 0x80 {
				ascii = false
			} else if isASCIISpace(b) && (end+1 == len(input) || input[end+1] < 0x80) {
				break
			}
			end++
		}
		if ascii {
			tokens, pos = asciiWords(input, start, end, tokens, pos)
		} else {
			for _, tok := range t.unicode.Tokenize(input[start:end]) {
				tok.Start += start
				tok.End += start
				tok.Position = pos
				pos++
				tokens = append(tokens, *tok)
			}
		}
		start = end + 1
	}
	return tokens
}

// asciiWords appends the words of input[start:end], which is ASCII, by the
// Unicode word-boundary rules WB5-WB13b.
func asciiWords(input []byte, start, end int, tokens []analysis.Token, pos int) ([]analysis.Token, int) {
	class := func(i int) byte {
		if i >= end {
			return wbOther
		}
		return wbClass[input[i]]
	}
	for i := start; i < end; {
		c := class(i)
		if c != wbLetter && c != wbNumeric && c != wbExtendNumLet {
			i++
			continue
		}
		j := i + 1
		letters, digits := c == wbLetter, c == wbNumeric
		for j < end {
			prev, cur := class(j-1), class(j)
			if cur == wbLetter || cur == wbNumeric || cur == wbExtendNumLet {
				letters = letters || cur == wbLetter
				digits = digits || cur == wbNumeric
				j++
				continue
			}
			next := class(j + 1)
			join := false
			switch cur {
			case wbMidLetter:
				join = prev == wbLetter && next == wbLetter
			case wbMidNumLet:
				join = (prev == wbLetter && next == wbLetter) || (prev == wbNumeric && next == wbNumeric)
			case wbMidNum:
				join = prev == wbNumeric && next == wbNumeric
			}
			if !join {
				break
			}
			j += 2
		}
		typ := analysis.AlphaNumeric
		if digits && !letters {
			typ = analysis.Numeric
		}
		tokens = append(tokens, analysis.Token{Term: input[i:j], Start: i, End: j, Position: pos, Type: typ})
		pos++
		i = j
	}
	return tokens, pos
}

// stems is the memoising Porter stemmer: a fixed number of shards, each
// holding at most stemShardMax words (when a shard is full it is emptied).
var stems = &stemCache{seed: maphash.MakeSeed()}

const (
	stemShards   = 64
	stemShardMax = 1 << 14
)

type stemCache struct {
	seed   maphash.Seed
	shards [stemShards]struct {
		sync.RWMutex
		m map[string][]byte
	}
}

func (c *stemCache) Filter(input analysis.TokenStream) analysis.TokenStream {
	for _, token := range input {
		if token.KeyWord {
			continue
		}
		stem := c.stem(token.Term)
		token.Term = append(make([]byte, 0, len(stem)), stem...)
	}
	return input
}

// stem returns the Porter stem of term. The slice returned is shared: it
// must not be modified.
func (c *stemCache) stem(term []byte) []byte {
	sh := &c.shards[maphash.Bytes(c.seed, term)%stemShards]
	sh.RLock()
	stem, ok := sh.m[string(term)]
	sh.RUnlock()
	if ok {
		return stem
	}
	stem = analysis.BuildTermFromRunes(porterstemmer.StemWithoutLowerCasing(bytes.Runes(term)))
	sh.Lock()
	if sh.m == nil || len(sh.m) >= stemShardMax {
		sh.m = make(map[string][]byte, 256)
	}
	sh.m[string(term)] = stem
	sh.Unlock()
	return stem
}
