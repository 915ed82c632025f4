package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeFiles writes name -> content under dir.
func writeFiles(tb testing.TB, dir string, files map[string]string) {
	tb.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// logMessages returns the "message" of every JSON log line.
func logMessages(tb testing.TB, logs string) []string {
	tb.Helper()
	var msgs []string
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var l struct {
			Message string `json:"message"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Message != "" {
			msgs = append(msgs, l.Message)
		}
	}
	return msgs
}

// TestIndexMixedFiles runs `faildex index` over a directory of good and bad
// reports in every format: each bad one is rejected with file:line: reason,
// the good ones are indexed, and the summary counts both.
func TestIndexMixedFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	good := "Incident: A good report\nPublished Date: 2020-05-01\nSummary Everything is in order.\n"
	writeFiles(t, dir, map[string]string{
		"a-good.txt": good,
		"reports.csv": "Incident ID,Published,Title,Summary,Consequence Option\n" +
			"csv-1,2020-01-01,First,ok,death\n" + // line 2
			"csv-2,2020-01-02\n" + // line 3: ragged
			"csv-3,2019-02-30,Bad date,x,harm\n" + // line 4
			",2020-01-01,No id,x,harm\n" + // line 5
			"csv-4,2020-01-03,,x,harm\n" + // line 6: no title
			"csv-1,2020-01-04,Second,x,harm\n", // line 7: duplicate id, wins
		"missing-columns.csv": "Incident ID,Title\nx,y\n",
		"empty.csv":           "",
		"binary.csv":          "\x00\x01\x02\xff\xfe\n\x03",
		"empty.txt":           "",
		"blank.txt":           "\n  \n\t\n",
		"binary.txt":          "Incident: Binary\n\x00\x01\x02",
		"invalid-utf8.txt":    "Incident: Bad bytes\nPublished Date: 2020-01-01\nSummary caf\xe9 \xff\xfe\n",
		"no-title.txt":        "Published Date: 2020-01-01\nSummary no title\n",
		"no-date.txt":         "Incident: No date\nSummary no date\n",
		"bad-date.txt":        "Incident: Bad date\nPublished Date: 99999\n",
		"bad-id!.txt":         good,
		"reports.jsonl": `{"id":"j-1","title":"JSON one","published":"2021-01-01"}` + "\n" +
			`{not json` + "\n" +
			`{"id":"j-2","title":"","published":"2021-01-01"}` + "\n" +
			"\n" +
			`{"id":"j-3","title":"JSON three","published":"2021-03-01","summary":"caf\u00e9"}` + "\n",
		"array.json":     "[\n  {\"id\":\"arr-1\",\"title\":\"Array\",\"published\":\"2022-01-01\"},\n\n  {\"id\":\"arr-2\",\n   \"published\":\"2022-01-01\"}\n]\n",
		"README.md":      "not a report, skipped",
		".hidden.txt":    "Incident: hidden\n",
		"sub/nested.txt": "Incident: Nested\nPublished Date: 2019-01-01\n",
		"noext":          "\x00binary without an extension, skipped",
	})
	// 100 MB: refused without being read whole.
	huge, err := os.Create(filepath.Join(dir, "huge.txt"))
	if err != nil {
		t.Fatal(err)
	}
	huge.WriteString(good)
	line := bytes.Repeat([]byte("x"), 1<<20)
	for i := 0; i < 100; i++ {
		huge.Write(line)
	}
	huge.Close()

	ix := filepath.Join(t.TempDir(), "ix")
	env, _, logs := testEnv(nil)
	if code := Run(context.Background(), env, []string{"index", "--index", ix, dir}); code != 0 {
		t.Fatalf("exit %d:\n%s", code, logs)
	}
	msgs := strings.Join(logMessages(t, logs.String()), "\n")
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, want := range []string{
		p("reports.csv") + ":3: row has 2 fields, header has 5",
		p("reports.csv") + `:4: published date: "2019-02-30" is not a valid date`,
		p("reports.csv") + `:5: id "" must be`,
		p("reports.csv") + ":6: missing title",
		p("missing-columns.csv") + `:1: missing column "published"`,
		p("empty.csv") + ":1: empty CSV file",
		p("binary.csv") + ":1: missing column",
		p("empty.txt") + ":1: empty report",
		p("blank.txt") + ":1: empty report",
		// Control characters are removed, as in every format; what is
		// left lacks a date.
		p("binary.txt") + ":1: missing date line",
		p("invalid-utf8.txt") + ":3: invalid UTF-8",
		p("no-title.txt") + ":1: missing title line",
		p("no-date.txt") + ":1: missing date line",
		p("bad-date.txt") + ":2: published date",
		p("bad-id!.txt") + `:1: id "bad-id!" must be`,
		p("reports.jsonl") + ":2: invalid JSON",
		p("reports.jsonl") + ":3: missing title",
		p("array.json") + ":4: item 2: missing title", // the line the item starts on
		// A whole-file problem has no line.
		p("huge.txt") + ": record is 100.0 MB, over the 4 MB limit",
		"duplicate id; the later report wins",
		"6 indexed, 19 rejected",
	} {
		if !strings.Contains(msgs, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, skipped := range []string{"README.md", ".hidden.txt", "noext"} {
		if strings.Contains(msgs, skipped) {
			t.Errorf("%s should be skipped silently", skipped)
		}
	}
	if t.Failed() {
		t.Logf("log messages:\n%s", msgs)
	}

	// The later duplicate won; every good report is there.
	for id, title := range map[string]string{"csv-1": "Second", "a-good": "A good report", "j-1": "JSON one",
		"j-3": "JSON three", "arr-1": "Array", "nested": "Nested"} {
		env, out, logs := testEnv(nil)
		if code := Run(context.Background(), env, []string{"show", "--index", ix, id}); code != 0 {
			t.Errorf("show %s: exit %d: %s", id, code, logs)
			continue
		}
		var in struct{ Title string }
		if err := json.Unmarshal([]byte(out.String()), &in); err != nil || in.Title != title {
			t.Errorf("show %s: title %q (%v), want %q", id, in.Title, err, title)
		}
	}

	// --strict fails the build and keeps the previous index.
	env, _, logs = testEnv(nil)
	code := Run(context.Background(), env, []string{"index", "--strict", "--index", ix, dir})
	if code != 1 || !strings.Contains(logs.String(), "19 reports rejected in strict mode; the previous index is kept") {
		t.Errorf("--strict: exit %d:\n%s", code, logs)
	}
	// Nothing to index fails the build and keeps the previous index.
	bad := filepath.Join(t.TempDir(), "bad")
	writeFiles(t, bad, map[string]string{"empty.txt": ""})
	env, _, logs = testEnv(nil)
	code = Run(context.Background(), env, []string{"index", "--index", ix, bad})
	if code != 1 || !strings.Contains(logs.String(), "no incidents to index; the previous index is kept") {
		t.Errorf("only bad reports: exit %d:\n%s", code, logs)
	}
	env, out, _ := testEnv(nil)
	if code := Run(context.Background(), env, []string{"show", "--index", ix, "csv-1"}); code != 0 || !strings.Contains(out.String(), "Second") {
		t.Errorf("after the failed builds: show exit %d: %s", code, out)
	}
	// A path that does not exist is an error, not a silent empty build.
	env, _, logs = testEnv(nil)
	if code := Run(context.Background(), env, []string{"index", "--index", ix, filepath.Join(dir, "nope")}); code != 1 {
		t.Errorf("missing path: exit %d:\n%s", code, logs)
	}
}
