package server

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/search"
)

// Hostile input: every request is answered with a 4xx and a clear message
// or a correct 200, never a 5xx, a panic or a hang. Free text (q) is always
// read: a query outside the query language is a 200 with notices.

func TestHostileQueries(t *testing.T) {
	ts := newTestServer(t, Config{})
	var words []string
	for i := range 10000 {
		words = append(words, "w"+strconv.Itoa(i))
	}
	manyTerms := strings.Join(words, " ")
	for _, tc := range []struct {
		name, q string
		status  int // always 200: q is read, never refused
	}{
		{"empty", "", 200},
		{"spaces", "   ", 200},
		{"only exclusions", "-hack -alexa", 200},
		{"exclusion with a word", "alexa -hack", 200},
		{"star", "*", 200},
		{"short prefix", "a*", 200},
		{"prefix", "rec*", 200},
		{"leading wildcard", "*ware", 200},
		{"leading wildcard and stem", "*ware*", 200},
		{"inner wildcard", "so*ware", 200},
		{"question mark", "softw?re", 200},
		{"regexp", "/.*/", 200},
		{"catastrophic regexp", "/(a|aa)*b/", 200},
		{"regexp without star", "/alexa/", 200},
		{"fuzzy", "foo~3", 200},
		{"fuzzy overflow", "foo~1e309", 200},
		{"boost", "foo^abc", 200},
		{"boost number", "alexa^1000", 200},
		{"unbalanced quote", `"wake word`, 200},
		{"quote inside word", `wa"ke`, 200},
		{"empty phrase", `""`, 200},
		{"lone backslash", `\`, 200},
		{"backslashes", `\\ \" \*`, 200},
		{"url", "http://x", 200},
		{"time", "10:30", 200},
		{"windows path", `C:\path`, 200},
		{"ipv6", "::1", 200},
		{"field without value", "field:", 200},
		{"known field without value", "title:", 200},
		{"value without field", ":value", 200},
		{"unknown field", "nosuchfield:x", 200},
		{"unknown category option", "consequence:nope", 200},
		{"category filter", "consequence:death", 200},
		{"year", "year:2018", 200},
		{"bad year", "year:20x8", 200},
		{"OR alone", "OR", 200},
		{"dangling OR", "alexa OR", 200},
		{"OR chain", "alexa OR echo OR siri", 200},
		{"punctuation", "&& || !", 200},
		{"NUL", "wake\x00word", 200},
		{"NULs only", "\x00\x00", 200},
		{"invalid UTF-8", "wake\xff\xfeword", 200},
		{"zero-width", "wa\u200bke\u200d word\ufeff", 200},
		{"right-to-left", "\u202ewake\u202c \u200fword", 200},
		{"bidi isolate", "\u2067alexa\u2069", 200},
		{"emoji", "🔥 outage", 200},
		{"33 terms", strings.TrimSpace(strings.Repeat("alexa ", 33)), 200},
		{"markup", xssScript, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := ts.get(t, "/api/v1/search?q="+url.QueryEscape(tc.q))
			if w.Code != tc.status {
				t.Fatalf("q=%q: status %d, want %d: %.300s", tc.q, w.Code, tc.status, w.Body)
			}
			if w.Code == 400 {
				if e := apiErr(t, w); e.Param != "q" {
					t.Errorf("param %q, want q (message %q)", e.Param, e.Message)
				}
				return
			}
			var res search.Result
			decode(t, w, &res)
		})
	}

	t.Run("10,000 terms", func(t *testing.T) {
		// Over HTTP the URL limit answers first; the engine reads the first
		// words and says so.
		w := ts.get(t, "/api/v1/search?q="+url.QueryEscape(manyTerms))
		if w.Code != http.StatusRequestURITooLong {
			t.Errorf("status %d, want 414", w.Code)
		}
		apiErr(t, w)
		assertNotice(t, ts, search.Request{Query: manyTerms}, "first 32 words")
	})
	t.Run("1 MB query", func(t *testing.T) {
		big := strings.Repeat("x", 1<<20)
		w := ts.get(t, "/api/v1/search?q="+big)
		if w.Code != http.StatusRequestURITooLong {
			t.Errorf("status %d, want 414", w.Code)
		}
		apiErr(t, w)
		assertNotice(t, ts, search.Request{Query: big}, "cut to its first")
	})
	t.Run("longest accepted query", func(t *testing.T) {
		q := strings.TrimSpace(strings.Repeat("abcdefghijklmnopqrstuvwxyz ", search.MaxTerms))
		w := ts.get(t, "/api/v1/search?q="+url.QueryEscape(q))
		if w.Code != http.StatusOK {
			t.Errorf("status %d: %.200s", w.Code, w.Body)
		}
	})
}

