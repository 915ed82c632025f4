package index

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	bindex "github.com/blevesearch/bleve_index_api"
)

// Index field names beyond the prose fields (TextFields) and the category
// fields (Taxonomy[i].Name).
const (
	FieldRationale = "rationale"     // all categories' rationales, prose
	FieldSources   = "sources"       // the Sources section, prose
	FieldPublished = "published"     // datetime
	FieldYear      = "year"          // keyword, the publication year
	FieldArticles  = "article_count" // number of cited articles
	FieldTitleSort = "title_sort"    // keyword, folded title for sorting
	FieldStored    = "_src"          // the stored incident (stored.go), not indexed
	FieldIDWords   = "id_words"      // the words of the incident's id, prose
	FieldWords     = "words"         // vocabulary: every prose word as written (WordsAnalyzer)
)

// ProseFields lists every analysed prose field in the index: the incident's
// TextFields plus rationale, sources and the words of the id.
func ProseFields() []string {
	names := make([]string, 0, len(TextFields)+3)
	for _, f := range TextFields {
		names = append(names, f.Name)
	}
	return append(names, FieldRationale, FieldSources, FieldIDWords)
}

// Analyzer is the analyzer of every prose field: bleve's English analyzer
// ("en"), made faster with identical output (analyzer.go).
const Analyzer = fastEnglish

// NewMapping returns the index mapping: strict (no dynamic fields), English
// analysis on prose with positions for phrase queries, each category a
// multi-valued keyword field with doc values, and the incident itself stored
// once, in the binary form of stored.go, beside its card.
func NewMapping() mapping.IndexMapping {
	prose := func() *mapping.FieldMapping {
		f := mapping.NewTextFieldMapping()
		f.Analyzer = Analyzer
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = true
		f.DocValues = false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := mapping.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = true
		return f
	}
	doc := mapping.NewDocumentStaticMapping()
	for _, name := range ProseFields() {
		doc.AddFieldMappingsAt(name, prose())
	}
	for _, c := range Facets {
		doc.AddFieldMappingsAt(c.Name, kw())
	}
	names := kw()
	names.DocValues = false
	doc.AddFieldMappingsAt(FieldOrgNames, names)
	words := mapping.NewTextFieldMapping()
	words.Analyzer = WordsAnalyzer
	words.Store, words.IncludeInAll, words.IncludeTermVectors, words.DocValues = false, false, false, false
	doc.AddFieldMappingsAt(FieldWords, words)
	doc.AddFieldMappingsAt(FieldYear, kw())
	doc.AddFieldMappingsAt(FieldTitleSort, kw())

	pub := mapping.NewDateTimeFieldMapping()
	pub.Store, pub.IncludeInAll, pub.DocValues = false, false, true
	doc.AddFieldMappingsAt(FieldPublished, pub)

	num := mapping.NewNumericFieldMapping()
	num.Store, num.IncludeInAll, num.DocValues = false, false, true
	doc.AddFieldMappingsAt(FieldArticles, num)

	src := mapping.NewTextFieldMapping()
	src.Index, src.Store, src.IncludeInAll, src.IncludeTermVectors, src.DocValues = false, true, false, false, false
	doc.AddFieldMappingsAt(FieldStored, src)
	card := mapping.NewTextFieldMapping()
	card.Index, card.Store, card.IncludeInAll, card.IncludeTermVectors, card.DocValues = false, true, false, false, false
	doc.AddFieldMappingsAt(FieldCard, card)

	// No "_all" composite field: every field is left out of it, and queries
	// name their fields.
	all := mapping.NewDocumentDisabledMapping()
	doc.AddSubDocumentMapping("_all", all)

	im := mapping.NewIndexMapping()
	im.DefaultMapping = doc
	im.DefaultAnalyzer = Analyzer
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	im.ScoringModel = bindex.BM25Scoring
	return im
}

// Document turns an incident into the document indexed for it.
func Document(in *Incident) (map[string]any, error) {
	doc, err := documentWithoutWords(in)
	if err != nil {
		return nil, err
	}
	var words []string
	for _, name := range VocabularyFields() {
		if v, ok := doc[name].(string); ok {
			words = append(words, v)
		}
	}
	doc[FieldWords] = strings.Join(words, "\n")
	return doc, nil
}

// VocabularyFields lists the prose fields whose words make up the
// vocabulary (FieldWords), in order: every prose field but the sources
// (addresses and outlet names). The vocabulary field's text is theirs,
// joined by line breaks.
func VocabularyFields() []string {
	names := make([]string, 0, len(TextFields)+2)
	for _, f := range TextFields {
		names = append(names, f.Name)
	}
	return append(names, FieldIDWords, FieldRationale)
}

// documentWithoutWords is Document without the vocabulary field.
func documentWithoutWords(in *Incident) (map[string]any, error) {
	src := encodeStored(in)
	t, err := ParseDate(in.Published)
	if err != nil {
		return nil, err
	}
	card, err := json.Marshal(CardOf(in))
	if err != nil {
		return nil, err
	}
	doc := map[string]any{
		FieldStored:    string(src),
		FieldCard:      string(card),
		FieldPublished: t,
		FieldYear:      strconv.Itoa(t.Year()),
		FieldArticles:  float64(len(in.Articles)),
		FieldTitleSort: strings.ToLower(in.Title),
	}
	for _, f := range TextFields {
		if v := *f.Get(in); v != "" {
			doc[f.Name] = v
		}
	}
	doc[FieldIDWords] = in.ID
	var rationale []string
	for _, c := range Taxonomy {
		cl, ok := in.Taxonomy[c.Name]
		if !ok || len(cl.Options) == 0 {
			continue
		}
		doc[c.Name] = cl.Options
		if cl.Rationale != "" {
			rationale = append(rationale, cl.Rationale)
		}
	}
	addOrganisations(doc, in)
	if len(rationale) > 0 {
		doc[FieldRationale] = strings.Join(rationale, "\n")
	}
	if len(in.Sources) > 0 {
		doc[FieldSources] = strings.Join(in.Sources, "\n")
	}
	return doc, nil
}

// IncidentFromFields decodes the incident stored in a hit's fields (the
// FieldStored field must have been requested).
func IncidentFromFields(fields map[string]any) (Incident, error) {
	s, ok := fields[FieldStored].(string)
	if !ok {
		return Incident{}, errors.New("index: hit has no stored incident")
	}
	return DecodeStored([]byte(s))
}

// DecodeStored decodes a stored incident: the binary form Document stores
// (stored.go) or the JSON that earlier indexes stored. The incident may
// share b's memory: the caller gives b up and must not change it.
func DecodeStored(b []byte) (Incident, error) {
	var in Incident
	if len(b) > 0 && b[0] == storedMagic {
		var err error
		if in, err = decodeStoredBinary(b); err != nil {
			return Incident{}, fmt.Errorf("index: stored incident: %w", err)
		}
	} else if err := json.Unmarshal(b, &in); err != nil {
		return Incident{}, fmt.Errorf("index: stored incident: %w", err)
	}
	if in.Taxonomy == nil {
		in.Taxonomy = map[string]Classification{}
	}
	return in, nil
}
