package search

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestFastPathsMatchBleve checks that results paged from the precomputed
// sort orders, with hits read from stored cards and incidents, are exactly
// those of bleve's own sorted search.
func TestFastPathsMatchBleve(t *testing.T) {
	requireShared(t)
	e := newTestEngine(t, fullCorpus.paths()...)
	if e.fast == nil {
		t.Fatal("no fast paths over a scorch index")
	}
	fast := e.fast
	var reqs []Request
	for _, sort := range []string{"", SortDate, SortOldest, SortTitle, SortArticles} {
		for _, page := range []int{1, 2, 3} {
			reqs = append(reqs,
				Request{Sort: sort, Page: page, Size: 7},
				Request{Sort: sort, Page: page, Size: 5, Filters: map[string][]string{"domain": {"information", "finance"}, "phase": {"design"}}},
				Request{Sort: sort, Page: page, Size: 4, Query: "-consequence:property", From: "2015", To: "2021-06"},
			)
			if sort != "" {
				reqs = append(reqs,
					Request{Sort: sort, Page: page, Size: 6, Query: "software update"},
					Request{Sort: sort, Page: page, Size: 6, Query: `"wake word" OR recor*`, Filters: map[string][]string{"objective": {"malicious"}}},
				)
			}
		}
	}
	ctx := context.Background()
	for _, req := range reqs {
		e.fast = fast
		got, err := e.Search(ctx, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		e.fast = nil
		want, err := e.Search(ctx, req)
		e.fast = fast
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		got.TookMS, want.TookMS = 0, 0
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if string(gj) != string(wj) {
			t.Errorf("%+v: fast paths differ from bleve (-bleve +fast):\n%s", req, cmp.Diff(want, got))
		}
	}
	t.Logf("%d requests agree", len(reqs))
}
