package index

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTextSeeds(t *testing.T) {
	none := Classification{Options: []string{"none"}, Rationale: "None"}
	tests := []struct {
		name      string
		published string
		articles  []int64
		title     string
		options   map[string][]string
		// iot holds the exact classifications of the IoT layer rows.
		iot map[string]Classification
		// prefixes maps a text field's name to its expected beginning.
		prefixes map[string]string
		// contains maps a text field's name to a substring it must hold.
		contains map[string]string
	}{
		{
			name:      seed0,
			published: "2018-05-24",
			articles:  []int64{71241},
			title:     "Amazon Alexa Privacy Breach: Recording and Sending Conversations Without Consent",
			options: map[string][]string{
				"recurring":     {"one_organization"},
				"phase":         {"design", "operation"},
				"boundary":      {"within_system", "outside_system"},
				"nature":        {"non-human_actions", "human_actions"},
				"dimension":     {"software"},
				"objective":     {"malicious"},
				"intent":        {"poor_decisions"},
				"capability":    {"development_incompetence", "accidental"},
				"duration":      {"temporary"},
				"behaviour":     {"value", "other"},
				"perception":    {"none"},
				"communication": {"none"},
				"application":   {"none"},
				// The rationale lists every option ("(a) death: ...");
				// only the word before it is the assessment.
				"consequence": {"property"},
				"domain":      {"information", "entertainment"},
			},
			iot: map[string]Classification{"perception": none, "communication": none, "application": none},
			prefixes: map[string]string{
				"timeline":                 "1. The software failure incident where an Alexa device recorded",
				"system":                   "1. Amazon Echo device",
				"responsible_organization": "1. Amazon's Alexa device was responsible",
				"impacted_organization":    "1. Danielle and her husband [71241]",
				"software_causes":          "1. The software failure incident was caused by the Amazon Echo device",
				"non_software_causes":      "1. Lack of user awareness",
				"impacts":                  "1. The software failure incident led to a breach of privacy",
				"preventions":              "1. Implementing stricter privacy controls",
				"fixes":                    "1. Implement stricter wake word detection",
				"references":               "1. Amazon spokesperson [Article 71241]",
			},
			contains: map[string]string{
				"references": "[Article 71241]",
				"system":     "[71241]",
			},
		},
		{
			name:      seed1,
			published: "2020-08-13",
			articles:  []int64{103796, 103828},
			title:     "Vulnerability in Amazon's Alexa Platform Exposed User Data",
			options: map[string][]string{
				"recurring":     {"one_organization", "multiple_organization"},
				"phase":         {"design", "operation"},
				"boundary":      {"within_system"},
				"nature":        {"non-human_actions", "human_actions"},
				"dimension":     {"software"},
				"objective":     {"malicious"},
				"intent":        {"poor_decisions", "accidental_decisions"},
				"capability":    {"development_incompetence", "accidental"},
				"duration":      {"permanent"},
				"behaviour":     {"crash", "omission", "value", "other"},
				"perception":    {"none"},
				"communication": {"none"},
				"application":   {"none"},
				"consequence":   {"property", "theoretical_consequence"},
				"domain":        {"information", "finance"},
			},
			iot: map[string]Classification{"perception": none, "communication": none, "application": none},
			prefixes: map[string]string{
				"timeline":                 "1. The software failure incident related to vulnerabilities",
				"system":                   "1. Amazon's Alexa platform's web services [103796, 103828]",
				"responsible_organization": "1. Amazon [103796, 103828]",
				"software_causes":          "1. Bugs in Alexa's web services",
				"fixes":                    "1. Amazon patched the vulnerabilities",
				"references":               "1. Check Point - Security firm",
			},
			contains: map[string]string{
				"references": "[Article 103796, Article 103828]",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := parseSeed(t, tt.name)
			if in.ID != tt.name {
				t.Errorf("ID = %q, want %q", in.ID, tt.name)
			}
			if in.Title != tt.title {
				t.Errorf("Title = %q, want %q", in.Title, tt.title)
			}
			if in.Published != tt.published {
				t.Errorf("Published = %q, want %q", in.Published, tt.published)
			}
			if diff := cmp.Diff(tt.articles, in.Articles); diff != "" {
				t.Errorf("Articles (-want +got):\n%s", diff)
			}
			// Comparing whole maps also checks that CPS, which the
			// pages do not assess, is absent.
			if diff := cmp.Diff(tt.options, optionsOf(in)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
			if in.Assessed("cps") {
				t.Errorf("cps is assessed: %+v", in.Taxonomy["cps"])
			}
			for cat, want := range tt.iot {
				if diff := cmp.Diff(want, in.Taxonomy[cat]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", cat, diff)
				}
			}
			for name, cl := range in.Taxonomy {
				if cl.Rationale == "" {
					t.Errorf("%s has no rationale", name)
				}
			}
			fields := map[string]string{}
			for _, f := range TextFields {
				fields[f.Name] = *f.Get(&in)
			}
			for name, prefix := range tt.prefixes {
				if !strings.HasPrefix(fields[name], prefix) {
					t.Errorf("%s = %q, want prefix %q", name, Truncate(fields[name], 120), prefix)
				}
			}
			for name, sub := range tt.contains {
				if !strings.Contains(fields[name], sub) {
					t.Errorf("%s = %q, want it to contain %q", name, Truncate(fields[name], 120), sub)
				}
			}
			if in.Summary != "" {
				t.Errorf("Summary = %q, want empty (the pages have none)", Truncate(in.Summary, 60))
			}
			if len(in.Sources) != 0 {
				t.Errorf("Sources = %q, want none", in.Sources)
			}
			if strings.Contains(in.Taxonomy["domain"].Rationale, "Back to List") {
				t.Errorf("the page footer leaked into a rationale")
			}
		})
	}
}

// page wraps lines in a minimal valid report whose taxonomy rows start at
// line 5.
func page(lines ...string) string {
	return "Incident: Test incident\nPublished Date: 2020-01-02\nSoftware Taxonomy of Faults\nCategory Option Rationale\n" +
		strings.Join(lines, "\n") + "\n"
}

func TestParseTextTaxonomyRows(t *testing.T) {
	tests := []struct {
		name     string
		rows     []string
		want     map[string]Classification
		warnings []Problem // File is always "t.txt"
	}{
		{
			name: "rationale listing vocabulary words",
			rows: []string{"Consequence property (a) death: People lost their lives due to the software failure (b) harm: People were physically harmed"},
			want: map[string]Classification{"consequence": {
				Options:   []string{"property"},
				Rationale: "(a) death: People lost their lives due to the software failure (b) harm: People were physically harmed",
			}},
		},
		{
			name: "multiple options then a rationale naming another option",
			rows: []string{"Behaviour value, other (a) crash: The system did not crash."},
			want: map[string]Classification{"behaviour": {
				Options:   []string{"value", "other"},
				Rationale: "(a) crash: The system did not crash.",
			}},
		},
		{
			name: "IoT layer None None",
			rows: []string{"Perception None None", "Communication None None", "Application None None"},
			want: map[string]Classification{
				"perception":    {Options: []string{"none"}, Rationale: "None"},
				"communication": {Options: []string{"none"}, Rationale: "None"},
				"application":   {Options: []string{"none"}, Rationale: "None"},
			},
		},
		{
			name: "labels with parentheticals",
			rows: []string{
				"Phase (Design/Operation) design, operation (a) The design was flawed.",
				"Nature (Human/Non-human) non-human_actions, human_actions (a) Both.",
				"Intent (Poor/Accidental Decisions) poor_decisions (a) Poor.",
				"Capability (Incompetence/Accidental) development_incompetence, accidental (a) Both.",
				"Objective (Malicious/Non-malicious) non-malicious (a) No intent to harm.",
			},
			want: map[string]Classification{
				"phase":      {Options: []string{"design", "operation"}, Rationale: "(a) The design was flawed."},
				"nature":     {Options: []string{"non-human_actions", "human_actions"}, Rationale: "(a) Both."},
				"intent":     {Options: []string{"poor_decisions"}, Rationale: "(a) Poor."},
				"capability": {Options: []string{"development_incompetence", "accidental"}, Rationale: "(a) Both."},
				"objective":  {Options: []string{"non-malicious"}, Rationale: "(a) No intent to harm."},
			},
		},
		{
			name: "labels without parentheticals",
			rows: []string{"Phase design (a) Designed badly.", "Boundary outside_system (a) Attackers."},
			want: map[string]Classification{
				"phase":    {Options: []string{"design"}, Rationale: "(a) Designed badly."},
				"boundary": {Options: []string{"outside_system"}, Rationale: "(a) Attackers."},
			},
		},
		{
			name: "a comma before prose is not an option separator",
			rows: []string{"Duration temporary, as the failure lasted a day."},
			want: map[string]Classification{"duration": {
				Options:   []string{"temporary"},
				Rationale: "as the failure lasted a day.",
			}},
		},
		{
			name: "capitalised options",
			rows: []string{"Dimension Software, Hardware (a) Both."},
			want: map[string]Classification{"dimension": {Options: []string{"software", "hardware"}, Rationale: "(a) Both."}},
		},
		{
			name: "unknown snake_case option is kept with a warning",
			rows: []string{"Recurring same_vendor, one_organization (a) Happened before."},
			want: map[string]Classification{"recurring": {
				Options:   []string{"same_vendor", "one_organization"},
				Rationale: "(a) Happened before.",
			}},
			warnings: []Problem{{Line: 5, Msg: `recurring: option "same_vendor" is not in the vocabulary`, Warning: true}},
		},
		{
			name: "missing rows are not assessed",
			rows: []string{"Duration permanent (a) Until fixed."},
			want: map[string]Classification{"duration": {Options: []string{"permanent"}, Rationale: "(a) Until fixed."}},
		},
		{
			name:     "a row without options is not assessed",
			rows:     []string{"Recurring The sources do not say.", "Duration permanent (a) x"},
			want:     map[string]Classification{"duration": {Options: []string{"permanent"}, Rationale: "(a) x"}},
			warnings: []Problem{{Line: 5, Msg: "recurring: row has no options; category left not assessed", Warning: true}},
		},
		{
			name: "rationale continued on the next lines",
			rows: []string{"Duration temporary (a) First line.", "(b) Second line.", "", "Domain finance (a) Banks."},
			want: map[string]Classification{
				"duration": {Options: []string{"temporary"}, Rationale: "(a) First line.\n(b) Second line."},
				"domain":   {Options: []string{"finance"}, Rationale: "(a) Banks."},
			},
		},
		{
			name:     "a second row for a category is ignored",
			rows:     []string{"Duration temporary (a) First.", "Duration permanent (a) Second."},
			want:     map[string]Classification{"duration": {Options: []string{"temporary"}, Rationale: "(a) First."}},
			warnings: []Problem{{Line: 6, Msg: "duration: second row ignored", Warning: true}},
		},
		{
			name: "options in typographic quotes",
			rows: []string{"Duration “temporary” (a) The device’s failure was “short”."},
			want: map[string]Classification{"duration": {
				Options:   []string{"temporary"},
				Rationale: "(a) The device’s failure was “short”.",
			}},
		},
		{
			name: "no taxonomy at all",
			want: map[string]Classification{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, warns, err := ParseText("t.txt", "t", []byte(page(tt.rows...)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, in.Taxonomy); diff != "" {
				t.Errorf("Taxonomy (-want +got):\n%s", diff)
			}
			for i := range tt.warnings {
				tt.warnings[i].File = "t.txt"
			}
			if diff := cmp.Diff(tt.warnings, warns); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

const tinyReport = `Incident: Echo sends a private conversation

Published Date: 2018-05-24

Postmortem Analysis
Timeline 1. May 2018 [71241]
System 1. Amazon Echo device [71241]
2. Alexa cloud [71242]
Software Causes 1. False wake word [71241]
Non-software Causes 1. Devices in every room
References 1. KIRO 7 [Article 71241]

Software Taxonomy of Faults

Category Option Rationale
Phase (Design/Operation) design, operation (a) Design.
Behaviour value, other (a) crash: no crash.

IoT System Layer

Layer Option Rationale
Perception None None

Other Details

Category Option Rationale
Consequence property (a) death: none died.
Domain information (a) Media.

Sources
KIRO 7, 24 May 2018

Back to List
`

func TestParseTextFields(t *testing.T) {
	in, warns, err := ParseText("tiny.txt", "tiny", []byte(tinyReport))
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	want := Incident{
		ID:                "tiny",
		Title:             "Echo sends a private conversation",
		Published:         "2018-05-24",
		Timeline:          "1. May 2018 [71241]",
		System:            "1. Amazon Echo device [71241]\n2. Alexa cloud [71242]",
		SoftwareCauses:    "1. False wake word [71241]",
		NonSoftwareCauses: "1. Devices in every room",
		References:        "1. KIRO 7 [Article 71241]",
		Articles:          []int64{71241, 71242},
		Sources:           []string{"KIRO 7, 24 May 2018"},
		Taxonomy: map[string]Classification{
			"phase":       {Options: []string{"design", "operation"}, Rationale: "(a) Design."},
			"behaviour":   {Options: []string{"value", "other"}, Rationale: "(a) crash: no crash."},
			"perception":  {Options: []string{"none"}, Rationale: "None"},
			"consequence": {Options: []string{"property"}, Rationale: "(a) death: none died."},
			"domain":      {Options: []string{"information"}, Rationale: "(a) Media."},
		},
	}
	if diff := cmp.Diff(want, in); diff != "" {
		t.Errorf("ParseText (-want +got):\n%s", diff)
	}
}

// TestParseTextEncodings checks that line endings, a byte order mark and
// typographic punctuation change nothing but what the text says.
func TestParseTextEncodings(t *testing.T) {
	base, _, err := ParseText("tiny.txt", "tiny", []byte(tinyReport))
	if err != nil {
		t.Fatal(err)
	}
	curly := strings.NewReplacer("Echo sends", "Echo’s “wake word” sends", "False wake word", "False “wake word”").Replace(tinyReport)
	wantCurly := base
	wantCurly.Title = "Echo’s “wake word” sends a private conversation"
	wantCurly.SoftwareCauses = "1. False “wake word” [71241]"
	tests := []struct {
		name string
		data string
		want Incident
	}{
		{"CRLF", strings.ReplaceAll(tinyReport, "\n", "\r\n"), base},
		{"BOM", "\ufeff" + tinyReport, base},
		{"BOM and CRLF", "\ufeff" + strings.ReplaceAll(tinyReport, "\n", "\r\n"), base},
		{"trailing spaces and tabs", strings.ReplaceAll(tinyReport, "\n", " \t\n"), base},
		{"typographic quotes", curly, wantCurly},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, warns, err := ParseText("tiny.txt", "tiny", []byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if len(warns) != 0 {
				t.Errorf("warnings: %v", warns)
			}
			if diff := cmp.Diff(tt.want, in); diff != "" {
				t.Errorf("ParseText (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTextRejects(t *testing.T) {
	valid := "Incident: T\nPublished Date: 2020-01-02\nSystem ok\n"
	tests := []struct {
		name     string
		data     []byte
		wantLine int
		wantMsg  string // a substring of the problem's message
	}{
		{"empty", nil, 1, "empty report"},
		{"only blank lines", []byte("\n \r\n\t\n"), 1, "empty report"},
		{"invalid UTF-8", []byte("Incident: T\nPublished Date: 2020-01-02\n\nSystem caf\xe9\n"), 4, "invalid UTF-8"},
		{"truncated UTF-8 at the end", []byte("Incident: T\nPublished Date: 2020-01-02\nSystem \xe2\x80"), 3, "invalid UTF-8"},
		{"missing title", []byte("\nPublished Date: 2020-01-02\nSystem x\n"), 1, "missing title line"},
		{"empty title", []byte("Incident:   \nPublished Date: 2020-01-02\n"), 1, "missing title"},
		{"missing date", []byte("\n\nIncident: T\nSystem x\n"), 3, "missing date line"},
		{"invalid date", []byte("Incident: T\n\nPublished Date: 2019-02-30\n"), 3, `"2019-02-30" is not a valid date`},
		{"not a date", []byte("Incident: T\nPublished Date: May 24, 2018\n"), 2, "is not a date"},
		{"too large", append([]byte(valid), bytes.Repeat([]byte("x"), MaxRecordBytes)...), 0, "record is 4.0 MB, over the 4 MB limit"},
		{"field too large", append([]byte(valid+"Summary "), bytes.Repeat([]byte("x "), MaxFieldBytes/2+1)...), 1, `field "summary" is 1.0 MB, over the 1 MB limit`},
		{"id ending in .bib", []byte(valid), 1, `id "bad.bib" ends in .bib, which the server reserves`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file, id := "bad.txt", "bad"
			if strings.Contains(tt.name, ".bib") {
				file, id = "bad.bib.txt", "bad.bib"
			}
			in, _, err := ParseText(file, id, tt.data)
			if err == nil {
				t.Fatalf("ParseText accepted %+v", in)
			}
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v (%T) is not a *Problem", err, err)
			}
			if p.File != file || p.Line != tt.wantLine || p.Warning {
				t.Errorf("problem at %s:%d (warning %v), want %s:%d", p.File, p.Line, p.Warning, file, tt.wantLine)
			}
			if !strings.Contains(p.Msg, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", p.Msg, tt.wantMsg)
			}

			// Read reports the same problem and no record.
			c := readFormat(t, FormatText, "dir/"+file, tt.data)
			if len(c.records) != 0 || len(c.problems) != 1 {
				t.Fatalf("Read: %d records, problems %v; want 0 records and 1 problem", len(c.records), c.problems)
			}
			got := c.problems[0]
			if got.File != "dir/"+file || got.Line != tt.wantLine || !strings.Contains(got.Msg, tt.wantMsg) {
				t.Errorf("Read problem %v, want dir/%s:%d: ...%s...", &got, file, tt.wantLine, tt.wantMsg)
			}
		})
	}
}

func TestParseTextInvalidID(t *testing.T) {
	// The id comes from the file name; a bad one is a problem of the file,
	// reported at line 1 even when it reads like a date or a title.
	for _, id := range []string{"update date", "a title", "../x", ""} {
		_, _, err := ParseText("f.txt", id, []byte("Incident: T\n\nPublished Date: 2020-01-02\n"))
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("ParseText(id %q) error = %v, want a *Problem", id, err)
		}
		want := fmt.Sprintf("id %q must be 1-128 letters, digits, '.', '_' or '-'", id)
		if diff := cmp.Diff(Problem{File: "f.txt", Line: 1, Msg: want}, *p); diff != "" {
			t.Errorf("ParseText(id %q) (-want +got):\n%s", id, diff)
		}
	}
}

func TestProblemError(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.txt", Line: 3, Msg: "bad"}, "a.txt:3: bad"},
		{Problem{File: "a.txt", Msg: "too large"}, "a.txt: too large"},
	}
	for _, tt := range tests {
		if got := tt.p.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestReadTextIDFromFileName(t *testing.T) {
	path := seedPath(t, seed0)
	c := readPaths(t, path)
	if len(c.records) != 1 || len(c.problems) != 0 {
		t.Fatalf("got %d records, problems %v", len(c.records), c.problems)
	}
	if got := c.records[0].Incident.ID; got != seed0 {
		t.Errorf("ID = %q, want %q", got, seed0)
	}
	if got := c.records[0].Source(); got != path+":1" {
		t.Errorf("Source() = %q, want %q", got, path+":1")
	}
}

// FuzzTaxonomyRow checks that taxonomyRow returns what the categoryRow
// regexp matches, on any line.
func FuzzTaxonomyRow(f *testing.F) {
	for _, s := range []string{
		"Phase (Design/Operation) design, operation The rationale (x) here.", "phase", "phase ", "phase(x)", "phase(x)y",
		"phase (x)y", "phase (x", "phases design", "phase: x", "CPS cps", "Consequence\tdeath (a) b", "ſcps x",
		"behaviour\x00x", "domain \n x", "domain (a\nb) c", "domain  (a) \r", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		got := taxonomyRow(true, line)
		want := categoryRow.FindStringSubmatch(line)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: taxonomyRow %q, regexp %q", line, got, want)
		}
	})
}
