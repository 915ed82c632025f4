package server

import (
	"fmt"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// The search page: GET / with the parameters of /api/v1/search.

type searchPage struct {
	pageMeta
	Query      string
	Error      string // a 400 message about the request, shown above the form
	ErrorParam string
	From, To   string
	Size       int           // carried in the form when not the default
	Hidden     []hiddenField // filters carried in the form when there are no facets to tick
	Sorts      []sortChoice
	// DefaultSort is the order the engine chose when none was asked for,
	// which the script leaves out of URLs; empty when one was asked for.
	DefaultSort string

	// Everything below is set only when the search ran.
	Ran      bool
	Total    uint64
	Heading  string // "12 incidents", "No incidents"
	Start    int    // the rank of the first hit
	Hits     []hitView
	Facets   []facetView
	Chips    []chipView // active filters and date range, each with the URL removing it
	ClearAll string     // the URL without filters or dates ("" when none are active)
	Active   int        // the number of chips
	Years    *histogram
	Pager    *pager
	Suggest  []removal // for an empty result: searches with one constraint fewer, with counts
	// How the query was read: the search with its misspelled words
	// corrected, the words left out to find matches, and notices.
	DidYouMean *chipView
	Relaxed    *search.Relaxed
	Notices    []string
	PastEnd    string // for a page past the last: the URL of the last page
	Explore    string // the explore page of this search
	Took       string // how long the search took ("3 ms")
	Actions    *searchActions
}

type hiddenField struct {
	Name, Value string
}

type sortChoice struct {
	Value, Label string
	Selected     bool
}

type hitView struct {
	Href      string
	TitleHTML template.HTML
	Published string // YYYY-MM-DD
	Date      string // "24 May 2018"
	Articles  string // "4 articles"
	Tags      []tagView
	Frags     []fragView
	Summary   string
}

type tagView struct {
	Label, Title string
	Href         string // the search for the option
}

type fragView struct {
	Label string
	HTML  template.HTML
}

type facetView struct {
	Field, Label, Definition string
	Open                     bool
	Selected                 int
	Values                   []facetValueView // shown at once
	More                     []facetValueView // behind "show more"
	MoreOpen                 bool
	Missing                  uint64
	// Filter offers a box that narrows the list to the values whose
	// label has a word starting with what is typed (app.js).
	Filter bool
	// NotAssessed selects the incidents not assessed in the category; nil
	// when none match and it is not selected.
	NotAssessed *facetValueView
}

type facetValueView struct {
	ID, Field, Value, Label, Definition string
	Count                               uint64
	Selected                            bool
}

type chipView struct {
	Label string // "Consequence: Death"
	Href  string // the search without it
}

// Search page layout constants.
const (
	facetShown    = 6 // facet values shown before "show more"
	fragsShown    = 3 // highlighted fields shown per hit
	tagsShown     = 5 // option labels shown per hit
	searchPageTag = "Search software-failure incident reports"
)

// facetOrder lists the categories shown first, open, in the sidebar; the
// others follow in taxonomy order, closed unless a value is selected.
var facetOrder = []string{"consequence", "domain", "behaviour"}

// hitTags lists the categories whose options label each hit.
var hitTags = []string{"consequence", "domain", "behaviour"}

// sortLabels names the orders of search.Sorts in the search page's sort
// menu; it is the one table of their labels (TestSortLabels keeps it in
// step with search.Sorts).
var sortLabels = map[string]string{
	search.SortRelevance: "Best match",
	search.SortDate:      "Newest first",
	search.SortOldest:    "Oldest first",
	search.SortTitle:     "Title",
	search.SortArticles:  "Most cited",
}

func (s *Server) handleSearchPage(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	req, res, err := runSearch(r, eng)
	if err != nil {
		status, msg, param := classify(err)
		if status != http.StatusBadRequest {
			return err
		}
		p := newSearchPage(rawRequest(r.URL.Query()), nil)
		p.Error, p.ErrorParam = msg, param
		p.Title = "Invalid search"
		return s.ui.render(w, r, http.StatusBadRequest, "search", p)
	}
	p := newSearchPage(req, res)
	p.Head = s.headLinks(r)
	p.Corpus = s.corpusLabel(r, eng)
	p.Actions = s.actionsFor(r, req)
	countRemovals(r.Context(), eng, p.Suggest)
	return s.ui.render(w, r, http.StatusOK, "search", p)
}

// rawRequest reads what it can of an invalid request's parameters, so that
// the form keeps them for the user to correct.
func rawRequest(v url.Values) search.Request {
	first := func(name string) string {
		if len(v[name]) == 0 {
			return ""
		}
		return strings.TrimSpace(v[name][0])
	}
	req := search.Request{Query: first("q"), From: first("from"), To: first("to"), Sort: first("sort"), Filters: map[string][]string{}}
	if n, err := strconv.Atoi(first("size")); err == nil && n >= 1 && n <= search.MaxSize {
		req.Size = n
	}
	for _, c := range index.Facets {
		if opts := index.SplitOptions(strings.Join(v[c.Name], ",")); len(opts) > 0 {
			req.Filters[c.Name] = opts
		}
	}
	return req
}

// newSearchPage builds the page for req and its result (nil when the
// request was invalid).
func newSearchPage(req search.Request, res *search.Result) *searchPage {
	p := &searchPage{
		pageMeta: pageMeta{Description: searchPageTag, Script: true},
		Query:    req.Query,
		From:     req.From,
		To:       req.To,
	}
	if req.Size != 0 && req.Size != search.DefaultSize {
		p.Size = req.Size
	}
	sortBy := req.Sort
	if res != nil {
		sortBy = res.Sort
		if req.Sort == "" {
			p.DefaultSort = res.Sort
		}
	}
	for _, v := range search.Sorts {
		p.Sorts = append(p.Sorts, sortChoice{Value: v, Label: sortLabels[v], Selected: v == sortBy})
	}
	var filters []search.ActiveFilter
	if res != nil {
		filters = res.Filters
	}
	p.Chips, p.ClearAll = chips(req, filters)
	p.Active = len(p.Chips)
	if res == nil {
		for _, c := range index.Facets {
			for _, v := range req.Filters[c.Name] {
				p.Hidden = append(p.Hidden, hiddenField{Name: c.Name, Value: v})
			}
		}
		return p
	}
	// From here on, req is the request as the engine understood it; the
	// sort order stays as asked (empty for the default), to keep URLs short.
	req = req.Clone()
	req.Page, req.Size = res.Page, res.Size
	p.Ran = true
	p.Total = res.Total
	p.Explore = exploreURL(req, exploreRows, exploreCols)
	p.Heading = countLabel(res.Total)
	p.Title = searchTitle(req, res.Page, p.Active > 0)
	p.Start = (res.Page-1)*res.Size + 1
	back := ""
	if v := req.Values(); len(v) > 0 {
		back = "?back=" + url.QueryEscape(v.Encode())
	}
	for _, h := range res.Hits {
		p.Hits = append(p.Hits, newHitView(h, back))
	}
	p.Facets = facetViews(res.Facets)
	p.Years = newHistogram(req, res.Years)
	p.Pager = newPager(req, res)
	if len(res.Hits) == 0 && res.Total > 0 {
		q := req.Clone()
		q.Page = res.Pages
		p.PastEnd = searchPageURL(q)
	}
	if res.Total == 0 {
		p.Suggest = removals(req)
	}
	if res.Suggestion != "" {
		q := req.Clone()
		q.Query, q.Page = res.Suggestion, 0
		p.DidYouMean = &chipView{Label: res.Suggestion, Href: searchPageURL(q)}
	}
	p.Relaxed = res.Relaxed
	p.Notices = res.Notices
	p.Took = tookLabel(res.TookMS)
	return p
}

// searchTitle is the <title> of a search page that ran: the query, else
// "Filtered incidents" when filters are active, with the page number
// after the first page; empty for the first page of everything.
func searchTitle(req search.Request, page int, filtered bool) string {
	title := ""
	switch {
	case req.Query != "":
		title = req.Query
	case filtered:
		title = "Filtered incidents"
	}
	if page > 1 {
		if title == "" {
			title = "Incidents"
		}
		title += fmt.Sprintf(" (page %d)", page)
	}
	return title
}

// chips lists the active filters and date range, each with the URL of the
// search without it, and the URL without any of them. filters are the
// result's, whose labels name organisations.
func chips(req search.Request, filters []search.ActiveFilter) ([]chipView, string) {
	var out []chipView
	base := req.Clone()
	base.Page = 0
	for _, c := range index.Facets {
		for _, v := range req.Filters[c.Name] {
			q := base.Clone()
			q.Filters[c.Name] = without(q.Filters[c.Name], v)
			out = append(out, chipView{Label: c.Label + ": " + filterLabel(&c, v, filters), Href: searchPageURL(q)})
		}
	}
	if req.From != "" || req.To != "" {
		q := base.Clone()
		q.From, q.To = "", ""
		out = append(out, chipView{Label: "Published " + periodLabel(req.From, req.To), Href: searchPageURL(q)})
	}
	if len(out) == 0 {
		return nil, ""
	}
	all := base.Clone()
	all.Filters, all.From, all.To = nil, "", ""
	return out, searchPageURL(all)
}

func periodLabel(from, to string) string {
	switch {
	case from == to:
		return from
	case from == "":
		return "until " + to
	case to == "":
		return "from " + from
	}
	return from + " – " + to
}

func without(list []string, v string) []string {
	var out []string
	for _, x := range list {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

func newHitView(h search.Hit, back string) hitView {
	v := hitView{
		Href:      incidentPath(h.ID) + back,
		TitleHTML: highlighted(h.TitleHTML),
		Published: h.Published,
		Date:      displayDate(h.Published),
		Articles:  plural(h.Articles, "article"),
		Summary:   h.Summary,
	}
	for _, name := range hitTags {
		c, _ := index.LookupCategory(name)
		for _, o := range h.Options[name] {
			if o == "unknown" || len(v.Tags) == tagsShown {
				continue
			}
			title := c.Label + ": " + c.OptionLabel(o)
			if d := optionDefinition(c, o); d != "" {
				title += ". " + d
			}
			v.Tags = append(v.Tags, tagView{Label: c.OptionLabel(o), Title: title, Href: searchPageURL(search.Request{Filters: map[string][]string{name: {o}}})})
		}
	}
	for _, f := range h.Fragments {
		if len(v.Frags) == fragsShown {
			break
		}
		if len(f.HTML) == 0 {
			continue
		}
		v.Frags = append(v.Frags, fragView{Label: f.Label, HTML: highlighted(f.HTML[0])})
	}
	return v
}

// highlighted marks a highlighted text from the search engine as safe HTML.
// It is the only place that does: the engine escapes all text and adds
// only <mark> and </mark>. As a second line of defence, a string holding
// any other markup is escaped whole.
func highlighted(s string) template.HTML {
	rest := strings.NewReplacer("<mark>", "", "</mark>", "").Replace(s)
	if strings.ContainsAny(rest, `<>"'`) {
		return template.HTML(html.EscapeString(s))
	}
	return template.HTML(s)
}

// facetViews orders the facets for the sidebar and splits long lists.
func facetViews(facets []search.Facet) []facetView {
	rank := func(name string) int {
		for i, n := range facetOrder {
			if n == name {
				return i
			}
		}
		return len(facetOrder)
	}
	ordered := make([]search.Facet, 0, len(facets))
	for i := 0; i <= len(facetOrder); i++ {
		for _, f := range facets {
			if rank(f.Field) == i {
				ordered = append(ordered, f)
			}
		}
	}
	out := make([]facetView, 0, len(ordered))
	for _, f := range ordered {
		c, ok := index.LookupFacet(f.Field)
		if !ok {
			continue
		}
		fv := facetView{Field: f.Field, Label: f.Label, Definition: c.Definition, Missing: f.Missing, Open: rank(f.Field) < len(facetOrder)}
		fv.Filter = index.IsOrgFacet(f.Field) && len(f.Values) > facetShown
		for i, v := range f.Values {
			vv := facetValueView{
				ID:         controlID("f", f.Field, v.Value),
				Field:      f.Field,
				Value:      v.Value,
				Label:      v.Label,
				Definition: v.Definition,
				Count:      v.Count,
				Selected:   v.Selected,
			}
			if vv.Label == "" {
				vv.Label = v.Value
			}
			if v.Selected {
				fv.Selected++
				fv.Open = true
			}
			if i < facetShown || len(f.Values) == facetShown+1 {
				fv.Values = append(fv.Values, vv)
			} else {
				fv.More = append(fv.More, vv)
				fv.MoreOpen = fv.MoreOpen || v.Selected
			}
		}
		if f.Missing > 0 || f.MissingSelected {
			fv.NotAssessed = &facetValueView{
				ID: controlID("f", f.Field, search.NotAssessed), Field: f.Field, Value: search.NotAssessed,
				Label: search.NotAssessedLabel, Definition: "Incidents with no option in this category",
				Count: f.Missing, Selected: f.MissingSelected,
			}
			if f.MissingSelected {
				fv.Selected++
				fv.Open = true
			}
		}
		out = append(out, fv)
	}
	return out
}

// controlID returns a stable element id for a facet value (the same on
// every page, so that the script can keep focus on it), made of [a-z0-9_-]
// whatever the value holds.
func controlID(prefix, field, value string) string {
	var b strings.Builder
	b.WriteString(prefix + "-" + field + "-")
	for _, r := range value {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			fmt.Fprintf(&b, ".%x", r)
		}
	}
	return b.String()
}
