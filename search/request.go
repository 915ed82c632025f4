// Package search answers a validated Request over an open index: it
// matches the words, counts facets from bitmaps and orders the matches
// into a typed Result, the JSON contract of faildex's API.
package search

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
)

// Limits on requests.
const (
	DefaultSize     = 20
	MaxSize         = 100
	MaxDepth        = 10000 // page*size may not exceed this
	MaxFilterValues = 64    // category values across all filters
)

// Sort orders.
const (
	SortRelevance = "relevance"
	SortDate      = "date"   // newest first
	SortOldest    = "oldest" // oldest first
	SortTitle     = "title"
	SortArticles  = "articles" // most cited first
)

// Sorts lists the accepted sort orders.
var Sorts = []string{SortRelevance, SortDate, SortOldest, SortTitle, SortArticles}

// Request is a search: a query, category filters (OR within a category, AND
// across categories), a publication date range, a sort order and a page.
type Request struct {
	Query   string
	Filters map[string][]string // category -> options
	From    string              // YYYY, YYYY-MM or YYYY-MM-DD, inclusive
	To      string              // likewise, inclusive (to the end of the period)
	Sort    string              // one of Sorts; empty picks relevance with a query, date without
	Page    int                 // 1-based; 0 means 1
	Size    int                 // 0 means DefaultSize
}

// Params lists the non-category request parameters.
var Params = []string{"q", "from", "to", "sort", "page", "size"}

// FromValues reads a request from URL parameters: q, from, to, sort, page,
// size and one parameter per category (repeated for several options).
// Unknown parameters are ignored so that pages can carry their own.
//
// A parameter name that is a near miss of a name it takes (or of extra,
// the names the caller reads itself) is an error naming it: a misspelled
// filter must not be ignored. Other names are ignored, so that links may
// carry parameters of their own (utm_source, fbclid).
func FromValues(v url.Values, extra ...string) (Request, error) {
	req := Request{Filters: map[string][]string{}}
	if err := checkParamNames(v, extra); err != nil {
		return req, err
	}
	single := func(name string) (string, error) {
		vals := v[name]
		if len(vals) > 1 {
			return "", &Error{Param: name, Pos: -1, Msg: "given more than once"}
		}
		if len(vals) == 0 {
			return "", nil
		}
		return strings.TrimSpace(vals[0]), nil
	}
	var err error
	if req.Query, err = single("q"); err != nil {
		return req, err
	}
	if req.From, err = single("from"); err != nil {
		return req, err
	}
	if req.To, err = single("to"); err != nil {
		return req, err
	}
	if req.Sort, err = single("sort"); err != nil {
		return req, err
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page", &req.Page}, {"size", &req.Size}} {
		s, err := single(p.name)
		if err != nil {
			return req, err
		}
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if errors.Is(err, strconv.ErrRange) {
			return req, &Error{Param: p.name, Pos: -1, Msg: fmt.Sprintf("%s is too large", index.Truncate(s, 20))}
		}
		if err != nil {
			return req, &Error{Param: p.name, Pos: -1, Msg: fmt.Sprintf("%q is not a whole number", index.Truncate(s, 20))}
		}
		*p.dst = n
		if n < 1 {
			return req, &Error{Param: p.name, Pos: -1, Msg: "must be at least 1"}
		}
	}
	n := 0
	for _, c := range index.Facets {
		for _, val := range v[c.Name] {
			for _, part := range strings.Split(val, ",") {
				if o := index.NormalizeOption(part); o != "" {
					n++
					if n > MaxFilterValues {
						return req, &Error{Param: c.Name, Pos: -1, Msg: fmt.Sprintf("too many filter values; the limit is %d", MaxFilterValues)}
					}
					req.Filters[c.Name] = appendUnique(req.Filters[c.Name], o)
				}
			}
		}
	}
	return req, nil
}

// paramNames are the parameters FromValues reads.
var paramNames = append([]string{"q", "from", "to", "sort", "page", "size"}, index.FacetNames()...)

