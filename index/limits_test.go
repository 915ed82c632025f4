package index

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// formatCase writes reports in one input format: each of records (maps of
// faildex field names to values) as a record, one after the other in one
// file (a plain-text report is one file per record: see perRecord).
type formatCase struct {
	format Format
	name   string
	write  func(records []map[string]string) []byte
}

func jsonString(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == '"' || r == '\\' }) {
		return `"` + s + `"`
	}
	var b bytes.Buffer
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func jsonObject(rec map[string]string, keys ...string) string {
	var parts []string
	for _, k := range keys {
		if v, ok := rec[k]; ok {
			parts = append(parts, jsonString(k)+":"+jsonString(v))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

var recordKeys = []string{"id", "title", "published", "summary"}

// everyFormat lists the input formats that hold several records in a file,
// each record's first line being the record's number (1-based) times
// linesPer.
var everyFormat = []formatCase{
	{FormatCSV, "in.csv", func(recs []map[string]string) []byte {
		var b bytes.Buffer
		b.WriteString("Incident ID,Title,Published,Summary\n")
		for _, r := range recs {
			fmt.Fprintf(&b, "%s,%s,%s,%s\n", csvQuote(r["id"]), csvQuote(r["title"]), csvQuote(r["published"]), csvQuote(r["summary"]))
		}
		return b.Bytes()
	}},
	{FormatJSONL, "in.jsonl", func(recs []map[string]string) []byte {
		var b bytes.Buffer
		b.WriteString("\n")
		for _, r := range recs {
			b.WriteString(jsonObject(r, recordKeys...) + "\n")
		}
		return b.Bytes()
	}},
	{FormatJSON, "in.json", func(recs []map[string]string) []byte {
		var items []string
		for _, r := range recs {
			items = append(items, jsonObject(r, recordKeys...))
		}
		return []byte("[\n" + strings.Join(items, ",\n") + "\n]\n")
	}},
	{FormatJSON, "dump.json", func(recs []map[string]string) []byte {
		var items []string
		for _, r := range recs {
			fields := map[string]string{"title": r["title"], "published": r["published"], "summary": r["summary"]}
			items = append(items, `{"model":"fail.incident","pk":`+jsonString(r["id"])+`,"fields":`+jsonObject(fields, "title", "published", "summary")+`}`)
		}
		return []byte("[\n" + strings.Join(items, ",\n") + "\n]\n")
	}},
}

func csvQuote(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// textReport is a plain-text report of rec.
func textReport(rec map[string]string) []byte {
	return []byte("Incident: " + rec["title"] + "\nPublished Date: " + rec["published"] + "\nSummary " + rec["summary"] + "\n")
}

// lineOfRecord is the line record i (0-based) of a file that formatCase
// wrote starts on: each record is one line after one line of header.
func lineOfRecord(i int) int { return i + 2 }

func rec(id, summary string) map[string]string {
	return map[string]string{"id": id, "title": "Title " + id, "published": "2020-01-02", "summary": summary}
}

// The same size limits hold in every format: a field over MaxFieldBytes
// and a record over MaxRecordBytes are reported as file:line with the
// field's name and size, and the records after them are still read.
func TestSizeLimitsEveryFormat(t *testing.T) {
	words := func(n int) string { return strings.Repeat("word ", n/5) }
	records := []map[string]string{
		rec("a", "fine"),
		rec("b", words(MaxFieldBytes+5<<10)), // one field over its limit
		rec("c", "also fine"),
		rec("d", words(MaxRecordBytes+64<<10)), // the record over its limit
		rec("e", words(MaxFieldBytes-1<<10)),   // just under
	}
	for _, fc := range everyFormat {
		t.Run(fc.name, func(t *testing.T) {
			c := readFormat(t, fc.format, fc.name, fc.write(records))
			var ids []string
			for _, r := range c.records {
				ids = append(ids, r.Incident.ID)
			}
			if diff := cmp.Diff([]string{"a", "c", "e"}, ids); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			var got []string
			for _, p := range c.problems {
				got = append(got, p.Error())
			}
			prefix := ""
			if fc.format == FormatJSON {
				prefix = "item 2: "
			}
			field := `"summary"`
			if fc.format == FormatCSV {
				field = `"Summary"`
			}
			want := []string{
				fmt.Sprintf(`%s:%d: %sfield "summary" is 1.0 MB, over the 1 MB limit`, fc.name, lineOfRecord(1), prefix),
				fmt.Sprintf(`%s:%d: %sfield %s is 4.1 MB, over the 1 MB limit`, fc.name, lineOfRecord(3), strings.Replace(prefix, "2", "4", 1), field),
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		for i, r := range records {
			c := readFormat(t, FormatText, r["id"]+".txt", textReport(r))
			if ok := len(c.records) == 1; ok != (i%2 == 0) {
				t.Errorf("%s: %d records, problems %v", r["id"], len(c.records), c.problems)
			}
			if i == 1 && (len(c.problems) != 1 || c.problems[0].Error() != `b.txt:1: field "summary" is 1.0 MB, over the 1 MB limit`) {
				t.Errorf("b: problems %v", c.problems)
			}
			if i == 3 && (len(c.problems) != 1 || c.problems[0].Error() != "d.txt: record is 4.1 MB, over the 4 MB limit") {
				t.Errorf("d: problems %v", c.problems)
			}
		}
	})
}

// A record with many fields each under MaxFieldBytes can still be over
// MaxRecordBytes; it is reported as a record.
func TestRecordLimitManyFields(t *testing.T) {
	big := strings.Repeat("x", MaxFieldBytes-10)
	r := rec("m", big)
	for _, k := range []string{"timeline", "system", "impacts", "fixes"} {
		r[k] = big
	}
	line := jsonObject(r, "id", "title", "published", "summary", "timeline", "system", "impacts", "fixes")
	data := line + "\n" + jsonObject(rec("n", "ok"), recordKeys...) + "\n"
	c := readFormat(t, FormatJSONL, "in.jsonl", []byte(data))
	if len(c.records) != 1 || len(c.problems) != 1 || c.problems[0].Error() != "in.jsonl:1: record is 5.0 MB, over the 4 MB limit" {
		t.Errorf("records %d, problems %v", len(c.records), c.problems)
	}
}

// A JSON Lines line longer than any buffer (it was 32 MB) used to end the
// file: every later line was dropped without a word.
func TestJSONLVeryLongLineKeepsLaterLines(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(jsonObject(rec("one", "first"), recordKeys...) + "\n")
	b.WriteString(jsonObject(rec("two", strings.Repeat("long ", 7<<20)), recordKeys...) + "\n")
	b.WriteString(jsonObject(rec("three", "third"), recordKeys...) + "\n")
	b.WriteString(jsonObject(rec("four", "fourth"), recordKeys...) + "\n")
	c := readFormat(t, FormatJSONL, "in.jsonl", b.Bytes())
	var ids []string
	for _, r := range c.records {
		ids = append(ids, r.Incident.ID)
	}
	if diff := cmp.Diff([]string{"one", "three", "four"}, ids); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if len(c.problems) != 1 || c.problems[0].Error() != `in.jsonl:2: field "summary" is 35.0 MB, over the 1 MB limit` {
		t.Errorf("problems %v", c.problems)
	}
	if c.records[1].Line != 3 {
		t.Errorf("record three on line %d", c.records[1].Line)
	}
}

// Reading a record over MaxRecordBytes does not hold it in memory: a 32 MB
// cell costs less than four times MaxRecordBytes of allocation in every
// format (the buffer of its first MaxRecordBytes, grown by doubling), not
// a multiple of the cell.
func TestOversizedRecordIsNotHeld(t *testing.T) {
	cell := strings.Repeat("w", 32<<20)
	formats := append(everyFormat[:len(everyFormat):len(everyFormat)], formatCase{FormatText, "big.txt", func(recs []map[string]string) []byte {
		return textReport(recs[0])
	}})
	for _, fc := range formats {
		t.Run(fc.name, func(t *testing.T) {
			data := fc.write([]map[string]string{rec("big", cell), rec("after", "ok")})
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			c := readFormat(t, fc.format, fc.name, data)
			runtime.ReadMemStats(&after)
			// Holding the record would allocate the whole 32 MB cell at
			// least once. The bound leaves room for what other goroutines
			// of the test process (the race detector, bleve's background
			// work) allocate meanwhile.
			if got := after.TotalAlloc - before.TotalAlloc; got > uint64(len(cell))*3/4 {
				t.Errorf("reading allocated %d MB for a %d MB cell", got>>20, len(cell)>>20)
			}
			if len(c.problems) != 1 || !strings.Contains(c.problems[0].Msg, "32.0 MB, over the") {
				t.Errorf("problems %v", c.problems)
			}
		})
	}
}

// Control characters other than tab and line feed, and bidirectional
// overrides, are removed from every format in the same way, with a warning;
// carriage returns become line breaks.
func TestControlCharactersEveryFormat(t *testing.T) {
	dirty := "a\x00b\x1b[31mc\u202Ed\u2066e\u0085f\tg\r\nh\ri\u200dj"
	want := "ab[31mcdef\tg\nh\ni\u200dj"
	warn := "removed 5 control or bidirectional-override characters (the first is U+0000)"
	records := []map[string]string{rec("a", dirty), rec("b", "clean")}
	for _, fc := range everyFormat {
		t.Run(fc.name, func(t *testing.T) {
			c := readFormat(t, fc.format, fc.name, fc.write(records))
			if len(c.records) != 2 || len(c.problems) != 0 {
				t.Fatalf("%d records, problems %v", len(c.records), c.problems)
			}
			if got := c.records[0].Incident.Summary; got != want {
				t.Errorf("summary %q, want %q", got, want)
			}
			if len(c.warnings) != 1 || !strings.HasSuffix(c.warnings[0].Msg, "summary: "+warn) || c.warnings[0].Line != lineOfRecord(0) {
				t.Errorf("warnings %v", c.warnings)
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		data := []byte("Incident: T\u202E x\nPublished Date: 2020-01-02\nSummary " + strings.ReplaceAll(dirty, "\r", "") + "\n")
		c := readFormat(t, FormatText, "a.txt", data)
		if len(c.records) != 1 {
			t.Fatalf("problems %v", c.problems)
		}
		in := c.records[0].Incident
		if in.Title != "T x" || in.Summary != strings.ReplaceAll(want, "h\ni", "hi") {
			t.Errorf("title %q, summary %q", in.Title, in.Summary)
		}
		var got []string
		for _, w := range c.warnings {
			got = append(got, w.Error())
		}
		wantWarns := []string{
			"a.txt:1: removed 1 control or bidirectional-override character (the first is U+202E)",
			"a.txt:3: " + warn,
		}
		if diff := cmp.Diff(wantWarns, got); diff != "" {
			t.Errorf("warnings (-want +got):\n%s", diff)
		}
	})
}

// An id ending in .bib would have no page (/incidents/{id}.bib is its
// BibTeX citation): every format rejects it.
func TestBibIDRejectedEveryFormat(t *testing.T) {
	records := []map[string]string{rec("paper.bib", "x"), rec("paper.BIB", "x"), rec("bib", "x"), rec("paper.bibtex", "x")}
	for _, fc := range everyFormat {
		t.Run(fc.name, func(t *testing.T) {
			c := readFormat(t, fc.format, fc.name, fc.write(records))
			var ids []string
			for _, r := range c.records {
				ids = append(ids, r.Incident.ID)
			}
			if diff := cmp.Diff([]string{"bib", "paper.bibtex"}, ids); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if len(c.problems) != 2 || !strings.Contains(c.problems[0].Error(), fmt.Sprintf(`%s:%d: `, fc.name, lineOfRecord(0))) ||
				!strings.Contains(c.problems[0].Msg, `id "paper.bib" ends in .bib, which the server reserves for an incident's BibTeX citation`) {
				t.Errorf("problems %v", c.problems)
			}
		})
	}
	c := readFormat(t, FormatText, "dir/paper.bib.txt", textReport(rec("", "x")))
	if len(c.records) != 0 || len(c.problems) != 1 || !strings.Contains(c.problems[0].Msg, `id "paper.bib" ends in .bib`) {
		t.Errorf("text: %d records, problems %v", len(c.records), c.problems)
	}
	for id, want := range map[string]bool{"a.bib": false, "A.Bib": false, "a.bi": true, "bib": true, "a.bib.x": true} {
		if ValidID(id) != want {
			t.Errorf("ValidID(%q) = %v", id, !want)
		}
	}
}
