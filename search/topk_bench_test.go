package search

import "testing"

// Scale benchmarks of the classes that read a query (corrections,
// completions, synonyms, a relaxed question) (similar
// incidents: explore_bench_test.go), with the words of 'faildex bench'
// (see scale_bench_test.go for the index they run over).

func BenchmarkScaleMisspelled(b *testing.B) { benchScale(b, Request{Query: "configuraiton"}) }
func BenchmarkScaleQuestion(b *testing.B) {
	benchScale(b, Request{Query: "why did the software update take systems offline"})
}
func BenchmarkScaleUnfinished(b *testing.B) { benchScale(b, Request{Query: "confi"}) }
func BenchmarkScaleSynonym(b *testing.B)    { benchScale(b, Request{Query: "outage"}) }
