package index

import (
	"testing"

	"github.com/faildex/faildex/index/indextest"
)

// BenchmarkAnalyse makes and analyses the documents of the bundled reports
// as a build does (docMaker, one analyser reused), and reports MB/s of
// their text fields.
//
//	go test ./index -run '^$' -bench Analyse -cpuprofile cpu.out
func BenchmarkAnalyse(b *testing.B) {
	var incidents []Incident
	err := ReadPaths([]string{indextest.DataDir()}, Handler{
		Record:  func(r Record) error { incidents = append(incidents, r.Incident); return nil },
		Problem: func(Problem) {},
	})
	if err != nil {
		b.Fatal(err)
	}
	if len(incidents) == 0 {
		b.Fatalf("no reports in %s", indextest.DataDir())
	}
	var text int64
	for i := range incidents {
		text += textSize(&incidents[i])
	}
	maker, err := newDocMaker(NewMapping())
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		for i := range incidents {
			doc, _, err := maker.document(&incidents[i])
			if err != nil {
				b.Fatal(err)
			}
			for _, f := range doc.Fields {
				if f.Options().IsIndexed() {
					f.Analyze()
				}
			}
		}
	}
	b.ReportMetric(float64(text)/1e6/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
}
