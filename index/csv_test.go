package index

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
)

// rawCSV reads a CSV file with encoding/csv alone: one map of column to
// cell per row.
func rawCSV(tb testing.TB, path string) (header []string, rows []map[string]string) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		tb.Fatal(err)
	}
	header = recs[0]
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range header {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return header, rows
}

// splitCell is the test's own reading of an option cell: split on ",",
// trim, lower-case and drop empty parts; nil for an empty cell.
func splitCell(cell string) []string {
	var out []string
	for _, p := range strings.Split(cell, ",") {
		if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func splitArticles(tb testing.TB, cell string) []int64 {
	tb.Helper()
	ids := []int64{}
	for _, p := range strings.Split(strings.Trim(cell, "[]"), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			tb.Fatalf("article cell %q: %v", cell, err)
		}
		ids = append(ids, n)
	}
	return ids
}

func TestReadCSVIncidentData(t *testing.T) {
	_, path := indextest.Shared(t)
	header, rows := rawCSV(t, path)
	c := readPaths(t, path)
	if len(c.records) != 31 || len(c.problems) != 0 {
		t.Fatalf("got %d records and problems %v, want 31 records and no problems", len(c.records), c.problems)
	}
	if len(c.warnings) != 0 {
		t.Errorf("warnings: %v", c.warnings)
	}
	if len(rows) != len(c.records) {
		t.Fatalf("encoding/csv reads %d rows, Read %d records", len(rows), len(c.records))
	}

	// Every category has an option and a rationale column.
	for _, cat := range Taxonomy {
		for _, suffix := range []string{" Option", " Rationale"} {
			found := false
			for _, col := range header {
				found = found || strings.EqualFold(col, cat.Name+suffix)
			}
			if !found {
				t.Fatalf("column %q missing from %s", cat.Name+suffix, path)
			}
		}
	}
	column := func(tb testing.TB, row map[string]string, name string) string {
		tb.Helper()
		for col, v := range row {
			if strings.EqualFold(col, name) {
				return v
			}
		}
		tb.Fatalf("no column %q", name)
		return ""
	}
	textColumns := map[string]string{
		"Title": "title", "Summary": "summary", "Time": "timeline", "System": "system",
		"ResponsibleOrg": "responsible_organization", "ImpactedOrg": "impacted_organization",
		"SEcauses": "software_causes", "NSEcauses": "non_software_causes", "Impacts": "impacts",
		"Preventions": "preventions", "Fixes": "fixes", "References": "references",
	}

	assessed := map[string]int{}
	for i, row := range rows {
		in := c.records[i].Incident
		id := row["Incident ID"]
		t.Run(id, func(t *testing.T) {
			if in.ID != id {
				t.Errorf("ID = %q, want %q", in.ID, id)
			}
			if want := row["Published"][:10]; in.Published != want {
				t.Errorf("Published = %q, want %q", in.Published, want)
			}
			if diff := cmp.Diff(splitArticles(t, row["Related Article IDs"]), in.Articles); diff != "" {
				t.Errorf("Articles (-want +got):\n%s", diff)
			}
			fields := map[string]string{}
			for _, f := range TextFields {
				fields[f.Name] = *f.Get(&in)
			}
			for col, field := range textColumns {
				if want := strings.TrimSpace(row[col]); fields[field] != want {
					t.Errorf("%s = %q, want column %s %q", field, Truncate(fields[field], 60), col, Truncate(want, 60))
				}
			}
			if in.Summary == "" || in.Timeline == "" {
				t.Errorf("Summary or Timeline empty")
			}
			for _, cat := range Taxonomy {
				want := splitCell(column(t, row, cat.Name+" Option"))
				cl, ok := in.Taxonomy[cat.Name]
				if want == nil {
					if ok {
						t.Errorf("%s: empty cell, but Taxonomy has %+v", cat.Name, cl)
					}
					continue
				}
				assessed[cat.Name]++
				if diff := cmp.Diff(want, cl.Options); diff != "" {
					t.Errorf("%s options (-want +got):\n%s", cat.Name, diff)
				}
				if want := strings.TrimSpace(column(t, row, cat.Name+" Rationale")); cl.Rationale != want {
					t.Errorf("%s rationale = %q, want %q", cat.Name, Truncate(cl.Rationale, 60), Truncate(want, 60))
				}
			}
			if c.records[i].Line < 2 {
				t.Errorf("record line %d", c.records[i].Line)
			}
		})
	}
	// The file has multi-valued and empty cells; make sure the comparison
	// above saw both kinds.
	if assessed["phase"] != 31 || assessed["cps"] == 31 || assessed["cps"] == 0 {
		t.Errorf("assessed counts %v: want phase in every row and cps in some", assessed)
	}
}

// csvHeader is a small header with the required columns and one category.
const csvHeader = "Incident ID,Related Article IDs,Published,Title,Summary,Phase Option,Phase Rationale\n"

func TestReadCSVHostile(t *testing.T) {
	type rec struct {
		ID, Title string
		Line      int
	}
	tests := []struct {
		name     string
		data     string
		records  []rec
		problems []Problem // File is always "in.csv"
	}{
		{
			name: "missing required column",
			data: "Incident ID,Title,Summary\n1,T,S\n",
			problems: []Problem{{Line: 1,
				Msg: `missing column "published"; header is Incident ID,Title,Summary`}},
		},
		{
			name: "ragged row",
			data: csvHeader +
				"1,[1],2020-01-01,One,\"multi\nline\",design,r\n" +
				"2,[2],2020-01-02,Two,s\n" +
				"3,[3],2020-01-03,Three,s,operation,r\n",
			records:  []rec{{"1", "One", 2}, {"3", "Three", 5}},
			problems: []Problem{{Line: 4, Msg: "row has 5 fields, header has 7"}},
		},
		{
			name: "bad date in one row",
			data: csvHeader +
				"1,[1],2019-02-30 07:00:00+00:00,One,s,design,r\n" +
				"2,[2],2019-02-28 07:00:00+00:00,Two,s,design,r\n",
			records:  []rec{{"2", "Two", 3}},
			problems: []Problem{{Line: 2, Msg: `published date: "2019-02-30" is not a valid date`}},
		},
		{
			name: "duplicate ids are both read",
			data: csvHeader +
				"7,[1],2020-01-01,First,s,design,r\n" +
				"7,[2],2020-01-02,Second,s,design,r\n",
			records: []rec{{"7", "First", 2}, {"7", "Second", 3}},
		},
		{
			name: "invalid UTF-8 cell",
			data: csvHeader +
				"1,[1],2020-01-01,Caf\xe9,s,design,r\n" +
				"2,[2],2020-01-02,Two,s,design,r\n",
			records:  []rec{{"2", "Two", 3}},
			problems: []Problem{{Line: 2, Msg: `column "Title" is not valid UTF-8`}},
		},
		{
			name: "bad article ids",
			data: csvHeader +
				"1,[x1],2020-01-01,One,s,design,r\n" +
				"2,[2],2020-01-02,Two,s,design,r\n",
			records:  []rec{{"2", "Two", 3}},
			problems: []Problem{{Line: 2, Msg: `column "Related Article IDs": article ids: "x1" is not a number`}},
		},
		{
			name: "invalid id",
			data: csvHeader + "a b,[1],2020-01-01,One,s,design,r\n",
			problems: []Problem{{Line: 2,
				Msg: `id "a b" must be 1-128 letters, digits, '.', '_' or '-'`}},
		},
		{
			name: "quote error in the first field stops reading",
			data: csvHeader +
				"1,[1],2020-01-01,One,s,design,r\n" +
				"\"2\"x,[2],2020-01-02,Two,s,design,r\n" +
				"3,[3],2020-01-03,Three,s,design,r\n",
			records:  []rec{{"1", "One", 2}},
			problems: []Problem{{Line: 3, Msg: `extraneous or missing " in quoted-field`}},
		},
		{
			name: "quote error in a later field",
			data: csvHeader +
				"1,[1],2020-01-01,One \"quoted\" word,s,design,r\n",
			problems: []Problem{{Line: 2, Msg: `bare " in non-quoted-field`}},
		},
		{
			name:     "empty file",
			data:     "",
			problems: []Problem{{Line: 1, Msg: "empty CSV file"}},
		},
		{
			name:    "header only",
			data:    csvHeader,
			records: nil,
		},
		{
			name: "byte order mark, CRLF and semicolon-separated options",
			data: "\ufeff" + strings.ReplaceAll(csvHeader, "\n", "\r\n") +
				"1,,2020-01-01,One,s,Design; Operation,r\r\n",
			records: []rec{{"1", "One", 2}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(t.TempDir(), "in.csv"), []byte(tt.data))
			c := readPaths(t, path)
			var got []rec
			for _, r := range c.records {
				got = append(got, rec{r.Incident.ID, r.Incident.Title, r.Line})
				if r.File != path {
					t.Errorf("record file %q, want %q", r.File, path)
				}
			}
			if diff := cmp.Diff(tt.records, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			for i := range tt.problems {
				tt.problems[i].File = path
			}
			if diff := cmp.Diff(tt.problems, c.problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadCSVOptions(t *testing.T) {
	data := "\ufeff" + strings.ReplaceAll(csvHeader, "\n", "\r\n") + "1,,2020-01-01,One,s,Design; Operation,r\r\n"
	c := readFormat(t, FormatCSV, "in.csv", []byte(data))
	if len(c.records) != 1 {
		t.Fatalf("records %d, problems %v", len(c.records), c.problems)
	}
	want := map[string]Classification{"phase": {Options: []string{"design", "operation"}, Rationale: "r"}}
	if diff := cmp.Diff(want, c.records[0].Incident.Taxonomy); diff != "" {
		t.Errorf("Taxonomy (-want +got):\n%s", diff)
	}
}

func TestBuildDuplicateIDs(t *testing.T) {
	path := writeFile(t, filepath.Join(t.TempDir(), "in.csv"), []byte(csvHeader+
		"7,[1],2020-01-01,First,s,design,r\n"+
		"8,[2],2020-01-02,Other,s,design,r\n"+
		"7,[3],2020-01-03,Second,s,operation,r\n"))
	type dup struct{ ID, First, Second string }
	var dups []dup
	dir := t.TempDir()
	st, err := Build(context.Background(), dir, []string{path}, BuildOptions{
		Duplicate: func(id, first, second string) { dups = append(dups, dup{id, first, second}) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]dup{{"7", path + ":2", path + ":4"}}, dups); diff != "" {
		t.Errorf("duplicates (-want +got):\n%s", diff)
	}
	if st.Indexed != 2 || st.Duplicates != 1 || st.Rejected != 0 {
		t.Errorf("stats %+v, want 2 indexed, 1 duplicate, 0 rejected", st)
	}
	idx := openIndex(t, dir)
	if n, err := idx.DocCount(); err != nil || n != 2 {
		t.Errorf("DocCount = %d, %v; want 2", n, err)
	}
	in, err := idx.Get(context.Background(), "7")
	if err != nil {
		t.Fatal(err)
	}
	if in.Title != "Second" || in.Published != "2020-01-03" || in.Options("phase")[0] != "operation" {
		t.Errorf("Get(7) = %q %s %v; want the later row", in.Title, in.Published, in.Options("phase"))
	}
}

func TestCSVSafe(t *testing.T) {
	for in, want := range map[string]string{
		"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-x": "'-x", "@cmd": "'@cmd", "\tx": "'\tx", "\rx": "'\rx",
		"plain": "plain", "": "", "'quoted": "'quoted", "a=b": "a=b",
		// A trigger after a separator on which a spreadsheet may split
		// the cell, or after a line break.
		"crash;=HYPERLINK(\"http://x\")": "crash;'=HYPERLINK(\"http://x\")", "a,+1": "a,'+1", "a,b@c": "a,b@c",
		"fixes:\n- patch\n- roll back": "fixes:\n'- patch\n'- roll back", "x\r\n=1": "x\r\n'=1", "a;\t=b": "a;'\t=b",
		"a, -b": "a, -b", "2020-01-02": "2020-01-02",
		// Apostrophes already there get one more, so that reading back
		// removes only what was added.
		"'=x": "''=x", "a;''-b": "a;'''-b", "a;'b": "a;'b", "'": "'", "a;'": "a;'",
	} {
		got := CSVSafe(in)
		if got != want {
			t.Errorf("CSVSafe(%q) = %q, want %q", in, got, want)
		}
		if back := csvUnsafe(got); back != in {
			t.Errorf("csvUnsafe(%q) = %q, want %q", got, back, in)
		}
	}
}
