package index

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Problem is a rejected report (or, with Warning set, a note about an
// accepted one, or with Skipped set, a file of a directory that was not
// read, and why), located as file:line.
type Problem struct {
	File    string
	Line    int
	Msg     string
	Warning bool
	Skipped bool
}

func (p *Problem) Error() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.File, p.Msg)
}

// Record is a parsed incident and where it came from.
type Record struct {
	Incident Incident
	File     string
	Line     int
}

// Source returns "file:line" of the record.
func (r Record) Source() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Handler receives each parsed record and each problem as files are read.
// Returning an error from Record stops reading.
type Handler struct {
	Record  func(Record) error
	Problem func(Problem)
}

// Format is an input format.
type Format string

// The input formats.
const (
	FormatText  Format = "text"  // the database's plain-text page form
	FormatCSV   Format = "csv"   // the database's CSV export (or faildex's CSV export)
	FormatJSONL Format = "jsonl" // faildex's JSON Lines, one incident per line
	FormatJSON  Format = "json"  // a JSON array: faildex incidents or a Django dump of the database
)

// DetectFormat picks a format from the file name's extension, falling back
// to the first bytes of the content. ok is false for files that are not
// reports.
func DetectFormat(name string, head []byte) (Format, bool) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".txt":
		return FormatText, true
	case ".csv":
		return FormatCSV, true
	case ".jsonl", ".ndjson":
		return FormatJSONL, true
	case ".json":
		if t := bytes.TrimLeft(head, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
			return FormatJSONL, true
		}
		return FormatJSON, true
	case "":
		t := bytes.TrimLeft(head, " \t\r\n\ufeff")
		switch {
		case bytes.HasPrefix(bytes.ToLower(t), []byte("incident:")):
			return FormatText, true
		case len(t) > 0 && t[0] == '{':
			return FormatJSONL, true
		case len(t) > 0 && t[0] == '[':
			return FormatJSON, true
		}
	}
	return "", false
}

// ReadPaths reads every report under paths (files or directories, walked
// recursively in name order; hidden files and files that are not reports
// are skipped in directories, and so are symbolic links and files that are
// not regular, which go to h.Problem as Skipped). A file named explicitly
// must be a report. Problems with single reports go to h.Problem and
// reading continues; the returned error is only for failures that stop
// everything (an error from h.Record, or a path that cannot be read at all
// or is not a regular file or directory: see CheckPaths).
func ReadPaths(paths []string, h Handler) error {
	for _, p := range paths {
		root, isDir, err := statPath(p)
		if err != nil {
			return err
		}
		if !isDir {
			if err := ReadFile(p, true, h); err != nil {
				return err
			}
			continue
		}
		files, err := listReports(root, h.Problem)
		if err != nil {
			return err
		}
		for _, f := range files {
			if err := ReadFile(f, false, h); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckPaths returns an error for the first of paths that cannot be read
// as reports: one that does not exist, or that is neither a regular file
// nor a directory (after following symbolic links). Such a file (a named
// pipe, a device, a socket) is never opened: reading a pipe could wait for
// ever.
func CheckPaths(paths []string) error {
	for _, p := range paths {
		if _, _, err := statPath(p); err != nil {
			return err
		}
	}
	return nil
}

// statPath checks a path named on the command line, following symbolic
// links. For a directory it returns the root to walk: a symbolic link to a
// directory is walked through (filepath.WalkDir does not follow a root
// that is a link unless it ends in a separator).
func statPath(p string) (root string, isDir bool, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", false, err
	}
	switch {
	case st.IsDir():
		if lst, err := os.Lstat(p); err == nil && lst.Mode()&fs.ModeSymlink != 0 && !strings.HasSuffix(p, string(filepath.Separator)) {
			p += string(filepath.Separator)
		}
		return p, true, nil
	case !st.Mode().IsRegular():
		return "", false, fmt.Errorf("%s: %s, not a regular file or directory; name report files or directories", p, fileKind(st.Mode()))
	}
	return p, false, nil
}

// fileKind names the kind of a file that is not regular.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// listReports returns the regular files under the directory root, in name
// order, leaving out hidden files and directories (names starting with
// '.'). Symbolic links and other files that are not regular or
// directories go to problem as Skipped (links are not followed, so a walk
// never leaves the tree or loops), and so do directories that cannot be
// read.
func listReports(root string, problem func(Problem)) ([]string, error) {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			problem(Problem{File: path, Msg: err.Error()})
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") && path != root {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		switch t := d.Type(); {
		case t.IsRegular():
			files = append(files, path)
		case t&fs.ModeSymlink != 0:
			problem(Problem{File: path, Skipped: true, Msg: "skipped: a symbolic link, which is not followed inside a directory; name its target to read it"})
		case !t.IsDir():
			problem(Problem{File: path, Skipped: true, Msg: "skipped: " + fileKind(t) + ", not a regular file"})
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

// ReadFile reads the reports in one file. With explicit false, a file whose
// format is not recognised is skipped silently.
func ReadFile(path string, explicit bool, h Handler) error {
	f, err := os.Open(path)
	if err != nil {
		h.Problem(Problem{File: path, Msg: err.Error()})
		return nil
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(512)
	format, ok := DetectFormat(path, head)
	if !ok {
		if explicit {
			h.Problem(Problem{File: path, Line: 1, Msg: "unrecognised format (want .txt, .csv, .jsonl, .ndjson or .json)"})
		}
		return nil
	}
	return Read(format, path, br, h)
}

// Read reads the reports of one format from r; name locates problems.
func Read(format Format, name string, r io.Reader, h Handler) error {
	switch format {
	case FormatText:
		// The report is read whole, but not beyond the limit: the rest of
		// a larger file is only counted.
		data, err := io.ReadAll(io.LimitReader(r, MaxRecordBytes+1))
		if err != nil {
			h.Problem(Problem{File: name, Msg: err.Error()})
			return nil
		}
		if len(data) > MaxRecordBytes {
			rest, _ := io.Copy(io.Discard, r)
			h.Problem(Problem{File: name, Msg: recordTooLarge(int64(len(data))+rest, "", 0)})
			return nil
		}
		base := filepath.Base(name)
		id := strings.TrimSuffix(base, filepath.Ext(base))
		in, warns, err := ParseText(name, id, data)
		for _, w := range warns {
			h.Problem(w)
		}
		if err != nil {
			h.Problem(*asProblem(err, name, 1))
			return nil
		}
		return h.Record(Record{Incident: in, File: name, Line: 1})
	case FormatCSV:
		return readCSV(name, r, h)
	case FormatJSONL:
		return readJSONL(name, r, h)
	case FormatJSON:
		return readJSONArray(name, r, h)
	}
	return fmt.Errorf("index: unknown format %q", format)
}

func asProblem(err error, file string, line int) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return &Problem{File: file, Line: line, Msg: err.Error()}
}
