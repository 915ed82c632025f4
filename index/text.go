package index

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The plain-text page form of a Failures Database incident: a title line, a
// date line, the postmortem fields one per line (label and text share the
// line; text may continue on following lines), then taxonomy tables whose
// rows are "<Category label> <options, comma-separated> <rationale>".

var postmortemLabels = []struct {
	label string
	field string
}{
	// Longest labels first so that "Non-software Causes" is not read as
	// an unknown label followed by text.
	{"Responsible Organization", "responsible_organization"},
	{"Impacted Organization", "impacted_organization"},
	{"Non-software Causes", "non_software_causes"},
	{"Software Causes", "software_causes"},
	{"Preventions", "preventions"},
	{"References", "references"},
	{"Timeline", "timeline"},
	{"Summary", "summary"},
	{"Impacts", "impacts"},
	{"System", "system"},
	{"Fixes", "fixes"},
}

// sectionHeaders maps each section header line to whether taxonomy rows
// follow it.
var sectionHeaders = map[string]bool{
	"postmortem analysis":         false,
	"software taxonomy of faults": true,
	"iot system layer":            true,
	"other details":               true,
	"category option rationale":   true,
	"layer option rationale":      true,
	"back to list":                false,
}

// categoryRow matches the start of a taxonomy row: a category name, an
// optional parenthetical, then the rest of the line.
var categoryRow = func() *regexp.Regexp {
	names := make([]string, 0, len(Taxonomy))
	for _, c := range Taxonomy {
		names = append(names, regexp.QuoteMeta(c.Name))
	}
	return regexp.MustCompile(`(?i)^(` + strings.Join(names, "|") + `)(?:\s*\([^)]*\))?(?:\s+(.*))?$`)
}()

// ParseText parses one report in the plain-text page form. name is used in
// problems ("name:line: reason"); id becomes the incident's id. Warnings are
// returned alongside a parsed incident; an error means the report was
// rejected and is a *Problem.
//
// ParseText is one long loop on purpose: each line's meaning depends on the
// state that earlier lines left (the open field or taxonomy row that a
// continuation line extends, the section, the fields seen), and keeping
// that state in one place reads more plainly than threading it through
// helpers.
func ParseText(name, id string, data []byte) (Incident, []Problem, error) {
	reject := func(line int, format string, args ...any) (Incident, []Problem, error) {
		return Incident{}, nil, &Problem{File: name, Line: line, Msg: fmt.Sprintf(format, args...)}
	}
	if len(data) > MaxRecordBytes {
		return reject(0, "%s", recordTooLarge(int64(len(data)), "", 0))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return reject(1, "empty report")
	}
	if !utf8.Valid(data) {
		return reject(lineOf(data, invalidUTF8At(data)), "invalid UTF-8")
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	// Carriage returns are line breaks, as normalizeText reads them in
	// every format.
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")

	in := Incident{ID: id, Taxonomy: map[string]Classification{}}
	var warnings []Problem
	warn := func(line int, format string, args ...any) {
		warnings = append(warnings, Problem{File: name, Line: line, Msg: fmt.Sprintf(format, args...), Warning: true})
	}

	// cur points at the text that a continuation line extends.
	var cur *string
	var curCat string
	seenField := map[string]bool{}
	titleLine, dateLine := 0, 0
	inSources, inTaxonomy := false, false
	for i, raw := range lines {
		n := i + 1
		// Control characters are removed from each line (and warned
		// about with its number), so that Validate finds none.
		raw, removed, first := normalizeText(raw)
		if removed > 0 {
			warnings = append(warnings, Problem{File: name, Line: n, Msg: removedWarning("", removed, first), Warning: true})
		}
		line := strings.TrimSpace(raw)
		if line == "" {
			continue
		}
		lower := strings.ToLower(line)
		switch {
		case titleLine == 0 && strings.HasPrefix(lower, "incident:"):
			titleLine = n
			in.Title = strings.TrimSpace(line[len("incident:"):])
			cur, curCat = &in.Title, ""
			continue
		case dateLine == 0 && strings.HasPrefix(lower, "published date:"):
			dateLine = n
			in.Published = strings.TrimSpace(line[len("published date:"):])
			cur, curCat = nil, ""
			continue
		}
		if tax, ok := sectionHeaders[lower]; ok {
			cur, curCat, inSources, inTaxonomy = nil, "", false, tax
			continue
		}
		if lower == "sources" {
			cur, curCat, inSources, inTaxonomy = nil, "", true, false
			continue
		}
		if inSources {
			in.Sources = append(in.Sources, line)
			continue
		}
		if f, rest, ok := matchPostmortem(line); ok && !inTaxonomy && !seenField[f] {
			seenField[f] = true
			p := fieldPtr(&in, f)
			*p = rest
			cur, curCat = p, ""
			continue
		}
		if m := taxonomyRow(inTaxonomy, line); m != nil {
			cat, _ := LookupCategory(m[1])
			if _, dup := in.Taxonomy[cat.Name]; dup {
				warn(n, "%s: second row ignored", cat.Name)
				cur, curCat = nil, ""
				continue
			}
			opts, rationale := splitRow(cat, m[2])
			if len(opts) == 0 {
				warn(n, "%s: row has no options; category left not assessed", cat.Name)
			}
			for _, o := range opts {
				if !cat.HasOption(o) {
					warn(n, "%s: option %q is not in the vocabulary", cat.Name, o)
				}
			}
			in.Taxonomy[cat.Name] = Classification{Options: opts, Rationale: rationale}
			curCat, cur = cat.Name, nil
			continue
		}
		// A continuation of the previous field or taxonomy row.
		switch {
		case curCat != "":
			cl := in.Taxonomy[curCat]
			cl.Rationale = joinLine(cl.Rationale, line)
			in.Taxonomy[curCat] = cl
		case cur != nil:
			*cur = joinLine(*cur, line)
		default:
			warn(n, "text outside any field ignored: %q", Truncate(line, 60))
		}
	}
	if titleLine == 0 {
		return reject(1, `missing title line ("Incident: ...")`)
	}
	if dateLine == 0 {
		return reject(titleLine, `missing date line ("Published Date: YYYY-MM-DD")`)
	}
	var texts []string
	for _, f := range TextFields {
		texts = append(texts, *f.Get(&in))
	}
	for _, cl := range in.Taxonomy {
		texts = append(texts, cl.Rationale)
	}
	in.Articles = ArticleIDs(texts...)
	if _, err := in.Validate(); err != nil {
		// Match the start of the message only: the id, which the message
		// may quote, can hold "date" or "title" too.
		msg := strings.TrimPrefix(err.Error(), ErrInvalid.Error()+": ")
		line := 1
		if strings.HasPrefix(msg, "published date") {
			line = dateLine
		} else if strings.HasPrefix(msg, "missing title") {
			line = titleLine
		}
		return reject(line, "%s", msg)
	}
	return in, warnings, nil
}

// taxonomyRow matches a taxonomy row, only in taxonomy tables: it returns
// what categoryRow.FindStringSubmatch returns (the line, the category name,
// the rest), but without running the regexp on lines that start with an
// ASCII word (nearly all), which made it the slow part of parsing.
func taxonomyRow(inTaxonomy bool, line string) []string {
	if !inTaxonomy {
		return nil
	}
	i := 0
	for i < len(line) && (line[i]|0x20 >= 'a' && line[i]|0x20 <= 'z') {
		i++
	}
	if i < len(line) && line[i] >= 0x80 {
		// Case folding of non-ASCII letters ('ſ' is 's'): the regexp's.
		return categoryRow.FindStringSubmatch(line)
	}
	if _, ok := LookupCategory(line[:i]); !ok || i == 0 {
		return nil
	}
	name, after := line[:i], line[i:]
	// rest matches `(?:\s+(.*))?$`: nothing, or spaces then anything
	// without a line break.
	rest := func(t string) (string, bool) {
		if t == "" {
			return "", true
		}
		k := 0
		for k < len(t) && isRESpace(t[k]) {
			k++
		}
		if k == 0 || strings.IndexByte(t[k:], '\n') >= 0 {
			return "", false
		}
		return t[k:], true
	}
	// An optional `\s*\([^)]*\)` first; without it if the rest then fails.
	k := 0
	for k < len(after) && isRESpace(after[k]) {
		k++
	}
	if k < len(after) && after[k] == '(' {
		if end := strings.IndexByte(after[k:], ')'); end >= 0 {
			if r, ok := rest(after[k+end+1:]); ok {
				return []string{line, name, r}
			}
		}
	}
	if r, ok := rest(after); ok {
		return []string{line, name, r}
	}
	return nil
}

// isRESpace reports whether b is in the regexp class \s.
func isRESpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\f' || b == '\r'
}

