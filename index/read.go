package index

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Problem is a rejected report (or, with Warning set, a note about an
// accepted one), located as file:line.
type Problem struct {
	File    string
	Line    int
	Msg     string
	Warning bool
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

// MaxLineBytes bounds one JSON Lines line or CSV record.
const MaxLineBytes = 32 << 20

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
// are skipped in directories). A file named explicitly must be a report.
// Problems with single reports go to h.Problem and reading continues; the
// returned error is only for failures that stop everything (an error from
// h.Record, or a path that cannot be read at all).
func ReadPaths(paths []string, h Handler) error {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			if err := ReadFile(p, true, h); err != nil {
				return err
			}
			continue
		}
		var files []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				h.Problem(Problem{File: path, Msg: err.Error()})
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") && path != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return err
		}
		sort.Strings(files)
		for _, f := range files {
			if err := ReadFile(f, false, h); err != nil {
				return err
			}
		}
	}
	return nil
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
		data, err := io.ReadAll(io.LimitReader(r, MaxReportBytes+1))
		if err != nil {
			h.Problem(Problem{File: name, Msg: err.Error()})
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

// normKey folds a column or JSON key for alias matching: lower case with
// spaces, '_' and '-' removed.
func normKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s)
}

// fieldAliases maps folded column/key names to incident fields. Names from
// the database's CSV export, its Django model and faildex's own JSON all
// resolve here.
var fieldAliases = map[string]string{
	"id": "id", "incidentid": "id", "pk": "id",
	"title": "title", "published": "published", "publisheddate": "published", "summary": "summary",
	"timeline": "timeline", "time": "timeline",
	"system":                  "system",
	"responsibleorganization": "responsible_organization", "responsibleorg": "responsible_organization",
	"impactedorganization": "impacted_organization", "impactedorg": "impacted_organization",
	"softwarecauses": "software_causes", "secauses": "software_causes",
	"nonsoftwarecauses": "non_software_causes", "nsecauses": "non_software_causes",
	"impacts": "impacts", "preventions": "preventions", "fixes": "fixes", "references": "references",
	"articles": "articles", "relatedarticleids": "articles", "articleids": "articles",
	"sources":  "sources",
	"taxonomy": "taxonomy",
}

// categoryKey resolves "<category> option", "<category>_option",
// "<category>" (options) and "<category> rationale" keys.
func categoryKey(k string) (cat string, rationale, ok bool) {
	for _, c := range Taxonomy {
		switch k {
		case c.Name, c.Name + "option", c.Name + "options":
			return c.Name, false, true
		case c.Name + "rationale":
			return c.Name, true, true
		}
	}
	return "", false, false
}

// incidentBuilder assembles an incident from named string values.
type incidentBuilder struct {
	in          Incident
	articlesSet bool
}

func newBuilder() *incidentBuilder {
	return &incidentBuilder{in: Incident{Taxonomy: map[string]Classification{}}}
}

// set assigns one value by column or key name; it reports false for names
// it does not know.
func (b *incidentBuilder) set(key, value string) (bool, error) {
	k := normKey(key)
	if f, ok := fieldAliases[k]; ok {
		switch f {
		case "id":
			b.in.ID = strings.TrimSpace(value)
		case "published":
			b.in.Published = strings.TrimSpace(value)
		case "articles":
			ids, err := parseArticleCell(value)
			if err != nil {
				return true, err
			}
			b.in.Articles, b.articlesSet = ids, true
		case "sources":
			for _, l := range strings.Split(value, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					b.in.Sources = append(b.in.Sources, l)
				}
			}
		case "taxonomy":
			return false, nil
		default:
			*fieldPtr(&b.in, f) = value
		}
		return true, nil
	}
	if cat, rat, ok := categoryKey(k); ok {
		cl := b.in.Taxonomy[cat]
		if rat {
			cl.Rationale = value
		} else {
			cl.Options = SplitOptions(strings.ReplaceAll(value, ";", ","))
		}
		b.in.Taxonomy[cat] = cl
		return true, nil
	}
	return false, nil
}

// finish validates the incident and, when no article column was given,
// collects the article ids cited in its text.
func (b *incidentBuilder) finish() (Incident, []string, error) {
	in := b.in
	if !b.articlesSet {
		var texts []string
		for _, f := range TextFields {
			texts = append(texts, *f.Get(&in))
		}
		for _, c := range Taxonomy {
			texts = append(texts, in.Taxonomy[c.Name].Rationale)
		}
		in.Articles = ArticleIDs(texts...)
	}
	w, err := in.Validate()
	return in, w, err
}

