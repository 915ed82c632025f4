package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestUIExplore opens the explore page from the search page in the
// browser, picks other dimensions, and follows a cell of the heat map to
// its search, whose heading must count what the cell showed.
func TestUIExplore(t *testing.T) {
	inst := startServe(t, sharedReports(t))
	ctx := newBrowser(t, 3*time.Minute)

	run(t, ctx, "opening explore from a search",
		chromedp.Navigate(inst.URL+"/?q=software"),
		chromedp.WaitVisible("#explore", chromedp.ByID),
		chromedp.Click("#explore", chromedp.ByID),
		waitFor(`location.pathname === "/explore" && document.querySelector("table.pivot caption") !== null`),
	)
	var caption string
	eval(t, ctx, `document.querySelector("table.pivot caption").textContent`, &caption)
	if !strings.HasPrefix(caption, "Consequence by Domain") || !strings.Contains(caption, "“software”") {
		t.Errorf("caption %q, want consequence by domain of the search", caption)
	}

	run(t, ctx, "picking behaviour by year",
		chromedp.SetValue("#rows", "year", chromedp.ByID),
		chromedp.SetValue("#cols", "behaviour", chromedp.ByID),
		chromedp.Click(`form.pick button`, chromedp.ByQuery),
		waitFor(`new URLSearchParams(location.search).get("rows") === "year" && document.getElementById("h-trend") !== null`),
	)
	var charts int
	eval(t, ctx, `document.querySelectorAll(".multiples svg").length`, &charts)
	if charts == 0 {
		t.Error("no trend charts")
	}

	// The busiest cell, followed to its search.
	var cell struct {
		Href  string `json:"href"`
		Count string `json:"count"`
	}
	var raw string
	eval(t, ctx, `(() => {
		let best = null;
		for (const a of document.querySelectorAll("table.pivot tbody td a")) {
			if (!best || +a.textContent > +best.textContent) best = a;
		}
		best.id = "cell";
		return JSON.stringify({href: best.getAttribute("href"), count: best.textContent});
	})()`, &raw)
	if err := json.Unmarshal([]byte(raw), &cell); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "following a cell",
		chromedp.Click("#cell", chromedp.ByID),
		waitFor(`location.pathname === "/" && document.getElementById("rh") !== null`),
	)
	var heading, search string
	eval(t, ctx, `document.getElementById("rh").textContent`, &heading)
	eval(t, ctx, `location.search`, &search)
	v, _ := url.ParseQuery(strings.TrimPrefix(search, "?"))
	if v.Get("q") != "software" || v.Get("behaviour") == "" || v.Get("from") == "" || v.Get("from") != v.Get("to") {
		t.Errorf("the cell led to %s, want the search narrowed to a behaviour and a year", search)
	}
	if want := cell.Count + " incident"; !strings.HasPrefix(heading, want) {
		t.Errorf("heading %q, want %s (the cell's count)", heading, fmt.Sprint(want))
	}
}
