package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeScript is axe-core, installed by npm from e2e/axe/package-lock.json
// (.ci/run runs `npm ci` there).
const axeScript = "axe/node_modules/axe-core/axe.min.js"

// loadAxe reads axe-core; without it the test fails under CI and is
// skipped elsewhere.
func loadAxe(tb testing.TB) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.FromSlash(axeScript))
	if err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("axe-core is missing (run npm ci in e2e/axe): %v", err)
		}
		tb.Skipf("axe-core not installed (npm ci in e2e/axe): %v", err)
	}
	return string(b)
}

// axeViolation is one rule an audited page breaks.
type axeViolation struct {
	ID    string `json:"id"`
	Help  string `json:"help"`
	Nodes []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// audit injects axe-core into the current page and returns its violations
// of WCAG 2.1 A and AA and of axe's best practices.
func audit(tb testing.TB, ctx context.Context, axe string) []axeViolation {
	tb.Helper()
	var raw json.RawMessage
	run(tb, ctx, "running axe",
		chromedp.Evaluate(axe, nil),
		chromedp.Evaluate(`axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}, resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`,
			&raw, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		tb.Fatal(err)
	}
	var v []axeViolation
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		tb.Fatal(err)
	}
	return v
}

// TestUIAccessibility audits the pages with axe-core in light and dark
// schemes: the search page with results (embed panel open), without
// results, with the search box's completions open, an incident page opened
// from a search, and the embed page. None may have a violation.
func TestUIAccessibility(t *testing.T) {
	axe := loadAxe(t)
	inst := startServe(t, nil)
	ctx := newBrowser(t, 3*time.Minute)
	pages := []struct {
		name    string
		actions chromedp.Tasks
	}{
		{"search with results", chromedp.Tasks{
			chromedp.Navigate(inst.URL + "/?q=crash&consequence=death"),
			chromedp.WaitVisible(".hits", chromedp.ByQuery),
			chromedp.Click("#embedp > summary", chromedp.ByQuery),
			waitFor(`(() => { const f = document.querySelector('#embedp iframe'); return f && f.contentDocument && f.contentDocument.readyState === 'complete'; })()`),
		}},
		{"search without results", chromedp.Tasks{
			chromedp.Navigate(inst.URL + "/?q=zzzqqq&consequence=death"),
			chromedp.WaitVisible(".empty", chromedp.ByQuery),
		}},
		{"completions open", chromedp.Tasks{
			chromedp.Navigate(inst.URL + "/"),
			chromedp.WaitVisible("#q", chromedp.ByID),
			chromedp.SendKeys("#q", "crowdst", chromedp.ByID),
			waitFor(`document.getElementById('q').getAttribute('aria-expanded') === 'true' && document.querySelectorAll('[role=option]').length > 0`),
		}},
		{"incident", chromedp.Tasks{
			chromedp.Navigate(inst.URL + "/incidents/1996-ariane-5-flight-501?back=q%3Dariane%2Boverflow"),
			chromedp.WaitVisible(".incident h1", chromedp.ByQuery),
			waitFor(`document.querySelectorAll('article mark').length > 0`),
		}},
		{"embed", chromedp.Tasks{
			chromedp.Navigate(inst.URL + "/embed?consequence=death&size=5"),
			chromedp.WaitVisible("body", chromedp.ByQuery),
		}},
	}
	for _, scheme := range []string{"light", "dark"} {
		run(t, ctx, "emulating "+scheme, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}))
		for _, p := range pages {
			run(t, ctx, scheme+" "+p.name, p.actions)
			for _, v := range audit(t, ctx, axe) {
				var where []string
				for _, n := range v.Nodes {
					where = append(where, fmt.Sprint(n.Target)+" "+n.HTML)
				}
				t.Errorf("%s, %s: %s (%s):\n  %s", scheme, p.name, v.ID, v.Help, strings.Join(where, "\n  "))
			}
		}
	}
}
