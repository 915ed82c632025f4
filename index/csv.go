package index

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// readCSV reads a CSV file whose header names the columns (the
// database's export, or faildex's). Each row is one incident; a row that
// fails is a problem and reading goes on, but an error that leaves the
// reader at an unknown place (a quoting error) ends the file. A row over
// MaxRecordBytes is reported by its largest cell, without being held in
// memory, and reading goes on.
func readCSV(name string, r io.Reader, h Handler) error {
	cs := &csvScanner{}
	sp := newRecordSplitter(r, cs, "\r\n")
	cols, ok := readCSVHeader(name, sp, h)
	if !ok {
		return nil
	}
	cs.names = cols.names
	var buf []byte
	for {
		rec, ok := sp.next(buf)
		if !ok {
			break
		}
		if rec.tooLarge != "" {
			h.Problem(Problem{File: name, Line: rec.line, Msg: rec.tooLarge})
			continue
		}
		buf = rec.data
		fields, err := parseCSVRecord(rec.data)
		if err != nil {
			h.Problem(*csvProblem(name, rec.line, err))
			return nil
		}
		line := rec.line
		if len(fields) != len(cols.names) {
			h.Problem(Problem{File: name, Line: line, Msg: fmt.Sprintf("row has %d fields, header has %d", len(fields), len(cols.names))})
			continue
		}
		in, warns, err := cols.incident(fields)
		if err := hand(h, name, line, in, warns, err); err != nil {
			return err
		}
	}
	if sp.err != nil {
		h.Problem(Problem{File: name, Line: sp.line, Msg: sp.err.Error()})
	}
	return nil
}

// parseCSVRecord parses one CSV record as csvScanner delimited it.
func parseCSVRecord(data []byte) ([]string, error) {
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	return cr.Read()
}

// csvScanner splits CSV records (RFC 4180: a line break inside a quoted
// cell continues the record) and measures their cells. A quote toggles
// quoting, which also reads a doubled quote in a quoted cell right; a bare
// quote in an unquoted cell, which encoding/csv refuses, may join records,
// and the error then ends the file.
type csvScanner struct {
	names    []string // the header's column names
	inQuote  bool
	col      int   // the cell being read
	start    int64 // its offset
	off      int64 // offset of the next byte
	ended    bool  // the record's line break has been read
	best     int
	bestSize int64
}

func (s *csvScanner) scan(p []byte) (int, bool) {
	i := 0
	for i < len(p) {
		if s.inQuote {
			j := bytes.IndexByte(p[i:], '"')
			if j < 0 {
				break
			}
			i += j + 1
			s.inQuote = false
			continue
		}
		j := bytes.IndexAny(p[i:], "\",\n")
		if j < 0 {
			break
		}
		i += j
		switch p[i] {
		case '"':
			s.inQuote = true
		case ',':
			s.cellEnds(s.off + int64(i))
			s.col++
			s.start = s.off + int64(i) + 1
		case '\n':
			s.cellEnds(s.off + int64(i))
			s.off += int64(i) + 1
			s.ended = true
			return i + 1, true
		}
		i++
	}
	s.off += int64(len(p))
	return len(p), false
}

func (s *csvScanner) cellEnds(end int64) {
	if size := end - s.start; size > s.bestSize {
		s.best, s.bestSize = s.col, size
	}
}

func (s *csvScanner) oversize(_, _ []byte) {}

func (s *csvScanner) largest() (string, int64) {
	if !s.ended {
		s.cellEnds(s.off) // the last cell of a file without a final line break
	}
	if s.best < len(s.names) {
		return Truncate(s.names[s.best], 60), s.bestSize
	}
	return fmt.Sprintf("column %d", s.best+1), s.bestSize
}

func (s *csvScanner) reset() {
	*s = csvScanner{names: s.names}
}

// csvColumns is a CSV file's header: its column names and whether each
// names something of an incident.
type csvColumns struct {
	names []string
	known []bool
}