// parseArticleCell reads "[104834]", "[106334, 106355]", "[Article 1]",
// "104834; 106355" or an empty cell.
func parseArticleCell(s string) ([]int64, error) {
	s = strings.TrimSpace(s)
	ids := []int64{}
	if s == "" || s == "[]" {
		return ids, nil
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	for _, part := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		part = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(part, "Article"), "article"))
		n, err := strconv.ParseInt(part, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("article ids: %q is not a number", Truncate(part, 30))
		}
		ids = append(ids, n)
	}
	return ids, nil
}

func readCSV(name string, r io.Reader, h Handler) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			h.Problem(Problem{File: name, Line: 1, Msg: "empty CSV file"})
			return nil
		}
		h.Problem(*csvProblem(name, err))
		return nil
	}
	known := make([]bool, len(header))
	have := map[string]bool{}
	probe := newBuilder()
	for i, col := range header {
		ok, _ := probe.set(col, "")
		known[i] = ok
		if f, isField := fieldAliases[normKey(col)]; isField {
			have[f] = true
		}
	}
	for _, req := range []string{"id", "title", "published"} {
		if !have[req] {
			h.Problem(Problem{File: name, Line: 1, Msg: fmt.Sprintf("missing column %q; header is %s", req, Truncate(strings.Join(header, ","), 200))})
			return nil
		}
	}
	for i, col := range header {
		if !known[i] {
			h.Problem(Problem{File: name, Line: 1, Msg: fmt.Sprintf("column %q ignored", Truncate(col, 60)), Warning: true})
		}
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			p := csvProblem(name, err)
			h.Problem(*p)
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err == csv.ErrFieldCount {
				continue
			}
			if errors.As(err, &pe) {
				// A quoting error leaves the reader at an unknown place;
				// nothing after it can be trusted.
				return nil
			}
			return nil
		}
		// FieldPos is only valid after a successful Read: after a quote
		// error in the first field it has no positions and panics.
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			h.Problem(Problem{File: name, Line: line, Msg: fmt.Sprintf("row has %d fields, header has %d", len(rec), len(header))})
			continue
		}
		b := newBuilder()
		var rowErr error
		for i, v := range rec {
			if !known[i] {
				continue
			}
			if !utf8.ValidString(v) {
				rowErr = fmt.Errorf("column %q is not valid UTF-8", header[i])
				break
			}
			if _, err := b.set(header[i], csvUnsafe(v)); err != nil {
				rowErr = fmt.Errorf("column %q: %v", header[i], err)
				break
			}
		}
		if rowErr != nil {
			h.Problem(Problem{File: name, Line: line, Msg: rowErr.Error()})
			continue
		}
		in, warns, err := b.finish()
		for _, w := range warns {
			h.Problem(Problem{File: name, Line: line, Msg: w, Warning: true})
		}
		if err != nil {
			h.Problem(Problem{File: name, Line: line, Msg: strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")})
			continue
		}
		if err := h.Record(Record{Incident: in, File: name, Line: line}); err != nil {
			return err
		}
	}
}

func csvProblem(name string, err error) *Problem {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &Problem{File: name, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return &Problem{File: name, Msg: err.Error()}
}

func readJSONL(name string, r io.Reader, h Handler) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLineBytes)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		in, warns, err := decodeIncident(b)
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
	if err := sc.Err(); err != nil {
		h.Problem(Problem{File: name, Line: line + 1, Msg: err.Error()})
	}
	return nil
}

