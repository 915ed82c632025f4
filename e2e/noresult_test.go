package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUINotAssessedAndRemovals ticks "Not assessed" in a category as a
// user would and gets the incidents the facet counted; then, on a search
// without results, follows a "Remove …" suggestion and gets the number of
// incidents it announced.
func TestUINotAssessedAndRemovals(t *testing.T) {
	inst := startServe(t, sharedReports(t))
	ctx := newBrowser(t, 2*time.Minute)
	const box = "f-cps-not_assessed"
	run(t, ctx, "loading the search page",
		chromedp.Navigate(inst.URL+"/"),
		chromedp.WaitVisible("#main", chromedp.ByID),
		chromedp.Click("#c-cps > summary", chromedp.ByQuery),
		chromedp.WaitVisible("#"+box, chromedp.ByID),
	)
	before := state(t, ctx)
	want := before.Counts[box]
	if want == "" || want == "0" {
		t.Fatalf("no Not assessed count for CPS: %v", before.Counts)
	}
	run(t, ctx, "ticking Not assessed",
		chromedp.Click("#"+box, chromedp.ByID),
		waitFor(`location.search === "?cps=not_assessed"`),
		waitFor(`document.getElementById('rh').textContent.startsWith(`+fmt.Sprintf("%q", want+" incident")+`)`),
	)
	s := state(t, ctx)
	if len(s.Chips) != 1 || s.Chips[0] != "CPS: Not assessed" {
		t.Errorf("chips %q", s.Chips)
	}
	if total, _ := apiSearch(t, inst, "cps=not_assessed"); fmt.Sprint(total) != want {
		t.Errorf("the API finds %d, the facet said %s", total, want)
	}

	// No results: each removal says how many incidents it brings back, and
	// following it finds that many.
	run(t, ctx, "loading a search without results",
		chromedp.Navigate(inst.URL+"/?q=wake+word&consequence=death"),
		chromedp.WaitVisible(".removals", chromedp.ByQuery),
	)
	var items []string
	eval(t, ctx, `Array.from(document.querySelectorAll('.removals li'), li => li.textContent)`, &items)
	re := regexp.MustCompile(`^Remove Consequence: Death → (\d+) incidents?$`)
	var m []string
	for _, it := range items {
		if m = re.FindStringSubmatch(it); m != nil {
			break
		}
	}
	if m == nil {
		t.Fatalf("no removal of Consequence: Death with a count among %q", items)
	}
	run(t, ctx, "removing the filter",
		chromedp.Click(`.removals a`, chromedp.ByQuery),
		waitFor(`location.search === "?q=wake+word"`),
		waitFor(`document.querySelectorAll('.hits > li').length > 0`),
	)
	if h := state(t, ctx).Heading; !strings.HasPrefix(h, m[1]+" incident") {
		t.Errorf("heading %q, announced %s", h, m[1])
	}
}
