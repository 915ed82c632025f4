package index

import (
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
// reader at an unknown place (a quoting error) ends the file.
func readCSV(name string, r io.Reader, h Handler) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	cols, ok := readCSVHeader(name, cr, h)
	if !ok {
		return nil
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			h.Problem(*csvProblem(name, err))
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err == csv.ErrFieldCount {
				continue
			}
			return nil
		}
		// FieldPos is only valid after a successful Read: after a quote
		// error in the first field it has no positions and panics.
		line, _ := cr.FieldPos(0)
		if len(rec) != len(cols.names) {
			h.Problem(Problem{File: name, Line: line, Msg: fmt.Sprintf("row has %d fields, header has %d", len(rec), len(cols.names))})
			continue
		}
		in, warns, err := cols.incident(rec)
		for _, w := range warns {
			h.Problem(Problem{File: name, Line: line, Msg: w, Warning: true})
		}
		if err != nil {
			h.Problem(Problem{File: name, Line: line, Msg: err.Error()})
			continue
		}
		if err := h.Record(Record{Incident: in, File: name, Line: line}); err != nil {
			return err
		}
	}
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
func readCSVHeader(name string, cr *csv.Reader, h Handler) (cols csvColumns, ok bool) {
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			h.Problem(Problem{File: name, Line: 1, Msg: "empty CSV file"})
			return cols, false
		}
		h.Problem(*csvProblem(name, err))
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

func csvProblem(name string, err error) *Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Problem{File: name, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &Problem{File: name, Msg: err.Error()}
}

// CSVSafe returns a CSV cell that a spreadsheet will not run as a formula:
// a cell starting with '=', '+', '-', '@', a tab or a carriage return gets
// a leading apostrophe (the usual defence against formula injection;
// spreadsheets show the text without it). readCSV removes it again, so
// faildex's own CSV exports read back unchanged.
func CSVSafe(v string) string {
	if v != "" && strings.IndexByte(formulaStarts, v[0]) >= 0 {
		return "'" + v
	}
	return v
}

// formulaStarts are the first bytes that make a spreadsheet cell a formula.
const formulaStarts = "=+-@\t\r"

// csvUnsafe undoes CSVSafe.
func csvUnsafe(v string) string {
	if len(v) >= 2 && v[0] == '\'' && strings.IndexByte(formulaStarts, v[1]) >= 0 {
		return v[1:]
	}
	return v
}
