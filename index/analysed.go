package index

import (
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/registry"
	bindex "github.com/blevesearch/bleve_index_api"
)

// A build indexes each report as the document the mapping makes of
// Document's map, except that its prose fields and its vocabulary field
// (FieldWords) are analysed together, in one pass over each prose text:
// every text is cut into words once, and each word gives both its
// vocabulary term (folded) and its prose term (folded, possessive removed,
// stop words dropped, stemmed). The mapping would analyse the vocabulary's
// text, a copy of most of the prose, a second time, through bleve's
// token streams. The terms, frequencies, positions and lengths are the
// analyzers' own: TestAnalysedDocumentMatchesMapping compares them.

// A docMaker makes the documents of a build. It is safe for concurrent use.
type docMaker struct {
	mapping     mapping.IndexMapping
	proseOpts   bindex.FieldIndexingOptions
	wordsOpts   bindex.FieldIndexingOptions
	vocabulary  map[string]bool // the prose fields whose words are in FieldWords
	analysers   sync.Pool       // *proseAnalyser
	proseFields map[string]bool
}

func newDocMaker(im mapping.IndexMapping) (*docMaker, error) {
	impl, ok := im.(*mapping.IndexMappingImpl)
	if !ok {
		return nil, fmt.Errorf("index: mapping of type %T", im)
	}
	fieldOpts := func(name string) (bindex.FieldIndexingOptions, error) {
		dm := impl.DefaultMapping.Properties[name]
		if dm == nil || len(dm.Fields) != 1 {
			return 0, fmt.Errorf("index: no single mapping of field %q", name)
		}
		fm := dm.Fields[0]
		if want := map[bool]string{true: WordsAnalyzer, false: Analyzer}[name == FieldWords]; fm.Analyzer != want {
			return 0, fmt.Errorf("index: field %q is analysed by %q, not %q", name, fm.Analyzer, want)
		}
		return fm.Options(), nil
	}
	m := &docMaker{mapping: im, vocabulary: map[string]bool{}, proseFields: map[string]bool{}}
	var err error
	if m.wordsOpts, err = fieldOpts(FieldWords); err != nil {
		return nil, err
	}
	if m.wordsOpts.SkipFreqNorm() || m.wordsOpts.IncludeTermVectors() {
		return nil, fmt.Errorf("index: vocabulary field has options %v", m.wordsOpts)
	}
	for i, name := range ProseFields() {
		opts, err := fieldOpts(name)
		if err != nil {
			return nil, err
		}
		if i > 0 && opts != m.proseOpts {
			return nil, fmt.Errorf("index: prose field %q has options %v, not %v", name, opts, m.proseOpts)
		}
		if opts.SkipFreqNorm() || !opts.IncludeTermVectors() {
			return nil, fmt.Errorf("index: prose field %q has options %v", name, opts)
		}
		m.proseOpts = opts
		m.proseFields[name] = true
	}
	for _, name := range VocabularyFields() {
		m.vocabulary[name] = true
	}
	m.analysers.New = func() any {
		a, err := newProseAnalyser()
		if err != nil {
			panic(err) // the analysis components are registered by this package
		}
		return a
	}
	if _, err := newProseAnalyser(); err != nil {
		return nil, err
	}
	return m, nil
}

// document returns the document of an incident, and Document's map of it
// without the prose and vocabulary fields. The document's prose and
// vocabulary fields are analysed when the index first asks for one of
// their analyses.
func (m *docMaker) document(in *Incident) (*document.Document, map[string]any, error) {
	fields, err := documentWithoutWords(in)
	if err != nil {
		return nil, nil, err
	}
	shared := &docAnalysis{maker: m}
	for _, name := range ProseFields() {
		v, ok := fields[name].(string)
		if !ok {
			continue
		}
		delete(fields, name)
		shared.fields = append(shared.fields, &analysedField{
			name: name, value: []byte(v), opts: m.proseOpts, shared: shared,
			index: len(shared.fields), vocabulary: m.vocabulary[name],
		})
	}
	words := &analysedField{name: FieldWords, opts: m.wordsOpts, shared: shared, index: len(shared.fields)}
	first := true
	for _, name := range VocabularyFields() {
		for _, f := range shared.fields {
			if f.name == name {
				if !first {
					words.value = append(words.value, '\n')
				}
				words.value = append(words.value, f.value...)
				first = false
			}
		}
	}
	shared.fields = append(shared.fields, words)
	doc := document.NewDocument(in.ID)
	if err := m.mapping.MapDocument(doc, fields); err != nil {
		return nil, nil, err
	}
	for _, f := range shared.fields {
		doc.AddField(f)
	}
	return doc, fields, nil
}

