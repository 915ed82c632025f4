package server

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

// pageMeta is what the layout (templates/base.html) needs from every page.
type pageMeta struct {
	Title       string // the page's <title>, before " · faildex"; empty for the site name alone
	Description string // the meta description, if any
	Canonical   string // the canonical path ("/incidents/x"), if any
	Script      bool   // load the search page's script
	Head        HeadLinks
}

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
	Suggest  []chipView // for an empty result: searches with one constraint fewer
	PastEnd  string     // for a page past the last: the URL of the last page
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

// histogram is the SVG bar chart of matching incidents per year; bars link
// to the search restricted to their year.
type histogram struct {
	Width, Height int
	First, Last   int
	Bars          []histBar
}

type histBar struct {
	ID         string
	Year       int
	Count      uint64
	X, W, Y, H string // SVG user units
	Href       string
	On         bool // within the selected date range
	Label      string
}

type pager struct {
	Prev, Next string
	Pages      []pageLink
}

type pageLink struct {
	N       int
	Href    string
	Current bool
	Gap     bool // an ellipsis
}

// Page layout constants.
const (
	facetShown    = 6 // facet values shown before "show more"
	fragsShown    = 3 // highlighted fields shown per hit
	tagsShown     = 5 // option labels shown per hit
	histWidth     = 600
	histHeight    = 60
	histMinYears  = 12 // the narrowest span of years the chart shows
	pagerAround   = 2  // page links either side of the current one
	searchPageTag = "Search software-failure incident reports"
)

// facetOrder lists the categories shown first, open, in the sidebar; the
// others follow in taxonomy order, closed unless a value is selected.
var facetOrder = []string{"consequence", "domain", "behaviour"}

// hitTags lists the categories whose options label each hit.
var hitTags = []string{"consequence", "domain", "behaviour"}

var sortLabels = map[string]string{
	search.SortRelevance: "Best match",
	search.SortDate:      "Newest first",
	search.SortOldest:    "Oldest first",
	search.SortTitle:     "Title",
	search.SortArticles:  "Most cited",
}