// checkParamNames returns an error for the first parameter name, in sorted
// order, that is not one of paramNames or extra but is near one.
func checkParamNames(v url.Values, extra []string) error {
	known := map[string]bool{}
	for _, n := range paramNames {
		known[n] = true
	}
	for _, n := range extra {
		known[n] = true
	}
	for _, name := range sortedKeys(v) {
		if known[name] || utf8.RuneCountInString(name) < 2 || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "utm_") {
			continue
		}
		if near := nearestName(name, known); near != "" {
			return &Error{Param: index.Truncate(name, 40), Pos: -1, Msg: fmt.Sprintf("unknown parameter; did you mean %q?", near)}
		}
	}
	return nil
}

// nearestName returns the name of known nearest to name when it is a near
// miss: the same but for case, or within two edits (one for names of three
// letters or fewer); "" otherwise.
func nearestName(name string, known map[string]bool) string {
	if utf8.RuneCountInString(name) > 64 {
		return ""
	}
	lower := strings.ToLower(name)
	best, bestDist := "", 3
	for k := range known {
		d := damerau(lower, k)
		limit := 2
		if min(utf8.RuneCountInString(k), utf8.RuneCountInString(lower)) <= 3 {
			limit = 1
		}
		if d <= limit && (d < bestDist || d == bestDist && k < best) {
			best, bestDist = k, d
		}
	}
	return best
}

// Values encodes the request as URL parameters (the inverse of FromValues),
// leaving out defaults.
func (r Request) Values() url.Values {
	v := url.Values{}
	if r.Query != "" {
		v.Set("q", r.Query)
	}
	for _, c := range index.Facets {
		for _, o := range r.Filters[c.Name] {
			v.Add(c.Name, o)
		}
	}
	if r.From != "" {
		v.Set("from", r.From)
	}
	if r.To != "" {
		v.Set("to", r.To)
	}
	if r.Sort != "" {
		v.Set("sort", r.Sort)
	}
	if r.Page > 1 {
		v.Set("page", strconv.Itoa(r.Page))
	}
	if r.Size != 0 && r.Size != DefaultSize {
		v.Set("size", strconv.Itoa(r.Size))
	}
	return v
}

