package index

import (
	"sync"
	"unsafe"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	bindex "github.com/blevesearch/bleve_index_api"
)

// A build's analysis of prose (docAnalysis) looks each word up once in a
// cache of the words its analyser has seen: a word as written gives its
// vocabulary term and its prose term (or none, for a stop word) without
// being lower-cased, stop-listed or stemmed again. Terms are numbered, so
// that a field's terms are counted in slices indexed by term rather than
// in maps keyed by their text; only the counts of a field's distinct terms
// go into the map bleve is given.

// maxCachedWords bounds the words an analyser caches: when it holds more,
// its cache is emptied before the next document. Reports repeat most of
// their words, so a cache of this size misses rarely, and it stays a few
// megabytes per analyser.
const maxCachedWords = 1 << 17

// analyserPool keeps the analysers of a docMaker for as long as the maker
// lives, so that their caches last the whole build (a sync.Pool drops its
// items at garbage collections, which a build makes many of).
type analyserPool struct {
	mu   sync.Mutex
	free []*proseAnalyser
}

func (p *analyserPool) get() *proseAnalyser {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		a := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return a
	}
	p.mu.Unlock()
	a, err := newProseAnalyser()
	if err != nil {
		panic(err) // the analysis components are registered by this package
	}
	return a
}

func (p *analyserPool) put(a *proseAnalyser) {
	p.mu.Lock()
	p.free = append(p.free, a)
	p.mu.Unlock()
}

// A proseAnalyser analyses prose texts; it is not safe for concurrent use.
type proseAnalyser struct {
	tok    *fastTokenizer
	tokens []analysis.Token
	// Filters of non-ASCII words, in the analyzers' order.
	possessive, lower, stop analysis.TokenFilter
	stopWords               analysis.TokenMap
	one                     [1]*analysis.Token

	// cache holds the terms of each word seen, by the word as written.
	cache    map[string]wordTerms
	maxWords int // the bound of cache (maxCachedWords)
	// Terms by number: as bytes (shared by every document that has them,
	// never modified) and as strings (the keys of bleve's maps).
	ids   map[string]int32
	terms [][]byte
	names []string

	prose termCounter // the prose field being analysed
	words termCounter // the vocabulary field of the document
}

// wordTerms are the numbers of a word's terms: its vocabulary term and its
// prose term, or noTerm.
type wordTerms struct{ word, prose int32 }

// noTerm is the term of a word that has none (a stop word's prose term).
const noTerm = -1

func newProseAnalyser() (*proseAnalyser, error) {
	cache := registry.NewCache()
	a := &proseAnalyser{
		tok:      &fastTokenizer{unicode: unicode.NewUnicodeTokenizer()},
		maxWords: maxCachedWords,
		prose:    termCounter{locations: true},
	}
	var err error
	if a.possessive, err = cache.TokenFilterNamed(en.PossessiveName); err != nil {
		return nil, err
	}
	if a.lower, err = cache.TokenFilterNamed(lowercase.Name); err != nil {
		return nil, err
	}
	if a.stop, err = cache.TokenFilterNamed(en.StopName); err != nil {
		return nil, err
	}
	if a.stopWords, err = cache.TokenMapNamed(en.StopName); err != nil {
		return nil, err
	}
	a.clearCache()
	return a, nil
}

// clearCache forgets every word and term. Documents already analysed keep
// their terms.
func (a *proseAnalyser) clearCache() {
	a.cache = make(map[string]wordTerms, 1024)
	a.ids = make(map[string]int32, 1024)
	a.terms, a.names = nil, nil
	// Every slot is zero between fields; the slices only shrink.
	a.prose.slot, a.words.slot = nil, nil
}

// startDocument prepares the analysis of a document's fields: the
// vocabulary count starts empty, and the cache is emptied when it is full.
func (a *proseAnalyser) startDocument() {
	if len(a.cache) > a.maxWords {
		a.clearCache()
	}
	a.words.reset()
}

// analyse returns the number of terms of text (Analyzer's), their
// frequencies and positions and the frequencies' size, and counts its vocabulary terms
// (WordsAnalyzer's) into words, unless words is nil.
func (a *proseAnalyser) analyse(text []byte, words *termCounter) (length int, freqs bindex.TokenFrequencies, size int) {
	a.tokens = a.tok.appendTokens(a.tokens[:0], text)
	a.prose.reset()
	for i := range a.tokens {
		t := &a.tokens[i]
		e, ok := a.cache[string(t.Term)]
		if !ok {
			e = a.wordTerms(t.Term)
			a.cache[string(t.Term)] = e
		}
		if words != nil && e.word != noTerm {
			words.add(e.word, 0, len(a.terms))
		}
		if e.prose != noTerm {
			a.prose.add(e.prose, t.Position, len(a.terms))
		}
	}
	return a.prose.finish(a)
}

