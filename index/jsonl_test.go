package index

import (
	"bytes"
	"strings"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
)

func TestJSONLRoundTrip(t *testing.T) {
	seeds, csv := indextest.Shared(t)
	c := readPaths(t, seeds, csv)
	if len(c.records) != 33 || len(c.problems) != 0 {
		t.Fatalf("corpus: %d records, problems %v", len(c.records), c.problems)
	}
	want := c.incidents()
	var buf bytes.Buffer
	for i := range want {
		if err := WriteJSONL(&buf, &want[i]); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(buf.String(), "\n"); n != len(want) {
		t.Fatalf("WriteJSONL wrote %d lines for %d incidents", n, len(want))
	}
	back := readFormat(t, FormatJSONL, "all.jsonl", buf.Bytes())
	if len(back.problems) != 0 || len(back.warnings) != 0 {
		t.Fatalf("problems %v, warnings %v", back.problems, back.warnings)
	}
	if diff := cmp.Diff(want, back.incidents()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	for i, r := range back.records {
		if r.Line != i+1 {
			t.Errorf("record %d at line %d", i, r.Line)
		}
	}
}

func TestWriteJSONLDoesNotEscapeHTML(t *testing.T) {
	in := Incident{ID: "x", Title: "a < b & c", Published: "2020-01-01", Articles: []int64{}, Taxonomy: map[string]Classification{}}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, &in); err != nil {
		t.Fatal(err)
	}
	want := `{"id":"x","title":"a < b & c","published":"2020-01-01","articles":[],"taxonomy":{}}` + "\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("WriteJSONL (-want +got):\n%s", diff)
	}
}

const djangoDump = `[
 {"model": "failures.article", "pk": 78, "fields": {"incident": 5, "title": "Second story"}},
 {"model": "failures.incident", "pk": 5, "fields": {
   "title": "Payroll overpays staff",
   "summary": "A payroll system paid everyone twice.",
   "published": "2019-01-02T00:00:00Z",
   "time": "January 2019",
   "system": "Payroll",
   "ResponsibleOrg": "Acme",
   "ImpactedOrg": "Staff",
   "SEcauses": "An off-by-one in the pay period loop.",
   "NSEcauses": "No review.",
   "impacts": "Overpayment.",
   "preventions": "Tests.",
   "fixes": "Patched.",
   "references": "Acme press office",
   "phase_option": "design, operation",
   "phase_rationale": "Designed and run badly.",
   "cps_option": "",
   "cps_rationale": "",
   "domain_option": "finance"
 }},
 {"model": "failures.article", "pk": 77, "fields": {"incident": 5, "title": "First story"}},
 {"model": "failures.article", "pk": 99, "fields": {"incident": 6}},
 {"model": "auth.user", "pk": 1, "fields": {"username": "admin"}}
]`

func TestReadDjangoDump(t *testing.T) {
	c := readFormat(t, FormatJSON, "dump.json", []byte(djangoDump))
	if len(c.problems) != 0 || len(c.warnings) != 0 {
		t.Fatalf("problems %v, warnings %v", c.problems, c.warnings)
	}
	want := []Incident{{
		ID:                "5",
		Title:             "Payroll overpays staff",
		Published:         "2019-01-02",
		Summary:           "A payroll system paid everyone twice.",
		Timeline:          "January 2019",
		System:            "Payroll",
		ResponsibleOrg:    "Acme",
		ImpactedOrg:       "Staff",
		SoftwareCauses:    "An off-by-one in the pay period loop.",
		NonSoftwareCauses: "No review.",
		Impacts:           "Overpayment.",
		Preventions:       "Tests.",
		Fixes:             "Patched.",
		References:        "Acme press office",
		Articles:          []int64{77, 78},
		Taxonomy: map[string]Classification{
			"phase":  {Options: []string{"design", "operation"}, Rationale: "Designed and run badly."},
			"domain": {Options: []string{"finance"}},
		},
	}}
	if diff := cmp.Diff(want, c.incidents()); diff != "" {
		t.Errorf("Django dump (-want +got):\n%s", diff)
	}
	if f, ok := DetectFormat("dump.json", []byte(djangoDump)); !ok || f != FormatJSON {
		t.Errorf("DetectFormat = %q, %v; want json", f, ok)
	}
}

