package server

import (
	"strings"
	"testing"

	"github.com/faildex/faildex/search"
)

// TestSearchActions checks the actions of a search: exports and feeds of
// the same search, and snippets whose attributes hold the search escaped.
func TestSearchActions(t *testing.T) {
	req := search.Request{Query: `a "b" <c> & d`, Filters: map[string][]string{"consequence": {"death", "harm"}, "domain": {"finance"}}, From: "2010", Sort: "date", Page: 3}
	a := newSearchActions("https://faildex.example", req)
	for got, want := range map[string]string{
		a.CSV:      "/api/v1/export?consequence=death&consequence=harm&domain=finance&format=csv&from=2010&q=a+%22b%22+%3Cc%3E+%26+d&sort=date",
		a.Atom:     "/feed.atom?consequence=death&consequence=harm&domain=finance&from=2010&q=a+%22b%22+%3Cc%3E+%26+d",
		a.Link:     "https://faildex.example/?consequence=death&consequence=harm&domain=finance&from=2010&q=a+%22b%22+%3Cc%3E+%26+d&sort=date",
		a.Preview:  "/embed?consequence=death&consequence=harm&domain=finance&from=2010&q=a+%22b%22+%3Cc%3E+%26+d&size=5&sort=date",
		a.NDJSON:   "/api/v1/export?consequence=death&consequence=harm&domain=finance&format=ndjson&from=2010&q=a+%22b%22+%3Cc%3E+%26+d&sort=date",
		a.JSONFeed: "/feed.json?consequence=death&consequence=harm&domain=finance&from=2010&q=a+%22b%22+%3Cc%3E+%26+d",
	} {
		if got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
	wantDiv := `<div data-faildex-search="a &#34;b&#34; &lt;c&gt; &amp; d" data-faildex-consequence="death,harm" data-faildex-domain="finance" data-faildex-from="2010" data-faildex-sort="date" data-faildex-size="5"></div>`
	if !strings.HasSuffix(a.ScriptSnippet, wantDiv) || !strings.HasPrefix(a.ScriptSnippet, `<script src="https://faildex.example/embed.js" defer></script>`) {
		t.Errorf("script snippet %s", a.ScriptSnippet)
	}
	if !strings.Contains(a.IframeSnippet, `src="https://faildex.example/embed?consequence=death&amp;consequence=harm&amp;domain=finance&amp;from=2010&amp;q=a+%22b%22+%3Cc%3E+%26+d&amp;size=5&amp;sort=date"`) ||
		!strings.Contains(a.IframeSnippet, `title="faildex: a &#34;b&#34; &lt;c&gt; &amp; d, Consequence: Death, Consequence: Harm, Domain: Finance, published from 2010"`) {
		t.Errorf("iframe snippet %s", a.IframeSnippet)
	}
}
