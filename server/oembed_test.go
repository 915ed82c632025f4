package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/faildex/faildex/server"
)

// TestOEmbed asks for the oEmbed of incident and search URLs as a consumer
// site would, and loads the iframe it is given.
func TestOEmbed(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	site := "http://" + testHost
	oembed := func(t *testing.T, target string) (*server.OEmbed, *http.Response) {
		t.Helper()
		w := f.get(t, "/oembed?"+target)
		if w.Code != http.StatusOK {
			return nil, w.Result()
		}
		var o server.OEmbed
		if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil {
			t.Fatal(err)
		}
		return &o, w.Result()
	}
	tests := []struct {
		name, pageURL, extra string
		title, src           string
		width, height        int
	}{
		{"incident", site + "/incidents/" + ransomID, "", "Ransomware Attack on Düsseldorf University Hospital Diverts an Emergency Patient", "/embed?id=" + ransomID, 480, 240},
		{"search page", site + "/?q=ransomware&consequence=death&page=3", "&format=json", "faildex: ransomware, consequence: Death", "/embed?consequence=death&amp;q=ransomware", 480, 400},
		{"embed page", site + "/embed?domain=health", "&maxwidth=320&maxheight=1000", "faildex: domain: Health", "/embed?domain=health", 320, 400},
		{"https and other case", "https://FAILDEX.test/incidents/" + alexaID, "&maxheight=100", "Amazon Alexa Privacy Breach: Recording and Sending Conversations Without Consent", "/embed?id=" + alexaID, 480, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, resp := oembed(t, "url="+url.QueryEscape(tt.pageURL)+tt.extra)
			if o == nil {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if o.Version != "1.0" || o.Type != "rich" || o.ProviderName != "faildex" || o.ProviderURL != site+"/" {
				t.Errorf("%+v", o)
			}
			if o.Title != tt.title || o.Width != tt.width || o.Height != tt.height {
				t.Errorf("title %q %dx%d, want %q %dx%d", o.Title, o.Width, o.Height, tt.title, tt.width, tt.height)
			}
			doc := parseHTML(t, o.HTML)
			frames := findAll(doc, "iframe")
			if len(frames) != 1 || len(findAll(doc, "script")) != 0 {
				t.Fatalf("html is not one iframe: %s", o.HTML)
			}
			src := attr(frames[0], "src")
			if want := site + strings.ReplaceAll(tt.src, "&amp;", "&"); src != want {
				t.Errorf("iframe src %q, want %q", src, want)
			}
			if !strings.Contains(attr(frames[0], "sandbox"), "allow-popups") || attr(frames[0], "title") != tt.title {
				t.Errorf("iframe: sandbox %q title %q", attr(frames[0], "sandbox"), attr(frames[0], "title"))
			}
			// The frame loads.
			w := f.get(t, strings.TrimPrefix(src, site))
			mustStatus(t, w, http.StatusOK)
			if !strings.Contains(w.Body.String(), `target="_blank"`) {
				t.Errorf("the framed page has no links: %s", w.Body.String())
			}
		})
	}

	errs := []struct {
		name, query string
		status      int
	}{
		{"no url", "", http.StatusBadRequest},
		{"other host", "url=" + url.QueryEscape("https://elsewhere.example/incidents/"+ransomID), http.StatusNotFound},
		{"not embeddable", "url=" + url.QueryEscape(site+"/api/v1/facets"), http.StatusNotFound},
		{"no such page", "url=" + url.QueryEscape(site+"/search?q=x"), http.StatusNotFound},
		{"javascript", "url=" + url.QueryEscape("javascript:alert(1)//"+testHost+"/"), http.StatusNotFound},
		{"unknown incident", "url=" + url.QueryEscape(site+"/incidents/no-such-incident"), http.StatusNotFound},
		{"bad search", "url=" + url.QueryEscape(site+"/?sort=nope"), http.StatusBadRequest},
		{"xml", "url=" + url.QueryEscape(site+"/incidents/"+ransomID) + "&format=xml", http.StatusNotImplemented},
		{"bad maxwidth", "url=" + url.QueryEscape(site+"/incidents/"+ransomID) + "&maxwidth=-3", http.StatusBadRequest},
	}
	for _, tt := range errs {
		w := f.get(t, "/oembed?"+tt.query)
		if w.Code != tt.status || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Errorf("%s: status %d (%s), want %d", tt.name, w.Code, w.Body.String(), tt.status)
		}
	}

	// Markup in a search URL stays inside the src attribute.
	o, _ := oembed(t, "url="+url.QueryEscape(site+`/?q="><script>alert(1)</script>`))
	if o != nil && (len(findAll(parseHTML(t, o.HTML), "script")) != 0 || strings.Contains(o.HTML, "<script")) {
		t.Errorf("markup escaped the iframe: %s", o.HTML)
	}
}
