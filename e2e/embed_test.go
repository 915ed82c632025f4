package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/faildex/faildex/index/indextest"
)

// extraReports are the embedding tests' own reports: a ransomware attack
// with a death, and an incident whose title carries markup.
const extraReports = "../server/testdata/extra.jsonl"

const (
	ransomTitle = "Ransomware Attack on Düsseldorf University Hospital Diverts an Emergency Patient"
	markupTitle = `Edge case: 50% of $HOME & C_programs #1 {braces} ~tilde ^caret \backslash "quoted" <b>bold</b>`
)

// otherSite is a web site on a second origin (another port of 127.0.0.1)
// whose one page is set after the faildex instance it embeds has started.
type otherSite struct {
	*httptest.Server
	mu   sync.Mutex
	page string
}

func newOtherSite(tb testing.TB) *otherSite {
	tb.Helper()
	s := &otherSite{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, s.page)
	}))
	tb.Cleanup(s.Close)
	return s
}

func (s *otherSite) setPage(page string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.page = page
}

// hostPage is a page of another site that frames /embed and uses embed.js,
// with styles of its own that must not reach the widgets (nor theirs it).
const hostPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A blog</title>
<style>
a { color: rgb(255, 0, 0) !important; text-decoration: line-through !important; }
li { list-style: square; font-size: 30px; }
.title { font-style: italic; }
</style>
</head><body>
<h1>A blog about failures</h1>
<p><a id="own" class="title" href="#">the blog's own link</a></p>
<iframe id="frame" src="FAILDEX/embed?q=ransomware&amp;consequence=death&amp;size=5" width="480" height="300" title="faildex"></iframe>
<div id="div-widget" data-faildex-search="ransomware" data-faildex-consequence="death"></div>
<faildex-results id="element-widget" search="wake word" size="3"></faildex-results>
<div id="markup-widget" data-faildex-search="edge case"></div>
<script src="FAILDEX/embed.js"></script>
</body></html>`

// shadowTitles is JavaScript that returns the titles listed in the shadow
// root of the element with the id, or null while there are none.
func shadowTitles(id string) string {
	return fmt.Sprintf(`(() => {
		const root = document.getElementById(%q).shadowRoot;
		if (!root) return null;
		const a = root.querySelectorAll("a.title");
		return a.length ? Array.from(a, x => x.textContent) : null;
	})()`, id)
}

// TestEmbedOnAnotherSite loads a page of a second origin in chromium and
// checks that both ways of embedding faildex show live results there: the
// <iframe> of /embed, and embed.js rendering through the JSON API (allowed
// by --cors-origin) into shadow roots.
func TestEmbedOnAnotherSite(t *testing.T) {
	site := newOtherSite(t)
	inst := startServe(t, append(sharedReports(t), extraReports), "--cors-origin", site.URL, "--frame-ancestors", site.URL)
	site.setPage(strings.ReplaceAll(hostPage, "FAILDEX", inst.URL))
	ctx := newBrowser(t, 90*time.Second)

	if err := chromedp.Run(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
		t.Fatal(err)
	}

	// The iframe: its list, links opening new tabs, its own styles applied.
	var frames []*cdp.Node
	var frameTitles []string
	var frameLinks []map[string]string
	err := chromedp.Run(ctx,
		chromedp.WaitReady("#frame", chromedp.ByQuery),
		chromedp.Poll(`document.getElementById("frame").contentWindow !== null`, nil, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		frames = nil
		if err := chromedp.Run(ctx, chromedp.Nodes("#frame", &frames, chromedp.ByQuery)); err != nil {
			t.Fatal(err)
		}
		if len(frames) == 1 && frames[0].ContentDocument != nil {
			tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err = chromedp.Run(tctx,
				chromedp.WaitVisible("a.title", chromedp.ByQuery, chromedp.FromNode(frames[0])),
				chromedp.Evaluate(`0`, nil), // keep the context alive
			)
			cancel()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no results appeared in the iframe: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var titleNodes []*cdp.Node
	if err := chromedp.Run(ctx, chromedp.Nodes("a", &titleNodes, chromedp.ByQueryAll, chromedp.FromNode(frames[0]))); err != nil {
		t.Fatal(err)
	}
	for _, n := range titleNodes {
		var text string
		if err := chromedp.Run(ctx, chromedp.TextContent([]cdp.NodeID{n.NodeID}, &text, chromedp.ByNodeID)); err != nil {
			t.Fatal(err)
		}
		if n.AttributeValue("class") == "title" {
			frameTitles = append(frameTitles, text)
		}
		frameLinks = append(frameLinks, map[string]string{"href": n.AttributeValue("href"), "target": n.AttributeValue("target"), "rel": n.AttributeValue("rel")})
	}
	if len(frameTitles) != 1 || frameTitles[0] != ransomTitle {
		t.Errorf("iframe titles %q, want [%q]", frameTitles, ransomTitle)
	}
	for _, l := range frameLinks {
		if l["target"] != "_blank" || !strings.Contains(l["rel"], "noopener") {
			t.Errorf("iframe link %v does not open a new tab with noopener", l)
		}
	}

	// embed.js: a div and a custom element on the page, each with its list.
	var divTitles, elementTitles, markupTitles []string
	err = chromedp.Run(ctx,
		chromedp.Poll(shadowTitles("div-widget"), &divTitles, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Poll(shadowTitles("element-widget"), &elementTitles, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.Poll(shadowTitles("markup-widget"), &markupTitles, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		var errText string
		chromedp.Run(ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll("[id$=widget]"), e => e.id + ": " + (e.shadowRoot ? e.shadowRoot.textContent : "no shadow root")).join("\n")`, &errText))
		t.Fatalf("embed.js rendered no results: %v\n%s", err, errText)
	}
	if len(divTitles) != 1 || divTitles[0] != ransomTitle {
		t.Errorf("div widget titles %q, want [%q]", divTitles, ransomTitle)
	}
	if len(elementTitles) != 1 || !strings.Contains(elementTitles[0], "Alexa") {
		t.Errorf("<faildex-results> titles %q, want the Alexa incident", elementTitles)
	}
	if len(markupTitles) != 1 || markupTitles[0] != markupTitle {
		t.Errorf("markup widget titles %q, want the title as text %q", markupTitles, markupTitle)
	}

	// Data is text: the markup in the title made no element. Links open new
	// tabs on faildex. Styles do not cross the shadow boundary either way.
	var checks struct {
		BoldElements int               `json:"bold"`
		Links        []map[string]any  `json:"links"`
		WidgetLink   map[string]string `json:"widgetLink"`
		OwnLink      map[string]string `json:"ownLink"`
		Footer       string            `json:"footer"`
	}
	err = chromedp.Run(ctx, chromedp.Evaluate(`(() => {
		const style = (el) => { const s = getComputedStyle(el); return {color: s.color, decoration: s.textDecorationLine, fontStyle: s.fontStyle, fontWeight: s.fontWeight}; };
		const div = document.getElementById("div-widget").shadowRoot;
		const markup = document.getElementById("markup-widget").shadowRoot;
		return {
			bold: markup.querySelectorAll("b").length,
			links: Array.from(div.querySelectorAll("a"), a => ({href: a.href, target: a.target, rel: a.rel})),
			widgetLink: style(div.querySelector("a.title")),
			ownLink: style(document.getElementById("own")),
			footer: div.querySelector(".footer").textContent,
		};
	})()`, &checks))
	if err != nil {
		t.Fatal(err)
	}
	if checks.BoldElements != 0 {
		t.Errorf("the title's <b> became %d elements", checks.BoldElements)
	}
	for _, l := range checks.Links {
		if l["target"] != "_blank" || !strings.Contains(fmt.Sprint(l["rel"]), "noopener") || !strings.HasPrefix(fmt.Sprint(l["href"]), inst.URL+"/") {
			t.Errorf("widget link %v: want a new tab with noopener on %s", l, inst.URL)
		}
	}
	if c := checks.WidgetLink; c["color"] == "rgb(255, 0, 0)" || c["decoration"] == "line-through" || c["fontStyle"] == "italic" {
		t.Errorf("the page's styles reached the widget: %v", c)
	}
	if c := checks.OwnLink; c["fontWeight"] != "400" || c["fontStyle"] != "italic" {
		t.Errorf("the widget's styles reached the page (or the page's are missing): %v", c)
	}
	if !strings.HasPrefix(checks.Footer, "1 incident · more on faildex") {
		t.Errorf("footer %q", checks.Footer)
	}
}

