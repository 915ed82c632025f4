package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// TestUISearchActions uses the actions of a filter-only search as a user
// would: the downloads and feeds are there and answer, "Copy link" copies
// the search's URL, and "Embed this search" gives snippets that, pasted
// into a page of another site (allowed with --cors-origin), show the same
// incidents there, the script's included, without a query attribute.
func TestUISearchActions(t *testing.T) {
	site := newOtherSite(t)
	inst := startServe(t, nil, "--cors-origin", site.URL, "--frame-ancestors", site.URL)
	ctx := newBrowser(t, 2*time.Minute)
	run(t, ctx, "allowing the clipboard", chromedp.ActionFunc(func(ctx context.Context) error {
		return browser.GrantPermissions([]browser.PermissionType{browser.PermissionTypeClipboardReadWrite, browser.PermissionTypeClipboardSanitizedWrite}).
			WithOrigin(inst.URL).Do(ctx)
	}))
	run(t, ctx, "loading a filter-only search",
		chromedp.Navigate(inst.URL+"/?consequence=death"),
		chromedp.WaitVisible(`#embedp`, chromedp.ByQuery),
	)
	var links map[string]string
	eval(t, ctx, `Object.fromEntries(Array.from(document.querySelectorAll('.actions a'), a => [a.textContent, a.getAttribute('href')]))`, &links)
	for label, ctype := range map[string]string{
		"Download CSV": "text/csv", "Download NDJSON": "application/x-ndjson",
		"Atom feed": "application/atom+xml", "JSON feed": "application/feed+json",
	} {
		href, ok := links[label]
		if !ok || !strings.Contains(href, "consequence=death") {
			t.Errorf("action %q: href %q", label, href)
			continue
		}
		resp, err := http.Get(inst.URL + href)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), ctype) {
			t.Errorf("%s: status %d, type %q, want %s", label, resp.StatusCode, resp.Header.Get("Content-Type"), ctype)
		}
	}

	// Copy link puts this search's absolute URL on the clipboard and says so.
	var copied, said string
	run(t, ctx, "copying the link",
		chromedp.Click(`#copy-link`, chromedp.ByQuery),
		waitFor(`document.getElementById('live').textContent === 'Link copied'`),
		chromedp.Evaluate(`navigator.clipboard.readText()`, &copied, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }),
		chromedp.Text(`#live`, &said, chromedp.ByQuery),
	)
	if copied != inst.URL+"/?consequence=death" {
		t.Errorf("copied %q, want %q", copied, inst.URL+"/?consequence=death")
	}

	// The embed panel: snippets for exactly this search, the CORS line, a
	// live preview.
	var snip struct {
		Iframe, Script, CORS string
		Preview              int
	}
	run(t, ctx, "opening the embed panel",
		chromedp.Click(`#embedp > summary`, chromedp.ByQuery),
		waitFor(`(() => { const f = document.querySelector('#embedp iframe'); const d = f && f.contentDocument; return d && d.querySelectorAll('a.title').length > 0; })()`),
		chromedp.Evaluate(`({
			iframe: document.getElementById('emb-iframe').value,
			script: document.getElementById('emb-script').value,
			cors: document.getElementById('emb-cors').textContent,
			preview: document.querySelector('#embedp iframe').contentDocument.querySelectorAll('a.title').length,
		})`, &snip),
	)
	if !strings.Contains(snip.Iframe, `src="`+inst.URL+`/embed?consequence=death&amp;size=5"`) {
		t.Errorf("iframe snippet %q", snip.Iframe)
	}
	wantScript := `<script src="` + inst.URL + `/embed.js" defer></script>` + "\n" + `<div data-faildex-consequence="death" data-faildex-size="5"></div>`
	if snip.Script != wantScript {
		t.Errorf("script snippet\n%s\nwant\n%s", snip.Script, wantScript)
	}
	if !strings.Contains(snip.CORS, "faildex serve --cors-origin") {
		t.Errorf("CORS line %q", snip.CORS)
	}

	// Pasted into a page of the other site, both snippets show the
	// incidents with deaths.
	site.setPage(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A blog</title></head><body>` +
		snip.Iframe + "\n" + snip.Script + `</body></html>`)
	var titles []string
	run(t, ctx, "loading the other site",
		chromedp.Navigate(site.URL+"/"),
		chromedp.Poll(`(() => { const r = document.querySelector('div[data-faildex-consequence]').shadowRoot; const a = r && r.querySelectorAll('a.title'); return a && a.length ? Array.from(a, x => x.textContent) : null; })()`,
			&titles, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if len(titles) != snip.Preview {
		t.Errorf("the script shows %d incidents, the preview %d", len(titles), snip.Preview)
	}
	var src string
	eval(t, ctx, `document.querySelector('iframe').getAttribute('src')`, &src)
	if src != inst.URL+"/embed?consequence=death&size=5" {
		t.Errorf("pasted frame src %q", src)
	}
}