// docAnalysis is the analysis of a document's prose and vocabulary fields,
// made once, for all of them, when the first is asked for.
type docAnalysis struct {
	maker  *docMaker
	once   sync.Once
	fields []*analysedField // the prose fields, then the vocabulary field
}

func (d *docAnalysis) analyse() {
	a := d.maker.analysers.Get().(*proseAnalyser)
	defer d.maker.analysers.Put(a)
	words := d.fields[len(d.fields)-1]
	n := 0
	for _, f := range d.fields[:len(d.fields)-1] {
		if f.vocabulary {
			n += len(f.value) / 8 // about one word in eight bytes of prose
		}
	}
	vocab := newFreqCounter(false, n)
	for _, f := range d.fields[:len(d.fields)-1] {
		var wc *freqCounter
		if f.vocabulary {
			wc = vocab
		}
		f.length, f.freqs = a.analyse(f.value, wc)
	}
	words.length, words.freqs = vocab.length, vocab.freqs
}

// analysedField is a prose or vocabulary field analysed by its document's
// docAnalysis. It is a bleve document.Field.
type analysedField struct {
	name       string
	value      []byte
	opts       bindex.FieldIndexingOptions
	shared     *docAnalysis
	index      int
	vocabulary bool // a prose field whose words are in FieldWords

	length int
	freqs  bindex.TokenFrequencies
}

func (f *analysedField) Name() string                                      { return f.name }
func (f *analysedField) ArrayPositions() []uint64                          { return nil }
func (f *analysedField) Options() bindex.FieldIndexingOptions              { return f.opts }
func (f *analysedField) Value() []byte                                     { return f.value }
func (f *analysedField) NumPlainTextBytes() uint64                         { return uint64(len(f.value)) }
func (f *analysedField) EncodedFieldType() byte                            { return 't' }
func (f *analysedField) AnalyzedLength() int                               { return f.length }
func (f *analysedField) AnalyzedTokenFrequencies() bindex.TokenFrequencies { return f.freqs }
func (f *analysedField) Analyze()                                          { f.shared.once.Do(f.shared.analyse) }

func (f *analysedField) Size() int {
	n := 64 + len(f.name) + len(f.value)
	if f.freqs != nil {
		n += f.freqs.Size()
	}
	return n
}

// A proseAnalyser analyses prose texts; it is not safe for concurrent use.
type proseAnalyser struct {
	tok    *fastTokenizer
	tokens []analysis.Token
	// Filters of non-ASCII words, in the analyzers' order.
	possessive, lower, stop analysis.TokenFilter
	stopWords               analysis.TokenMap
	one                     [1]*analysis.Token
}

func newProseAnalyser() (*proseAnalyser, error) {
	cache := registry.NewCache()
	a := &proseAnalyser{tok: &fastTokenizer{unicode: unicode.NewUnicodeTokenizer()}}
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
	return a, nil
}

