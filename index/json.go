package index

import (
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

// readJSONL reads JSON Lines, one incident per line. A line over
// MaxRecordBytes is reported and skipped without being held in memory, and
// the following lines are still read.
func readJSONL(name string, r io.Reader, h Handler) error {
	sp := newRecordSplitter(r, &jsonlScanner{}, " \t\r\n")
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
		in, warns, err := decodeIncident(bytes.TrimSpace(rec.data))
		if err := hand(h, name, rec.line, in, warns, err); err != nil {
			return err
		}
	}
	if sp.err != nil {
		h.Problem(Problem{File: name, Line: sp.line, Msg: sp.err.Error()})
	}
	return nil
}

// readJSONArray reads a JSON array of incidents: faildex objects, plain
// objects with the database's field names, or a Django dump
// ([{"model": "...incident", "pk": 1, "fields": {...}}, ...]) whose article
// objects ({"model": "...article", "pk": 7, "fields": {"incident": 1}})
// are attached to their incidents. An item over MaxRecordBytes is reported
// and skipped without being held in memory, and the following items are
// still read.
func readJSONArray(name string, r io.Reader, h Handler) error {
	is := &jsonItemScanner{m: jsonMeasure{stopAtTop: true}}
	sp := newRecordSplitter(r, is, " \t\r\n")
	if bom, _ := sp.br.Peek(3); string(bom) == "\ufeff" {
		sp.br.Discard(3)
	}
	if !sp.skipSpace() {
		h.Problem(Problem{File: name, Line: 1, Msg: "not a JSON array"})
		return nil
	}
	if b, _ := sp.br.ReadByte(); b != '[' {
		h.Problem(Problem{File: name, Line: sp.line, Msg: "not a JSON array"})
		return nil
	}
	type pending struct {
		in   Incident
		line int
	}
	var incidents []pending
	articles := map[string][]int64{}
	item := 0
	var buf []byte
	for !is.m.closed {
		rec, ok := sp.next(buf)
		if !ok {
			if sp.err == nil {
				h.Problem(Problem{File: name, Line: sp.line, Msg: "the array is not closed (no ']')"})
			}
			break
		}
		raw := rec.data
		if rec.tooLarge == "" {
			buf = rec.data
			raw = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSuffix(raw, []byte{','}), []byte{']'}))
			if len(raw) == 0 && is.m.closed {
				break // "[]", or a comma before the ']'
			}
		}
		item++
		line := rec.line
		if rec.tooLarge != "" {
			h.Problem(Problem{File: name, Line: line, Msg: fmt.Sprintf("item %d: %s", item, rec.tooLarge)})
			continue
		}
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
	if sp.err != nil {
		h.Problem(Problem{File: name, Line: sp.line, Msg: sp.err.Error()})
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
