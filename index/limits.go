package index

import (
	"fmt"
	"strings"
)

// The size limits of a report, the same in every input format. A record is
// one report as written in its file: a plain-text file, a CSV row, a JSON
// Lines line or an item of a JSON array. A field is one value of it: a prose
// field, a category's rationale or options, the sources.
//
// The largest field of the Failures Database's reports is under 4 KB and its
// largest record about 30 KB, so the limits leave room for reports hundreds
// of times longer than any real one, while bounding what one report costs:
// indexing takes about 150 bytes of memory per byte of text, so a 1 MB field
// needs some 150 MB and a 4 MB record some 600 MB. A record over the limit
// is rejected without being held in memory (at most MaxRecordBytes of it
// are), and the rest of its file is still read.
const (
	MaxFieldBytes  = 1 << 20
	MaxRecordBytes = 4 << 20
)

// megabytes formats a size in MB (2^20 bytes) for problems: "50.0 MB", or
// "1 MB" for a whole number such as a limit.
func megabytes(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// fieldTooLarge is the problem of a field over MaxFieldBytes.
func fieldTooLarge(field string, size int64) string {
	return fmt.Sprintf("field %q is %s, over the %s limit", field, megabytes(size), megabytes(MaxFieldBytes))
}

// recordTooLarge is the problem of a record over MaxRecordBytes. field and
// fieldSize name its largest field, which is reported instead when it is
// over MaxFieldBytes itself.
func recordTooLarge(size int64, field string, fieldSize int64) string {
	if field != "" && fieldSize > MaxFieldBytes {
		return fieldTooLarge(field, fieldSize)
	}
	return fmt.Sprintf("record is %s, over the %s limit", megabytes(size), megabytes(MaxRecordBytes))
}

// checkFieldSizes returns the problem of the largest field of in over
// MaxFieldBytes, or "".
func checkFieldSizes(in *Incident) string {
	var name string
	var largest int64
	see := func(field string, size int) {
		if int64(size) > largest {
			name, largest = field, int64(size)
		}
	}
	for _, f := range TextFields {
		see(f.Name, len(*f.Get(in)))
	}
	sources := 0
	for _, s := range in.Sources {
		sources += len(s)
	}
	see("sources", sources)
	for cat, cl := range in.Taxonomy {
		see(cat+" rationale", len(cl.Rationale))
		see(cat+" options", len(strings.Join(cl.Options, ",")))
	}
	if largest > MaxFieldBytes {
		return fieldTooLarge(name, largest)
	}
	return ""
}
