package e2e

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/faildex/faildex/index/indextest"
)

// The browser tests drive chromium over the search page and the incident
// page of the real binary. With -update-screenshots (or
// FAILDEX_UPDATE_SCREENSHOTS=1) they also write docs/screenshots/*.png.

var updateScreenshots = flag.Bool("update-screenshots", false, "write docs/screenshots/*.png")

// pageBudget is the most a search page of 20 results may weigh over the
// wire, HTML, CSS and script included.
const pageBudget = 60 << 10

// run runs chromedp actions, failing the test on error.
func run(tb testing.TB, ctx context.Context, what string, actions ...chromedp.Action) {
	tb.Helper()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Run(actx, actions...); err != nil {
		// Show where the page was, if the browser still answers.
		var s any
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		chromedp.Run(sctx, chromedp.Evaluate(`(s => (delete s.counts, delete s.hits, s))(`+readState+`)`, &s))
		tb.Fatalf("%s: %v; page state %+v", what, err, s)
	}
}

// waitFor evaluates a JavaScript expression until it is true, for up to
// 15 s. Errors while a page is replaced by another count as false.
func waitFor(expr string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(15 * time.Second)
		for {
			var ok bool
			err := chromedp.Evaluate("!!("+expr+")", &ok).Do(ctx)
			if err == nil && ok {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("waiting for %s: timed out (last error %v)", expr, err)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// goBack is the browser's Back button. (chromedp.NavigateBack waits for a
// load event, which a page restored from the back-forward cache or a
// history entry of the same document never fires.)
func goBack() chromedp.Action {
	return chromedp.Evaluate(`history.back()`, nil)
}

// eval evaluates a JavaScript expression into v, failing the test on error.
func eval(tb testing.TB, ctx context.Context, expr string, v any) {
	tb.Helper()
	run(tb, ctx, "evaluating "+expr, chromedp.Evaluate(expr, v))
}

// showValue opens the "more" fold holding a facet value, if it is folded,
// as a user would before ticking it.
func showValue(id string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var folded bool
		expr := fmt.Sprintf(`(d => !!d && !d.open)(document.getElementById(%q).closest('details.more'))`, id)
		if err := chromedp.Evaluate(expr, &folded).Do(ctx); err != nil || !folded {
			return err
		}
		sel := fmt.Sprintf(`details.more:has(#%s) > summary`, id)
		return chromedp.Tasks{chromedp.Click(sel, chromedp.ByQuery), chromedp.WaitVisible("#"+id, chromedp.ByID)}.Do(ctx)
	})
}

// pageState is what the tests read of a search page.
type pageState struct {
	Search  string            `json:"search"`  // location.search
	Heading string            `json:"heading"` // the results heading
	Chips   []string          `json:"chips"`   // active filter chips
	Hits    []string          `json:"hits"`    // hit titles
	Counts  map[string]string `json:"counts"`  // facet value id -> count
	Checked []string          `json:"checked"` // checked facet value ids
	Focus   string            `json:"focus"`   // id of the focused element
}

const readState = `(() => {
  const counts = {}, checked = [];
  document.querySelectorAll('.facet input[type=checkbox]').forEach(i => {
    counts[i.id] = document.querySelector('label[for="' + i.id + '"] .c').textContent;
    if (i.checked) checked.push(i.id);
  });
  const rh = document.getElementById('rh');
  return {
    focus: document.activeElement ? document.activeElement.id : '',
    search: location.search,
    heading: rh ? rh.textContent : '',
    chips: [...document.querySelectorAll('.chips a:not(.clear)')].map(a => a.textContent.replace('×', '').trim()),
    hits: [...document.querySelectorAll('.hits h2 a')].map(a => a.textContent),
    checked, counts,
  };
})()`

func state(tb testing.TB, ctx context.Context) pageState {
	tb.Helper()
	var s pageState
	eval(tb, ctx, readState, &s)
	return s
}

// apiTotal returns the total of an API search.
func apiSearch(tb testing.TB, inst *instance, params string) (total uint64, counts map[string]uint64) {
	tb.Helper()
	status, body := inst.get(tb, "/api/v1/search?"+params)
	if status != http.StatusOK {
		tb.Fatalf("API %s: %d %s", params, status, body)
	}
	var res struct {
		Total  uint64 `json:"total"`
		Facets []struct {
			Field  string `json:"field"`
			Values []struct {
				Value string `json:"value"`
				Count uint64 `json:"count"`
			} `json:"values"`
			Missing uint64 `json:"missing"`
		} `json:"facets"`
	}
	if err := json.Unmarshal([]byte(body), &res); err != nil {
		tb.Fatal(err)
	}
	counts = map[string]uint64{}
	for _, f := range res.Facets {
		for _, v := range f.Values {
			counts["f-"+f.Field+"-"+v.Value] = v.Count
		}
		if f.Missing > 0 {
			counts["f-"+f.Field+"-not_assessed"] = f.Missing
		}
	}
	return res.Total, counts
}

// TestUISearch drives the search page with mouse and keyboard: a query, a
// facet, removing its chip, the back button, an incident and back, and the
// facet list by keyboard alone.
func TestUISearch(t *testing.T) {
	inst := startServe(t, sharedReports(t))
	ctx := newBrowser(t, 3*time.Minute)

	t.Run("type a query", func(t *testing.T) {
		run(t, ctx, "searching",
			chromedp.Navigate(inst.URL+"/"),
			chromedp.WaitVisible("#q", chromedp.ByID),
			chromedp.SendKeys("#q", "wake word\r", chromedp.ByID),
			waitFor(`location.search === "?q=wake+word" && document.getElementById('rh').textContent.includes('wake word')`),
		)
		s := state(t, ctx)
		if len(s.Hits) == 0 || !strings.Contains(s.Hits[0], "Alexa") {
			t.Errorf("hits %q, want the Alexa incident first", s.Hits)
		}
		var marks int
		eval(t, ctx, `document.querySelectorAll('.hits mark').length`, &marks)
		if marks == 0 {
			t.Error("no highlighted words")
		}
		if s.Focus != "q" {
			t.Errorf("focus on %q after searching, want the search box", s.Focus)
		}
	})

	t.Run("tick consequence death", func(t *testing.T) {
		run(t, ctx, "loading", chromedp.Navigate(inst.URL+"/"), chromedp.WaitVisible("#f-consequence-death", chromedp.ByID))
		before := state(t, ctx)
		total, _ := apiSearch(t, inst, "")
		if !strings.HasPrefix(before.Heading, fmt.Sprint(total)+" incidents") {
			t.Fatalf("heading %q, want %d incidents", before.Heading, total)
		}
		run(t, ctx, "ticking death",
			showValue("f-consequence-death"),
			chromedp.Click("#f-consequence-death", chromedp.ByID),
			waitFor(`location.search === "?consequence=death" && document.querySelector('.chips') !== null`),
		)
		after := state(t, ctx)
		deathTotal, apiCounts := apiSearch(t, inst, "consequence=death")
		if want := fmt.Sprint(deathTotal) + " incidents"; after.Heading != want || before.Counts["f-consequence-death"] != fmt.Sprint(deathTotal) {
			t.Errorf("heading %q, death count before %s; want %q", after.Heading, before.Counts["f-consequence-death"], want)
		}
		if len(after.Chips) != 1 || after.Chips[0] != "Consequence: Death" {
			t.Errorf("chips %q, want Consequence: Death", after.Chips)
		}
		if len(after.Checked) != 1 || after.Checked[0] != "f-consequence-death" {
			t.Errorf("checked %q", after.Checked)
		}
		// Disjunctive counts: the other consequences keep their counts; other
		// categories count within the deaths.
		for id, n := range before.Counts {
			if strings.HasPrefix(id, "f-consequence-") && after.Counts[id] != n {
				t.Errorf("%s: %s after ticking death, %s before", id, after.Counts[id], n)
			}
		}
		for id, n := range after.Counts {
			if fmt.Sprint(apiCounts[id]) != n {
				t.Errorf("%s: page %s, API %d", id, n, apiCounts[id])
			}
		}
		if after.Counts["f-consequence-harm"] == "" {
			t.Error("harm is no longer offered")
		}
		if after.Focus != "f-consequence-death" {
			t.Errorf("focus on %q, want the checkbox", after.Focus)
		}
	})

	t.Run("remove the chip and go back", func(t *testing.T) {
		run(t, ctx, "removing the chip",
			chromedp.Click(`.chips a[aria-label="Remove Consequence: Death"]`, chromedp.ByQuery),
			waitFor(`location.search === "" && document.querySelector('.chips') === null`),
		)
		s := state(t, ctx)
		if len(s.Checked) != 0 || !strings.HasSuffix(s.Heading, " incidents") {
			t.Errorf("after removing: checked %q heading %q", s.Checked, s.Heading)
		}
		run(t, ctx, "going back",
			goBack(),
			waitFor(`location.search === "?consequence=death" && document.querySelector('.chips') !== null`),
		)
		if s := state(t, ctx); len(s.Checked) != 1 {
			t.Errorf("back: checked %q, want death", s.Checked)
		}
	})

	t.Run("open an incident and go back", func(t *testing.T) {
		run(t, ctx, "opening the first hit",
			chromedp.Navigate(inst.URL+"/?q=wake+word&sort=date"),
			chromedp.WaitVisible(".hits h2 a", chromedp.ByQuery),
			chromedp.Click(".hits h2 a", chromedp.ByQuery),
			chromedp.WaitVisible(".incident h1", chromedp.ByQuery),
		)
		var back, title string
		eval(t, ctx, `document.querySelector('a.back').getAttribute('href')`, &back)
		eval(t, ctx, `document.querySelector('.incident h1').textContent`, &title)
		if back != "/?q=wake+word&sort=date" {
			t.Errorf("back link %q, want the search", back)
		}
		if title == "" {
			t.Error("no title")
		}
		run(t, ctx, "following the back link",
			chromedp.Click("a.back", chromedp.ByQuery),
			waitFor(`location.search === "?q=wake+word&sort=date" && document.querySelectorAll('.hits h2').length > 0`),
		)
		if s := state(t, ctx); !strings.Contains(s.Heading, "wake word") {
			t.Errorf("back at %q", s.Heading)
		}
		run(t, ctx, "opening it again and pressing Back",
			chromedp.Click(".hits h2 a", chromedp.ByQuery),
			chromedp.WaitVisible(".incident h1", chromedp.ByQuery),
			goBack(),
			waitFor(`location.pathname === "/" && location.search === "?q=wake+word&sort=date" && document.getElementById('q').value === "wake word"`),
		)
		if s := state(t, ctx); len(s.Hits) == 0 || !strings.Contains(s.Heading, "wake word") {
			t.Errorf("after Back: heading %q, hits %q", s.Heading, s.Hits)
		}
	})

	t.Run("keyboard only", func(t *testing.T) {
		run(t, ctx, "loading", chromedp.Navigate(inst.URL+"/"), chromedp.WaitVisible("#q", chromedp.ByID))
		var focus string
		for i := 0; i < 30; i++ {
			run(t, ctx, "tab", chromedp.KeyEvent("\t"))
			eval(t, ctx, `(e => e.matches('.facet input[type=checkbox]') ? e.id : '')(document.activeElement)`, &focus)
			if focus != "" {
				break
			}
		}
		if focus == "" {
			t.Fatal("Tab never reached a facet checkbox")
		}
		var outline string
		eval(t, ctx, `getComputedStyle(document.activeElement).outlineStyle + ' ' + document.activeElement.matches(':focus-visible')`, &outline)
		if outline != "solid true" {
			t.Errorf("focus indicator %q, want a solid outline", outline)
		}
		name, value, _ := strings.Cut(strings.TrimPrefix(focus, "f-"), "-")
		run(t, ctx, "Space ticks",
			chromedp.KeyEvent(" "),
			waitFor(fmt.Sprintf(`location.search === "?%s=%s" && document.activeElement.id === %q && document.activeElement.checked`, name, value, focus)),
		)
		run(t, ctx, "Enter unticks",
			chromedp.KeyEvent("\r"),
			waitFor(fmt.Sprintf(`location.search === "" && document.activeElement.id === %q && !document.activeElement.checked`, focus)),
		)
		// A closed category opens from the keyboard too.
		run(t, ctx, "Enter opens a category",
			chromedp.Focus("#c-phase > summary", chromedp.ByQuery),
			chromedp.KeyEvent("\r"),
			waitFor(`document.getElementById('c-phase').open`),
			chromedp.KeyEvent("\t"),
			waitFor(`document.activeElement.matches('#c-phase input[type=checkbox]')`),
		)
	})
}

// TestUINoScript checks that the search page works without JavaScript:
// ticking a facet and applying the form, following a chip.
func TestUINoScript(t *testing.T) {
	inst := startServe(t, indextest.Reports(t))
	ctx := newBrowser(t, 2*time.Minute)
	run(t, ctx, "filtering without scripts",
		emulation.SetScriptExecutionDisabled(true),
		chromedp.Navigate(inst.URL+"/?q=crash"),
		chromedp.WaitVisible("#q", chromedp.ByID),
		showValue("f-consequence-death"),
		chromedp.Click("#f-consequence-death", chromedp.ByID),
		chromedp.Click(".nojs button", chromedp.ByQuery),
		waitFor(`(p => p.get('q') === 'crash' && p.getAll('consequence').join() === 'death')(new URLSearchParams(location.search)) && document.querySelector('.chips') !== null`),
	)
	s := state(t, ctx)
	if len(s.Chips) != 1 || len(s.Checked) != 1 {
		t.Errorf("chips %q checked %q", s.Chips, s.Checked)
	}
	run(t, ctx, "following a chip",
		chromedp.Click(`.chips a[aria-label="Remove Consequence: Death"]`, chromedp.ByQuery),
		waitFor(`(p => p.get('q') === 'crash' && !p.has('consequence'))(new URLSearchParams(location.search)) && document.querySelector('.chips') === null`),
	)
}

// TestUIPageWeight measures the search page as the browser loads it: a page
// of 20 results with highlighted fragments, its CSS and script, over the
// wire, from the server only.
func TestUIPageWeight(t *testing.T) {
	inst := startServe(t, indextest.Reports(t))
	ctx := newBrowser(t, 2*time.Minute)
	// Record every Content-Security-Policy violation: none is allowed (no
	// inline script or style, nothing from elsewhere).
	run(t, ctx, "watching CSP", chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`window.__csp = [];
			document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));`).Do(ctx)
		return err
	}))
	for _, target := range []string{"/", "/?q=software", "/?q=system+failure&sort=articles"} {
		var csp []string
		run(t, ctx, "loading "+target,
			chromedp.Navigate(inst.URL+target),
			chromedp.WaitVisible("#main", chromedp.ByID),
			waitFor(`document.readyState === "complete"`),
			chromedp.Evaluate(`window.__csp`, &csp),
		)
		if len(csp) > 0 {
			t.Errorf("%s: CSP violations %q", target, csp)
		}
		var w struct {
			Hits      int `json:"hits"`
			Resources []struct {
				Name     string `json:"name"`
				Transfer int    `json:"transfer"`
				Body     int    `json:"body"`
				Decoded  int    `json:"decoded"`
			} `json:"resources"`
		}
		eval(t, ctx, `({
		  hits: document.querySelectorAll('.hits > li').length,
		  resources: [performance.getEntriesByType('navigation')[0], ...performance.getEntriesByType('resource')]
		    .map(e => ({name: e.name, transfer: e.transferSize, body: e.encodedBodySize, decoded: e.decodedBodySize})),
		})`, &w)
		if w.Hits != 20 {
			t.Errorf("%s: %d hits, want a full page of 20", target, w.Hits)
		}
		total, decoded := 0, 0
		for _, r := range w.Resources {
			if !strings.HasPrefix(r.Name, inst.URL+"/") {
				t.Errorf("%s: a request to %s", target, r.Name)
			}
			total += r.Transfer
			decoded += r.Decoded
		}
		var names []string
		for _, r := range w.Resources {
			names = append(names, strings.TrimPrefix(r.Name, inst.URL))
		}
		t.Logf("%s: %d bytes over the wire (%d decoded) in %d requests: %s", target, total, decoded, len(w.Resources), strings.Join(names, " "))
		if total == 0 || total > pageBudget {
			t.Errorf("%s: %d bytes over the wire, budget %d", target, total, pageBudget)
		}
		// Cached for good afterwards: a second load fetches only the HTML.
		run(t, ctx, "reloading", chromedp.Reload(), waitFor(`document.readyState === "complete"`))
		var again int
		eval(t, ctx, `performance.getEntriesByType('resource').reduce((n, e) => n + e.transferSize, 0)`, &again)
		if again != 0 {
			t.Errorf("%s: reloading fetched %d bytes of assets again", target, again)
		}
	}

	// The same, measured without the browser: gzip bodies of the page and
	// its assets.
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableCompression: true}}
	fetch := func(path string) (wire int, body string) {
		req, _ := http.NewRequest(http.MethodGet, inst.URL+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s: not compressed", path)
			return len(raw), string(raw)
		}
		zr, err := gzip.NewReader(strings.NewReader(string(raw)))
		if err != nil {
			t.Fatal(err)
		}
		plain, _ := io.ReadAll(zr)
		return len(raw), string(plain)
	}
	wire, page := fetch("/?q=software")
	sum := wire
	for _, m := range regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if strings.HasSuffix(m[1], ".svg") || strings.Contains(m[1], "favicon") {
			continue
		}
		n, _ := fetch(strings.ReplaceAll(m[1], "&amp;", "&"))
		sum += n
	}
	t.Logf("/?q=software: HTML %d bytes gzipped (%d plain); with CSS and JS %d bytes", wire, len(page), sum)
	if sum > pageBudget {
		t.Errorf("page, CSS and JS weigh %d bytes gzipped, budget %d", sum, pageBudget)
	}
}