// assertRequestError runs req on the server's engine directly and checks
// that it is refused as the user's error, naming param.
// assertNotice checks that the engine reads req and says how, in a notice
// containing want.
func assertNotice(tb testing.TB, ts *testServer, req search.Request, want string) {
	tb.Helper()
	eng, release, err := ts.engines.acquire()
	if err != nil {
		tb.Fatal(err)
	}
	defer release()
	res, err := eng.Search(context.Background(), req)
	if err != nil {
		tb.Fatalf("engine: %v", err)
	}
	if !strings.Contains(strings.Join(res.Notices, "\n"), want) {
		tb.Errorf("engine: notices %q, want one containing %q", res.Notices, want)
	}
}

func TestHostileParams(t *testing.T) {
	ts := newTestServer(t, Config{})
	maxInt := strconv.FormatInt(math.MaxInt64, 10)
	for _, tc := range []struct {
		query  string
		status int
		param  string
	}{
		{"size=-1", 400, "size"},
		{"size=0", 400, "size"},
		{"size=1", 200, ""},
		{"size=100", 200, ""},
		{"size=1000000000", 400, "size"},
		{"size=" + maxInt, 400, "size"},
		{"size=" + maxInt + "0", 400, "size"},
		{"size=ten", 400, "size"},
		{"size=1e3", 400, "size"},
		{"size=0x10", 400, "size"},
		{"size=", 200, ""},
		{"page=-1", 400, "page"},
		{"page=0", 400, "page"},
		{"page=1000000000", 400, "page"},
		{"page=" + maxInt, 400, "page"},
		{"page=-" + maxInt, 400, "page"},
		{"page=one", 400, "page"},
		{"page=100&size=100", 200, ""},
		{"page=101&size=100", 400, "page"},
		{"page=10000&size=1", 200, ""},
		{"page=10001&size=1", 400, "page"},
		{"page=500&size=20", 200, ""}, // past the last hit, within the cap
		{"size=5&size=6", 400, "size"},
		{"page=1&page=2", 400, "page"},
		{"sort=date&sort=title", 400, "sort"},
		{"consequence=death&consequence=harm", 200, ""},
		{"consequence=death,harm,death", 200, ""},
		{"consequence=", 200, ""},
		{"nosuchparam=1&utm_source=x", 200, ""},
		{"q=alexa&Q=ignored", 200, ""},
		{"nosuchcategory=x", 200, ""},
		{"consequence=" + url.QueryEscape(xssScript), 400, "consequence"},
		{"from=2019-02-30", 400, "from"},
		{"from=2019-02-29", 400, "from"},
		{"from=2020-02-29", 200, ""},
		{"from=2019-13", 400, "from"},
		{"from=99999", 400, "from"},
		{"to=99999", 400, "to"},
		{"from=0000", 400, "from"},
		{"from=1900&to=2999", 200, ""},
		{"from=2018-1-1", 400, "from"},
		{"from=yesterday", 400, "from"},
		{"to=2010&from=2020", 400, "to"},
		{"sort=" + url.QueryEscape(xssScript), 400, "sort"},
	} {
		w := ts.get(t, "/api/v1/search?"+tc.query)
		if w.Code != tc.status {
			t.Errorf("%s: status %d, want %d: %.200s", tc.query, w.Code, tc.status, w.Body)
			continue
		}
		if tc.status != 200 {
			if e := apiErr(t, w); e.Param != tc.param {
				t.Errorf("%s: param %q, want %q (%s)", tc.query, e.Param, tc.param, e.Message)
			}
		}
	}

	t.Run("1,000 category filters", func(t *testing.T) {
		// Within the URL limit: more values than allowed.
		var b strings.Builder
		for i := 0; i < 300; i++ {
			fmt.Fprintf(&b, "cps=x%d&", i)
		}
		w := ts.get(t, "/api/v1/search?"+b.String())
		if w.Code != http.StatusBadRequest || !strings.Contains(apiErr(t, w).Message, "too many filter values") {
			t.Errorf("300 filters: status %d: %s", w.Code, w.Body)
		}
		// A thousand: the URL limit answers over HTTP, the request parser
		// refuses them otherwise.
		v := url.Values{}
		for i := 0; i < 1000; i++ {
			v.Add("consequence", fmt.Sprintf("opt%d", i))
		}
		w = ts.get(t, "/api/v1/search?"+v.Encode())
		if w.Code != http.StatusRequestURITooLong {
			t.Errorf("1000 filters: status %d, want 414", w.Code)
		}
		_, err := search.FromValues(v)
		var se *search.Error
		if !errors.As(err, &se) || se.Param != "consequence" {
			t.Errorf("FromValues with 1000 filters: %v", err)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		// A request whose deadline has passed ends with a 4xx or 503, never
		// a 500 or a hang.
		fast := newTestServerOn(t, ts.dir, openTestEngine(t, ts.dir), Config{SearchTimeout: time.Nanosecond})
		for _, q := range []string{"wake word", "", "rec*"} {
			w := fast.get(t, "/api/v1/search?q="+url.QueryEscape(q))
			if w.Code != 200 && w.Code != 400 && w.Code != 503 {
				t.Errorf("q=%q: status %d: %s", q, w.Code, w.Body)
			}
		}
	})
}

// markup patterns that must never appear in a page: the planted markup,
// unescaped, and javascript: URLs in attributes.
var (
	rawMarkup = []string{"<script>alert", "<img src=x", "<b>bold</b>"}
	jsURL     = regexp.MustCompile(`(?i)(href|src|action|formaction)\s*=\s*["']?\s*javascript:`)
	markPair  = regexp.MustCompile(`<mark>[^<>]*</mark>`)
)

// checkHTML fails if html carries any planted markup unescaped or a <mark>
// that is not one of the highlighter's <mark>word</mark> pairs.
func checkHTML(tb testing.TB, where, html string) {
	tb.Helper()
	lower := strings.ToLower(html)
	for _, m := range rawMarkup {
		if i := strings.Index(lower, m); i >= 0 {
			tb.Errorf("%s: unescaped %q: …%s…", where, m, excerpt(html, i))
		}
	}
	if loc := jsURL.FindStringIndex(html); loc != nil {
		tb.Errorf("%s: javascript: URL: …%s…", where, excerpt(html, loc[0]))
	}
	rest := markPair.ReplaceAllString(lower, "")
	for _, m := range []string{"<mark", "</mark"} {
		if i := strings.Index(rest, m); i >= 0 {
			tb.Errorf("%s: stray %s: …%s…", where, m, excerpt(rest, i))
		}
	}
}

func excerpt(s string, i int) string {
	from, to := max(0, i-60), min(len(s), i+80)
	return s[from:to]
}

// checkJSON fails if a decoded string that holds HTML (title_html,
// fragments, a feed's content_html) has markup other than <mark> pairs, or,
// with raw set, if the body has planted markup unescaped (writeJSON
// escapes '<' and '>', so that even a client that renders the API's JSON as
// HTML is safe). With lines set, the body is JSON Lines.
func checkJSON(tb testing.TB, where string, body []byte, raw, lines bool) {
	tb.Helper()
	docs := []string{string(body)}
	if lines {
		docs = strings.Split(strings.TrimSpace(string(body)), "\n")
	}
	for _, line := range docs {
		if lines && strings.TrimSpace(line) == "" {
			continue
		}
		if raw {
			lower := strings.ToLower(line)
			for _, m := range rawMarkup {
				if i := strings.Index(lower, m); i >= 0 {
					tb.Errorf("%s: raw %q in JSON: …%s…", where, m, excerpt(line, i))
				}
			}
		}
		var v any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			tb.Errorf("%s: invalid JSON: %v", where, err)
			continue
		}
		walkJSON(v, "", func(key, s string) {
			if strings.HasSuffix(key, "html") {
				checkHTML(tb, where+" "+key, s)
			}
		})
	}
}

