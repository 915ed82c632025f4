package search

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/faildex/faildex/index"
)

var parsedOpts = cmp.Options{
	cmp.AllowUnexported(parsedQuery{}, clause{}, filterClause{}),
	cmpopts.EquateEmpty(),
}

// group is one group of ORed clauses.
func group(cs ...clause) []clause { return cs }

var bothCauses = []string{"software_causes", "non_software_causes"}

func TestParseQuery(t *testing.T) {
	tests := []struct {
		q    string
		want parsedQuery
	}{
		{"", parsedQuery{}},
		{"   ", parsedQuery{}},
		{"wake word", parsedQuery{groups: [][]clause{
			group(clause{text: "wake", pos: 0}),
			group(clause{text: "word", pos: 5}),
		}}},
		{`"wake word"`, parsedQuery{groups: [][]clause{
			group(clause{text: "wake word", phrase: true, pos: 0}),
		}}},
		{"ransomware OR malware", parsedQuery{groups: [][]clause{
			group(clause{text: "ransomware", pos: 0}, clause{text: "malware", pos: 14}),
		}}},
		{"x OR y OR z w", parsedQuery{groups: [][]clause{
			group(clause{text: "x", pos: 0}, clause{text: "y", pos: 5}, clause{text: "z", pos: 10}),
			group(clause{text: "w", pos: 12}),
		}}},
		// Only upper-case OR between words is an operator.
		{"ORACLE or SQL", parsedQuery{groups: [][]clause{
			group(clause{text: "ORACLE", pos: 0}),
			group(clause{text: "or", pos: 7}),
			group(clause{text: "SQL", pos: 10}),
		}}},
		{`"this OR that"`, parsedQuery{groups: [][]clause{
			group(clause{text: "this OR that", phrase: true, pos: 0}),
		}}},
		{"alexa -hack", parsedQuery{
			groups:   [][]clause{group(clause{text: "alexa", pos: 0})},
			excluded: []clause{{text: "hack", pos: 6}},
		}},
		{`alexa -"wake word"`, parsedQuery{
			groups:   [][]clause{group(clause{text: "alexa", pos: 0})},
			excluded: []clause{{text: "wake word", phrase: true, pos: 6}},
		}},
		// A lone '-' is punctuation, not an exclusion.
		{"a - b", parsedQuery{groups: [][]clause{
			group(clause{text: "a", pos: 0}),
			group(clause{text: "b", pos: 4}),
		}}},
		{"title:boeing", parsedQuery{groups: [][]clause{
			group(clause{fields: []string{"title"}, text: "boeing", pos: 0}),
		}}},
		{"Title:Boeing", parsedQuery{groups: [][]clause{
			group(clause{fields: []string{"title"}, text: "Boeing", pos: 0}),
		}}},
		{"causes:sensor", parsedQuery{groups: [][]clause{
			group(clause{fields: bothCauses, text: "sensor", pos: 0}),
		}}},
		{"org:amazon", parsedQuery{groups: [][]clause{
			group(clause{fields: []string{"responsible_organization", "impacted_organization"}, text: "amazon", pos: 0}),
		}}},
		{`title:"wake word"`, parsedQuery{groups: [][]clause{
			group(clause{fields: []string{"title"}, text: "wake word", phrase: true, pos: 0}),
		}}},
		{"alexa -title:hack", parsedQuery{
			groups:   [][]clause{group(clause{text: "alexa", pos: 0})},
			excluded: []clause{{fields: []string{"title"}, text: "hack", pos: 6}},
		}},
		{"consequence:death", parsedQuery{filters: []filterClause{{category: "consequence", value: "death", pos: 0}}}},
		{"Consequence:Death", parsedQuery{filters: []filterClause{{category: "consequence", value: "death", pos: 0}}}},
		{`domain:"Natural resources"`, parsedQuery{filters: []filterClause{{category: "domain", value: "natural_resources", pos: 0}}}},
		{"alexa -consequence:death year:2018", parsedQuery{
			groups: [][]clause{group(clause{text: "alexa", pos: 0})},
			filters: []filterClause{
				{category: "consequence", value: "death", negated: true, pos: 6},
				{category: "year", value: "2018", pos: 25},
			},
		}},
		{"recor*", parsedQuery{groups: [][]clause{group(clause{text: "recor", prefix: true, pos: 0})}}},
		{"title:Recor*", parsedQuery{groups: [][]clause{group(clause{fields: []string{"title"}, text: "Recor", prefix: true, pos: 0})}}},
		{"alexa -recor*", parsedQuery{
			groups:   [][]clause{group(clause{text: "alexa", pos: 0})},
			excluded: []clause{{text: "recor", prefix: true, pos: 6}},
		}},
		// A '*' inside a phrase is text, not a wildcard.
		{`"recor*"`, parsedQuery{groups: [][]clause{group(clause{text: "recor*", phrase: true, pos: 0})}}},
		// Punctuation is text: none of these is a field, a fuzzy or boosted
		// term or an escape.
		{"http://x", parsedQuery{groups: [][]clause{group(clause{text: "http://x", pos: 0})}}},
		{"10:30", parsedQuery{groups: [][]clause{group(clause{text: "10:30", pos: 0})}}},
		{`C:\path`, parsedQuery{groups: [][]clause{group(clause{text: `C:\path`, pos: 0})}}},
		{"::1", parsedQuery{groups: [][]clause{group(clause{text: "::1", pos: 0})}}},
		{":value", parsedQuery{groups: [][]clause{group(clause{text: ":value", pos: 0})}}},
		{"title:/etc/passwd", parsedQuery{groups: [][]clause{group(clause{text: "title:/etc/passwd", pos: 0})}}},
		{"foo~3", parsedQuery{groups: [][]clause{group(clause{text: "foo~3", pos: 0})}}},
		{"foo^abc", parsedQuery{groups: [][]clause{group(clause{text: "foo^abc", pos: 0})}}},
		{"/abc/", parsedQuery{groups: [][]clause{group(clause{text: "/abc/", pos: 0})}}},
		{"<script>alert(1)</script>", parsedQuery{groups: [][]clause{group(clause{text: "<script>alert(1)</script>", pos: 0})}}},
		// Punctuation alone matches nothing and is dropped.
		{`\`, parsedQuery{}},
		{"- && || !", parsedQuery{}},
		// Stop words are kept here; the engine drops them.
		{"the", parsedQuery{groups: [][]clause{group(clause{text: "the", pos: 0})}}},
		// Control, zero-width and bidi characters become spaces of the same
		// byte length, so positions are those of the query as typed.
		{"a\x00b", parsedQuery{groups: [][]clause{
			group(clause{text: "a", pos: 0}),
			group(clause{text: "b", pos: 2}),
		}}},
		{"\u200bwake\u202eword\ufeff", parsedQuery{groups: [][]clause{
			group(clause{text: "wake", pos: 3}),
			group(clause{text: "word", pos: 10}),
		}}},
		{"wa\u200bke", parsedQuery{groups: [][]clause{
			group(clause{text: "wa", pos: 0}),
			group(clause{text: "ke", pos: 5}),
		}}},
		{"\twake\r\nword\u00a0echo\u3000", parsedQuery{groups: [][]clause{
			group(clause{text: "wake", pos: 1}),
			group(clause{text: "word", pos: 7}),
			group(clause{text: "echo", pos: 13}),
		}}},
		{strings.Repeat("a", MaxQueryBytes), parsedQuery{groups: [][]clause{group(clause{text: strings.Repeat("a", MaxQueryBytes)})}}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%.40q", tt.q), func(t *testing.T) {
			got := parseQuery(tt.q)
			got.notices = nil
			for i := range got.filters {
				got.filters[i].raw = ""
			}
			if diff := cmp.Diff(&tt.want, got, parsedOpts); diff != "" {
				t.Errorf("parseQuery(%q) (-want +got):\n%s", tt.q, diff)
			}
		})
	}
}

// terms returns a query of n distinct words separated by spaces.
func terms(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = "w" + strconv.Itoa(i)
	}
	return strings.Join(ws, " ")
}

func TestParseQueryLimits(t *testing.T) {
	ok := []string{
		terms(MaxTerms),
		terms(MaxTerms) + " && - ||",           // punctuation is not a term
		terms(MaxTerms) + " consequence:death", // filters are not terms
		strings.Repeat("a", MaxQueryBytes),     // exactly the limit
		strings.Repeat("é", MaxQueryBytes/2),   // the limit is in bytes
	}
	for _, q := range ok {
		if p := parseQuery(q); len(p.notices) > 0 {
			t.Errorf("parseQuery(%.60q): %q", q, p.notices)
		}
	}
}

// wantError checks that err is an *Error with the case's Param, Pos and
// message, wrapping ErrInvalidRequest.
func wantError(tb testing.TB, err error, param string, pos int, msg string) *Error {
	tb.Helper()
	if err == nil {
		tb.Errorf("got no error, want %s at %d: %q", param, pos, msg)
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		tb.Errorf("got %T %v, want *Error", err, err)
		return nil
	}
	if !errors.Is(err, ErrInvalidRequest) {
		tb.Errorf("errors.Is(%v, ErrInvalidRequest) = false", err)
	}
	type where struct {
		Param string
		Pos   int
	}
	if diff := cmp.Diff(where{param, pos}, where{e.Param, e.Pos}); diff != "" {
		tb.Errorf("error %q: Param and Pos (-want +got):\n%s", e, diff)
	}
	if !strings.Contains(e.Msg, msg) {
		tb.Errorf("error message %q does not contain %q", e.Msg, msg)
	}
	return e
}

// lenientCases are queries outside the query language: each is read as
// words (want lists the words of each group, then "-" and the excluded
// words), with a notice containing notice.
var lenientCases = []struct {
	name, q string
	want    []string
	notice  string
}{
	{"unbalanced quote", `"wake word`, []string{"wake", "word"}, "quote was not closed"},
	{"unbalanced quote later", `alexa "wake word`, []string{"alexa", "wake", "word"}, "quote was not closed"},
	{"closing quote only", `wake word"`, []string{"wake", "word"}, "quote inside a word"},
	{"quote inside word", `wa"ke`, []string{"wa", "ke"}, "quote inside a word"},
	{"unbalanced quote after field", `title:"wake`, []string{"wake"}, "quote was not closed"},
	{"unknown field", "foo:bar", []string{"foo", "bar"}, `"foo:" is not a field name`},
	{"pasted log line", "Error: connection timed out", []string{"Error", "connection", "timed", "out"}, `"Error:" is not a field name`},
	{"unknown negated field", "alexa -colour:red", []string{"alexa", "red", "-", "colour"}, `"colour:" is not a field name`},
	{"empty field value", "title:", []string{"title"}, "title: has no value"},
	{"field value after space", "alexa title: boeing", []string{"alexa", "title", "boeing"}, "title: has no value"},
	{"OR at start", "OR alexa", []string{"alexa"}, "OR needs a word on each side"},
	{"OR at end", "alexa OR", []string{"alexa"}, "OR needs a word on each side"},
	{"OR twice", "alexa OR OR echo", []string{"alexa echo"}, "OR needs a word on each side"},
	{"OR with exclusion", "alexa OR -hack", []string{"alexa", "-", "hack"}, "OR cannot join an excluded word"},
	{"OR with filter", "alexa OR consequence:death", []string{"alexa"}, "OR cannot join a category filter"},
	{"leading wildcard", "*foo", []string{"foo"}, "only at the end of a word"},
	{"star alone", "alexa *", []string{"alexa"}, "at least 3 letters"},
	{"short prefix", "ab*", []string{"ab"}, "at least 3 letters"},
	{"middle wildcard", "re*cord", []string{"re", "cord"}, "only at the end of a word"},
	{"double star", "record**", []string{"record"}, "only at the end of a word"},
	{"too long", strings.Repeat("a ", MaxQueryBytes), nil, "cut to its first 1000 bytes"},
	{"too many terms", terms(MaxTerms + 1), strings.Fields(terms(MaxTerms)), "first 32 words"},
	{"invalid UTF-8", "caf\xe9 crash", []string{"caf", "crash"}, "not UTF-8"},
}

func TestParseQueryLenient(t *testing.T) {
	for _, tt := range lenientCases {
		t.Run(tt.name, func(t *testing.T) {
			p := parseQuery(tt.q)
			var got []string
			for _, g := range p.groups {
				var alts []string
				for _, c := range g {
					alts = append(alts, c.text)
				}
				got = append(got, strings.Join(alts, " "))
			}
			if len(p.excluded) > 0 {
				got = append(got, "-")
				for _, c := range p.excluded {
					got = append(got, c.text)
				}
			}
			if tt.want != nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("parseQuery(%.60q) words (-want +got):\n%s", tt.q, diff)
				}
			}
			if !strings.Contains(strings.Join(p.notices, "\n"), tt.notice) {
				t.Errorf("parseQuery(%.60q) notices %q, want one containing %q", tt.q, p.notices, tt.notice)
			}
		})
	}
}