// TestUIHostile indexes reports whose title, fields and options carry
// markup and checks in the browser that none of it becomes elements.
func TestUIHostile(t *testing.T) {
	dir := t.TempDir()
	const payload = `<script>window.__xss=1</script> "><img src=x onerror="window.__xss=2"> </mark> &lt; zebrafish`
	report := strings.Join([]string{
		"Incident: Hostile " + payload,
		"",
		"Published Date: 2021-06-01",
		"",
		"Postmortem Analysis",
		"Summary A summary " + payload,
		"Timeline 1. " + payload + " 2. " + payload,
		"System " + payload,
		"Software Causes " + payload,
		"Impacts " + payload,
		"Fixes " + payload,
		"",
		"Software Taxonomy of Faults",
		"",
		"Category Option Rationale",
		"Recurring one_organization (a) " + payload,
		"",
		"Other Details",
		"",
		"Category Option Rationale",
		"Consequence death (a) " + payload,
		"",
		"Sources",
		"javascript:window.__xss=3",
		payload,
		"",
	}, "\n")
	if err := os.WriteFile(filepath.Join(dir, "hostile-ui.txt"), []byte(report), 0o644); err != nil {
		t.Fatal(err)
	}
	// Options with markup cannot be written in the page form; JSON Lines
	// carries them.
	line, _ := json.Marshal(map[string]any{
		"id": "hostile-options", "title": "Options " + payload, "published": "2021-06-02", "summary": payload,
		"taxonomy": map[string]any{
			"consequence": map[string]any{"options": []string{`<script>window.__xss=4</script>`, `"><img src=x onerror=window.__xss=5>`}, "rationale": payload},
			"domain":      map[string]any{"options": []string{"</mark>", "&lt;b&gt;"}, "rationale": payload},
		},
	})
	if err := os.WriteFile(filepath.Join(dir, "hostile.jsonl"), append(line, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	inst := startServe(t, append(indextest.Reports(t), dir))
	ctx := newBrowser(t, 2*time.Minute)

	// clean checks the page: no planted elements, no script ran, and the
	// markup shows as text.
	clean := func(where, visible string) {
		t.Helper()
		var r struct {
			XSS     any    `json:"xss"`
			Imgs    int    `json:"imgs"`
			Scripts int    `json:"scripts"`
			Marks   int    `json:"marks"`
			BadMark int    `json:"badMark"`
			JSLinks int    `json:"jsLinks"`
			Text    string `json:"text"`
		}
		eval(t, ctx, `({
		  xss: window.__xss === undefined ? null : window.__xss,
		  imgs: document.querySelectorAll('img').length,
		  scripts: [...document.scripts].filter(s => !/\/static\/app\.js\?v=/.test(s.getAttribute('src') || '')).length,
		  marks: document.querySelectorAll('mark').length,
		  badMark: [...document.querySelectorAll('mark')].filter(m => m.children.length > 0).length,
		  jsLinks: [...document.querySelectorAll('a')].filter(a => /^\s*javascript:/i.test(a.getAttribute('href') || '')).length,
		  text: document.body.innerText,
		})`, &r)
		if r.XSS != nil || r.Imgs != 0 || r.Scripts != 0 || r.BadMark != 0 || r.JSLinks != 0 {
			t.Errorf("%s: xss %v, %d img, %d other scripts, %d marks with elements inside, %d javascript: links", where, r.XSS, r.Imgs, r.Scripts, r.BadMark, r.JSLinks)
		}
		if !strings.Contains(r.Text, visible) {
			t.Errorf("%s: the text does not show %q", where, visible)
		}
	}
	for _, target := range []string{"/?q=hostile", "/?q=zebrafish", "/?q=" + "%3Cscript%3Ewindow.__xss%3D6%3C%2Fscript%3E", "/?q=%22%3E%3Cimg+src%3Dx%22", "/?consequence=%3Cscript%3Ewindow.__xss%3D4%3C%2Fscript%3E"} {
		run(t, ctx, "loading "+target, chromedp.Navigate(inst.URL+target), chromedp.WaitVisible("#main", chromedp.ByID))
		clean(target, "")
	}
	run(t, ctx, "typing zebrafish",
		chromedp.Navigate(inst.URL+"/"),
		chromedp.WaitVisible("#q", chromedp.ByID),
		chromedp.SendKeys("#q", "zebrafish", chromedp.ByID),
		waitFor(`document.querySelectorAll('#sg [role=option][data-id]').length >= 2`),
	)
	clean("suggestions", `Hostile <script>window.__xss=1</script> "><img src=x onerror="window.__xss=2"> </mark> &lt; zebrafish`)
	run(t, ctx, "searching", chromedp.Navigate(inst.URL+"/?q=zebrafish"), chromedp.WaitVisible(".hits", chromedp.ByQuery))
	clean("zebrafish", `Hostile <script>window.__xss=1</script> "><img src=x onerror="window.__xss=2"> </mark> &lt; zebrafish`)
	clean("zebrafish options", `<script>window.__xss=4</script>`)
	for _, id := range []string{"hostile-ui", "hostile-options"} {
		run(t, ctx, "opening "+id, chromedp.Navigate(inst.URL+"/incidents/"+id), chromedp.WaitVisible(".incident h1", chromedp.ByQuery))
		clean(id, "zebrafish")
	}
	clean("hostile options page", `><img_src=x_onerror=window.__xss=5>`)
}

// TestUIScreenshots lays the pages out at desktop and phone widths, checks
// that nothing overflows sideways, and with -update-screenshots writes the
// screenshots the README shows.
func TestUIScreenshots(t *testing.T) {
	inst := startServe(t, sharedReports(t))
	ctx := newBrowser(t, 2*time.Minute)
	update := *updateScreenshots || os.Getenv("FAILDEX_UPDATE_SCREENSHOTS") != ""
	for _, shot := range []struct {
		file          string
		width, height int64
		target        string
	}{
		{"search-desktop.png", 1280, 900, "/?q=software+update&consequence=property"},
		{"search-phone.png", 390, 844, "/?q=software+update&consequence=property"},
		{"incident.png", 1280, 1100, "/incidents/000_123143f11ad7b5f7"},
		{"explore.png", 1280, 1000, "/explore?rows=consequence&cols=domain"},
		{"", 390, 844, "/explore?rows=responsible_org&cols=objective"}, // checked, not kept
		{"", 390, 844, "/incidents/000_123143f11ad7b5f7"},              // checked, not kept
	} {
		var png []byte
		var overflow int
		run(t, ctx, shot.file,
			chromedp.EmulateViewport(shot.width, shot.height),
			chromedp.Navigate(inst.URL+shot.target),
			chromedp.WaitVisible("#main", chromedp.ByID),
			waitFor(`document.readyState === "complete"`),
			chromedp.Evaluate(`document.documentElement.scrollWidth - document.documentElement.clientWidth`, &overflow),
			chromedp.CaptureScreenshot(&png),
		)
		if overflow > 0 {
			t.Errorf("%s at %d px: the page is %d px wider than the window", shot.target, shot.width, overflow)
		}
		if !update || shot.file == "" {
			continue
		}
		path := filepath.Join("..", "docs", "screenshots", shot.file)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", path, len(png))
	}

	// Printed, the incident page is the report alone.
	var printed string
	run(t, ctx, "printing an incident",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(inst.URL+"/incidents/000_123143f11ad7b5f7"),
		chromedp.WaitVisible(".incident h1", chromedp.ByQuery),
		emulation.SetEmulatedMedia().WithMedia("print"),
		chromedp.Evaluate(`['.top', '.foot', '.inav', '.incident h1', '.tax'].map(s => getComputedStyle(document.querySelector(s)).display).join(' ')`, &printed),
		emulation.SetEmulatedMedia().WithMedia(""),
	)
	if printed != "none none none block table" {
		t.Errorf("printed incident page: header, footer, back link, title, table displayed as %q", printed)
	}
}