func (s *Server) handleSearchPage(w http.ResponseWriter, r *http.Request) error {
	req, res, err := s.runSearch(r)
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
	for _, c := range index.Taxonomy {
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
	p.Chips, p.ClearAll = chips(req)
	p.Active = len(p.Chips)
	if res == nil {
		for _, c := range index.Taxonomy {
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
	p.Heading = countLabel(res.Total)
	switch {
	case req.Query != "":
		p.Title = req.Query
	case p.Active > 0:
		p.Title = "Filtered incidents"
	}
	if res.Page > 1 {
		if p.Title == "" {
			p.Title = "Incidents"
		}
		p.Title += fmt.Sprintf(" (page %d)", res.Page)
	}
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
		for _, c := range p.Chips {
			p.Suggest = append(p.Suggest, chipView{Label: "Without " + c.Label, Href: c.Href})
		}
		if req.Query != "" && p.Active > 0 {
			q := req.Clone()
			q.Filters, q.From, q.To = nil, "", ""
			p.Suggest = append(p.Suggest, chipView{Label: "Search all incidents for “" + req.Query + "”", Href: searchPageURL(q)})
		}
	}
	return p
}

func countLabel(n uint64) string {
	switch n {
	case 0:
		return "No incidents"
	case 1:
		return "1 incident"
	}
	return strconv.FormatUint(n, 10) + " incidents"
}

// chips lists the active filters and date range, each with the URL of the
// search without it, and the URL without any of them.
func chips(req search.Request) ([]chipView, string) {
	var out []chipView
	base := req.Clone()
	base.Page = 0
	for _, c := range index.Taxonomy {
		for _, v := range req.Filters[c.Name] {
			q := base.Clone()
			q.Filters[c.Name] = without(q.Filters[c.Name], v)
			out = append(out, chipView{Label: c.Label + ": " + optionLabel(&c, v), Href: searchPageURL(q)})
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

// optionLabel returns the display label of an option, or the value itself
// for an option outside the vocabulary.
func optionLabel(c *index.Category, v string) string {
	if o := c.Option(v); o != nil {
		return o.Label
	}
	return v
}

func optionDefinition(c *index.Category, v string) string {
	if o := c.Option(v); o != nil {
		return o.Definition
	}
	return ""
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
			title := c.Label + ": " + optionLabel(c, o)
			if d := optionDefinition(c, o); d != "" {
				title += ". " + d
			}
			v.Tags = append(v.Tags, tagView{Label: optionLabel(c, o), Title: title})
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

func displayDate(d string) string {
	t, err := time.Parse(index.DateLayout, d)
	if err != nil {
		return d
	}
	return t.Format("2 January 2006")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
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
		c, ok := index.LookupCategory(f.Field)
		if !ok {
			continue
		}
		fv := facetView{Field: f.Field, Label: f.Label, Definition: c.Definition, Missing: f.Missing, Open: rank(f.Field) < len(facetOrder)}
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

// newHistogram lays out the bars of the years with matching incidents.
func newHistogram(req search.Request, years []search.YearCount) *histogram {
	if len(years) == 0 {
		return nil
	}
	first, last := years[0].Year, years[len(years)-1].Year
	var max uint64
	for _, y := range years {
		if y.Count > max {
			max = y.Count
		}
	}
	// A short span is widened around its years so that bars keep a
	// readable width, up to the current year.
	if span := last - first + 1; span < histMinYears {
		first -= (histMinYears - span) / 2
		last = first + histMinYears - 1
		if now := time.Now().Year(); last > now && years[len(years)-1].Year <= now {
			first, last = first-(last-now), now
		}
	}
	lo, hi := yearOf(req.From, 0), yearOf(req.To, 9999)
	n := last - first + 1
	w := float64(histWidth) / float64(n)
	gap := w * 0.15
	h := &histogram{Width: histWidth, Height: histHeight, First: first, Last: last}
	for _, y := range years {
		bh := float64(histHeight-2) * float64(y.Count) / float64(max)
		if bh < 2 {
			bh = 2
		}
		q := req.Clone()
		q.Page = 0
		ys := strconv.Itoa(y.Year)
		if q.From == ys && q.To == ys {
			q.From, q.To = "", "" // clicking the selected year again clears it
		} else {
			q.From, q.To = ys, ys
		}
		h.Bars = append(h.Bars, histBar{
			ID:    "y" + ys,
			Year:  y.Year,
			Count: y.Count,
			X:     svgNum(float64(y.Year-first)*w + gap/2),
			W:     svgNum(w - gap),
			Y:     svgNum(histHeight - bh),
			H:     svgNum(bh),
			Href:  searchPageURL(q),
			On:    (req.From != "" || req.To != "") && y.Year >= lo && y.Year <= hi,
			Label: ys + ": " + countLabel(y.Count),
		})
	}
	return h
}

func svgNum(f float64) string {
	return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64)
}

// yearOf returns the year of a YYYY[-MM[-DD]] bound, or def.
func yearOf(s string, def int) int {
	if len(s) < 4 {
		return def
	}
	y, err := strconv.Atoi(s[:4])
	if err != nil {
		return def
	}
	return y
}

func newPager(req search.Request, res *search.Result) *pager {
	if res.Pages <= 1 {
		return nil
	}
	link := func(n int) string {
		q := req.Clone()
		q.Page = n
		return searchPageURL(q)
	}
	p := &pager{}
	if res.Page > 1 {
		p.Prev = link(min(res.Page-1, res.Pages))
	}
	if res.Page < res.Pages {
		p.Next = link(res.Page + 1)
	}
	last := 0
	for n := 1; n <= res.Pages; n++ {
		if n != 1 && n != res.Pages && (n < res.Page-pagerAround || n > res.Page+pagerAround) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Pages = append(p.Pages, pageLink{Gap: true})
		}
		p.Pages = append(p.Pages, pageLink{N: n, Href: link(n), Current: n == res.Page})
		last = n
	}
	return p
}

// The incident page: GET /incidents/{id}.

type incidentPage struct {
	pageMeta
	ID         string
	Title      string
	Published  string
	Date       string
	Back       string // the search it came from, a same-site relative URL
	FromSearch bool   // Back is a search with parameters, not the bare page
	Summary    textView
	Fields     []fieldView
	Groups     []taxGroup
	Articles   []int64
	Sources    []sourceView
	JSON       string
	Cite       Citation
}

type fieldView struct {
	Name, Label string
	Text        textView
}

// textView is prose split for reading: a numbered list when the text is
// "1. ... 2. ...", a lettered one for "(a) ... (b) ...", else paragraphs.
type textView struct {
	Paras   []string
	Items   []string
	Letters bool
}

type taxGroup struct {
	ID, Name, Head string
	Rows           []taxRow
}

type taxRow struct {
	Field, Label, Definition string
	Assessed                 bool
	Options                  []optionView
	Rationale                textView
}

type optionView struct {
	Value, Label, Definition, Href string
}

type sourceView struct {
	Text string
	URL  string // set when the source is an http(s) URL
}

func (s *Server) handleIncidentPage(w http.ResponseWriter, r *http.Request) error {
	id := mux.Vars(r)["id"]
	if !index.ValidID(id) {
		return errNotFound
	}
	in, err := s.incident(r, id)
	if err != nil {
		if errors.Is(err, index.ErrNotFound) {
			return &httpError{status: http.StatusNotFound, msg: "There is no incident with the id “" + id + "”."}
		}
		return err
	}
	p := newIncidentPage(in, backURL(r))
	p.Head = s.headLinks(r)
	p.Cite = s.citation(r, in)
	return s.ui.render(w, r, http.StatusOK, "incident", p)
}

// backURL returns the search an incident page was opened from: its back
// parameter (a search's query string), else the Referer when it is this
// site's search page, else the search page. It is always "/" or "/?" and
// parameters that the search understands, re-encoded: never another site,
// never a script.
func backURL(r *http.Request) string {
	raw, ok := r.URL.Query()["back"]
	if !ok || len(raw) != 1 {
		raw = nil
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host && ref.Path == "/" &&
			(ref.Scheme == "http" || ref.Scheme == "https") {
			raw = []string{ref.RawQuery}
		}
	}
	if len(raw) == 0 {
		return "/"
	}
	v, err := url.ParseQuery(strings.TrimPrefix(raw[0], "?"))
	if err != nil {
		return "/"
	}
	req, err := search.FromValues(v)
	if err != nil {
		return "/"
	}
	return searchPageURL(req)
}

func newIncidentPage(in *index.Incident, back string) *incidentPage {
	p := &incidentPage{
		pageMeta:   pageMeta{Title: in.Title, Description: cut(in.Summary, 200), Canonical: incidentPath(in.ID)},
		ID:         in.ID,
		Title:      in.Title,
		Published:  in.Published,
		Date:       displayDate(in.Published),
		Back:       back,
		FromSearch: back != "/",
		Summary:    splitText(in.Summary),
		Articles:   in.Articles,
		JSON:       "/api/v1/incidents/" + url.PathEscape(in.ID),
	}
	for _, f := range index.TextFields {
		if f.Name == "title" || f.Name == "summary" {
			continue
		}
		if t := *f.Get(in); t != "" {
			p.Fields = append(p.Fields, fieldView{Name: f.Name, Label: f.Label, Text: splitText(t)})
		}
	}
	for _, g := range []struct{ id, name, head string }{
		{"faults", index.GroupFaults, "Category"},
		{"iot", index.GroupIoT, "Layer"},
		{"other", index.GroupOther, "Category"},
	} {
		tg := taxGroup{ID: g.id, Name: g.name, Head: g.head}
		for i := range index.Taxonomy {
			c := &index.Taxonomy[i]
			if c.Group != g.name {
				continue
			}
			row := taxRow{Field: c.Name, Label: c.Label, Definition: c.Definition}
			if cl, ok := in.Taxonomy[c.Name]; ok && len(cl.Options) > 0 {
				row.Assessed = true
				for _, o := range cl.Options {
					q := search.Request{Filters: map[string][]string{c.Name: {o}}}
					row.Options = append(row.Options, optionView{Value: o, Label: optionLabel(c, o), Definition: optionDefinition(c, o), Href: searchPageURL(q)})
				}
				row.Rationale = splitText(cl.Rationale)
			}
			tg.Rows = append(tg.Rows, row)
		}
		p.Groups = append(p.Groups, tg)
	}
	for _, src := range in.Sources {
		sv := sourceView{Text: src}
		if u, err := url.Parse(strings.TrimSpace(src)); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
			sv.URL = u.String()
		}
		p.Sources = append(p.Sources, sv)
	}
	return p
}

func cut(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	i := strings.LastIndexByte(s[:n], ' ')
	if i < n/2 {
		return s
	}
	return s[:i] + " …"
}

var (
	numberMark = regexp.MustCompile(`(?:^|\s)(\d{1,2})\.\s`)
	letterMark = regexp.MustCompile(`(?:^|\s)\(([a-z])\)\s`)
)

// splitText splits prose for display; see textView.
func splitText(s string) textView {
	s = strings.TrimSpace(s)
	if s == "" {
		return textView{}
	}
	if items := splitMarks(s, numberMark, func(i int) string { return strconv.Itoa(i + 1) }); len(items) > 1 {
		return textView{Items: items}
	} else if len(items) == 1 {
		s = items[0] // "1. text": a list of one is just the text
	}
	if items := splitMarks(s, letterMark, func(i int) string { return string(rune('a' + i)) }); len(items) > 1 {
		return textView{Items: items, Letters: true}
	}
	var paras []string
	for _, p := range strings.Split(s, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			paras = append(paras, p)
		}
	}
	return textView{Paras: paras}
}

// splitMarks splits s at markers numbered in sequence from the first
// (want(0)) at its very start; it returns nil if s does not start with one.
// Markers out of sequence stay in the text.
func splitMarks(s string, re *regexp.Regexp, want func(int) string) []string {
	locs := re.FindAllStringSubmatchIndex(s, -1)
	if len(locs) == 0 || locs[0][0] != 0 || s[locs[0][2]:locs[0][3]] != want(0) {
		return nil
	}
	var cuts [][2]int // start of marker, start of text
	for _, l := range locs {
		if s[l[2]:l[3]] == want(len(cuts)) {
			cuts = append(cuts, [2]int{l[0], l[1]})
		}
	}
	items := make([]string, len(cuts))
	for i, c := range cuts {
		end := len(s)
		if i+1 < len(cuts) {
			end = cuts[i+1][0]
		}
		items[i] = strings.TrimSpace(s[c[1]:end])
	}
	return items
}
