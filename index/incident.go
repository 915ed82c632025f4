// Package index knows what an incident report is: the Incident type and its
// 16-category taxonomy, parsers for every input format (the Failures
// Database's plain-text pages and CSV export, its JSON dump, and faildex's own
// JSON Lines), the bleve mapping, and building and opening an index.
package index

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Classification is an incident's assessment in one taxonomy category.
type Classification struct {
	Options   []string `json:"options"`
	Rationale string   `json:"rationale,omitempty"`
}

// Incident is one software-failure report. A category absent from Taxonomy
// was not assessed, which differs from the options "none" and "unknown".
type Incident struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Published string `json:"published"` // YYYY-MM-DD
	Summary   string `json:"summary,omitempty"`

	Timeline          string `json:"timeline,omitempty"`
	System            string `json:"system,omitempty"`
	ResponsibleOrg    string `json:"responsible_organization,omitempty"`
	ImpactedOrg       string `json:"impacted_organization,omitempty"`
	SoftwareCauses    string `json:"software_causes,omitempty"`
	NonSoftwareCauses string `json:"non_software_causes,omitempty"`
	Impacts           string `json:"impacts,omitempty"`
	Preventions       string `json:"preventions,omitempty"`
	Fixes             string `json:"fixes,omitempty"`
	References        string `json:"references,omitempty"`

	// Articles are the ids of the news articles the report cites.
	Articles []int64 `json:"articles"`
	// Sources are free-text source lines (the page's Sources section).
	Sources []string `json:"sources,omitempty"`

	Taxonomy map[string]Classification `json:"taxonomy"`

	// ResponsibleOrgs and ImpactedOrgs are the canonical names of the
	// organisations that ResponsibleOrg and ImpactedOrg mention, tagged
	// from a Gazetteer when the index is built (whatever a report says
	// here is replaced then).
	ResponsibleOrgs []string `json:"responsible_orgs,omitempty"`
	ImpactedOrgs    []string `json:"impacted_orgs,omitempty"`
}

// TextField names one prose field of an incident.
type TextField struct {
	Name  string // field name in JSON, the index and field-scoped queries
	Label string // label on the database's page
	Get   func(*Incident) *string
}

// TextFields lists the incident's prose fields in page order.
var TextFields = []TextField{
	{"title", "Title", func(in *Incident) *string { return &in.Title }},
	{"summary", "Summary", func(in *Incident) *string { return &in.Summary }},
	{"timeline", "Timeline", func(in *Incident) *string { return &in.Timeline }},
	{"system", "System", func(in *Incident) *string { return &in.System }},
	{"responsible_organization", "Responsible Organization", func(in *Incident) *string { return &in.ResponsibleOrg }},
	{"impacted_organization", "Impacted Organization", func(in *Incident) *string { return &in.ImpactedOrg }},
	{"software_causes", "Software Causes", func(in *Incident) *string { return &in.SoftwareCauses }},
	{"non_software_causes", "Non-software Causes", func(in *Incident) *string { return &in.NonSoftwareCauses }},
	{"impacts", "Impacts", func(in *Incident) *string { return &in.Impacts }},
	{"preventions", "Preventions", func(in *Incident) *string { return &in.Preventions }},
	{"fixes", "Fixes", func(in *Incident) *string { return &in.Fixes }},
	{"references", "References", func(in *Incident) *string { return &in.References }},
}

