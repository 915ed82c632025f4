package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/faildex/faildex/server"
)

// TestBaseURLHostileHost sends requests with a forged Host header (and
// forwarding headers) to every endpoint that writes absolute links, and
// checks that the links name the configured base URL, a trusted host or the
// listen address, never the forged host.
func TestBaseURLHostileHost(t *testing.T) {
	dir := buildEmbIndex(t, embPaths(t))
	inc := "/incidents/" + alexaID
	targets := func(host string) []string {
		return []string{
			"/opensearch.xml",
			"/feed.atom?q=alexa",
			"/feed.json?q=alexa",
			inc + ".bib",
			inc,
			"/oembed?format=json&url=" + url.QueryEscape(host+inc),
		}
	}
	forged := []string{"Host", "evil.example", "X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "https", "Forwarded", "host=evil.example;proto=https"}
	for _, tc := range []struct {
		name string
		cfg  server.Config
		host string // the Host header sent
		want string // the base every absolute link must have
	}{
		{"forged host, no base URL", server.Config{AllowedHosts: []string{"faildex.example"}}, "evil.example", "http://localhost"},
		{"forged host, base URL", server.Config{BaseURL: "https://Faildex.example/"}, "evil.example", "https://faildex.example"},
		{"allowed host", server.Config{AllowedHosts: []string{"faildex.example:8443"}}, "faildex.example:8443", "http://faildex.example:8443"},
		{"base URL wins over an allowed host", server.Config{BaseURL: "https://faildex.example", AllowedHosts: []string{"faildex.test"}}, "faildex.test", "https://faildex.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newEmbServer(t, tc.cfg, openEmbEngine(t, dir))
			hdr := append([]string{}, forged...)
			hdr[1] = tc.host
			for _, target := range targets(tc.want) {
				w := doHandler(t, srv.Handler(), http.MethodGet, target, hdr...)
				body := w.Body.String()
				if w.Code != http.StatusOK {
					t.Errorf("%s: status %d: %.300s", target, w.Code, body)
					continue
				}
				if tc.host == "evil.example" && strings.Contains(body, "evil.example") {
					t.Errorf("%s: the forged host is in the answer:\n%.600s", target, body)
				}
				if !strings.Contains(body, tc.want+"/") {
					t.Errorf("%s: no link under %s:\n%.600s", target, tc.want, body)
				}
			}
			// oEmbed refuses URLs of the forged host: they are not this
			// server's.
			w := doHandler(t, srv.Handler(), http.MethodGet, "/oembed?url="+url.QueryEscape("http://evil.example"+inc), hdr...)
			if tc.host == "evil.example" && w.Code != http.StatusNotFound {
				t.Errorf("oEmbed of the forged host: status %d", w.Code)
			}
		})
	}

	// On a real listener, links of a request with a forged Host name the
	// address the server listens on; its own address is trusted.
	srv := newEmbServer(t, server.Config{AllowedHosts: []string{}}, openEmbEngine(t, dir))
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	for _, host := range []string{"evil.example", strings.TrimPrefix(ts.URL, "http://")} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/opensearch.xml", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		resp.Body.Close()
		if strings.Contains(b.String(), "evil.example") || !strings.Contains(b.String(), `template="`+ts.URL+`/?q=`) {
			t.Errorf("Host %s on a listener: links are not to %s:\n%s", host, ts.URL, b.String())
		}
	}
}

// TestBaseURLInvalid checks that a base URL that is not a plain scheme and
// host, and a malformed allowed host, are refused at start.
func TestBaseURLInvalid(t *testing.T) {
	for _, cfg := range []server.Config{
		{BaseURL: "faildex.example"},
		{BaseURL: "ftp://faildex.example"},
		{BaseURL: "https://"},
		{BaseURL: "https://faildex.example/sub"},
		{BaseURL: "https://user@faildex.example"},
		{BaseURL: "https://faildex.example/?x=1"},
		{BaseURL: `https://fail"dex.example`},
		{AllowedHosts: []string{"evil.example/path"}},
	} {
		if _, err := server.New(cfg, nil); err == nil {
			t.Errorf("%+v: accepted", cfg)
		}
	}
}