// TestParseQueryNoNotice checks that queries in the language are read
// without notices.
// TestParseQueryRepeats checks that a word said twice is read once, so
// that repeating it costs nothing.
func TestParseQueryRepeats(t *testing.T) {
	for q, want := range map[string]int{
		"alexa alexa":                1,
		`"wake word" "wake word"`:    1,
		"a OR a b":                   2,
		"title:alexa alexa":          2,
		"-hack -hack alexa":          2,
		strings.Repeat("crash ", 40): 1,
	} {
		p := parseQuery(q)
		if n := len(p.groups) + len(p.excluded); n != want {
			t.Errorf("%q: %d groups and exclusions, want %d", q, n, want)
		}
	}
}

func TestParseQueryNoNotice(t *testing.T) {
	for _, q := range []string{"wake word", `"wake word"`, "alexa -hack", "title:boeing", "recor*", "a OR b", "consequence:death x", "10:30 http://x"} {
		if p := parseQuery(q); len(p.notices) > 0 {
			t.Errorf("parseQuery(%q) notices %q, want none", q, p.notices)
		}
	}
	// Every listed field name is a field.
	for _, f := range FieldNames() {
		if p := parseQuery(f + ":x"); len(p.notices) > 0 {
			t.Errorf("parseQuery(%q) notices %q", f+":x", p.notices)
		}
	}
}

