package search

import (
	"context"
	"testing"
)

// The benchmarks run over the small fixed corpus (the seeds and the CSV):
// they measure the engine's own overhead per request (planning, bitmap
// facets, highlighting), not bleve's scaling.

func benchSearch(b *testing.B, reqs []Request) {
	b.Helper()
	e := fixedCorpus.engine(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := e.Search(ctx, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSearchLanding is the front page: no words, no filters, every
// facet over every incident.
func BenchmarkSearchLanding(b *testing.B) {
	benchSearch(b, []Request{{}})
}

// BenchmarkSearchWords is word queries ranked by relevance, with their
// highlighting.
func BenchmarkSearchWords(b *testing.B) {
	benchSearch(b, []Request{
		{Query: "wake word"},
		{Query: `"software update"`},
		{Query: "ransomware OR malware -school"},
		{Query: "title:tesla causes:sensor*"},
		{Query: "recor*"},
	})
}

// BenchmarkSearchFilters is category filters and date ranges with
// disjunctive facet counts, sorted by date.
func BenchmarkSearchFilters(b *testing.B) {
	benchSearch(b, []Request{
		{Filters: map[string][]string{"consequence": {"death", "harm"}, "domain": {"transportation"}}},
		{Filters: map[string][]string{"phase": {"design"}, "duration": {"temporary"}}, From: "2018", To: "2021"},
		{Query: "consequence:property -domain:information", Sort: SortOldest, Page: 2, Size: 5},
		{Filters: map[string][]string{"objective": {"malicious"}}, Sort: SortArticles},
	})
}
