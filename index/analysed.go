package index

import (
	"fmt"
	"sync"

	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/mapping"
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
	analysers   analyserPool
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
	a := d.maker.analysers.get()
	defer d.maker.analysers.put(a)
	a.startDocument()
	words := d.fields[len(d.fields)-1]
	vocab := &a.words
	for _, f := range d.fields[:len(d.fields)-1] {
		var wc *termCounter
		if f.vocabulary {
			wc = vocab
		}
		f.length, f.freqs, f.freqsSize = a.analyse(f.value, wc)
	}
	words.length, words.freqs, words.freqsSize = vocab.finish(a)
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

	length    int
	freqs     bindex.TokenFrequencies
	freqsSize int // freqs.Size(), which walks every location
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
		n += f.freqsSize
	}
	return n
}
