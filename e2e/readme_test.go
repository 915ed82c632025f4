package e2e

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/faildex/faildex/index/indextest"
)

// The README's examples are written for a server on readmeBase and a site
// on readmeSite; the test substitutes its own.
const (
	readmeBase = "http://127.0.0.1:8080"
	readmeSite = "https://blog.example"
)

// readmeBlock is a fenced block of the README: its language and lines.
type readmeBlock struct {
	lang  string
	lines []string
}

// embeddingBlocks returns the fenced blocks of the README's "Embedding"
// section.
func embeddingBlocks(tb testing.TB) []readmeBlock {
	tb.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		tb.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Embedding\n")
	if start < 0 {
		tb.Fatal(`README.md has no "## Embedding" section`)
	}
	section := text[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	var blocks []readmeBlock
	var cur *readmeBlock
	for _, line := range strings.Split(section, "\n") {
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &readmeBlock{lang: strings.TrimPrefix(line, "```")}
		case cur != nil && line == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.lines = append(cur.lines, line)
		}
	}
	if cur != nil {
		tb.Fatal("unterminated fenced block in the Embedding section")
	}
	return blocks
}

// shellWords splits a command line as sh would for the simple quoting the
// README uses: single quotes, double quotes and backslashes; a # starting a
// word begins a comment.
func shellWords(tb testing.TB, line string) []string {
	tb.Helper()
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '#' && !inWord:
			return words
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				tb.Fatalf("unbalanced ' in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			j := strings.IndexByte(line[i+1:], '"')
			if j < 0 {
				tb.Fatalf("unbalanced \" in %q", line)
			}
			cur.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '\\' && i+1 < len(line):
			cur.WriteByte(line[i+1])
			i++
			inWord = true
		case c == '|' || c == '>' || c == '<' || c == ';' || c == '&' || c == '$' || c == '`':
			tb.Fatalf("%q: pipes, redirections and expansions are not run by this test; keep README examples to single commands", line)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// curlCommand is a README curl example: the URL and its request headers.
type curlCommand struct {
	line     string
	url      string
	header   http.Header
	download bool // -O -J: save under the server's file name
}

func parseCurl(tb testing.TB, line string, words []string) curlCommand {
	tb.Helper()
	c := curlCommand{line: line, header: http.Header{}}
	for i := 1; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-H" && i+1 < len(words):
			k, v, ok := strings.Cut(words[i+1], ":")
			if !ok {
				tb.Fatalf("%q: bad header %q", line, words[i+1])
			}
			c.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			i++
		case w == "-OJ" || w == "-JO":
			c.download = true
		case w == "-i" || w == "-s" || w == "-sS":
		case strings.HasPrefix(w, "http://") || strings.HasPrefix(w, "https://"):
			if c.url != "" {
				tb.Fatalf("%q: two URLs", line)
			}
			c.url = w
		default:
			tb.Fatalf("%q: curl option %q is not supported by this test; add it to parseCurl", line, w)
		}
	}
	if c.url == "" {
		tb.Fatalf("%q: no URL", line)
	}
	return c
}

// readmeContentTypes maps the README's endpoints to the media type each
// must answer with; an example of any other endpoint fails the test until
// it is added here.
var readmeContentTypes = []struct {
	pattern *regexp.Regexp
	ctype   string
}{
	{regexp.MustCompile(`^/api/v1/export\?.*format=csv`), "text/csv"},
	{regexp.MustCompile(`^/api/v1/export\?`), "application/x-ndjson"},
	{regexp.MustCompile(`^/api/v1/`), "application/json"},
	{regexp.MustCompile(`^/feed\.atom`), "application/atom+xml"},
	{regexp.MustCompile(`^/feed\.json`), "application/feed+json"},
	{regexp.MustCompile(`^/opensearch\.xml$`), "application/opensearchdescription+xml"},
	{regexp.MustCompile(`^/oembed\?`), "application/json"},
	{regexp.MustCompile(`^/incidents/[^/]+\.bib$`), "application/x-bibtex"},
	{regexp.MustCompile(`^/embed\.js$`), "text/javascript"},
	{regexp.MustCompile(`^/embed`), "text/html"},
}

