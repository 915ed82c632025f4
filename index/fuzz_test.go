package index

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// checkAccepted fails unless an accepted incident is valid as it stands:
// Validate accepts it unchanged, its id and date are well formed, it can be
// indexed, and it survives a JSON Lines round trip.
func checkAccepted(tb testing.TB, in Incident) {
	tb.Helper()
	if !ValidID(in.ID) {
		tb.Fatalf("accepted incident with id %q", in.ID)
	}
	d, err := ParseDate(in.Published)
	if err != nil || d.Format(DateLayout) != in.Published {
		tb.Fatalf("accepted incident with date %q (%v)", in.Published, err)
	}
	if strings.TrimSpace(in.Title) == "" {
		tb.Fatal("accepted incident without a title")
	}
	again := in
	again.Taxonomy = map[string]Classification{}
	for k, v := range in.Taxonomy {
		again.Taxonomy[k] = v
	}
	if _, err := again.Validate(); err != nil {
		tb.Fatalf("accepted incident fails Validate: %v", err)
	}
	if diff := cmp.Diff(in, again); diff != "" {
		tb.Fatalf("Validate changes an accepted incident (-before +after):\n%s", diff)
	}
	for name, cl := range in.Taxonomy {
		if _, ok := LookupCategory(name); !ok || len(cl.Options) == 0 {
			tb.Fatalf("taxonomy entry %q: %+v", name, cl)
		}
	}
	if _, err := Document(&in); err != nil {
		tb.Fatalf("Document: %v", err)
	}
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, &in); err != nil {
		tb.Fatal(err)
	}
	// Warnings about options outside the vocabulary come back, as they
	// should; errors must not.
	back, _, err := decodeIncident(bytes.TrimSpace(buf.Bytes()))
	if err != nil {
		tb.Fatalf("reading back %s: %v", buf.Bytes(), err)
	}
	if diff := cmp.Diff(in, back); diff != "" {
		tb.Fatalf("JSON Lines round trip (-want +got):\n%s", diff)
	}
}

// checkProblem fails unless p is located in file.
func checkProblem(tb testing.TB, p Problem, file string) {
	tb.Helper()
	if p.File != file || p.Line < 0 || p.Msg == "" {
		tb.Fatalf("problem %+v", p)
	}
}

// fuzzRead reads data with Read and checks every record and problem.
func fuzzRead(tb testing.TB, format Format, name string, data []byte) []Incident {
	tb.Helper()
	var got []Incident
	err := Read(format, name, bytes.NewReader(data), Handler{
		Record: func(r Record) error {
			if r.File != name || r.Line < 1 {
				tb.Fatalf("record at %s", r.Source())
			}
			checkAccepted(tb, r.Incident)
			got = append(got, r.Incident)
			return nil
		},
		Problem: func(p Problem) { checkProblem(tb, p, name) },
	})
	if err != nil {
		tb.Fatalf("Read: %v", err)
	}
	return got
}

// addSeedFiles adds the first two real reports (seed0 and seed1 when the
// shared corpus is there) to the fuzz corpus.
func addSeedFiles(f *testing.F) {
	texts, _ := realReports(f)
	for _, path := range texts[:min(2, len(texts))] {
		f.Add(readBytes(f, path))
	}
}

func FuzzParseText(f *testing.F) {
	addSeedFiles(f)
	for _, s := range []string{
		tinyReport,
		"\ufeff" + strings.ReplaceAll(tinyReport, "\n", "\r\n"),
		page("Consequence property (a) death: People lost their lives"),
		page("Behaviour value, other (a) crash: no"),
		page("Perception None None", "Communication None None"),
		page("Duration temporary, as the failure lasted", "(b) more"),
		page("Duration “temporary” (a) it’s"),
		page("Recurring same_vendor, one_organization, (a)"),
		page("Phase (Design/Operation"),
		page("CPS cps, , unknown"),
		"Incident: x\nPublished Date: 2019-02-30\n",
		"Incident: x\nPublished Date: 2020-01-01T\nSources\n[1]\n",
		"Incident:\nPublished Date:\n",
		"Published Date: 2020-01-01\nIncident: [Article 1, 2]\nSystem\nFixes:",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in, warns, err := ParseText("f.txt", "fuzz-id", data)
		for _, w := range warns {
			if !w.Warning {
				t.Fatalf("warning %+v without Warning set", w)
			}
			checkProblem(t, w, "f.txt")
		}
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) {
				t.Fatalf("error %v (%T) is not a *Problem", err, err)
			}
			checkProblem(t, *p, "f.txt")
			return
		}
		if in.ID != "fuzz-id" {
			t.Fatalf("ID = %q", in.ID)
		}
		checkAccepted(t, in)
	})
}

func FuzzReadCSV(f *testing.F) {
	_, csvs := realReports(f)
	for _, path := range csvs {
		b := readBytes(f, path)
		// The header and first row of the real file.
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err == nil && len(recs) > 1 {
			var buf bytes.Buffer
			w := csv.NewWriter(&buf)
			w.WriteAll(recs[:2])
			f.Add(buf.Bytes())
		}
	}
	for _, s := range []string{
		csvHeader + "1,[1],2020-01-01,One,\"multi\nline\",\"design, operation\",r\n2,[2],2020-01-02,Two,s\n",
		csvHeader + "\"2\"x,[2],2020-01-02,Two,s,design,r\n",
		csvHeader + "1,[x],2019-02-30,Caf\xe9,s,design,r\n",
		"\ufeff" + strings.ReplaceAll(csvHeader, "\n", "\r\n") + "1,,2020-01-01,One,s,Design; Operation,r\r\n",
		"Incident ID,Title,Summary\n1,T,S\n",
		"id,title,published,taxonomy,articles\n1,T,2020-01-01,x,\"[Article 1, 2]\"\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, FormatCSV, "f.csv", data)
	})
}

func FuzzDecodeJSONL(f *testing.F) {
	for _, s := range []string{
		`{"id":"a","title":"A","published":"2020-01-01","articles":[1,2],"taxonomy":{"phase":{"options":["design"],"rationale":"r"}}}`,
		`{"id":5,"title":"A","published":"2020-01-01T00:00:00Z","SEcauses":"[3]","phase_option":"Design, operation","cps_option":null}`,
		`{"Incident ID":"a","Title":"A","Published":"2020-01-01 07:00:00+00:00","Related Article IDs":"[1, 2]","Sources":["x"]}`,
		"{\"id\":\"a\",\"title\":\"A\",\"published\":\"2020-01-01\"}\n{bad\n\n{\"id\":\"b\"}\n",
		`{"id":"a","title":"A","published":"2020-01-01","taxonomy":{"Phase":{"options":[" x y "]},"phase":{"options":["design"]}}}`,
		djangoDump,
		`[{"id":"a","title":"A","published":"2020-01-01"}]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzRead(t, FormatJSONL, "f.jsonl", data)
		fuzzRead(t, FormatJSON, "f.json", data)
	})
}
