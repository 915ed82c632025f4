package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faildex/faildex/index/indextest"
	"github.com/rs/zerolog"
)

// lockedBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testEnv returns an Env whose output and JSON log go to buffers and whose
// environment is getenv's (nil: empty).
func testEnv(getenv map[string]string) (*Env, *lockedBuffer, *lockedBuffer) {
	out, errs := &lockedBuffer{}, &lockedBuffer{}
	return &Env{
		Stdin:  strings.NewReader(""),
		Stdout: out,
		Stderr: errs,
		Log:    zerolog.New(errs),
		Getenv: func(k string) string { return getenv[k] },
	}, out, errs
}

// startServeCmd runs `faildex serve` in the background until the test ends and
// returns its URL.
func startServeCmd(tb testing.TB, args ...string) string {
	tb.Helper()
	u, _ := startServeCmdLogs(tb, args...)
	return u
}

// startServeCmdLogs is startServeCmd that also returns the server's log.
func startServeCmdLogs(tb testing.TB, args ...string) (string, *lockedBuffer) {
	tb.Helper()
	env, _, logs := testEnv(nil)
	urls := make(chan string, 1)
	env.OnListen = func(u string) { urls <- u }
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() { code <- Run(ctx, env, append([]string{"serve"}, args...)) }()
	tb.Cleanup(func() {
		cancel()
		if c := <-code; c != 0 {
			tb.Errorf("serve exited with %d:\n%s", c, logs)
		}
	})
	select {
	case u := <-urls:
		return u, logs
	case c := <-code:
		code <- c
		tb.Fatalf("serve exited with %d before listening:\n%s", c, logs)
	case <-time.After(2 * time.Minute):
		tb.Fatalf("serve did not listen within 2 minutes:\n%s", logs)
	}
	return "", logs
}

