package index

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"
	"github.com/faildex/faildex/index/indextest"
)

// TestAnalysedDocumentMatchesMapping checks that the document a build
// indexes for an incident (docMaker) is the document the mapping makes of
// Document's map: the same fields, options and values, and after analysis
// the same lengths, terms, frequencies and locations, on the bundled and
// shared reports and on incidents of random text built to hit the
// analyzers' Unicode paths.
func TestAnalysedDocumentMatchesMapping(t *testing.T) {
	im := NewMapping()
	maker, err := newDocMaker(im)
	if err != nil {
		t.Fatal(err)
	}
	var incidents []Incident
	paths := append([]string{indextest.DataDir()}, indextest.Reports(t)...)
	err = ReadPaths(paths, Handler{
		Record:  func(r Record) error { incidents = append(incidents, r.Incident); return nil },
		Problem: func(Problem) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(incidents) < 10 {
		t.Fatalf("read %d incidents from %v", len(incidents), paths)
	}
	pieces := []string{"a", "Z", "e", "9", ".", ",", "'", "_", " ", "\n", "\r\n", "\t", "s", "'s", "'S", "’s", "＇Ｓ", "é",
		"É", "ß", "\u00a0", "\u0301", "\u200d", "中文", "🙂", "3,000", "U.S.A.", "can't", "The", "THE", "running", "Sky's",
		"ǅ", "İ", "ﬁle", "ｃｒａｓｈ", "Ｔｈｅ", "ΣΟΦΙΑ", "and", "AND", "İstanbul's"}
	r := rand.New(rand.NewPCG(3, 4))
	random := func() string {
		var b strings.Builder
		for n := r.IntN(40); n > 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	base := incidents[0]
	for i := 0; i < 300; i++ {
		in := base
		in.ID = fmt.Sprintf("random-%d", i)
		in.Title, in.Summary, in.System = random(), random(), random()
		in.Taxonomy = map[string]Classification{}
		for k, v := range base.Taxonomy {
			v.Rationale = random()
			in.Taxonomy[k] = v
		}
		in.Sources = []string{random(), random()}
		incidents = append(incidents, in)
	}
	compare := func(t *testing.T, maker *docMaker) {
		for i := range incidents {
			in := &incidents[i]
			m, err := Document(in)
			if err != nil {
				t.Fatal(err)
			}
			want := document.NewDocument(in.ID)
			if err := im.MapDocument(want, m); err != nil {
				t.Fatal(err)
			}
			got, _, err := maker.document(in)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffDocuments(want, got); d != "" {
				t.Fatalf("incident %s: %s", in.ID, d)
			}
			for _, f := range got.Fields {
				if af, ok := f.(*analysedField); ok {
					if want := 64 + len(af.name) + len(af.value) + af.freqs.Size(); af.Size() != want {
						t.Fatalf("incident %s: field %s has size %d, want %d", in.ID, af.name, af.Size(), want)
					}
				}
			}
		}
	}
	t.Run("cache", func(t *testing.T) { compare(t, maker) })
	// An analyser whose word cache is emptied at nearly every document.
	t.Run("small cache", func(t *testing.T) {
		small, err := newDocMaker(im)
		if err != nil {
			t.Fatal(err)
		}
		a, err := newProseAnalyser()
		if err != nil {
			t.Fatal(err)
		}
		a.maxWords = 5
		small.analysers.put(a)
		compare(t, small)
		if got := small.analysers.get(); got != a {
			t.Fatal("the documents were not analysed by the analyser with the small cache")
		}
	})
}

// diffDocuments analyses both documents and describes their first
// difference, or returns "".
func diffDocuments(want, got *document.Document) string {
	key := func(f document.Field) string { return fmt.Sprintf("%s%v", f.Name(), f.ArrayPositions()) }
	// The values are compared as they were before analysis, which lowers
	// the case of a text field's value in place when it is not stored.
	values := map[document.Field]string{}
	fields := func(d *document.Document) map[string]document.Field {
		m := map[string]document.Field{}
		for _, f := range d.Fields {
			values[f] = string(f.Value())
			if f.Options().IsIndexed() {
				f.Analyze()
			}
			m[key(f)] = f
		}
		return m
	}
	w, g := fields(want), fields(got)
	if len(w) != len(g) || len(want.Fields) != len(got.Fields) {
		return fmt.Sprintf("fields %v, want %v", slices.Sorted(mapKeys(g)), slices.Sorted(mapKeys(w)))
	}
	for k, wf := range w {
		gf, ok := g[k]
		if !ok {
			return fmt.Sprintf("no field %s", k)
		}
		if wf.Options() != gf.Options() || values[wf] != values[gf] || wf.EncodedFieldType() != gf.EncodedFieldType() {
			return fmt.Sprintf("field %s: options %v type %c value %q, want %v %c %q", k,
				gf.Options(), gf.EncodedFieldType(), Truncate(values[gf], 100),
				wf.Options(), wf.EncodedFieldType(), Truncate(values[wf], 100))
		}
		if wf.AnalyzedLength() != gf.AnalyzedLength() {
			return fmt.Sprintf("field %s: length %d, want %d", k, gf.AnalyzedLength(), wf.AnalyzedLength())
		}
		if d := diffFreqs(wf.AnalyzedTokenFrequencies(), gf.AnalyzedTokenFrequencies()); d != "" {
			return fmt.Sprintf("field %s: %s", k, d)
		}
	}
	return ""
}

func diffFreqs(want, got bindex.TokenFrequencies) string {
	if len(want) != len(got) {
		return fmt.Sprintf("terms %v, want %v", slices.Sorted(mapKeys(got)), slices.Sorted(mapKeys(want)))
	}
	for term, wt := range want {
		gt, ok := got[term]
		if !ok {
			return fmt.Sprintf("no term %q", term)
		}
		if wt.Frequency() != gt.Frequency() || len(wt.Locations) != len(gt.Locations) {
			return fmt.Sprintf("term %q: frequency %d, %d locations; want %d, %d",
				term, gt.Frequency(), len(gt.Locations), wt.Frequency(), len(wt.Locations))
		}
		for i, wl := range wt.Locations {
			gl := gt.Locations[i]
			if wl.Position != gl.Position || wl.Start != gl.Start || wl.End != gl.End || wl.Field != gl.Field ||
				len(wl.ArrayPositions) != len(gl.ArrayPositions) {
				return fmt.Sprintf("term %q: location %d is %+v, want %+v", term, i, *gl, *wl)
			}
		}
	}
	return ""
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