// walkJSON calls fn with every string in v and the key it sits under
// (array elements inherit their array's key).
func walkJSON(v any, key string, fn func(key, s string)) {
	switch x := v.(type) {
	case string:
		fn(key, x)
	case []any:
		for _, e := range x {
			walkJSON(e, key, fn)
		}
	case map[string]any:
		for k, e := range x {
			walkJSON(e, k, fn)
		}
	}
}

// checkXML fails if an XML body is not well-formed, has script-like elements
// or has HTML content (Atom type="html", RSS description and
// content:encoded) with planted markup once unescaped.
func checkXML(tb testing.TB, where string, body []byte) {
	tb.Helper()
	dec := xml.NewDecoder(strings.NewReader(string(body)))
	var htmlDepth []bool
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			tb.Errorf("%s: XML is not well-formed: %v", where, err)
			return
		}
		switch el := tok.(type) {
		case xml.StartElement:
			name := strings.ToLower(el.Name.Local)
			if name == "script" || name == "img" || name == "mark" || name == "b" {
				tb.Errorf("%s: <%s> element in XML", where, name)
			}
			isHTML := name == "description" || name == "encoded"
			for _, a := range el.Attr {
				if a.Name.Local == "type" && (a.Value == "html" || a.Value == "xhtml" || strings.Contains(a.Value, "html")) {
					isHTML = true
				}
				if strings.Contains(strings.ToLower(a.Value), "javascript:") {
					tb.Errorf("%s: javascript: in attribute %s", where, a.Name.Local)
				}
			}
			htmlDepth = append(htmlDepth, isHTML)
		case xml.EndElement:
			if len(htmlDepth) > 0 {
				htmlDepth = htmlDepth[:len(htmlDepth)-1]
			}
		case xml.CharData:
			if len(htmlDepth) > 0 && htmlDepth[len(htmlDepth)-1] {
				checkHTML(tb, where+" (HTML content)", string(el))
			}
		}
	}
}

