package search

import (
	"context"
	"syscall"
	"testing"
	"time"
)

// BenchmarkScaleHighlightShare measures the CPU time of a word query
// (Search, highlighting included) and, apart, that of highlighting its page
// of hits (pageFields, narrow and highlight of the 20 stored incidents,
// without decoding them) and that of decoding the stored incidents (which
// hits without highlighting read from their cards instead), and reports
// their shares of the query's CPU time as hl-% and decode-%. The CPU time
// is the process's, so a busy machine inflates it less than wall time.
func BenchmarkScaleHighlightShare(b *testing.B) {
	for _, req := range []Request{
		{Query: "software"},
		{Query: "outage", Filters: map[string][]string{"domain": {"information"}, "phase": {"design"}}},
	} {
		b.Run(req.Query, func(b *testing.B) {
			e, err := scaleEngine()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			p, err := e.plan(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			prod := e.producerFor(p)
			ms, err := e.matchSets(ctx, p, prod, nil)
			if err != nil {
				b.Fatal(err)
			}
			page, err := e.best(ctx, p, prod, ms.context(""), p.n.Size)
			if err != nil {
				b.Fatal(err)
			}
			var search, highlight, decode time.Duration
			for b.Loop() {
				c0 := cpuTime(b)
				if _, err := e.Search(ctx, req); err != nil {
					b.Fatal(err)
				}
				c1 := cpuTime(b)
				pf, err := e.pageFields(p.terms, page)
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range page {
					in, err := e.storedIncident(c.doc)
					if err != nil {
						b.Fatal(err)
					}
					e.highlight(in, pf.narrow(in, c.doc))
				}
				c2 := cpuTime(b)
				for _, c := range page {
					if _, err := e.storedIncident(c.doc); err != nil {
						b.Fatal(err)
					}
				}
				c3 := cpuTime(b)
				search += c1 - c0
				decode += c3 - c2
				highlight += c2 - c1 - (c3 - c2)
			}
			n := float64(b.N)
			b.ReportMetric(search.Seconds()*1e3/n, "search-cpu-ms")
			b.ReportMetric(highlight.Seconds()*1e3/n, "hl-cpu-ms")
			b.ReportMetric(100*decode.Seconds()/search.Seconds(), "decode-%")
			b.ReportMetric(100*highlight.Seconds()/search.Seconds(), "hl-%")
		})
	}
}

// cpuTime returns the CPU time the process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