// readCSVHeader reads the header. ok is false when the file cannot be read
// (the problem has been reported): it is empty, unreadable or lacks a
// required column. Columns that name nothing of an incident are warned
// about.
func readCSVHeader(name string, sp *recordSplitter, h Handler) (cols csvColumns, ok bool) {
	rec, ok := sp.next(nil)
	switch {
	case !ok && sp.err != nil:
		h.Problem(Problem{File: name, Line: 1, Msg: sp.err.Error()})
		return cols, false
	case !ok:
		h.Problem(Problem{File: name, Line: 1, Msg: "empty CSV file"})
		return cols, false
	case rec.tooLarge != "":
		h.Problem(Problem{File: name, Line: rec.line, Msg: "header: " + rec.tooLarge})
		return cols, false
	}
	header, err := parseCSVRecord(rec.data)
	if err != nil {
		h.Problem(*csvProblem(name, rec.line, err))
		return cols, false
	}
	cols = csvColumns{names: header, known: make([]bool, len(header))}
	have := map[string]bool{}
	probe := newBuilder()
	for i, col := range header {
		cols.known[i], _ = probe.set(col, "")
		if f, isField := fieldAliases[normKey(col)]; isField {
			have[f] = true
		}
	}
	for _, req := range []string{"id", "title", "published"} {
		if !have[req] {
			h.Problem(Problem{File: name, Line: 1, Msg: fmt.Sprintf("missing column %q; header is %s", req, Truncate(strings.Join(header, ","), 200))})
			return cols, false
		}
	}
	for i, col := range header {
		if !cols.known[i] {
			h.Problem(Problem{File: name, Line: 1, Msg: fmt.Sprintf("column %q ignored", Truncate(col, 60)), Warning: true})
		}
	}
	return cols, true
}

// incident builds and validates the incident of one row, which has a cell
// per column.
func (cols csvColumns) incident(rec []string) (Incident, []string, error) {
	b := newBuilder()
	for i, v := range rec {
		if !cols.known[i] {
			continue
		}
		if !utf8.ValidString(v) {
			return Incident{}, nil, fmt.Errorf("column %q is not valid UTF-8", cols.names[i])
		}
		if _, err := b.set(cols.names[i], csvUnsafe(v)); err != nil {
			return Incident{}, nil, fmt.Errorf("column %q: %v", cols.names[i], err)
		}
	}
	in, warns, err := b.finish()
	if err != nil {
		return Incident{}, warns, errors.New(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	return in, warns, nil
}

// csvProblem is the problem of a record starting on line that
// parseCSVRecord could not parse.
func csvProblem(name string, line int, err error) *Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Problem{File: name, Line: line + pe.Line - 1, Msg: pe.Err.Error()}
	}
	return &Problem{File: name, Line: line, Msg: err.Error()}
}

// CSVSafe returns a CSV cell that a spreadsheet will not run as a formula:
// wherever a formula trigger ('=', '+', '-', '@', a tab or a carriage
// return) starts the cell or follows a separator (',' or ';', on which
// spreadsheets may split a cell) or a line break, it gets an apostrophe
// before it (the usual defence against formula injection; spreadsheets
// show the text without it at the start of a cell). Apostrophes already
// before a trigger there get one more, so that readCSV, which removes one
// from every such run, reads faildex's own CSV exports back unchanged.
func CSVSafe(v string) string {
	if !strings.ContainsAny(v, formulaStarts) {
		return v
	}
	var b strings.Builder
	last := 0
	for p := 0; p < len(v); p++ {
		if (p == 0 || isCellSplit(v[p-1])) && startsFormula(v[p:]) {
			if b.Len() == 0 {
				b.Grow(len(v) + 8)
			}
			b.WriteString(v[last:p])
			b.WriteByte('\'')
			last = p
		}
	}
	if last == 0 && b.Len() == 0 {
		return v
	}
	b.WriteString(v[last:])
	return b.String()
}

// formulaStarts are the bytes that make a spreadsheet cell a formula when
// they start it.
const formulaStarts = "=+-@\t\r"

// isCellSplit reports whether a spreadsheet may start a cell after b.
func isCellSplit(b byte) bool { return b == ',' || b == ';' || b == '\n' || b == '\r' }

// startsFormula reports whether s starts with a formula trigger after
// any number of apostrophes.
func startsFormula(s string) bool {
	s = strings.TrimLeft(s, "'")
	return s != "" && strings.IndexByte(formulaStarts, s[0]) >= 0
}

// csvUnsafe undoes CSVSafe: it removes one apostrophe from each run of
// them that starts the cell or follows a separator or line break and is
// followed by a formula trigger.
func csvUnsafe(v string) string {
	if !strings.Contains(v, "'") {
		return v
	}
	var b strings.Builder
	last := 0
	for p := 0; p < len(v); p++ {
		if (p == 0 || isCellSplit(v[p-1])) && v[p] == '\'' && startsFormula(v[p+1:]) {
			b.WriteString(v[last:p])
			last = p + 1
		}
	}
	if last == 0 {
		return v
	}
	b.WriteString(v[last:])
	return b.String()
}