// readJSONArray reads a JSON array of incidents: faildex objects, plain
// objects with the database's field names, or a Django dump
// ([{"model": "...incident", "pk": 1, "fields": {...}}, ...]) whose article
// objects ({"model": "...article", "pk": 7, "fields": {"incident": 1}})
// are attached to their incidents.
func readJSONArray(name string, r io.Reader, h Handler) error {
	lr := &lineReader{r: r}
	dec := json.NewDecoder(lr)
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('[') {
		h.Problem(Problem{File: name, Line: 1, Msg: "not a JSON array"})
		return nil
	}
	type pending struct {
		in   Incident
		line int
	}
	var incidents []pending
	articles := map[string][]int64{}
	item := 0
	for dec.More() {
		item++
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			h.Problem(Problem{File: name, Line: lr.lineAt(dec.InputOffset()), Msg: fmt.Sprintf("item %d: %v", item, err)})
			return nil
		}
		// Problems name the line the item starts on.
		line := lr.lineAt(dec.InputOffset() - int64(len(raw)))
		var dj struct {
			Model  string                     `json:"model"`
			PK     json.RawMessage            `json:"pk"`
			Fields map[string]json.RawMessage `json:"fields"`
		}
		if json.Unmarshal(raw, &dj) == nil && dj.Model != "" && dj.Fields != nil {
			if strings.HasSuffix(strings.ToLower(dj.Model), "article") {
				if inc, ok := dj.Fields["incident"]; ok {
					if id, err := strconv.ParseInt(strings.Trim(string(dj.PK), `"`), 10, 64); err == nil {
						k := strings.Trim(string(inc), `"`)
						articles[k] = append(articles[k], id)
					}
				}
				continue
			}
			if !strings.HasSuffix(strings.ToLower(dj.Model), "incident") {
				continue
			}
			dj.Fields["pk"] = dj.PK
			raw, _ = json.Marshal(dj.Fields)
		}
		in, warns, err := decodeIncident(raw)
		for _, w := range warns {
			h.Problem(Problem{File: name, Line: line, Msg: "item " + strconv.Itoa(item) + ": " + w, Warning: true})
		}
		if err != nil {
			h.Problem(Problem{File: name, Line: line, Msg: fmt.Sprintf("item %d: %v", item, err)})
			continue
		}
		incidents = append(incidents, pending{in, line})
	}
	for _, p := range incidents {
		if ids, ok := articles[p.in.ID]; ok && len(p.in.Articles) == 0 {
			sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
			p.in.Articles = ids
		}
		if err := h.Record(Record{Incident: p.in, File: name, Line: p.line}); err != nil {
			return err
		}
	}
	return nil
}

// lineReader remembers where the lines of what it reads start, so that a
// byte offset can be turned into a line number.
type lineReader struct {
	r      io.Reader
	off    int64
	breaks []int64 // offsets of the '\n's read so far
}

func (l *lineReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, b := range p[:n] {
		if b == '\n' {
			l.breaks = append(l.breaks, l.off+int64(i))
		}
	}
	l.off += int64(n)
	return n, err
}

// lineAt returns the 1-based line of byte offset off.
func (l *lineReader) lineAt(off int64) int {
	return 1 + sort.Search(len(l.breaks), func(i int) bool { return l.breaks[i] >= off })
}

// decodeIncident decodes one JSON object with faildex's or the database's
// field names.
func decodeIncident(data []byte) (Incident, []string, error) {
	if !utf8.Valid(data) {
		return Incident{}, nil, errors.New("invalid UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return Incident{}, nil, fmt.Errorf("invalid JSON: %v", err)
	}
	b := newBuilder()
	var unknown []string
	for k, v := range obj {
		nk := normKey(k)
		if nk == "taxonomy" {
			var tax map[string]Classification
			if err := json.Unmarshal(v, &tax); err != nil {
				return Incident{}, nil, fmt.Errorf("taxonomy: %v", err)
			}
			for c, cl := range tax {
				cat, ok := LookupCategory(c)
				if !ok {
					return Incident{}, nil, fmt.Errorf("taxonomy: unknown category %q", Truncate(c, 40))
				}
				b.in.Taxonomy[cat.Name] = cl
			}
			continue
		}
		if nk == "articles" || nk == "relatedarticleids" || nk == "articleids" {
			var ids []int64
			if json.Unmarshal(v, &ids) == nil {
				if ids == nil {
					ids = []int64{}
				}
				b.in.Articles, b.articlesSet = ids, true
				continue
			}
		}
		if nk == "sources" {
			var lines []string
			if json.Unmarshal(v, &lines) == nil {
				b.in.Sources = lines
				continue
			}
		}
		s, err := jsonScalar(v)
		if err != nil {
			return Incident{}, nil, fmt.Errorf("%s: %v", Truncate(k, 40), err)
		}
		ok, err := b.set(k, s)
		if err != nil {
			return Incident{}, nil, fmt.Errorf("%s: %v", Truncate(k, 40), err)
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	in, warns, err := b.finish()
	if err != nil {
		return Incident{}, nil, errors.New(strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": "))
	}
	sort.Strings(unknown)
	for _, k := range unknown {
		warns = append(warns, fmt.Sprintf("field %q ignored", Truncate(k, 40)))
	}
	return in, warns, nil
}

// jsonScalar renders a JSON string, number, null or array of strings as
// text (arrays joined with commas, as option lists are).
func jsonScalar(v json.RawMessage) (string, error) {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s, nil
	}
	var n json.Number
	if json.Unmarshal(v, &n) == nil {
		return n.String(), nil
	}
	if string(bytes.TrimSpace(v)) == "null" {
		return "", nil
	}
	var list []string
	if json.Unmarshal(v, &list) == nil {
		return strings.Join(list, ","), nil
	}
	return "", errors.New("want a string")
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
