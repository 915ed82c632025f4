package index

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/faildex/faildex/index/indextest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current encoders")

// goldenIncident is the incident whose stored form testdata/stored-v1.golden
// pins. It has every string field, negative and large article ids, sources,
// non-ASCII text, and a category with nil options beside assessed ones.
var goldenIncident = Incident{
	ID:                "g-1",
	Title:             "Café outage — “quoted”",
	Published:         "2021-06-08",
	Summary:           "A bad config push took down the CDN.\nSecond line.",
	Timeline:          "09:47 push; 10:36 recovered",
	System:            "edge cache",
	ResponsibleOrg:    "Fastly",
	ImpactedOrg:       "many sites",
	SoftwareCauses:    "latent bug [1]",
	NonSoftwareCauses: "none",
	Impacts:           "outage",
	Preventions:       "staged rollout",
	Fixes:             "config reverted",
	References:        "[1] https://example.org/a",
	Articles:          []int64{-1, 0, 1, 1 << 40},
	Sources:           []string{"https://example.org/a", ""},
	Taxonomy: map[string]Classification{
		"phase":  {Options: []string{"operation"}, Rationale: "a push in operation"},
		"domain": {Options: []string{"information", "transportation"}},
		"cps":    {Rationale: "not assessed"},
	},
}

// TestStoredGolden pins the bytes of stored form version 1: an index built
// by an earlier release stores exactly these, so a change of encoding
// that keeps storedVersion at 1 fails here. Run with -update only when the
// version is raised (and rename the file with it).
func TestStoredGolden(t *testing.T) {
	const golden = "testdata/stored-v1.golden"
	got := encodeStored(&goldenIncident)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := readBytes(t, golden)
	if !bytes.Equal(got, want) {
		t.Errorf("encodeStored = \n%x\nwant (%s)\n%x", got, golden, want)
	}
	in, err := DecodeStored(want)
	if err != nil {
		t.Fatalf("DecodeStored(%s): %v", golden, err)
	}
	if diff := cmp.Diff(goldenIncident, in); diff != "" {
		t.Errorf("DecodeStored(%s) (-want +got):\n%s", golden, diff)
	}
}

// viaJSON is what storing an incident as JSON and decoding it gave.
func viaJSON(tb testing.TB, in *Incident) Incident {
	tb.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := DecodeStored(b)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func viaBinary(tb testing.TB, in *Incident) Incident {
	tb.Helper()
	out, err := DecodeStored(encodeStored(in))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// fillAll sets every field of v, recursively, to a non-zero value, so that
// a field added to Incident and forgotten by the stored form fails the test.
func fillAll(v reflect.Value, seed string) {
	switch v.Kind() {
	case reflect.String:
		v.SetString(seed + "-" + v.Type().Name())
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(len(seed)) + 7)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fillAll(v.Field(i), seed+v.Type().Field(i).Name)
			}
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		fillAll(s.Index(0), seed+"0")
		fillAll(s.Index(1), seed+"1")
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for _, k := range []string{"phase", "domain"} {
			e := reflect.New(v.Type().Elem()).Elem()
			fillAll(e, seed+k)
			m.SetMapIndex(reflect.ValueOf(k), e)
		}
		v.Set(m)
	}
}

// TestStoredFormMatchesJSON checks that the binary stored form decodes to
// exactly what the JSON form decodes to: for every field of Incident, for
// nil and empty lists and maps, and for real reports.
func TestStoredFormMatchesJSON(t *testing.T) {
	var cases []Incident
	var full Incident
	fillAll(reflect.ValueOf(&full).Elem(), "x")
	cases = append(cases, full, Incident{}, Incident{ID: "a", Articles: []int64{}, Sources: []string{},
		Taxonomy: map[string]Classification{"phase": {Options: []string{}}, "cps": {}}},
		Incident{ID: "b", Articles: []int64{-1, 0, 1 << 62}, Taxonomy: map[string]Classification{}, Summary: "ü\u2028<&>\"\\"})
	files, err := filepath.Glob(filepath.Join(indextest.DataDir(), "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no bundled reports (%v)", err)
	}
	texts, _ := realReports(t)
	files = append(files, texts...)
	for _, f := range files {
		in, _, err := ParseText(f, "r", readBytes(t, f))
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, in)
	}
	for i := range cases {
		want, got := viaJSON(t, &cases[i]), viaBinary(t, &cases[i])
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("case %d (%s): binary form decodes differently (-json +binary):\n%s", i, cases[i].ID, diff)
		}
	}
	if reflect.DeepEqual(viaBinary(t, &full), Incident{}) {
		t.Error("the filled incident decoded empty")
	}
}

// TestStoredFormCorrupt checks that every truncation of a stored incident
// is an error, not a panic or a partial incident.
func TestStoredFormCorrupt(t *testing.T) {
	var full Incident
	fillAll(reflect.ValueOf(&full).Elem(), "y")
	b := encodeStored(&full)
	for n := 0; n < len(b); n++ {
		if _, err := DecodeStored(b[:n]); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
	bad := append([]byte(nil), b...)
	bad[1] = 99
	if _, err := DecodeStored(bad); err == nil {
		t.Error("unknown version: no error")
	}
}

// FuzzDecodeStored checks that decoding arbitrary bytes never panics and
// that whatever decodes survives a round trip through the binary form
// unchanged, with an encoding no larger than its input allows.
func FuzzDecodeStored(f *testing.F) {
	var full Incident
	fillAll(reflect.ValueOf(&full).Elem(), "z")
	f.Add(encodeStored(&full))
	f.Add(encodeStored(&goldenIncident))
	f.Add(encodeStored(&Incident{}))
	f.Add([]byte{storedMagic, storedVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Add([]byte(`{"id":"1","taxonomy":{"phase":{"options":["design"]}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := DecodeStored(b)
		if err != nil {
			return
		}
		enc := encodeStored(&in)
		back, err := DecodeStored(enc)
		if err != nil {
			t.Fatalf("the encoding of a decoded incident does not decode: %v", err)
		}
		// The binary form keeps nil and empty apart only where a JSON round
		// trip of an Incident does; a decoded JSON input may hold an empty
		// list where the binary form gives back nil.
		var opts []cmp.Option
		if len(b) == 0 || b[0] != storedMagic {
			opts = append(opts, cmpopts.EquateEmpty())
		}
		if diff := cmp.Diff(in, back, opts...); diff != "" {
			t.Fatalf("round trip through the binary form (-decoded +again):\n%s", diff)
		}
		if again := encodeStored(&back); !bytes.Equal(enc, again) {
			t.Fatalf("encoding is not stable:\n%x\n%x", enc, again)
		}
		if len(b) > 0 && b[0] == storedMagic && len(enc) > len(b)+8*len(in.Taxonomy)+16 {
			t.Fatalf("decoded %d bytes into an incident of %d", len(b), len(enc))
		}
	})
}

func BenchmarkDecodeStored(b *testing.B) {
	in, _, err := ParseText("s", "s", readBytes(b, seedPath(b, seed0)))
	if err != nil {
		b.Fatal(err)
	}
	js, _ := json.Marshal(&in)
	for _, c := range []struct {
		name string
		data []byte
	}{{"json", js}, {"binary", encodeStored(&in)}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			for b.Loop() {
				if _, err := DecodeStored(c.data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
