package index

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/google/go-cmp/cmp"
)

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
	files, _ := filepath.Glob("../data/*.txt")
	files = append(files, filepath.Join(seedDir, seed0+".txt"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		in, _, err := ParseText(f, "r", b)
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

func FuzzDecodeStored(f *testing.F) {
	var full Incident
	fillAll(reflect.ValueOf(&full).Elem(), "z")
	f.Add(encodeStored(&full))
	f.Add([]byte{storedMagic, storedVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := DecodeStored(b)
		if err != nil || len(b) == 0 || b[0] != storedMagic {
			return
		}
		if got := encodeStored(&in); len(got) > len(b)+8*len(in.Taxonomy)+16 {
			t.Fatalf("decoded %d bytes into an incident of %d", len(b), len(got))
		}
	})
}

func BenchmarkDecodeStored(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(seedDir, seed0+".txt"))
	if err != nil {
		b.Skip(err)
	}
	in, _, err := ParseText("s", "s", data)
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