// Clone returns a deep copy of the request.
func (r Request) Clone() Request {
	f := make(map[string][]string, len(r.Filters))
	for k, v := range r.Filters {
		f[k] = append([]string(nil), v...)
	}
	r.Filters = f
	return r
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// normalized is a validated request ready to run.
type normalized struct {
	Request
	parsed   *parsedQuery
	from, to time.Time // zero when open
	sortBy   []string
}

// normalize validates the request: page and size bounds, sort, dates,
// categories and the query. known reports whether a value exists for a
// category (vocabulary or seen in the index).
func (r Request) normalize(known func(cat, value string) bool) (*normalized, error) {
	n := &normalized{Request: r.Clone()}
	if n.Page == 0 {
		n.Page = 1
	}
	if n.Size == 0 {
		n.Size = DefaultSize
	}
	switch {
	case n.Page < 1:
		return nil, &Error{Param: "page", Pos: -1, Msg: "must be at least 1"}
	case n.Size < 1 || n.Size > MaxSize:
		return nil, &Error{Param: "size", Pos: -1, Msg: fmt.Sprintf("must be between 1 and %d", MaxSize)}
	case n.Page > MaxDepth/n.Size:
		return nil, &Error{Param: "page", Pos: -1, Msg: fmt.Sprintf("too deep: results are available up to %d deep (page %d at size %d)", MaxDepth, MaxDepth/n.Size, n.Size)}
	}
	var err error
	if n.from, err = parsePeriod(n.From, false); err != nil {
		return nil, &Error{Param: "from", Pos: -1, Msg: err.Error()}
	}
	if n.to, err = parsePeriod(n.To, true); err != nil {
		return nil, &Error{Param: "to", Pos: -1, Msg: err.Error()}
	}
	if !n.from.IsZero() && !n.to.IsZero() && n.to.Before(n.from) {
		return nil, &Error{Param: "to", Pos: -1, Msg: "is before from"}
	}
	n.parsed = parseQuery(n.Query)
	total, err := n.checkParamFilters(known)
	if err != nil {
		return nil, err
	}
	if total > MaxFilterValues {
		return nil, &Error{Param: "q", Pos: -1, Msg: fmt.Sprintf("too many filter values; the limit is %d", MaxFilterValues)}
	}
	n.parsed.checkFilters(known, total)
	p := n.parsed
	hasText := len(p.groups) > 0
	switch n.Sort {
	case "":
		if hasText {
			n.Sort = SortRelevance
		} else {
			n.Sort = SortDate
		}
	case SortRelevance, SortDate, SortOldest, SortTitle, SortArticles:
	default:
		return nil, &Error{Param: "sort", Pos: -1, Msg: fmt.Sprintf("unknown order %q; use one of %s", index.Truncate(n.Sort, 20), strings.Join(Sorts, ", "))}
	}
	n.sortBy = sortFields(n.Sort)
	return n, nil
}

// checkParamFilters validates the category filters given as parameters
// (dropping categories with no options) and returns the number of options.
func (n *normalized) checkParamFilters(known func(cat, value string) bool) (total int, err error) {
	// Sorted, so that the same request always reports the same error.
	for _, cat := range sortedKeys(n.Filters) {
		c, ok := index.LookupFacet(cat)
		if !ok || c.Name != cat {
			return 0, &Error{Param: cat, Pos: -1, Msg: "unknown category"}
		}
		var vals []string
		for _, v := range n.Filters[cat] {
			if !known(cat, v) && index.IsOrgFacet(cat) {
				return 0, &Error{Param: cat, Pos: -1, Msg: fmt.Sprintf("no incident is tagged with the organisation %q; /api/v1/facets/%s?prefix= lists them", index.Truncate(v, 40), cat)}
			}
			if !known(cat, v) {
				return 0, &Error{Param: cat, Pos: -1, Msg: fmt.Sprintf("unknown option %q; options: %s", index.Truncate(v, 40), optionList(c))}
			}
			vals = appendUnique(vals, v)
		}
		if len(vals) == 0 {
			// No options selected is no filter, not a filter nothing passes.
			delete(n.Filters, cat)
			continue
		}
		n.Filters[cat] = vals
		total += len(vals)
	}
	return total, nil
}

// sortFields returns the bleve sort of an order: every order ends with the
// id, so that ties are broken the same way on every page.
func sortFields(order string) []string {
	switch order {
	case SortRelevance:
		return []string{"-_score", "-" + index.FieldPublished, "_id"}
	case SortDate:
		return []string{"-" + index.FieldPublished, "_id"}
	case SortOldest:
		return []string{index.FieldPublished, "_id"}
	case SortTitle:
		return []string{index.FieldTitleSort, "_id"}
	case SortArticles:
		return []string{"-" + index.FieldArticles, "-" + index.FieldPublished, "_id"}
	}
	return nil
}

func optionList(c *index.Category) string {
	vals := make([]string, len(c.Options))
	for i, o := range c.Options {
		vals[i] = o.Value
	}
	return strings.Join(vals, ", ")
}

var (
	yearPattern   = regexp.MustCompile(`^\d{4}$`)
	periodPattern = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$`)
)

// parsePeriod reads YYYY, YYYY-MM or YYYY-MM-DD. With end set it returns the
// last day of the period (so to=2018 includes all of 2018).
func parsePeriod(s string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	m := periodPattern.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("%q is not a date; use YYYY, YYYY-MM or YYYY-MM-DD", index.Truncate(s, 20))
	}
	y, _ := strconv.Atoi(m[1])
	if err := checkYear(y); err != nil {
		return time.Time{}, err
	}
	switch {
	case m[3] != "":
		t, err := time.Parse("2006-01-02", s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a valid date", s)
		}
		return t, nil
	case m[2] != "":
		t, err := time.Parse("2006-01", s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a valid month", s)
		}
		if end {
			t = t.AddDate(0, 1, -1)
		}
		return t, nil
	default:
		t := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
		if end {
			t = time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)
		}
		return t, nil
	}
}

// checkYear refuses a year before index.MinYear, the earliest an incident
// may be published in. Later years, up to 9999, are accepted: "to=2999" is
// a common way to leave a range open, and plan cuts every range to the
// dates incidents may have (index.MinYear to index.MaxYear), so a bound
// beyond them matches what they allow.
func checkYear(y int) error {
	if y < index.MinYear {
		return fmt.Errorf("year %d is out of range; incidents are dated from %d", y, index.MinYear)
	}
	return nil
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