// vocabulary accepts a category's vocabulary words and, for tests of values
// seen only in the index, "custom" in domain.
func vocabulary(cat, value string) bool {
	c, ok := index.LookupCategory(cat)
	if !ok {
		return false
	}
	return c.HasOption(value) || (cat == "domain" && value == "custom")
}

func TestNormalize(t *testing.T) {
	type norm struct {
		Page, Size int
		Sort       string
		SortBy     []string
		From, To   string
		Filters    map[string][]string
	}
	got := func(n *normalized) norm {
		d := func(tm interface{ IsZero() bool }, s string) string {
			if tm.IsZero() {
				return ""
			}
			return s
		}
		return norm{
			Page: n.Page, Size: n.Size, Sort: n.Sort, SortBy: n.sortBy,
			From: d(n.from, n.from.Format(index.DateLayout)), To: d(n.to, n.to.Format(index.DateLayout)),
			Filters: n.Filters,
		}
	}
	byDate := []string{"-published", "_id"}
	tests := []struct {
		name string
		req  Request
		want norm
	}{
		{"defaults", Request{}, norm{Page: 1, Size: DefaultSize, Sort: SortDate, SortBy: byDate}},
		{"words sort by relevance", Request{Query: "alexa"},
			norm{Page: 1, Size: 20, Sort: SortRelevance, SortBy: []string{"-_score", "-published", "_id"}}},
		{"stop words sort by relevance", Request{Query: "the"},
			norm{Page: 1, Size: 20, Sort: SortRelevance, SortBy: []string{"-_score", "-published", "_id"}}},
		{"filters only sort by date", Request{Query: "consequence:death"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate}},
		{"oldest", Request{Sort: SortOldest}, norm{Page: 1, Size: 20, Sort: SortOldest, SortBy: []string{"published", "_id"}}},
		{"title", Request{Query: "alexa", Sort: SortTitle}, norm{Page: 1, Size: 20, Sort: SortTitle, SortBy: []string{"title_sort", "_id"}}},
		{"articles", Request{Sort: SortArticles}, norm{Page: 1, Size: 20, Sort: SortArticles, SortBy: []string{"-article_count", "-published", "_id"}}},
		{"relevance without words", Request{Sort: SortRelevance}, norm{Page: 1, Size: 20, Sort: SortRelevance, SortBy: []string{"-_score", "-published", "_id"}}},
		{"deepest page", Request{Page: MaxDepth / MaxSize, Size: MaxSize}, norm{Page: 100, Size: 100, Sort: SortDate, SortBy: byDate}},
		{"deepest page, odd size", Request{Page: 3333, Size: 3}, norm{Page: 3333, Size: 3, Sort: SortDate, SortBy: byDate}},
		{"years", Request{From: "2018", To: "2019"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, From: "2018-01-01", To: "2019-12-31"}},
		{"months", Request{From: "2020-08", To: "2020"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, From: "2020-08-01", To: "2020-12-31"}},
		{"leap month", Request{To: "2020-02"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, To: "2020-02-29"}},
		{"days", Request{From: "2019-02-28", To: "2019-02-28"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, From: "2019-02-28", To: "2019-02-28"}},
		{"only exclusions with a filter", Request{Query: "-hack", Filters: map[string][]string{"consequence": {"death"}}},
			norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, Filters: map[string][]string{"consequence": {"death"}}}},
		{"only exclusions with an inline filter", Request{Query: "-hack consequence:death"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate}},
		{"only exclusions with a year", Request{Query: "-hack year:2018"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate}},
		{"only exclusions with a date", Request{Query: "-hack", From: "2018"}, norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, From: "2018-01-01"}},
		{"value seen in the index", Request{Filters: map[string][]string{"domain": {"custom"}}},
			norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, Filters: map[string][]string{"domain": {"custom"}}}},
		{"empty filter is no filter", Request{Filters: map[string][]string{"domain": {}, "consequence": nil}},
			norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, Filters: map[string][]string{}}},
		{"repeated filter values", Request{Filters: map[string][]string{"domain": {"health", "health", "finance"}}},
			norm{Page: 1, Size: 20, Sort: SortDate, SortBy: byDate, Filters: map[string][]string{"domain": {"health", "finance"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := tt.req.normalize(vocabulary)
			if err != nil {
				t.Fatalf("normalize(%+v): %v", tt.req, err)
			}
			if diff := cmp.Diff(tt.want, got(n), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("normalize(%+v) (-want +got):\n%s", tt.req, diff)
			}
		})
	}
}