// Errors returned by Validate and the parsers.
var (
	ErrInvalid  = errors.New("invalid incident")
	ErrNotFound = errors.New("incident not found")
	// ErrGone wraps ErrNotFound for an incident deleted lately.
	ErrGone = fmt.Errorf("%w: deleted", ErrNotFound)
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether s can be an incident id: 1-128 ASCII letters,
// digits, '.', '_' or '-', starting with a letter or digit, so that ids are
// safe in URLs, file names and markup, and not ending in a suffix that the
// server's routes give a meaning (ReservedIDSuffix).
func ValidID(s string) bool { return idPattern.MatchString(s) && !hasReservedSuffix(s) }

// ReservedIDSuffix ends no incident id: /incidents/{id}.bib is an
// incident's BibTeX citation, so an incident whose id ended in .bib would
// have no reachable page. It is matched in any case.
const ReservedIDSuffix = ".bib"

func hasReservedSuffix(s string) bool {
	return len(s) >= len(ReservedIDSuffix) && strings.EqualFold(s[len(s)-len(ReservedIDSuffix):], ReservedIDSuffix)
}

// Validate checks the fields every incident must have, removes control and
// bidirectional-override characters from its texts (normalizeText), checks
// that no field is over MaxFieldBytes and normalises its classifications.
// It returns warnings for the characters removed and for options outside
// the vocabulary.
func (in *Incident) Validate() (warnings []string, err error) {
	if hasReservedSuffix(in.ID) && idPattern.MatchString(in.ID) {
		return nil, fmt.Errorf("%w: id %q ends in %s, which the server reserves for an incident's BibTeX citation (/incidents/{id}%s); rename the report", ErrInvalid, in.ID, ReservedIDSuffix, ReservedIDSuffix)
	}
	if !ValidID(in.ID) {
		return nil, fmt.Errorf("%w: id %q must be 1-128 letters, digits, '.', '_' or '-'", ErrInvalid, in.ID)
	}
	for _, f := range TextFields {
		if !utf8.ValidString(*f.Get(in)) {
			return nil, fmt.Errorf("%w: %s is not valid UTF-8", ErrInvalid, f.Name)
		}
	}
	if msg := checkFieldSizes(in); msg != "" {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	warnings = normalizeFields(in)
	in.Title = strings.TrimSpace(in.Title)
	if in.Title == "" {
		return nil, fmt.Errorf("%w: missing title", ErrInvalid)
	}
	d, err := ParseDate(in.Published)
	if err != nil {
		return nil, fmt.Errorf("%w: published date: %v", ErrInvalid, err)
	}
	if d.Year() < MinYear || d.Year() > MaxYear {
		// The index's date fields cannot hold dates far outside this
		// range; such a date is a typo, not a report from 1066.
		return nil, fmt.Errorf("%w: published date %s is outside %d-%d", ErrInvalid, d.Format(DateLayout), MinYear, MaxYear)
	}
	in.Published = d.Format(DateLayout)
	for _, f := range TextFields {
		p := f.Get(in)
		*p = strings.TrimSpace(*p)
	}
	for name, cl := range in.Taxonomy {
		cat, ok := LookupCategory(name)
		if !ok {
			return nil, fmt.Errorf("%w: unknown taxonomy category %q", ErrInvalid, name)
		}
		if cat.Name != name {
			delete(in.Taxonomy, name)
		}
		opts := SplitOptions(strings.Join(cl.Options, ","))
		for _, o := range opts {
			if !cat.HasOption(o) {
				warnings = append(warnings, fmt.Sprintf("%s: option %q is not in the vocabulary", cat.Name, o))
			}
		}
		cl.Options = opts
		cl.Rationale = strings.TrimSpace(cl.Rationale)
		if len(opts) == 0 {
			// An empty cell means not assessed; a rationale alone does not
			// make an assessment.
			delete(in.Taxonomy, name)
			continue
		}
		in.Taxonomy[cat.Name] = cl
	}
	// Source lines are trimmed and blank ones dropped, as every reader
	// does, so that no source and an empty list are the same (nil).
	var sources []string
	for _, s := range in.Sources {
		if s = strings.TrimSpace(s); s != "" {
			sources = append(sources, s)
		}
	}
	in.Sources = sources
	if in.Articles == nil {
		in.Articles = []int64{}
	}
	return warnings, nil
}

// Options returns the incident's options in the category, nil when the
// category was not assessed.
func (in *Incident) Options(category string) []string {
	return in.Taxonomy[category].Options
}

// Assessed reports whether the incident has options in the category.
func (in *Incident) Assessed(category string) bool {
	return len(in.Taxonomy[category].Options) > 0
}

// Year returns the publication year, or 0 if the date is invalid.
func (in *Incident) Year() int {
	d, err := ParseDate(in.Published)
	if err != nil {
		return 0
	}
	return d.Year()
}

// The range of publication years an incident may have.
const (
	MinYear = 1900
	MaxYear = 2200
)

// DateLayout is the layout of Incident.Published.
const DateLayout = "2006-01-02"

var datePrefix = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:$|[T ])`)

// ParseDate parses a publication date written as YYYY-MM-DD, optionally
// followed by a time ("2020-09-18 07:00:00+00:00", "2020-09-18T07:00:00Z");
// only the calendar date is kept. Impossible dates such as 2019-02-30 fail.
func ParseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	m := datePrefix.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("%q is not a date (want YYYY-MM-DD)", Truncate(s, 40))
	}
	t, err := time.Parse(DateLayout, s[:10])
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a valid date", s[:10])
	}
	return t, nil
}

var (
	articleList = regexp.MustCompile(`\[\s*((?:Article\s+)?\d{1,12}(?:\s*,\s*(?:Article\s+)?\d{1,12})*)\s*\]`)
	digits      = regexp.MustCompile(`\d+`)
	// articleListAt is articleList anchored at the start of the text.
	articleListAt = regexp.MustCompile(`^(?:` + articleList.String() + `)`)
)

// ArticleIDs returns the news-article ids cited in texts, in order of first
// appearance: "[71241]", "[103796, 103828]" and "[Article 71241]" forms.
func ArticleIDs(texts ...string) []int64 {
	ids := []int64{}
	seen := map[int64]bool{}
	for _, t := range texts {
		// The matches of articleList, found by trying the anchored form at
		// each '[' (every match starts with one), which skips the scan of
		// long texts by the regexp engine.
		for from := 0; ; {
			i := strings.IndexByte(t[from:], '[')
			if i < 0 {
				break
			}
			i += from
			loc := articleListAt.FindStringSubmatchIndex(t[i:])
			if loc == nil {
				from = i + 1
				continue
			}
			for _, d := range digits.FindAllString(t[i+loc[2]:i+loc[3]], -1) {
				n, err := strconv.ParseInt(d, 10, 64)
				if err != nil || seen[n] {
					continue
				}
				seen[n] = true
				ids = append(ids, n)
			}
			from = i + loc[1]
		}
	}
	return ids
}
