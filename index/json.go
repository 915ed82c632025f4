package index

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

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