func matchPostmortem(line string) (field, rest string, ok bool) {
	for _, l := range postmortemLabels {
		if len(line) < len(l.label) || !strings.EqualFold(line[:len(l.label)], l.label) {
			continue
		}
		after := line[len(l.label):]
		if after != "" && after[0] != ' ' && after[0] != '\t' && after[0] != ':' {
			continue
		}
		return l.field, strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(after), ":")), true
	}
	return "", "", false
}

func fieldPtr(in *Incident, name string) *string {
	for _, f := range TextFields {
		if f.Name == name {
			return f.Get(in)
		}
	}
	panic("index: unknown text field " + name)
}

func joinLine(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

var optionToken = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

// splitRow separates a taxonomy row's options from its rationale. The first
// word is an option if it is in the category's vocabulary (any case) or looks
// like one (lower case, snake_case); further options follow only after a
// comma and must be vocabulary words or snake_case. Everything after the last
// option is rationale, even where it holds vocabulary words
// ("property (a) death: ..." has the single option "property").
func splitRow(cat *Category, rest string) (opts []string, rationale string) {
	rest = strings.TrimSpace(rest)
	first := true
	for rest != "" {
		end := strings.IndexFunc(rest, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
		word := rest
		if end >= 0 {
			word = rest[:end]
		}
		norm := NormalizeOption(word)
		known := cat.HasOption(norm)
		looksLike := optionToken.MatchString(word) && (strings.Contains(word, "_") || (first && word == strings.ToLower(word)))
		if !known && !looksLike {
			break
		}
		opts = append(opts, norm)
		first = false
		rest = strings.TrimLeftFunc(rest[len(word):], unicode.IsSpace)
		if !strings.HasPrefix(rest, ",") {
			break
		}
		after := strings.TrimLeftFunc(rest[1:], unicode.IsSpace)
		// Only continue when the next word is itself option-like.
		nextEnd := strings.IndexFunc(after, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
		next := after
		if nextEnd >= 0 {
			next = after[:nextEnd]
		}
		if !cat.HasOption(NormalizeOption(next)) && !(optionToken.MatchString(next) && strings.Contains(next, "_")) {
			// The comma ends the options; it is not part of the rationale.
			rest = after
			break
		}
		rest = after
	}
	return SplitOptions(strings.Join(opts, ",")), strings.TrimSpace(rest)
}

func lineOf(data []byte, off int) int {
	if off < 0 {
		return 1
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

func invalidUTF8At(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}
