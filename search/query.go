package search

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
)

// The query language:
//
//	wake word            every word must match, anywhere in the report
//	ransomware OR malware  either word
//	"wake word"          a phrase
//	-hack                exclude reports with the word
//	title:boeing         a word (or "phrase") in one field
//	consequence:death    a category filter written inline
//	recor*               a prefix (at least MinPrefix letters)
//
// Text is never handed to bleve's query-string syntax: colons, slashes and
// other punctuation in ordinary words ("http://x", "10:30", "/dev/sda") are
// just text.

// Limits on queries.
const (
	MaxQueryBytes = 1000
	MaxTerms      = 32
	MinPrefix     = 3
)

// clause is one item of a parsed query.
type clause struct {
	fields []string // prose fields searched; nil means all
	text   string   // the word or phrase as typed (without quotes, '-', '*')
	phrase bool
	prefix bool
	pos    int       // byte offset in the query, for messages
	kind   matchKind // how it relates to what was typed (understand.go)
}

// filterClause is a category (or year) filter written inline.
type filterClause struct {
	category string
	value    string // normalised option
	raw      string // as typed
	negated  bool
	pos      int
}

// parsedQuery is the result of parsing: groups are ANDed; the clauses of one
// group are ORed. excluded clauses must not match.
type parsedQuery struct {
	groups   [][]clause
	excluded []clause
	filters  []filterClause
	notices  []string // how the query was read, for the person who typed it
	// minMatch, when above 0, is the number of groups a document must
	// match instead of all of them (a relaxed query, relax.go).
	minMatch int
	minOf    int // the groups with words, minMatch counts among

	phrases *phraseMemo // the phrases' matches, found once per request (phrase.go); nil: not kept
}

// fieldAliases maps the field names accepted before ':' to prose fields.
var fieldAliases = map[string][]string{
	"title":                    {"title"},
	"summary":                  {"summary"},
	"timeline":                 {"timeline"},
	"system":                   {"system"},
	"responsible":              {"responsible_organization"},
	"responsible_organization": {"responsible_organization"},
	"impacted":                 {"impacted_organization"},
	"impacted_organization":    {"impacted_organization"},
	"organization":             {"responsible_organization", "impacted_organization"},
	"org":                      {"responsible_organization", "impacted_organization"},
	"causes":                   {"software_causes", "non_software_causes"},
	"software_causes":          {"software_causes"},
	"non_software_causes":      {"non_software_causes"},
	"impacts":                  {"impacts"},
	"preventions":              {"preventions"},
	"fixes":                    {"fixes"},
	"references":               {"references"},
	"rationale":                {"rationale"},
	"sources":                  {"sources"},
}

// FieldNames lists the names accepted before ':' (prose fields, categories
// and "year").
func FieldNames() []string {
	var names []string
	for _, f := range index.TextFields {
		names = append(names, f.Name)
	}
	names = append(names, "causes", "organization", "rationale", "sources")
	names = append(names, index.CategoryNames()...)
	return append(names, "year")
}

