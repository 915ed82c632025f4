package gen

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/index/indextest"
)

func trainBundled(tb testing.TB) *Model {
	tb.Helper()
	m, err := Train(os.DirFS(indextest.DataDir()))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// TestReportsParse checks that generated reports parse without rejections or
// warnings and look like the measured data.
func TestReportsParse(t *testing.T) {
	m := trainBundled(t)
	dir := t.TempDir()
	st, err := m.Write(context.Background(), dir, 1, 200, 2)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	var textBytes int64
	years := map[int]bool{}
	options := map[string]bool{}
	err = index.ReadPaths([]string{dir}, index.Handler{
		Record: func(r index.Record) error {
			n++
			in := r.Incident
			for _, f := range index.TextFields {
				textBytes += int64(len(*f.Get(&in)))
			}
			for c, cl := range in.Taxonomy {
				textBytes += int64(len(cl.Rationale))
				for _, o := range cl.Options {
					options[c+":"+o] = true
				}
			}
			if len(in.Articles) == 0 {
				t.Errorf("%s cites no article", in.ID)
			}
			years[in.Year()] = true
			return nil
		},
		Problem: func(p index.Problem) { t.Errorf("problem: %v", p.Error()) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 200 || st.Reports != 200 {
		t.Fatalf("parsed %d reports, wrote %d; want 200", n, st.Reports)
	}
	avg := textBytes / int64(n)
	if avg < 12000 || avg > 22000 {
		t.Errorf("average report text is %d bytes; the real data's is about 16,000", avg)
	}
	for y := range years {
		if y < 2010 || y > 2022 {
			t.Errorf("year %d outside 2010-2022", y)
		}
	}
	if len(options) < 40 {
		t.Errorf("only %d category options used", len(options))
	}
}

func TestDeterministic(t *testing.T) {
	m1, m2 := trainBundled(t), trainBundled(t)
	for i := 0; i < 5; i++ {
		id1, a := m1.Report(7, i)
		id2, b := m2.Report(7, i)
		if id1 != id2 || !bytes.Equal(a, b) {
			t.Fatalf("report %d differs between two models of the same corpus", i)
		}
	}
	_, a := m1.Report(7, 0)
	_, b := m1.Report(8, 0)
	if bytes.Equal(a, b) {
		t.Error("different seeds gave the same report")
	}
	if !strings.HasPrefix(string(a), "Incident: ") {
		t.Errorf("report starts %q", string(a[:20]))
	}
}