// searchResult is the part of /api/v1/search these tests read.
type searchResult struct {
	Total uint64 `json:"total"`
	Hits  []struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"hits"`
	Facets []struct {
		Field  string `json:"field"`
		Values []struct {
			Value    string `json:"value"`
			Count    uint64 `json:"count"`
			Selected bool   `json:"selected"`
		} `json:"values"`
		Missing uint64 `json:"missing"`
	} `json:"facets"`
}

func (r searchResult) count(field, value string) (count uint64, selected, listed bool) {
	for _, f := range r.Facets {
		if f.Field != field {
			continue
		}
		for _, v := range f.Values {
			if v.Value == value {
				return v.Count, v.Selected, true
			}
		}
	}
	return 0, false, false
}

func getSearch(tb testing.TB, base string, params url.Values) searchResult {
	tb.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(base + "/api/v1/search?" + params.Encode())
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("search %s: status %d: %s", params.Encode(), resp.StatusCode, b)
	}
	var res searchResult
	if err := json.Unmarshal(b, &res); err != nil {
		tb.Fatal(err)
	}
	return res
}

// classified is one report's options per category, read independently of
// faildex's parsers.
type classified map[string][]string

// readExpected reads every report's options straight from the CSV file
// (with encoding/csv) and the seed pages in seedsDir (their taxonomy rows).
func readExpected(tb testing.TB, seedsDir, csvFile string) []classified {
	tb.Helper()
	var out []classified
	f, err := os.Open(csvFile)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	header := rows[0]
	for _, row := range rows[1:] {
		c := classified{}
		for i, col := range header {
			if name, ok := strings.CutSuffix(col, " Option"); ok {
				c[strings.ToLower(name)] = splitCell(row[i])
			}
		}
		out = append(out, c)
	}
	seeds, _ := filepath.Glob(filepath.Join(seedsDir, "*.txt"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		c := classified{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := sc.Text()
			for _, cat := range []string{"Consequence", "Domain"} {
				if rest, ok := strings.CutPrefix(line, cat+" "); ok {
					opts, _, _ := strings.Cut(rest, " (")
					c[strings.ToLower(cat)] = splitCell(opts)
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func splitCell(s string) []string {
	var opts []string
	for _, o := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' }) {
		if o = strings.ToLower(strings.TrimSpace(o)); o != "" {
			opts = append(opts, strings.Join(strings.Fields(o), "_"))
		}
	}
	return opts
}

func (c classified) has(cat, value string) bool {
	for _, o := range c[cat] {
		if o == value {
			return true
		}
	}
	return false
}

// TestServeEndToEnd runs the serve command over the real reports and checks
// its answers over HTTP against counts read independently from the files.
func TestServeEndToEnd(t *testing.T) {
	seeds, csvFile := indextest.Shared(t)
	base := startServeCmd(t, "--addr", "127.0.0.1:0", "--index", filepath.Join(t.TempDir(), "ix"), seeds, csvFile)
	expected := readExpected(t, seeds, csvFile)

	res := getSearch(t, base, url.Values{"q": {"wake word"}})
	if res.Total == 0 || !strings.Contains(res.Hits[0].Title, "Alexa") {
		t.Errorf("wake word: top hit %+v, want the Alexa incident", res.Hits)
	}

	all := getSearch(t, base, url.Values{})
	if all.Total != uint64(len(expected)) {
		t.Errorf("total %d, want %d reports", all.Total, len(expected))
	}
	var death, harm uint64
	domains := map[string]uint64{} // among deaths
	for _, c := range expected {
		if c.has("consequence", "harm") {
			harm++
		}
		if c.has("consequence", "death") {
			death++
			for _, d := range c["domain"] {
				domains[d]++
			}
		}
	}
	if death == 0 || harm == 0 {
		t.Fatalf("the data has %d deaths and %d harms; the test needs both", death, harm)
	}

	res = getSearch(t, base, url.Values{"consequence": {"death"}})
	if res.Total != death {
		t.Errorf("consequence=death: total %d, want %d", res.Total, death)
	}
	if n, sel, ok := res.count("consequence", "death"); !ok || !sel || n != death {
		t.Errorf("consequence=death facet value: %d selected %v listed %v, want %d selected", n, sel, ok, death)
	}
	// Disjunctive: harm is counted without the consequence filter.
	if n, sel, ok := res.count("consequence", "harm"); !ok || sel || n != harm {
		t.Errorf("harm under consequence=death: %d selected %v listed %v, want %d", n, sel, ok, harm)
	}
	// Other categories are counted within the deaths.
	for d, want := range domains {
		if n, _, _ := res.count("domain", d); n != want {
			t.Errorf("domain=%s among deaths: %d, want %d", d, n, want)
		}
	}

	// Drill down: death in one domain, then death or harm in it.
	var domain string
	for d := range domains {
		if domain == "" || d < domain {
			domain = d
		}
	}
	var both, either uint64
	for _, c := range expected {
		if c.has("domain", domain) {
			if c.has("consequence", "death") {
				both++
			}
			if c.has("consequence", "death") || c.has("consequence", "harm") {
				either++
			}
		}
	}
	res = getSearch(t, base, url.Values{"consequence": {"death"}, "domain": {domain}})
	if res.Total != both {
		t.Errorf("consequence=death&domain=%s: total %d, want %d", domain, res.Total, both)
	}
	res = getSearch(t, base, url.Values{"consequence": {"death", "harm"}, "domain": {domain}})
	if res.Total != either {
		t.Errorf("consequence=death|harm&domain=%s: total %d, want %d", domain, res.Total, either)
	}
	var ids []string
	for _, h := range res.Hits {
		ids = append(ids, h.ID)
	}
	sort.Strings(ids)
	t.Logf("death=%d harm=%d; death|harm in %s: %v", death, harm, domain, ids)
}

var loadSeed = flag.Uint64("load-seed", 1, "seed of TestLoadCommand's request mix")

// TestLoadCommand runs a short load with reloads against `faildex serve`:
// no request fails, requests overlap reloads and every reload succeeds, and
// the server stays up.
func TestLoadCommand(t *testing.T) {
	paths := indextest.Reports(t)
	base := startServeCmd(t, append([]string{"--addr", "127.0.0.1:0", "--index", filepath.Join(t.TempDir(), "ix"), "--admin-token", "tok"}, paths...)...)
	env, out, logs := testEnv(map[string]string{"FAILDEX_ADMIN_TOKEN": "tok"})
	t.Logf("request mix seed %d (rerun with -load-seed=%d)", *loadSeed, *loadSeed)
	code := Run(context.Background(), env, []string{"load", "--url", base, "--clients", "4", "--duration", "3s",
		"--pathological", "0.3", "--reload-every", "200ms", "--pid", strconv.Itoa(os.Getpid()), "--json",
		"--seed", strconv.FormatUint(*loadSeed, 10)})
	if code != 0 {
		t.Fatalf("load: exit %d:\n%s", code, logs)
	}
	var rep loadReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if rep.Requests == 0 || rep.Errors != 0 || rep.Unexpected != 0 || !rep.ServerUp {
		t.Errorf("load report: %+v", rep)
	}
	if rep.Reloads == 0 || rep.ReloadFailed != 0 || rep.SwapRequests == 0 || rep.SwapErrors != 0 {
		t.Errorf("reloads: %d (%d failed), %d requests during swaps with %d errors", rep.Reloads, rep.ReloadFailed, rep.SwapRequests, rep.SwapErrors)
	}
	// Realistic requests get 200; pathological ones 200, 400 or 414.
	for status := range rep.Statuses {
		if status != "200" && status != "400" && status != "414" {
			t.Errorf("status %s in %v", status, rep.Statuses)
		}
	}
	if rep.PeakRSSMB <= 0 {
		t.Errorf("no peak RSS: %+v", rep)
	}
}

// TestLoadRefusesOtherHosts checks that load only ever targets this
// machine; the URL is refused before any request is sent.
func TestLoadRefusesOtherHosts(t *testing.T) {
	for _, u := range []string{"http://10.0.0.1:8080", "http://192.168.1.1", "http://example.com", "http://8.8.8.8",
		"http://127.0.0.1.example.com", "ftp://127.0.0.1", "http://[::ffff:10.0.0.1]:80", "not a url", ""} {
		env, _, logs := testEnv(nil)
		if code := Run(context.Background(), env, []string{"load", "--url", u, "--duration", "1s"}); code != 2 {
			t.Errorf("%q: exit %d, want 2:\n%s", u, code, logs)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "http://127.1.2.3", "http://localhost:1", "http://[::1]:9"} {
		if _, err := loopbackURL(u); err != nil {
			t.Errorf("%q refused: %v", u, err)
		}
	}
}