// parseQuery reads a query typed by a person. It never fails: what the
// query language cannot take (an unknown field, an unbalanced quote, a
// stray OR or wildcard, too many words) is read as plain words or left out,
// and a notice says how. Category filters written inline are checked later,
// against the index (normalize).
func parseQuery(q string) *parsedQuery {
	p := &parsedQuery{}
	if !utf8.ValidString(q) {
		q = strings.ToValidUTF8(q, " ")
		p.notice("Bytes that are not UTF-8 text were read as spaces.")
	}
	if len(q) > MaxQueryBytes {
		cut := MaxQueryBytes
		for cut > 0 && !utf8.RuneStart(q[cut]) {
			cut--
		}
		q = q[:cut]
		p.notice(fmt.Sprintf("The query was cut to its first %d bytes.", MaxQueryBytes))
	}
	q = cleanQuery(q)
	var pendingOr bool
	terms := 0
	i := 0
	for {
		for i < len(q) && q[i] == ' ' {
			i++
		}
		if i >= len(q) {
			break
		}
		start := i
		// OR operator.
		if strings.HasPrefix(q[i:], "OR") && (i+2 == len(q) || q[i+2] == ' ') {
			if len(p.groups) == 0 || pendingOr {
				p.notice("OR needs a word on each side; it was ignored.")
			} else {
				pendingOr = true
			}
			i += 2
			continue
		}
		negated := false
		if q[i] == '-' && i+1 < len(q) && q[i+1] != ' ' {
			negated = true
			i++
		}
		// field: prefix
		var fields []string
		category := ""
		if name, n := fieldPrefix(q[i:]); n > 0 {
			value := q[i+n:]
			lname := strings.ToLower(name)
			_, isCategory := index.LookupCategory(lname)
			switch {
			case fieldAliases[lname] == nil && lname != "year" && !isCategory:
				// "Error: connection timed out": the name is a word.
				p.notice(fmt.Sprintf("%q is not a field name; it was read as a word.", index.Truncate(name, 40)+":"))
				p.addWord(clause{text: name, pos: start}, negated, &pendingOr, &terms)
				i += n
				continue
			case value == "" || value[0] == ' ':
				p.notice(fmt.Sprintf("%s: has no value; it was read as a word.", name))
				p.addWord(clause{text: name, pos: start}, negated, &pendingOr, &terms)
				i += n
				continue
			case fieldAliases[lname] != nil:
				fields = fieldAliases[lname]
			default:
				category = lname
			}
			i += n
		}
		// The value: a quoted phrase or a word up to the next space.
		valueStart := i
		var text string
		phrase := false
		if i < len(q) && q[i] == '"' {
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				// An unbalanced quote: the rest is read as words.
				p.notice("A quote was not closed; the words after it were read without it.")
				i++
				continue
			}
			text = q[i+1 : i+1+end]
			i += end + 2
			phrase = true
			if !hasWordChars(text) {
				continue
			}
		} else {
			end := strings.IndexByte(q[i:], ' ')
			if end < 0 {
				end = len(q) - i
			}
			text = q[i : i+end]
			i += end
			if strings.Contains(text, `"`) {
				p.notice("A quote inside a word was ignored; put quotes around whole words for a phrase.")
				text = strings.ReplaceAll(text, `"`, " ")
			}
		}
		if category != "" {
			if pendingOr {
				p.notice("OR cannot join a category filter; it was ignored.")
				pendingOr = false
			}
			p.filters = append(p.filters, filterClause{category: category, value: index.NormalizeOption(text), raw: text, negated: negated, pos: start})
			continue
		}
		c := clause{fields: fields, text: text, phrase: phrase, pos: start}
		if !phrase {
			p.readWildcards(&c, valueStart)
		}
		if !hasWordChars(c.text) {
			// Punctuation only ("-", "&&"): nothing to match.
			continue
		}
		if strings.Contains(c.text, " ") && !phrase {
			// A word that a stray quote split: each part is a word.
			for _, w := range strings.Fields(c.text) {
				p.addWord(clause{fields: fields, text: w, pos: start}, negated, &pendingOr, &terms)
			}
			continue
		}
		p.addWord(c, negated, &pendingOr, &terms)
	}
	if pendingOr {
		p.notice("OR needs a word on each side; it was ignored.")
	}
	return p
}

// notice records how part of the query was read.
func (p *parsedQuery) notice(msg string) {
	for _, n := range p.notices {
		if n == msg {
			return
		}
	}
	p.notices = append(p.notices, msg)
}

// addWord adds a word, prefix or phrase to the query: excluded, joined to
// the previous group by a pending OR, or as a group of its own. Words past
// MaxTerms are left out with a notice.
func (p *parsedQuery) addWord(c clause, negated bool, pendingOr *bool, terms *int) {
	if !hasWordChars(c.text) {
		return
	}
	if *terms >= MaxTerms {
		p.notice(fmt.Sprintf("Only the first %d words were used.", MaxTerms))
		return
	}
	if p.repeats(c, negated, *pendingOr) {
		*pendingOr = false
		return // a word said twice means it once
	}
	*terms++
	switch {
	case negated:
		if *pendingOr {
			p.notice("OR cannot join an excluded word; it was ignored.")
			*pendingOr = false
		}
		p.excluded = append(p.excluded, c)
	case *pendingOr:
		last := len(p.groups) - 1
		p.groups[last] = append(p.groups[last], c)
		*pendingOr = false
	default:
		p.groups = append(p.groups, []clause{c})
	}
}