// analyse returns the number of terms of text (Analyzer's) and their
// frequencies and positions, and counts its vocabulary terms
// (WordsAnalyzer's) into words, unless words is nil.
func (a *proseAnalyser) analyse(text []byte, words *freqCounter) (int, bindex.TokenFrequencies) {
	a.tokens = a.tok.appendTokens(a.tokens[:0], text)
	prose := newFreqCounter(true, len(a.tokens))
	// Lowered ASCII terms are written to one buffer per text.
	var buf []byte
	for i := range a.tokens {
		t := &a.tokens[i]
		if !isASCII(t.Term) {
			a.analyseUnicode(t, prose, words)
			continue
		}
		term := t.Term
		if hasUpperASCII(term) {
			if cap(buf)-len(buf) < len(term) {
				buf = make([]byte, 0, max(4096, len(term)))
			}
			start := len(buf)
			for _, c := range term {
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				buf = append(buf, c)
			}
			term = buf[start:len(buf):len(buf)]
		}
		if words != nil {
			words.add(term, 0)
		}
		// Removing a final "'s" and lower-casing commute on ASCII.
		if n := len(term); n >= 2 && term[n-1] == 's' && term[n-2] == '\'' {
			term = term[:n-2]
		}
		if a.stopWords[string(term)] {
			continue
		}
		prose.add(stems.stem(term), t.Position)
	}
	prose.finish()
	return prose.length, prose.freqs
}

// analyseUnicode analyses a word holding non-ASCII characters through the
// analyzers' own filters.
func (a *proseAnalyser) analyseUnicode(t *analysis.Token, prose, words *freqCounter) {
	if words != nil {
		w := analysis.Token{Term: append([]byte(nil), t.Term...), Position: t.Position}
		a.one[0] = &w
		out := a.lower.Filter(foldUnicode{}.Filter(a.one[:]))
		for _, o := range out {
			words.add(o.Term, 0)
		}
	}
	p := analysis.Token{Term: append([]byte(nil), t.Term...), Position: t.Position}
	a.one[0] = &p
	out := a.stop.Filter(a.lower.Filter(foldUnicode{}.Filter(a.possessive.Filter(a.one[:]))))
	for _, o := range out {
		prose.add(stems.stem(o.Term), o.Position)
	}
}

func hasUpperASCII(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// A freqCounter counts the terms of a field as analysis.TokenFrequency
// does, with positions (and zero offsets) when locations is set.
type freqCounter struct {
	locations bool
	length    int
	freqs     bindex.TokenFrequencies
	slab      []bindex.TokenFreq // where the next terms' TokenFreqs are allocated
	// Occurrences, in order, while counting with locations.
	terms     []*bindex.TokenFreq
	positions []int
}

// newFreqCounter returns a counter for about n occurrences.
func newFreqCounter(locations bool, n int) *freqCounter {
	// Distinct terms are about a third of the occurrences in a report's
	// prose fields.
	distinct := n/3 + 8
	c := &freqCounter{
		locations: locations,
		freqs:     make(bindex.TokenFrequencies, distinct),
		slab:      make([]bindex.TokenFreq, 0, distinct),
	}
	if locations {
		c.terms = make([]*bindex.TokenFreq, 0, n)
		c.positions = make([]int, 0, n)
	}
	return c
}

// add counts one occurrence of term at position pos. term must not change
// afterwards.
func (c *freqCounter) add(term []byte, pos int) {
	c.length++
	tf, ok := c.freqs[string(term)]
	if !ok {
		if len(c.slab) == cap(c.slab) {
			c.slab = make([]bindex.TokenFreq, 0, max(64, cap(c.slab)/2))
		}
		c.slab = append(c.slab, bindex.TokenFreq{Term: term})
		tf = &c.slab[len(c.slab)-1]
		c.freqs[string(term)] = tf
	}
	tf.SetFrequency(tf.Frequency() + 1)
	if c.locations {
		c.terms = append(c.terms, tf)
		c.positions = append(c.positions, pos)
	}
}

// finish sets the locations of every term, with one allocation for all of
// them and one for all their lists.
func (c *freqCounter) finish() {
	if !c.locations {
		return
	}
	locs := make([]bindex.TokenLocation, len(c.terms))
	ptrs := make([]*bindex.TokenLocation, len(c.terms))
	next := 0
	for _, tf := range c.freqs {
		n := tf.Frequency()
		tf.Locations = ptrs[next : next : next+n]
		next += n
	}
	for i, tf := range c.terms {
		locs[i].Position = c.positions[i]
		tf.Locations = append(tf.Locations, &locs[i])
	}
	c.terms, c.positions, c.slab = nil, nil, nil
}
