package search

import "github.com/faildex/faildex/index"

// Result is the answer to a Request: the JSON contract of /api/v1/search.
type Result struct {
	Query   string         `json:"query"`
	Filters []ActiveFilter `json:"filters"`
	From    string         `json:"from,omitempty"`
	To      string         `json:"to,omitempty"`
	Sort    string         `json:"sort"`
	Total   uint64         `json:"total"`
	TookMS  float64        `json:"took_ms"`
	Page    int            `json:"page"`
	Size    int            `json:"size"`
	Pages   int            `json:"pages"` // pages available, within the depth cap
	Hits    []Hit          `json:"hits"`
	Facets  []Facet        `json:"facets"`
	Years   []YearCount    `json:"years"`
	// Notices say how a query outside the query language was read.
	Notices []string `json:"notices,omitempty"`
	// Suggestion is the query with its misspelled words corrected, when
	// words matched only through corrections.
	Suggestion string `json:"suggestion,omitempty"`
	// Relaxed, when set, says which words were left out because the words
	// together matched (almost) nothing.
	Relaxed *Relaxed `json:"relaxed,omitempty"`
}

// ActiveFilter is one selected category option.
type ActiveFilter struct {
	Field string `json:"field"`
	Value string `json:"value"`
	Label string `json:"label"`
}

// Hit is one matching incident.
type Hit struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	TitleHTML string  `json:"title_html"` // the title, escaped, with query words in <mark>
	Published string  `json:"published"`
	Articles  int     `json:"article_count"`
	Score     float64 `json:"score"`
	Summary   string  `json:"summary,omitempty"`
	// Options holds the incident's options per assessed category, and the
	// facet values of its tagged organisations per organisation facet.
	Options   map[string][]string `json:"options"`
	Fragments []Fragment          `json:"fragments"`
}

// Fragment is highlighted text from one field of a hit. HTML is escaped
// text in which only <mark> and </mark> are markup.
type Fragment struct {
	Field    string   `json:"field"`
	Category string   `json:"category,omitempty"` // for rationale fragments
	Label    string   `json:"label"`
	HTML     []string `json:"html"`
}

// Facet is the counts of one category's options among matching incidents,
// computed with every filter except the category's own.
type Facet struct {
	Field   string       `json:"field"`
	Label   string       `json:"label"`
	Values  []FacetValue `json:"values"`
	Missing uint64       `json:"missing"` // matching incidents not assessed in this category
	// MissingSelected is set when the request selects the incidents not
	// assessed in this category (NotAssessed).
	MissingSelected bool `json:"missing_selected,omitempty"`
}

// FacetValue is one option's count.
type FacetValue struct {
	Value      string `json:"value"`
	Label      string `json:"label"`
	Definition string `json:"definition,omitempty"`
	Count      uint64 `json:"count"`
	Selected   bool   `json:"selected"`
}

// YearCount is the number of matching incidents published in a year,
// computed with every filter except the date range.
type YearCount struct {
	Year  int    `json:"year"`
	Count uint64 `json:"count"`
}

// optionLabel returns the display label of a category option.
func optionLabel(cat, value string) (label, definition string) {
	c, ok := index.LookupCategory(cat)
	if !ok {
		return value, ""
	}
	if o := c.Option(value); o != nil {
		return o.Label, o.Definition
	}
	if value == NotAssessed {
		return NotAssessedLabel, "Incidents with no option in this category"
	}
	return value, ""
}

// Relaxed describes a query relaxed to find matches.
type Relaxed struct {
	// Dropped lists the words some of the incidents returned lack, the
	// least informative first.
	Dropped []string `json:"dropped"`
	// Matched is how many of the query's Of words every incident
	// returned matches.
	Matched int `json:"matched"`
	Of      int `json:"of"`
}