// cleanQuery replaces control, format (zero-width, bidi) and other space
// characters with spaces so that nothing invisible reaches the analyzer.
// Each is replaced by as many spaces as it has bytes, so that positions in
// the cleaned query are positions in the query as typed.
func cleanQuery(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	for _, r := range q {
		switch {
		case r == ' ':
			b.WriteByte(' ')
		case unicode.IsSpace(r), unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			b.WriteString(strings.Repeat(" ", utf8.RuneLen(r)))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// fieldPrefix recognises "name:" at the start of s, where name is two or
// more letters or underscores. It returns the name and the length consumed.
// "http://x", "10:30", "C:\path" and "::1" are not field prefixes.
func fieldPrefix(s string) (string, int) {
	colon := strings.IndexByte(s, ':')
	if colon < 2 {
		return "", 0
	}
	name := s[:colon]
	for _, r := range name {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')) {
			return "", 0
		}
	}
	rest := s[colon+1:]
	if strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, `\`) || strings.HasPrefix(rest, ":") {
		return "", 0
	}
	return name, colon + 1
}

// readWildcards makes a word ending in '*' a prefix (at least MinPrefix
// letters or digits before it); every other '*' is dropped with a notice,
// and a prefix too short is read as a word. at is the byte offset of
// c.text in the query, after any '-' and field prefix.
func (p *parsedQuery) readWildcards(c *clause, at int) {
	t := c.text
	star := strings.IndexByte(t, '*')
	if star < 0 {
		return
	}
	if star == len(t)-1 && !strings.Contains(t[:star], "*") {
		stem := t[:star]
		if utf8.RuneCountInString(stem) >= MinPrefix && isWord(stem) {
			c.text, c.prefix = stem, true
			return
		}
		p.notice(fmt.Sprintf("A prefix search needs at least %d letters or digits before '*'; %q was read as a word.", MinPrefix, index.Truncate(t, 40)))
		c.text = strings.ReplaceAll(t, "*", " ")
		return
	}
	p.notice("'*' works only at the end of a word (\"recor*\"); other wildcards were ignored.")
	c.text = strings.ReplaceAll(t, "*", " ")
}

func isWord(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return s != ""
}

func hasWordChars(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return true
		}
	}
	return false
}

// checkFilters reads the category filters written in the query against the
// index: a year that is not one is left out; an option the category does
// not have is corrected to the nearest option (by value or label, within
// two edits) or else read as words; filters past MaxFilterValues (with
// already counted from the parameters) are left out. Each case adds a
// notice.
func (p *parsedQuery) checkFilters(known func(cat, value string) bool, already int) {
	kept := p.filters[:0]
	total := already
	for _, f := range p.filters {
		if f.category == "year" {
			if !yearPattern.MatchString(f.value) {
				p.notice(fmt.Sprintf("year:%s is not a year; it was left out.", index.Truncate(f.raw, 20)))
				continue
			}
			if y, _ := strconv.Atoi(f.value); checkYear(y) != nil {
				p.notice(fmt.Sprintf("year:%s is out of range (incidents are dated from %d); it was left out.", f.value, index.MinYear))
				continue
			}
		} else if !known(f.category, f.value) {
			c, _ := index.LookupCategory(f.category)
			if v, ok := nearestOption(c, f.raw, known); ok {
				p.notice(fmt.Sprintf("%s:%s was read as %s:%s (%s).", f.category, index.Truncate(f.raw, 40), f.category, v, c.OptionLabel(v)))
				f.value = v
			} else {
				p.notice(fmt.Sprintf("%s has no option %q; it was read as words.", c.Label, index.Truncate(f.raw, 40)))
				for _, w := range strings.FieldsFunc(f.raw, func(r rune) bool { return r == '_' || r == '-' || r == ' ' }) {
					terms := len(p.excluded)
					for _, g := range p.groups {
						terms += len(g)
					}
					pending := false
					p.addWord(clause{text: w, pos: f.pos}, f.negated, &pending, &terms)
				}
				continue
			}
		}
		if f.category != "year" {
			if total >= MaxFilterValues {
				p.notice(fmt.Sprintf("Only the first %d filter values were used.", MaxFilterValues))
				continue
			}
			total++
		}
		kept = append(kept, f)
	}
	p.filters = kept
}

// nearestOption returns the option of c nearest to what was typed, by value
// or by label, within two edits (one for short words); ok is false when none
// is that near or two are equally near.
func nearestOption(c *index.Category, typed string, known func(cat, value string) bool) (string, bool) {
	norm := index.NormalizeOption(typed)
	best, bestDist, tie := "", 3, false
	for _, o := range c.Options {
		if !known(c.Name, o.Value) {
			continue
		}
		d := min(damerau(norm, o.Value), damerau(norm, index.NormalizeOption(o.Label)))
		switch {
		case d < bestDist:
			best, bestDist, tie = o.Value, d, false
		case d == bestDist && o.Value != best:
			tie = true
		}
	}
	limit := 2
	if utf8.RuneCountInString(norm) < 5 {
		limit = 1
	}
	if best == "" || tie || bestDist > limit {
		return "", false
	}
	return best, true
}

// repeats reports whether c, about to be added, is already in the query
// where it would go: the same word, phrase or prefix in the same fields,
// as a group of its own, an alternative of the last group or an exclusion.
func (p *parsedQuery) repeats(c clause, negated, or bool) bool {
	same := func(d clause) bool {
		return d.text == c.text && d.phrase == c.phrase && d.prefix == c.prefix && slices.Equal(d.fields, c.fields)
	}
	switch {
	case negated:
		return slices.ContainsFunc(p.excluded, same)
	case or:
		return len(p.groups) > 0 && slices.ContainsFunc(p.groups[len(p.groups)-1], same)
	}
	for _, g := range p.groups {
		if len(g) == 1 && same(g[0]) {
			return true
		}
	}
	return false
}