func TestReadJSONLBadLines(t *testing.T) {
	data := strings.Join([]string{
		`{"id":"a","title":"A","published":"2020-01-01"}`,
		`{"id":"b","title":"B",`,
		``,
		`not json`,
		`{"id":"c","title":"C","published":"2020-02-30"}`,
		`{"id":"d","title":"D","published":"2020-01-04","taxonomy":{"phase":{"options":["Design"," operation "]}},"extra":1}`,
		`{"id":"e","title":"E","published":"2020-01-05","taxonomy":{"colour":{"options":["red"]}}}`,
		`{"id":"f","title":"F","published":"2020-01-06","articles":[3,1]}`,
		"{\"id\":\"g\",\"title\":\"G\xff\",\"published\":\"2020-01-07\"}",
		`{"id":"h/../x","title":"H","published":"2020-01-08"}`,
		`{"id":"i","title":"I","published":"2020-01-09","taxonomy":{"phase":{"options":["sideways"]}}}`,
	}, "\n")
	c := readFormat(t, FormatJSONL, "in.jsonl", []byte(data))
	type rec struct {
		ID       string
		Line     int
		Articles []int64
		Options  []string
	}
	var got []rec
	for _, r := range c.records {
		got = append(got, rec{r.Incident.ID, r.Line, r.Incident.Articles, r.Incident.Options("phase")})
	}
	wantRecs := []rec{
		{"a", 1, []int64{}, nil},
		{"d", 6, []int64{}, []string{"design", "operation"}},
		{"f", 8, []int64{3, 1}, nil},
		{"i", 11, []int64{}, []string{"sideways"}},
	}
	if diff := cmp.Diff(wantRecs, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	type prob struct {
		Line int
		Msg  string
	}
	var gotProbs []prob
	for _, p := range c.problems {
		if p.File != "in.jsonl" {
			t.Errorf("problem file %q", p.File)
		}
		gotProbs = append(gotProbs, prob{p.Line, p.Msg})
	}
	wantProbs := []prob{
		{2, "invalid JSON: unexpected end of JSON input"},
		{4, "invalid JSON: invalid character 'o' in literal null (expecting 'u')"},
		{5, `published date: "2020-02-30" is not a valid date`},
		{7, `taxonomy: unknown category "colour"`},
		{9, "invalid UTF-8"},
		{10, `id "h/../x" must be 1-128 letters, digits, '.', '_' or '-'`},
	}
	if diff := cmp.Diff(wantProbs, gotProbs); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	var gotWarns []prob
	for _, p := range c.warnings {
		gotWarns = append(gotWarns, prob{p.Line, p.Msg})
	}
	wantWarns := []prob{
		{6, `field "extra" ignored`},
		{11, `phase: option "sideways" is not in the vocabulary`},
	}
	if diff := cmp.Diff(wantWarns, gotWarns); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestDetectFormat(t *testing.T) {
	tests := []struct {
		name, head string
		want       Format
		ok         bool
	}{
		{"a.txt", "", FormatText, true},
		{"a.CSV", "", FormatCSV, true},
		{"a.jsonl", "", FormatJSONL, true},
		{"a.ndjson", "", FormatJSONL, true},
		{"a.json", " [\n{", FormatJSON, true},
		{"a.json", "\ufeff{\"id\":1}", FormatJSONL, true},
		{"report", "\n\nIncident: x", FormatText, true},
		{"report", "{}", FormatJSONL, true},
		{"report", "[]", FormatJSON, true},
		{"README.md", "Incident: x", "", false},
		{"notes", "hello", "", false},
	}
	for _, tt := range tests {
		got, ok := DetectFormat(tt.name, []byte(tt.head))
		if got != tt.want || ok != tt.ok {
			t.Errorf("DetectFormat(%q, %q) = %q, %v; want %q, %v", tt.name, tt.head, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecodeSources(t *testing.T) {
	tests := []struct {
		name, sources string
		want          []string
	}{
		{"absent", ``, nil},
		{"null", `,"sources":null`, nil},
		{"empty list", `,"sources":[]`, nil},
		{"blank lines", `,"sources":[" KIRO 7 ",""," ","BBC"]`, []string{"KIRO 7", "BBC"}},
		{"one string", `,"sources":"KIRO 7\n\nBBC"`, []string{"KIRO 7", "BBC"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := `{"id":"a","title":"A","published":"2020-01-01"` + tt.sources + `}`
			c := readFormat(t, FormatJSONL, "in.jsonl", []byte(line))
			if len(c.records) != 1 {
				t.Fatalf("problems %v", c.problems)
			}
			if diff := cmp.Diff(tt.want, c.records[0].Incident.Sources); diff != "" {
				t.Errorf("Sources (-want +got):\n%s", diff)
			}
		})
	}
}