func TestNormalizeDoesNotModifyRequest(t *testing.T) {
	req := Request{Filters: map[string][]string{"domain": {"health", "health"}, "consequence": {}}}
	want := Request{Filters: map[string][]string{"domain": {"health", "health"}, "consequence": {}}}
	if _, err := req.normalize(vocabulary); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, req); diff != "" {
		t.Errorf("normalize changed its request (-want +got):\n%s", diff)
	}
}

func TestNormalizeErrors(t *testing.T) {
	manyValues := map[string][]string{}
	for i := 0; i <= MaxFilterValues; i++ {
		manyValues["domain"] = append(manyValues["domain"], fmt.Sprint("v", i))
	}
	tests := []struct {
		name  string
		req   Request
		param string
		pos   int
		msg   string
	}{
		{"page -1", Request{Page: -1}, "page", -1, "must be at least 1"},
		{"page too deep", Request{Page: MaxDepth/MaxSize + 1, Size: MaxSize}, "page", -1, "too deep"},
		{"page 10^9", Request{Page: 1e9}, "page", -1, "too deep"},
		{"page MaxInt", Request{Page: math.MaxInt}, "page", -1, "too deep"},
		{"page MaxInt, size 1", Request{Page: math.MaxInt, Size: 1}, "page", -1, "too deep"},
		{"size -1", Request{Size: -1}, "size", -1, "between 1 and 100"},
		{"size 101", Request{Size: MaxSize + 1}, "size", -1, "between 1 and 100"},
		{"size 10^9", Request{Size: 1e9}, "size", -1, "between 1 and 100"},
		{"size MaxInt", Request{Size: math.MaxInt}, "size", -1, "between 1 and 100"},
		{"sort", Request{Sort: "Date"}, "sort", -1, `unknown order "Date"; use one of relevance, date, oldest, title, articles`},
		{"impossible date", Request{From: "2019-02-30"}, "from", -1, `"2019-02-30" is not a valid date`},
		{"five digits", Request{From: "99999"}, "from", -1, `"99999" is not a date`},
		{"month 13", Request{To: "2019-13"}, "to", -1, `"2019-13" is not a valid month`},
		{"year too early", Request{From: "1899"}, "from", -1, "year 1899 is out of range"},
		{"not a date", Request{To: "yesterday"}, "to", -1, "is not a date"},
		{"from after to", Request{From: "2020", To: "2019"}, "to", -1, "is before from"},
		{"from after to, days", Request{From: "2019-05-02", To: "2019-05-01"}, "to", -1, "is before from"},
		{"unknown category", Request{Filters: map[string][]string{"colour": {"red"}}}, "colour", -1, "unknown category"},
		{"category in upper case", Request{Filters: map[string][]string{"Domain": {"health"}}}, "Domain", -1, "unknown category"},
		{"year is not a category", Request{Filters: map[string][]string{"year": {"2018"}}}, "year", -1, "unknown category"},
		{"unknown option", Request{Filters: map[string][]string{"consequence": {"doom"}}}, "consequence", -1,
			`unknown option "doom"; options: death, harm, basic, property, delay, non-human, no_consequence, theoretical_consequence, other, unknown`},
		{"unnormalised option", Request{Filters: map[string][]string{"consequence": {"Death"}}}, "consequence", -1, `unknown option "Death"`},
		{"first bad category in name order", Request{Filters: map[string][]string{"domain": {"x"}, "consequence": {"y"}, "behaviour": {"z"}}}, "behaviour", -1, `unknown option "z"`},
		{"too many filter values", Request{Filters: manyValues}, "q", -1, "too many filter values; the limit is 64"},
	}
	known := func(cat, value string) bool {
		if cat == "domain" && strings.HasPrefix(value, "v") {
			return true
		}
		return vocabulary(cat, value)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The same request must always report the same problem, whatever
			// the map order.
			for range 10 {
				n, err := tt.req.normalize(known)
				if err == nil {
					t.Fatalf("normalize(%+v) = %+v, want an error", tt.req, n)
				}
				if wantError(t, err, tt.param, tt.pos, tt.msg) == nil || t.Failed() {
					return
				}
			}
		})
	}
}