// TestReadmeEmbedding runs the examples of the README's Embedding section
// as written: it starts `faildex serve` with the flags of its serve line,
// sends every curl request, runs every `faildex search`, and loads the
// HTML snippets on a page of another origin in chromium.
func TestReadmeEmbedding(t *testing.T) {
	blocks := embeddingBlocks(t)
	var serveFlags []string
	var curls []curlCommand
	var searches [][]string
	var snippet strings.Builder
	for _, b := range blocks {
		switch b.lang {
		case "sh":
			for _, line := range b.lines {
				words := shellWords(t, line)
				switch {
				case len(words) == 0:
				case words[0] == "curl":
					curls = append(curls, parseCurl(t, line, words))
				case len(words) > 1 && words[0] == "faildex" && words[1] == "serve":
					if serveFlags != nil {
						t.Fatal("more than one faildex serve example")
					}
					serveFlags = words[2:]
				case len(words) > 1 && words[0] == "faildex" && words[1] == "search":
					searches = append(searches, words[1:])
				default:
					t.Errorf("README example %q is not run by this test (curl, faildex serve, faildex search)", line)
				}
			}
		case "html":
			snippet.WriteString(strings.Join(b.lines, "\n") + "\n")
		default:
			t.Errorf("fenced block of language %q in the Embedding section", b.lang)
		}
	}
	if serveFlags == nil || len(curls) == 0 || len(searches) == 0 || snippet.Len() == 0 {
		t.Fatalf("the Embedding section lacks examples: serve %q, %d curl, %d search, %d bytes of HTML", serveFlags, len(curls), len(searches), snippet.Len())
	}

	site := newOtherSite(t)
	for i, f := range serveFlags {
		serveFlags[i] = strings.ReplaceAll(f, readmeSite, site.URL)
	}
	inst := startServe(t, append(sharedReports(t), indextest.DataDir()), serveFlags...)
	subst := strings.NewReplacer(readmeBase, inst.URL, readmeSite, site.URL)

	t.Run("curl", func(t *testing.T) {
		client := &http.Client{Timeout: 30 * time.Second}
		for _, c := range curls {
			u := subst.Replace(c.url)
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range c.header {
				for _, v := range vs {
					req.Header.Add(k, subst.Replace(v))
				}
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.line, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s: %v", c.line, err)
			}
			checkReadmeResponse(t, c, resp, body, strings.TrimPrefix(u, inst.URL), site.URL)
		}
	})

	t.Run("faildex search", func(t *testing.T) {
		for _, args := range searches {
			cmd := exec.Command(binary, args...)
			cmd.Env = append(os.Environ(), "FAILDEX_INDEX="+inst.Index)
			var out, errs bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errs
			if err := cmd.Run(); err != nil {
				t.Errorf("faildex %s: %v: %s", strings.Join(args, " "), err, errs.String())
				continue
			}
			if strings.Contains(strings.Join(args, " "), "--json") {
				var res struct {
					Total int               `json:"total"`
					Hits  []json.RawMessage `json:"hits"`
				}
				if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Total == 0 || len(res.Hits) == 0 {
					t.Errorf("faildex %s: %v: %.300s", strings.Join(args, " "), err, out.String())
				}
				continue
			}
			if !strings.Contains(out.String(), "PUBLISHED") {
				t.Errorf("faildex %s printed no hits:\n%s", strings.Join(args, " "), out.String())
			}
			if strings.Contains(strings.Join(args, " "), "--facets") && !strings.Contains(out.String(), "\nconsequence ") {
				t.Errorf("faildex %s printed no facets:\n%s", strings.Join(args, " "), out.String())
			}
		}
	})

	t.Run("html", func(t *testing.T) {
		page := "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>README snippets</title></head><body>\n" +
			subst.Replace(snippet.String()) + "</body></html>\n"
		site.setPage(page)
		ctx := newBrowser(t, 90*time.Second)
		if err := chromedp.Run(ctx, chromedp.Navigate(site.URL+"/")); err != nil {
			t.Fatal(err)
		}
		// Each embed.js element renders titles into its shadow root.
		var counts []int
		err := chromedp.Run(ctx, chromedp.Poll(`(() => {
			const els = Array.from(document.querySelectorAll("[data-faildex-search], faildex-results"));
			const n = els.map(e => e.shadowRoot ? e.shadowRoot.querySelectorAll("a.title").length : 0);
			return els.length && n.every(x => x > 0) ? n : null;
		})()`, &counts, chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			var state string
			chromedp.Run(ctx, chromedp.Evaluate(`Array.from(document.querySelectorAll("[data-faildex-search], faildex-results"), e => e.outerHTML + " => " + (e.shadowRoot ? e.shadowRoot.textContent : "no shadow root")).join("\n")`, &state))
			t.Fatalf("embed.js elements did not all render results: %v\n%s", err, state)
		}
		if len(counts) != strings.Count(snippet.String(), "data-faildex-search=")+strings.Count(snippet.String(), "<faildex-results") {
			t.Errorf("rendered %d widgets", len(counts))
		}
		// Each iframe shows a list.
		var frames []*cdp.Node
		if err := chromedp.Run(ctx, chromedp.Nodes("iframe", &frames, chromedp.ByQueryAll)); err != nil {
			t.Fatal(err)
		}
		if len(frames) == 0 {
			t.Fatal("no iframe in the README's HTML")
		}
		for i := range frames {
			deadline := time.Now().Add(30 * time.Second)
			for {
				var nodes []*cdp.Node
				if err := chromedp.Run(ctx, chromedp.Nodes("iframe", &nodes, chromedp.ByQueryAll)); err != nil {
					t.Fatal(err)
				}
				var titles []*cdp.Node
				if nodes[i].ContentDocument != nil {
					chromedp.Run(ctx, chromedp.Nodes("a.title", &titles, chromedp.ByQueryAll, chromedp.FromNode(nodes[i]), chromedp.AtLeast(0)))
				}
				if len(titles) > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("iframe %d (%s) shows no results", i, nodes[i].AttributeValue("src"))
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	})
}

// checkReadmeResponse checks one curl example's response: success, the
// endpoint's media type, and a body of that type that parses.
func checkReadmeResponse(t *testing.T, c curlCommand, resp *http.Response, body []byte, path, siteURL string) {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("%s: status %d: %.300s", c.line, resp.StatusCode, body)
		return
	}
	want := ""
	for _, ct := range readmeContentTypes {
		if ct.pattern.MatchString(path) {
			want = ct.ctype
			break
		}
	}
	if want == "" {
		t.Errorf("%s: no expected Content-Type for %s; add it to readmeContentTypes", c.line, path)
		return
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != want {
		t.Errorf("%s: Content-Type %q, want %s", c.line, resp.Header.Get("Content-Type"), want)
		return
	}
	if c.download {
		_, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || params["filename"] == "" {
			t.Errorf("%s: -OJ needs a Content-Disposition file name, got %q", c.line, resp.Header.Get("Content-Disposition"))
		}
	}
	if c.header.Get("Origin") != "" {
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != siteURL {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", c.line, got, siteURL)
		}
		if !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "Link") || len(resp.Header.Values("Link")) == 0 {
			t.Errorf("%s: Link headers not sent or not exposed", c.line)
		}
	}
	var err2 error
	switch want {
	case "application/json", "application/feed+json":
		var v map[string]any
		err2 = json.Unmarshal(body, &v)
	case "application/x-ndjson":
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(nil, 1<<20)
		n := 0
		for sc.Scan() {
			var v map[string]any
			if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
				err2 = err
			}
			n++
		}
		if n == 0 {
			err2 = fmt.Errorf("no lines")
		}
	case "text/csv":
		var recs [][]string
		recs, err2 = csv.NewReader(bytes.NewReader(body)).ReadAll()
		if err2 == nil && len(recs) < 2 {
			err2 = fmt.Errorf("%d records", len(recs))
		}
	case "application/atom+xml", "application/opensearchdescription+xml":
		var v struct{ XMLName xml.Name }
		err2 = xml.Unmarshal(body, &v)
	case "application/x-bibtex":
		if !bytes.HasPrefix(body, []byte("@misc{")) {
			err2 = fmt.Errorf("not a @misc entry")
		}
	}
	if err2 != nil {
		t.Errorf("%s: body does not parse as %s: %v: %.300s", c.line, want, err2, body)
	}
}