// readRoutes lists the router's GET routes as paths, with every variable
// replaced by the hostile report's id.
func readRoutes(tb testing.TB, r *mux.Router) (paths []string) {
	tb.Helper()
	vars := regexp.MustCompile(`\{[^}]*\}`)
	err := r.Walk(func(route *mux.Route, router *mux.Router, ancestors []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		if methods, err := route.GetMethods(); err == nil {
			get := false
			for _, m := range methods {
				get = get || m == http.MethodGet
			}
			if !get {
				return nil
			}
		}
		paths = append(paths, vars.ReplaceAllString(tpl, hostileID))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return paths
}

// TestNoUnescapedMarkup requests every GET route of the router (pages,
// feeds, the embed, the API, error pages) with queries that match the
// hostile report or carry markup, and checks that no planted markup comes
// back unescaped. Routes are read from the router, so pages added later are
// covered without changing the test.
func TestNoUnescapedMarkup(t *testing.T) {
	ts := newTestServer(t, Config{})
	if w := ts.get(t, "/api/v1/incidents/"+hostileID); w.Code != http.StatusOK {
		t.Fatalf("the hostile report was not indexed: %d %s", w.Code, w.Body)
	}
	queries := []string{
		"",
		"q=hostile",
		"q=mark", "q=amp", "q=lt", "q=script", "q=img", "q=onerror", "q=javascript", "q=alert",
		"q=" + url.QueryEscape(xssScript),
		"q=" + url.QueryEscape(xssImg),
		"q=" + url.QueryEscape("</mark>"),
		"q=hostile&consequence=death",
		"q=hostile&recurring=" + url.QueryEscape(xssScript),
		"consequence=" + url.QueryEscape(xssImg),
		"q=" + url.QueryEscape(`"unbalanced <script>`),
		"q=" + url.QueryEscape("nosuch<b>:x"),
		"id=" + hostileID,
		"url=" + url.QueryEscape("http://127.0.0.1/incidents/"+hostileID),
		"url=" + url.QueryEscape(xssLink),
		"format=xml&url=" + url.QueryEscape("http://127.0.0.1/incidents/"+hostileID),
	}
	paths := readRoutes(t, ts.router)
	paths = append(paths, "/"+url.PathEscape(xssScript), "/api/v1/"+url.PathEscape(xssImg), "/incidents/"+url.PathEscape(xssScript))
	t.Logf("routes: %v", paths)
	kinds := map[string]int{}
	for _, p := range paths {
		for _, q := range queries {
			target := p
			if q != "" {
				target += "?" + q
			}
			w := ts.get(t, target)
			where := fmt.Sprintf("GET %s (%d)", target, w.Code)
			// oEmbed's own status for a format a provider does not offer
			// is 501.
			oembedFormat := p == "/oembed" && w.Code == http.StatusNotImplemented && strings.Contains(q, "format=xml")
			if w.Code >= 500 && !oembedFormat {
				t.Errorf("%s: server error: %.300s", where, w.Body)
			}
			ct := w.Header().Get("Content-Type")
			if w.Header().Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s: no X-Content-Type-Options: nosniff", where)
			}
			body := w.Body.Bytes()
			switch {
			case strings.HasPrefix(ct, "text/html"):
				kinds["html"]++
				checkHTML(t, where, string(body))
			case strings.Contains(ct, "xml"):
				kinds["xml"]++
				checkXML(t, where, body)
			case strings.Contains(ct, "json"):
				kinds["json"]++
				checkJSON(t, where, body, strings.HasPrefix(ct, "application/json"), strings.Contains(ct, "ndjson"))
			case strings.HasPrefix(ct, "text/javascript"), strings.HasPrefix(ct, "application/javascript"):
				kinds["js"]++
				checkHTML(t, where, string(body))
			default:
				kinds[ct]++
			}
		}
	}
	t.Logf("responses checked by content type: %v", kinds)
	if kinds["html"] == 0 || kinds["json"] == 0 {
		t.Errorf("no HTML or JSON response was checked: %v", kinds)
	}
}

// TestHostileHTTP sends malformed and hostile HTTP over a real connection.
func TestHostileHTTP(t *testing.T) {
	ts := newTestServer(t, Config{
		Addr:          "127.0.0.1:0",
		HeaderTimeout: 300 * time.Millisecond,
		CORSOrigins:   []string{"https://allowed.example"},
	})
	if err := ts.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ts.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-served
	})
	addr := strings.TrimPrefix(ts.URL(), "http://")

	raw := func(t *testing.T, request string) (int, string, http.Header) {
		t.Helper()
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(20 * time.Second))
		if _, err := io.WriteString(conn, request); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return resp.StatusCode, string(b), resp.Header
	}
	get := func(target string, hdr ...string) string {
		s := "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
		for i := 0; i+1 < len(hdr); i += 2 {
			s += hdr[i] + ": " + hdr[i+1] + "\r\n"
		}
		return s + "\r\n"
	}

	for _, tc := range []struct {
		name, request string
		ok            func(status int) bool
	}{
		// The router answers a path with dot segments with a redirect to
		// its clean form, which stays inside the site.
		{"encoded traversal", get("/..%2F..%2F..%2Fetc%2Fpasswd"), isRedirectOr4xx},
		{"static traversal", get("/static/..%2F..%2F..%2Fgo.mod"), isRedirectOr4xx},
		{"plain traversal", get("/static/../../../../etc/passwd"), isRedirectOr4xx},
		{"API traversal", get("/api/v1/incidents/..%2F..%2Fmetrics"), isRedirectOr4xx},
		{"backslash traversal", get("/static/..\\..\\go.mod"), isRedirectOr4xx},
		{"NUL in path", get("/%00"), is4xx},
		{"NUL in API path", get("/api/v1/incidents/%00"), is4xx},
		{"NUL in query", get("/api/v1/search?q=%00"), isStatus(200)},
		{"bad escape", get("/api/v1/search?q=%zz"), isStatus(400)},
		{"bad escape on a page", get("/?q=%zz"), isStatus(400)},
		{"semicolon", get("/api/v1/search?q=a;b"), isStatus(400)},
		{"overlong URL", get("/api/v1/search?q=" + strings.Repeat("a", 5000)), isStatus(414)},
		{"huge URL", get("/api/v1/search?q=" + strings.Repeat("a", 100<<10)), isStatus(431)},
		{"huge header", get("/healthz", "X-Big", strings.Repeat("b", 32<<10)), isStatus(431)},
		{"many headers", get("/healthz", manyHeaders(2000)...), isStatus(431)},
		{"unknown method", "BREW /api/v1/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", isStatus(405)},
		{"TRACE", "TRACE /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", isStatus(405)},
		{"POST with body", "POST /api/v1/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello", isStatus(405)},
		{"no Host", "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", isStatus(400)},
		{"HTTP/1.0", "GET /healthz HTTP/1.0\r\n\r\n", isStatus(200)},
		// net/http answers an unknown major version with 505, the
		// protocol's own status for it, before any handler runs.
		{"bad version", "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n", isStatus(505)},
		{"garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", is4xx},
		{"absolute URI", "GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", isStatus(200)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := raw(t, tc.request)
			if !tc.ok(status) {
				t.Errorf("status %d: %.200s", status, body)
			}
			if loc := hdr.Get("Location"); loc != "" && (!strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.Contains(loc, "..")) {
				t.Errorf("redirect to %q, outside the site", loc)
			}
			if strings.Contains(body, "root:") || strings.Contains(body, "module github.com") {
				t.Errorf("file contents leaked: %.200s", body)
			}
		})
	}

	t.Run("slow headers are cut off", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// A slowloris client: one header byte every 20 ms, for up to 30 s
		// in all. The server's header timeout (300 ms) must end it long
		// before.
		request := get("/healthz", "X-Slow", strings.Repeat("s", 1500))
		closed := false
		for i := 0; i < len(request) && !closed; i++ {
			conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := conn.Write([]byte{request[i]}); err != nil {
				closed = true
				break
			}
			// A closed connection shows as a readable EOF or a reset.
			conn.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
			var b [512]byte
			n, err := conn.Read(b[:])
			if n > 0 || (err != nil && !isTimeout(err)) {
				closed = true
			}
		}
		if !closed {
			t.Error("the server read a byte-by-byte request to its end instead of cutting it off")
		}
	})

	t.Run("idle connection without a request", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		if isTimeout(err) {
			t.Error("a silent connection was kept open for 30 s")
		}
	})

	t.Run("CORS", func(t *testing.T) {
		preflight := func(origin string) (int, http.Header) {
			req, _ := http.NewRequest(http.MethodOptions, ts.URL()+"/api/v1/search?q=x", nil)
			req.Header.Set("Origin", origin)
			req.Header.Set("Access-Control-Request-Method", "GET")
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return resp.StatusCode, resp.Header
		}
		status, h := preflight("https://evil.example")
		if status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from a foreign origin: %d, Allow-Origin %q", status, h.Get("Access-Control-Allow-Origin"))
		}
		status, h = preflight("https://allowed.example")
		if status != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != "https://allowed.example" {
			t.Errorf("preflight from the allowed origin: %d, Allow-Origin %q", status, h.Get("Access-Control-Allow-Origin"))
		}
		status, h = preflight("null")
		if status != http.StatusForbidden || h.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("preflight from origin null: %d, Allow-Origin %q", status, h.Get("Access-Control-Allow-Origin"))
		}
	})
}

func is4xx(status int) bool { return status >= 400 && status < 500 }

func isRedirectOr4xx(status int) bool { return (status >= 300 && status < 400) || is4xx(status) }

func isStatus(want int) func(int) bool { return func(s int) bool { return s == want } }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func manyHeaders(n int) []string {
	var h []string
	for i := 0; i < n; i++ {
		h = append(h, fmt.Sprintf("X-H%d", i), "v")
	}
	return h
}