// TestErrorMessagesQuoteInput records which messages repeat the user's input
// verbatim, markup included. They are plain text: whoever renders them (the
// server's templates, a JSON client) must escape them.
func TestErrorMessagesQuoteInput(t *testing.T) {
	tests := []struct {
		name      string
		values    url.Values
		rawMarkup bool // the message holds the input's '<'
	}{
		{"markup is plain text", url.Values{"q": {"<script>alert(1)</script>"}}, false},
		{"markup in a field value", url.Values{"q": {`title:"><img src=x onerror=alert(1)>`}}, false},
		{"markup before a colon", url.Values{"q": {"<b>:x"}}, false},
		{"markup after an unbalanced quote", url.Values{"q": {`"<img src=x onerror=alert(1)>`}}, false},
		{"markup in a wildcard", url.Values{"q": {"*<b>"}}, false},
		{"markup in sort", url.Values{"sort": {"<b>"}}, true},
		{"markup in from", url.Values{"from": {"<b>"}}, true},
		{"markup in page", url.Values{"page": {"<b>"}}, true},
		{"markup in an option", url.Values{"consequence": {"<b>"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := FromValues(tt.values)
			if err == nil {
				_, err = req.normalize(vocabulary)
			}
			if err == nil {
				if tt.rawMarkup {
					t.Fatalf("%v: no error", tt.values)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("%v: %T %v, want *Error", tt.values, err, err)
			}
			if got := strings.Contains(e.Error(), "<"); got != tt.rawMarkup {
				t.Errorf("%v: message %q: holds raw markup = %v, want %v", tt.values, e.Error(), got, tt.rawMarkup)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Param: "q", Pos: 0, Msg: "m"}, "query, at position 1: m"},
		{&Error{Param: "q", Pos: -1, Msg: "m"}, "q: m"},
		{&Error{Param: "size", Pos: -1, Msg: "m"}, "size: m"},
		{&Error{Pos: -1, Msg: "m"}, "m"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestFromValues(t *testing.T) {
	tests := []struct {
		name string
		v    url.Values
		want Request
	}{
		{"empty", url.Values{}, Request{}},
		{"all", url.Values{"q": {" wake word "}, "from": {"2018"}, "to": {"2019-06"}, "sort": {"oldest"}, "page": {"2"}, "size": {"10"}},
			Request{Query: "wake word", From: "2018", To: "2019-06", Sort: "oldest", Page: 2, Size: 10}},
		{"unknown parameters are ignored", url.Values{"utm_source": {"x"}, "year": {"2018"}, "colour": {"red"}},
			Request{}},
		{"empty values are defaults", url.Values{"q": {""}, "page": {""}, "size": {" "}}, Request{}},
		{"size 10^9 is left to normalize", url.Values{"size": {"1000000000"}}, Request{Size: 1e9}},
		{"page MaxInt64 is left to normalize", url.Values{"page": {"9223372036854775807"}}, Request{Page: math.MaxInt64}},
		{"sort is left to normalize", url.Values{"sort": {"random"}}, Request{Sort: "random"}},
		{"dates are left to normalize", url.Values{"from": {"2019-02-30"}, "to": {"99999"}}, Request{From: "2019-02-30", To: "99999"}},
		{"options are normalised and de-duplicated", url.Values{"consequence": {"Death, harm", "death", " ,, "}, "domain": {"Natural Resources"}},
			Request{Filters: map[string][]string{"consequence": {"death", "harm"}, "domain": {"natural_resources"}}}},
		{"unknown options are left to normalize", url.Values{"consequence": {"doom"}}, Request{Filters: map[string][]string{"consequence": {"doom"}}}},
		{"the limit of filter values", url.Values{"domain": {strings.Repeat("health,", MaxFilterValues)}},
			Request{Filters: map[string][]string{"domain": {"health"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FromValues(tt.v)
			if err != nil {
				t.Fatalf("FromValues(%v): %v", tt.v, err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("FromValues(%v) (-want +got):\n%s", tt.v, diff)
			}
		})
	}
}

// TestFromValuesIgnoresOtherNames checks that parameters that are no near
// miss of a search parameter are ignored, as are the caller's own.
func TestFromValuesIgnoresOtherNames(t *testing.T) {
	for _, v := range []url.Values{
		{"q": {"x"}, "utm_source": {"mail"}, "fbclid": {"abc"}, "_": {"123"}},
		{"q": {"x"}, "format": {"csv"}},
		{"id": {"2014-heartbleed-openssl"}},
	} {
		if _, err := FromValues(v, "format"); err != nil {
			t.Errorf("FromValues(%v): %v", v, err)
		}
	}
}

func TestFromValuesErrors(t *testing.T) {
	thousand := make([]string, 1000)
	for i := range thousand {
		thousand[i] = "death"
	}
	tests := []struct {
		name  string
		v     url.Values
		param string
		msg   string
	}{
		{"repeated q", url.Values{"q": {"a", "b"}}, "q", "given more than once"},
		{"repeated empty q", url.Values{"q": {"", ""}}, "q", "given more than once"},
		{"repeated page", url.Values{"page": {"1", "2"}}, "page", "given more than once"},
		{"repeated sort", url.Values{"sort": {"date", "date"}}, "sort", "given more than once"},
		{"page -1", url.Values{"page": {"-1"}}, "page", "must be at least 1"},
		{"page 0", url.Values{"page": {"0"}}, "page", "must be at least 1"},
		{"size -1", url.Values{"size": {"-1"}}, "size", "must be at least 1"},
		{"size 0", url.Values{"size": {"0"}}, "size", "must be at least 1"},
		{"size MinInt64", url.Values{"size": {"-9223372036854775808"}}, "size", "must be at least 1"},
		{"page beyond int64", url.Values{"page": {"9223372036854775808"}}, "page", "9223372036854775808 is too large"},
		{"size beyond int64", url.Values{"size": {"1" + strings.Repeat("0", 30)}}, "size", "is too large"},
		{"page word", url.Values{"page": {"two"}}, "page", `"two" is not a whole number`},
		{"page fraction", url.Values{"page": {"1.5"}}, "page", `"1.5" is not a whole number`},
		{"size exponent", url.Values{"size": {"1e3"}}, "size", `"1e3" is not a whole number`},
		{"size hex", url.Values{"size": {"0x10"}}, "size", "is not a whole number"},
		{"long number is truncated", url.Values{"size": {strings.Repeat("x", 100)}}, "size", `"xxxxxxxxxxxxxxxxxxxx…" is not a whole number`},
		{"1000 filter values", url.Values{"consequence": thousand}, "consequence", "too many filter values; the limit is 64"},
		{"1000 filter values in one", url.Values{"domain": {strings.Repeat("health,", 1000)}}, "domain", "too many filter values"},
		// Categories are counted in taxonomy order: consequence, then domain.
		{"limit across categories", url.Values{"domain": {strings.Repeat("health,", 40)}, "consequence": {strings.Repeat("death,", 40)}}, "domain", "too many filter values"},
		{"misspelled category", url.Values{"consequnce": {"death"}}, "consequnce", `unknown parameter; did you mean "consequence"?`},
		{"category in capitals", url.Values{"Domain": {"health"}}, "Domain", `did you mean "domain"?`},
		{"misspelled sort", url.Values{"q": {"x"}, "sotr": {"date"}}, "sotr", `did you mean "sort"?`},
		{"misspelled page", url.Values{"pgae": {"2"}}, "pgae", `did you mean "page"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromValues(tt.v)
			wantError(t, err, tt.param, -1, tt.msg)
		})
	}
}

// TestFromValuesThenNormalize covers values that FromValues accepts and the
// request's validation refuses.
func TestFromValuesThenNormalize(t *testing.T) {
	tests := []struct {
		query string
		param string
		msg   string
	}{
		{"size=1000000000", "size", "between 1 and 100"},
		{"size=9223372036854775807", "size", "between 1 and 100"},
		{"page=1000000000", "page", "too deep"},
		{"page=9223372036854775807", "page", "too deep"},
		{"from=2019-02-30", "from", "not a valid date"},
		{"to=99999", "to", "not a date"},
		{"from=2019&to=2018-12", "to", "is before from"},
		{"consequence=doom", "consequence", "unknown option"},
		{"sort=random", "sort", "unknown order"},
	}
	for _, tt := range tests {
		v, err := url.ParseQuery(tt.query)
		if err != nil {
			t.Fatal(err)
		}
		req, err := FromValues(v)
		if err != nil {
			t.Errorf("FromValues(%s): %v", tt.query, err)
			continue
		}
		_, err = req.normalize(vocabulary)
		wantError(t, err, tt.param, -1, tt.msg)
	}
}

func TestValuesRoundTrip(t *testing.T) {
	reqs := []Request{
		{},
		{Query: "wake word"},
		{Query: `"wake word" -hack title:alexa consequence:death`, Sort: SortRelevance},
		{Query: "a&b=c?d#e %20 +", From: "2018", To: "2019-06-30"},
		{Filters: map[string][]string{"consequence": {"death", "harm"}, "domain": {"health"}}, Sort: SortOldest, Page: 3, Size: 7},
		{Filters: map[string][]string{"perception": {"embedded_software"}}, Page: 2, Size: MaxSize},
	}
	for _, req := range reqs {
		v := req.Values()
		// Through the URL as a browser would send it.
		parsed, err := url.ParseQuery(v.Encode())
		if err != nil {
			t.Fatal(err)
		}
		got, err := FromValues(parsed)
		if err != nil {
			t.Errorf("FromValues(%v): %v", v, err)
			continue
		}
		if diff := cmp.Diff(req, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("FromValues(%+v.Values()) (-want +got):\n%s", req, diff)
		}
	}
	// Defaults are left out.
	if got := (Request{Page: 1, Size: DefaultSize, Filters: map[string][]string{}}).Values(); len(got) != 0 {
		t.Errorf("Values() of the defaults = %v, want none", got)
	}
	// Categories come in taxonomy order.
	req := Request{Filters: map[string][]string{"domain": {"health"}, "recurring": {"unknown"}, "consequence": {"death"}}}
	if got, want := req.Values().Encode(), "consequence=death&domain=health&recurring=unknown"; got != want {
		t.Errorf("Values().Encode() = %q, want %q", got, want)
	}
}

func TestClone(t *testing.T) {
	req := Request{Query: "x", Filters: map[string][]string{"domain": {"health"}}}
	c := req.Clone()
	c.Filters["domain"][0] = "finance"
	c.Filters["consequence"] = []string{"death"}
	if diff := cmp.Diff(Request{Query: "x", Filters: map[string][]string{"domain": {"health"}}}, req); diff != "" {
		t.Errorf("changing a clone changed the request (-want +got):\n%s", diff)
	}
}

// TestNormalizeReadsQuery checks how category filters written in the query
// are read against the index: corrected, read as words or left out, each
// with a notice, never an error.
func TestNormalizeReadsQuery(t *testing.T) {
	for _, tt := range []struct {
		q       string
		filters []string // category:value kept
		words   []string
		notice  string
	}{
		{"alexa consequence:deth", []string{"consequence:death"}, []string{"alexa"}, "consequence:deth was read as consequence:death (Death)"},
		{"consequence:Non-Human", []string{"consequence:non-human"}, nil, ""},
		{"alexa consequence:doom", nil, []string{"alexa", "doom"}, `Consequence has no option "doom"`},
		{"alexa -domain:spaceflight", nil, []string{"alexa", "-spaceflight"}, `has no option "spaceflight"`},
		{"year:18", nil, nil, "year:18 is not a year"},
		{"wake year:1899", nil, []string{"wake"}, "year:1899 is out of range"},
		{"alexa year:twenty", nil, []string{"alexa"}, "year:twenty is not a year"},
		{"-hack", nil, []string{"-hack"}, ""},
	} {
		n, err := Request{Query: tt.q}.normalize(vocabulary)
		if err != nil {
			t.Errorf("normalize(%q): %v", tt.q, err)
			continue
		}
		var filters, words []string
		for _, f := range n.parsed.filters {
			filters = append(filters, f.category+":"+f.value)
		}
		for _, g := range n.parsed.groups {
			words = append(words, g[0].text)
		}
		for _, c := range n.parsed.excluded {
			words = append(words, "-"+c.text)
		}
		if diff := cmp.Diff(tt.filters, filters); diff != "" {
			t.Errorf("%q: filters (-want +got):\n%s", tt.q, diff)
		}
		if diff := cmp.Diff(tt.words, words); diff != "" {
			t.Errorf("%q: words (-want +got):\n%s", tt.q, diff)
		}
		got := strings.Join(n.parsed.notices, "\n")
		if tt.notice == "" && got != "" || !strings.Contains(got, tt.notice) {
			t.Errorf("%q: notices %q, want %q", tt.q, got, tt.notice)
		}
	}
}
