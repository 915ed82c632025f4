package search

import (
	"fmt"
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
	pos    int // byte offset in the query, for messages
}

// filterClause is a category (or year) filter written inline.
type filterClause struct {
	category string
	value    string
	negated  bool
	pos      int
}

// parsedQuery is the result of parsing: groups are ANDed; the clauses of one
// group are ORed. excluded clauses must not match.
type parsedQuery struct {
	groups   [][]clause
	excluded []clause
	filters  []filterClause
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

// parseQuery parses the query language. Errors are *Error with Param "q"
// and the byte position of the problem.
//
// It is one scanning loop, longer than most functions here, on purpose: the
// OR state (pendingOr, orPos) and the positions each error reports are
// shared by every step, and splitting the steps apart would pass them all
// around.
func parseQuery(q string) (*parsedQuery, error) {
	if len(q) > MaxQueryBytes {
		return nil, &Error{Param: "q", Pos: -1, Msg: fmt.Sprintf("query is %d bytes; the limit is %d", len(q), MaxQueryBytes)}
	}
	if !utf8.ValidString(q) {
		return nil, &Error{Param: "q", Pos: -1, Msg: "query is not valid UTF-8"}
	}
	q = cleanQuery(q)
	p := &parsedQuery{}
	var pendingOr bool
	var orPos int
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
				return nil, &Error{Param: "q", Pos: start, Msg: "OR needs a word on each side"}
			}
			pendingOr, orPos = true, start
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
			switch {
			case value == "" || value[0] == ' ':
				return nil, &Error{Param: "q", Pos: start, Msg: fmt.Sprintf("%s: needs a value", name)}
			case fieldAliases[lname] != nil:
				fields = fieldAliases[lname]
				i += n
			case lname == "year":
				category = "year"
				i += n
			default:
				if _, ok := index.LookupCategory(lname); ok {
					category = lname
					i += n
				} else {
					return nil, &Error{Param: "q", Pos: start, Msg: fmt.Sprintf("unknown field %q; known fields: %s", name, strings.Join(FieldNames(), ", "))}
				}
			}
		}
		// The value: a quoted phrase or a word up to the next space.
		valueStart := i
		var text string
		phrase := false
		if i < len(q) && q[i] == '"' {
			end := strings.IndexByte(q[i+1:], '"')
			if end < 0 {
				return nil, &Error{Param: "q", Pos: i, Msg: "unbalanced quote: a phrase must end with \""}
			}
			text = q[i+1 : i+1+end]
			i += end + 2
			phrase = true
			if strings.TrimSpace(text) == "" {
				return nil, &Error{Param: "q", Pos: start, Msg: "empty phrase"}
			}
		} else {
			end := strings.IndexByte(q[i:], ' ')
			if end < 0 {
				end = len(q) - i
			}
			text = q[i : i+end]
			i += end
			if strings.Contains(text, `"`) {
				return nil, &Error{Param: "q", Pos: start + strings.Index(q[start:], `"`), Msg: "unbalanced quote: a phrase must start with \" before a word"}
			}
		}
		if category != "" {
			if pendingOr {
				return nil, &Error{Param: "q", Pos: orPos, Msg: "OR cannot join a category filter; repeat the category parameter instead"}
			}
			p.filters = append(p.filters, filterClause{category: category, value: index.NormalizeOption(text), negated: negated, pos: start})
			continue
		}
		c := clause{fields: fields, text: text, phrase: phrase, pos: start}
		if !phrase {
			if err := checkWildcards(&c, valueStart); err != nil {
				return nil, err
			}
		}
		if !hasWordChars(c.text) {
			// Punctuation only ("-", "&&"): nothing to match.
			if fields != nil {
				return nil, &Error{Param: "q", Pos: start, Msg: "field value has no words"}
			}
			continue
		}
		terms++
		if terms > MaxTerms {
			return nil, &Error{Param: "q", Pos: start, Msg: fmt.Sprintf("too many terms; the limit is %d", MaxTerms)}
		}
		switch {
		case negated:
			if pendingOr {
				return nil, &Error{Param: "q", Pos: orPos, Msg: "OR cannot join an excluded word"}
			}
			p.excluded = append(p.excluded, c)
		case pendingOr:
			last := len(p.groups) - 1
			p.groups[last] = append(p.groups[last], c)
			pendingOr = false
		default:
			p.groups = append(p.groups, []clause{c})
		}
	}
	if pendingOr {
		return nil, &Error{Param: "q", Pos: orPos, Msg: "OR needs a word on each side"}
	}
	return p, nil
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

// checkWildcards allows one trailing '*' (a prefix of at least MinPrefix
// letters) and rejects every other wildcard or regexp form. at is the byte
// offset of c.text in the query, after any '-' and field prefix.
func checkWildcards(c *clause, at int) error {
	t := c.text
	star := strings.IndexByte(t, '*')
	if star < 0 {
		return nil
	}
	switch {
	case star == 0:
		return &Error{Param: "q", Pos: at, Msg: "wildcards are only allowed at the end of a word (\"recor*\")"}
	case star != len(t)-1:
		return &Error{Param: "q", Pos: at + star, Msg: "'*' is only allowed at the end of a word"}
	}
	stem := t[:star]
	if utf8.RuneCountInString(stem) < MinPrefix || !isWord(stem) {
		return &Error{Param: "q", Pos: at, Msg: fmt.Sprintf("a prefix search needs at least %d letters or digits before '*'", MinPrefix)}
	}
	c.text, c.prefix = stem, true
	return nil
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
