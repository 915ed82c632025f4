package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestUIIncidentLeadsOn opens an incident from a search as a user would and
// follows the page onward: the search's words are marked, Next and
// Previous walk the search's results in order, the citation copies in one
// click, and a taxonomy tag (on the incident page and in the result list)
// opens the search for its option.
func TestUIIncidentLeadsOn(t *testing.T) {
	inst := startServe(t, nil)
	ctx := newBrowser(t, 2*time.Minute)
	run(t, ctx, "allowing the clipboard", chromedp.ActionFunc(func(ctx context.Context) error {
		return browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeClipboardReadWrite, browser.PermissionTypeClipboardSanitizedWrite}).
			WithOrigin(inst.URL).Do(ctx)
	}))
	var hits []string
	run(t, ctx, "searching",
		chromedp.Navigate(inst.URL+"/?q=outage&sort=date"),
		chromedp.WaitVisible(".hits", chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('.hits h2 a'), a => a.textContent)`, &hits),
	)
	if len(hits) < 3 {
		t.Fatalf("hits %q", hits)
	}
	title := func() string {
		var s string
		eval(t, ctx, `document.querySelector('article h1').textContent`, &s)
		return s
	}
	run(t, ctx, "opening the first hit",
		chromedp.Click(`.hits h2 a`, chromedp.ByQuery),
		chromedp.WaitVisible(`article h1`, chromedp.ByQuery),
		waitFor(`document.querySelectorAll('article mark').length > 0`),
	)
	if got := title(); got != hits[0] {
		t.Errorf("opened %q, want %q", got, hits[0])
	}
	var marks []string
	eval(t, ctx, `Array.from(document.querySelectorAll('article mark'), m => m.textContent.toLowerCase())`, &marks)
	for _, m := range marks {
		if !strings.HasPrefix(m, "outage") {
			t.Errorf("marked %q", m)
		}
	}
	var pos string
	eval(t, ctx, `document.querySelector('.pos').textContent`, &pos)
	if !strings.HasPrefix(pos, "1 of ") || hasElement(t, ctx, "#prev") {
		t.Errorf("first result: position %q, previous link %v", pos, hasElement(t, ctx, "#prev"))
	}
	run(t, ctx, "next", chromedp.Click(`#next`, chromedp.ByID), waitFor(`document.querySelector('.pos') && document.querySelector('.pos').textContent.startsWith('2 of')`))
	if got := title(); got != hits[1] {
		t.Errorf("next: %q, want %q", got, hits[1])
	}
	run(t, ctx, "next again", chromedp.Click(`#next`, chromedp.ByID), waitFor(`document.querySelector('.pos').textContent.startsWith('3 of')`))
	run(t, ctx, "previous", chromedp.Click(`#prev`, chromedp.ByID), waitFor(`document.querySelector('.pos').textContent.startsWith('2 of')`))
	if got := title(); got != hits[1] {
		t.Errorf("previous: %q, want %q", got, hits[1])
	}
	var back string
	eval(t, ctx, `document.querySelector('a.back').getAttribute('href')`, &back)
	if back != "/?q=outage&sort=date" {
		t.Errorf("back to %q", back)
	}

	// Copy the citation.
	var bib, copied string
	run(t, ctx, "copying the citation",
		chromedp.Click(`#copy-bib`, chromedp.ByID),
		waitFor(`document.getElementById('live').textContent === 'Citation copied'`),
		chromedp.Text(`#bib`, &bib, chromedp.ByID),
		chromedp.Evaluate(`navigator.clipboard.readText()`, &copied, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
	)
	if !strings.HasPrefix(copied, "@") || strings.TrimSpace(copied) != strings.TrimSpace(bib) {
		t.Errorf("copied %q, the page shows %q", copied, bib)
	}

	// A taxonomy tag opens the search for its option.
	var tag, href string
	eval(t, ctx, `document.querySelector('#consequence .opts a').textContent`, &tag)
	eval(t, ctx, `document.querySelector('#consequence .opts a').getAttribute('href')`, &href)
	run(t, ctx, "following a taxonomy tag",
		chromedp.Click(`#consequence .opts a`, chromedp.ByQuery),
		chromedp.WaitVisible(`.chips`, chromedp.ByQuery),
	)
	if s := state(t, ctx); len(s.Chips) != 1 || s.Chips[0] != "Consequence: "+tag || s.Search != strings.TrimPrefix(href, "/") {
		t.Errorf("tag %q (%s): chips %q at %q", tag, href, s.Chips, s.Search)
	}
	// And one in the result list.
	run(t, ctx, "following a tag of the result list",
		chromedp.Navigate(inst.URL+"/?q=outage"),
		chromedp.WaitVisible(`.hits a.tag`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('.hits a.tag').textContent`, &tag),
		chromedp.Click(`.hits a.tag`, chromedp.ByQuery),
		waitFor(`document.querySelectorAll('.chips a:not(.clear)').length === 1`),
	)
	if s := state(t, ctx); !strings.HasSuffix(s.Chips[0], ": "+tag) {
		t.Errorf("result-list tag %q: chips %q", tag, s.Chips)
	}
}

func hasElement(tb testing.TB, ctx context.Context, sel string) bool {
	tb.Helper()
	var ok bool
	eval(tb, ctx, `!!document.querySelector(`+jsString(sel)+`)`, &ok)
	return ok
}

func jsString(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// contrastAudit is JavaScript that returns the visible text whose colour
// has less than WCAG AA contrast (4.5:1; 3:1 for large text) on the
// background behind it, reading the computed colours.
const contrastAudit = `(() => {
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bgOf = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return parse(getComputedStyle(document.documentElement).backgroundColor) || {r: 255, g: 255, b: 255, a: 1}; };
  const bad = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  while (walker.nextNode()) {
    const t = walker.currentNode, el = t.parentElement;
    if (!t.nodeValue.trim() || seen.has(el)) continue;
    seen.add(el);
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    if (!r.width || !r.height || cs.visibility === 'hidden' || el.closest('.vh,[hidden],details:not([open]) > :not(summary)')) continue;
    const fg = parse(cs.color), bg = bgOf(el);
    const l1 = lum(fg), l2 = lum(bg), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const large = parseFloat(cs.fontSize) >= 24 || (parseFloat(cs.fontSize) >= 18.66 && Number(cs.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName.toLowerCase() + '.' + el.className + ' "' + t.nodeValue.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
  }
  return bad;
})()`

// TestUIColorSchemes loads the search page (with results, without, with
// the embed panel open) and an incident page under a light and a dark
// colour-scheme preference: the page follows the preference and every
// visible text keeps WCAG AA contrast on its background.
func TestUIColorSchemes(t *testing.T) {
	inst := startServe(t, nil)
	ctx := newBrowser(t, 2*time.Minute)
	for _, scheme := range []string{"light", "dark"} {
		run(t, ctx, "emulating "+scheme, emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}))
		for _, target := range []string{"/?q=crash", "/?q=zzzqqq&consequence=death", "/incidents/1996-ariane-5-flight-501?back=q%3Dariane"} {
			var bg string
			var bad []string
			run(t, ctx, scheme+" "+target,
				chromedp.Navigate(inst.URL+target),
				chromedp.WaitVisible("#main", chromedp.ByID),
				chromedp.Evaluate(`document.querySelectorAll('#embedp').forEach(d => d.open = true)`, nil),
				chromedp.Evaluate(`getComputedStyle(document.body).backgroundColor`, &bg),
				chromedp.Evaluate(contrastAudit, &bad),
			)
			dark := bg != "rgb(255, 255, 255)"
			if dark != (scheme == "dark") {
				t.Errorf("%s %s: background %s", scheme, target, bg)
			}
			if len(bad) > 0 {
				t.Errorf("%s %s: low contrast:\n%s", scheme, target, strings.Join(bad, "\n"))
			}
		}
	}
}