// TestEmbedScriptNeedsCORS checks what a site that was not allowed with
// --cors-origin sees: a message in the widget, not a broken page.
func TestEmbedScriptNeedsCORS(t *testing.T) {
	site := newOtherSite(t)
	inst := startServe(t, indextest.Reports(t))
	site.setPage(strings.ReplaceAll(`<!doctype html><html><head><meta charset="utf-8"><title>x</title></head><body>
<div id="w" data-faildex-search="wake word"></div>
<script src="FAILDEX/embed.js"></script></body></html>`, "FAILDEX", inst.URL))
	ctx := newBrowser(t, 60*time.Second)
	var msg string
	err := chromedp.Run(ctx,
		chromedp.Navigate(site.URL+"/"),
		chromedp.Poll(`(() => { const r = document.getElementById("w").shadowRoot; const e = r && r.querySelector(".error"); return e ? e.textContent : null; })()`,
			&msg, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// It says what to do: which origin to allow, and how.
	if want := "Start faildex with --cors-origin " + site.URL; !strings.Contains(msg, want) {
		t.Errorf("message %q does not say %q", msg, want)
	}
}

// TestExportReimport exports every incident from a running server, as NDJSON
// and as CSV, indexes each file with `faildex index`, and compares
// `faildex export` of the new indexes with that of the served one: the
// round trip loses nothing.
func TestExportReimport(t *testing.T) {
	inst := startServe(t, append(sharedReports(t), extraReports, indextest.DataDir()))
	faildex := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary, args...)
		var out, errs bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errs
		if err := cmd.Run(); err != nil {
			t.Fatalf("faildex %s: %v\n%s", strings.Join(args, " "), err, errs.String())
		}
		return out.String()
	}
	want := faildex("export", "--index", inst.Index)
	if n := strings.Count(want, "\n"); n < 80 {
		t.Fatalf("only %d incidents served", n)
	}
	for _, format := range []string{"ndjson", "csv"} {
		t.Run(format, func(t *testing.T) {
			resp, err := http.Get(inst.URL + "/api/v1/export?format=" + format)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
			if resp.StatusCode != http.StatusOK || params["filename"] != "faildex-all."+format {
				t.Fatalf("status %d, Content-Disposition %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
			}
			file := filepath.Join(t.TempDir(), params["filename"])
			f, err := os.Create(file)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, resp.Body); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "reindexed")
			faildex("index", "--strict", "--index", dir, file)
			if got := faildex("export", "--index", dir); got != want {
				t.Errorf("faildex export differs after re-indexing the %s export:\n%s", format, firstDiff(want, got))
			}
		})
	}
}

// firstDiff describes the first line where two texts differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\n- %.500s\n+ %.500s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d lines, then %d", len(al), len(bl))
}