// wordTerms analyses a word as the analyzers do: folded (NFKC, lower case)
// for the vocabulary; for prose, without its possessive "'s", folded, and
// stemmed unless it is a stop word. Each filter makes at most one token of
// one.
func (a *proseAnalyser) wordTerms(word []byte) wordTerms {
	e := wordTerms{word: noTerm, prose: noTerm}
	if isASCII(word) {
		lower := make([]byte, len(word))
		for i, c := range word {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		e.word = a.intern(lower)
		// Removing a final "'s" and lower-casing commute on ASCII.
		if n := len(lower); n >= 2 && lower[n-1] == 's' && lower[n-2] == '\'' {
			lower = lower[:n-2]
		}
		if !a.stopWords[string(lower)] {
			e.prose = a.intern(stems.stem(lower))
		}
		return e
	}
	w := analysis.Token{Term: append([]byte(nil), word...)}
	a.one[0] = &w
	if out := a.lower.Filter(foldUnicode{}.Filter(a.one[:])); len(out) > 0 {
		e.word = a.intern(out[0].Term)
	}
	p := analysis.Token{Term: append([]byte(nil), word...)}
	a.one[0] = &p
	if out := a.stop.Filter(a.lower.Filter(foldUnicode{}.Filter(a.possessive.Filter(a.one[:])))); len(out) > 0 {
		e.prose = a.intern(stems.stem(out[0].Term))
	}
	return e
}

// intern returns the number of a term, numbering it if it is new.
func (a *proseAnalyser) intern(term []byte) int32 {
	if id, ok := a.ids[string(term)]; ok {
		return id
	}
	id := int32(len(a.terms))
	name := string(term)
	a.ids[name] = id
	a.terms = append(a.terms, []byte(name))
	a.names = append(a.names, name)
	return id
}

// A termCounter counts the terms of a field as analysis.TokenFrequency
// does, with positions (and zero offsets) when locations is set.
type termCounter struct {
	locations bool
	length    int
	slot      []int32 // by term: 1 + its index in ids, or 0 when not seen yet
	ids       []int32 // the distinct terms, in order of first occurrence
	freq      []int32 // by index in ids
	occ       []int32 // with locations: each occurrence's index in ids
	pos       []int32 // and its position
}

func (c *termCounter) reset() {
	c.length = 0
	c.ids, c.freq, c.occ, c.pos = c.ids[:0], c.freq[:0], c.occ[:0], c.pos[:0]
}

// add counts one occurrence of term id at position pos; terms is the
// number of terms the analyser knows.
func (c *termCounter) add(id int32, pos, terms int) {
	c.length++
	if int(id) >= len(c.slot) {
		c.slot = append(c.slot, make([]int32, terms+terms/2+1024-len(c.slot))...)
	}
	k := c.slot[id]
	if k == 0 {
		c.ids = append(c.ids, id)
		c.freq = append(c.freq, 0)
		k = int32(len(c.ids))
		c.slot[id] = k
	}
	c.freq[k-1]++
	if c.locations {
		c.occ = append(c.occ, k-1)
		c.pos = append(c.pos, int32(pos))
	}
}

// finish returns the field's length and its term frequencies (with their
// locations), in three allocations besides the map, and their size as
// TokenFrequencies.Size computes it; it zeroes the slots.
func (c *termCounter) finish(a *proseAnalyser) (length int, freqs bindex.TokenFrequencies, size int) {
	freqs = make(bindex.TokenFrequencies, len(c.ids))
	tfs := make([]bindex.TokenFreq, len(c.ids))
	var locs []bindex.TokenLocation
	var ptrs []*bindex.TokenLocation
	if c.locations {
		locs = make([]bindex.TokenLocation, len(c.occ))
		ptrs = make([]*bindex.TokenLocation, len(c.occ))
	}
	next := 0
	for i, id := range c.ids {
		tf := &tfs[i]
		tf.Term = a.terms[id]
		n := int(c.freq[i])
		tf.SetFrequency(n)
		if c.locations {
			tf.Locations = ptrs[next : next : next+n]
			next += n
		}
		freqs[a.names[id]] = tf
		c.slot[id] = 0
		size += 2 * len(tf.Term)
	}
	for j, k := range c.occ {
		locs[j].Position = int(c.pos[j])
		tf := &tfs[k]
		tf.Locations = append(tf.Locations, &locs[j])
	}
	size += int(unsafe.Sizeof(freqs)) + len(c.ids)*int(unsafe.Sizeof("")+unsafe.Sizeof(&tfs[0])+unsafe.Sizeof(tfs[0])) +
		len(c.occ)*int(unsafe.Sizeof(bindex.TokenLocation{}))
	return c.length, freqs, size
}
