package index

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Organisation facets: the canonical organisations an incident's
// Responsible Organization and Impacted Organization fields mention, tagged
// when the index is built by matching a Gazetteer's aliases. Each is a
// multi-valued keyword field like a category; its values are the names'
// slugs (OrgSlug) and FieldOrgNames maps them back to the names.
const (
	FieldResponsibleOrgs = "responsible_org"
	FieldImpactedOrgs    = "impacted_org"
	// FieldOrgNames holds, for every organisation an incident is tagged
	// with, the term "slug<TAB>Canonical Name"; its dictionary is the
	// labels of the organisation facets' values.
	FieldOrgNames = "org_names"
)

// GroupOrganisations is the group of the organisation facets.
const GroupOrganisations = "Organisations"

// OrgFacets are the organisation facets. Their Options are empty: their
// values are the organisations of the gazetteer the index was built with.
var OrgFacets = []Category{
	{Name: FieldResponsibleOrgs, Label: "Responsible organisation", Group: GroupOrganisations,
		Definition: "Organisations named in the report's Responsible Organization field (tagged from the organisation gazetteer)."},
	{Name: FieldImpactedOrgs, Label: "Impacted organisation", Group: GroupOrganisations,
		Definition: "Organisations named in the report's Impacted Organization field (tagged from the organisation gazetteer)."},
}

// Facets lists every facet of the index: the 16 taxonomy categories in
// their order, then the organisation facets. It must not be modified.
var Facets = append(append([]Category(nil), Taxonomy...), OrgFacets...)

var facetByName = func() map[string]*Category {
	m := make(map[string]*Category, len(Facets))
	for i := range Facets {
		m[Facets[i].Name] = &Facets[i]
	}
	return m
}()

// LookupFacet returns the taxonomy category or organisation facet with the
// given field name (case-insensitive) and whether it exists.
func LookupFacet(name string) (*Category, bool) {
	c, ok := facetByName[strings.ToLower(strings.TrimSpace(name))]
	return c, ok
}

// FacetNames lists the facets' field names in the order of Facets.
func FacetNames() []string {
	names := make([]string, len(Facets))
	for i, c := range Facets {
		names[i] = c.Name
	}
	return names
}

// IsOrgFacet reports whether name is an organisation facet's field name.
func IsOrgFacet(name string) bool {
	return name == FieldResponsibleOrgs || name == FieldImpactedOrgs
}

// OrgSlug is the facet value of an organisation: its name as options are
// written ("European Space Agency" -> "european_space_agency"), so that
// "responsible_org=Amazon" and "responsible_org=amazon" both select it.
func OrgSlug(name string) string { return NormalizeOption(name) }

// Organisations returns the incident's tagged organisations of one
// organisation facet (nil for any other name).
func (in *Incident) Organisations(facet string) []string {
	switch facet {
	case FieldResponsibleOrgs:
		return in.ResponsibleOrgs
	case FieldImpactedOrgs:
		return in.ImpactedOrgs
	}
	return nil
}

// A Gazetteer maps aliases of organisations to their canonical names. Its
// file format, one organisation per line:
//
//	# comment
//	Canonical Name: alias, alias, ...
//
// The canonical name is itself an alias; the aliases are optional. The first
// colon ends the name. Lines naming the same organisation add aliases to it.
// An alias matches whole words, ignoring case, punctuation and accents
// ("Amazon's", "AMAZON" and "amazon" match "Amazon"; "Amazonia" does not),
// except that an alias written in capitals of at most four letters ("ESA",
// "TSB", "BA") matches only in capitals. Where aliases overlap, the longest
// wins ("Amazon Web Services" is not also "Amazon").
type Gazetteer struct {
	names   []string          // canonical names, in order of definition
	slugs   map[string]string // slug -> canonical name
	aliases map[string]string // alias key -> canonical name
	byFirst map[string][]gazAlias
}

// gazAlias is one alias as words.
type gazAlias struct {
	words []string // folded words
	exact []string // the words as written, for aliases matched in capitals only; nil otherwise
	name  string
}

// NewGazetteer returns an empty gazetteer.
func NewGazetteer() *Gazetteer {
	return &Gazetteer{slugs: map[string]string{}, aliases: map[string]string{}, byFirst: map[string][]gazAlias{}}
}

// Limits of a gazetteer file.
const (
	maxGazetteerLine    = 4096
	maxGazetteerAliases = 10000
)

// ParseGazetteer reads a gazetteer file into a new gazetteer; errors name
// the file and line.
func ParseGazetteer(name string, data []byte) (*Gazetteer, error) {
	g := NewGazetteer()
	if err := g.Add(name, data); err != nil {
		return nil, err
	}
	return g, nil
}

// Add reads a gazetteer file into g, extending it: new organisations, and
// new aliases of organisations g has. An alias of two organisations (in g
// or the file) and two names with the same slug are errors.
func (g *Gazetteer) Add(name string, data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("%s: not valid UTF-8", name)
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		at := fmt.Sprintf("%s:%d", name, i+1)
		if len(line) > maxGazetteerLine {
			return fmt.Errorf("%s: line is %d bytes; the limit is %d", at, len(line), maxGazetteerLine)
		}
		canon, rest, _ := strings.Cut(line, ":")
		canon = strings.Join(strings.Fields(canon), " ")
		if len(gazWords(canon)) == 0 {
			return fmt.Errorf("%s: %q is not an organisation name (want \"Name: alias, alias\")", at, Truncate(canon, 40))
		}
		if err := g.define(canon); err != nil {
			return fmt.Errorf("%s: %v", at, err)
		}
		aliases := []string{canon}
		if strings.TrimSpace(rest) != "" {
			for _, a := range strings.Split(rest, ",") {
				a = strings.Join(strings.Fields(a), " ")
				if len(gazWords(a)) == 0 {
					return fmt.Errorf("%s: empty alias (two commas in a row, a comma at the end, or no letters or digits)", at)
				}
				aliases = append(aliases, a)
			}
		}
		for _, a := range aliases {
			if err := g.alias(a, canon); err != nil {
				return fmt.Errorf("%s: %v", at, err)
			}
		}
		if len(g.aliases) > maxGazetteerAliases {
			return fmt.Errorf("%s: more than %d aliases", at, maxGazetteerAliases)
		}
	}
	return nil
}

// define adds an organisation unless g has it.
func (g *Gazetteer) define(canon string) error {
	slug := OrgSlug(canon)
	if prev, ok := g.slugs[slug]; ok {
		if prev != canon {
			return fmt.Errorf("%q and %q are the same organisation name; write it one way", prev, canon)
		}
		return nil
	}
	if strings.ContainsAny(canon, "\t\n") {
		return fmt.Errorf("%q: a name may not contain tabs", canon)
	}
	g.slugs[slug] = canon
	g.names = append(g.names, canon)
	return nil
}

// alias makes a an alias of canon.
func (g *Gazetteer) alias(a, canon string) error {
	words := gazWords(a)
	key := strings.Join(words, " ")
	exact := capitalsOnly(a)
	if exact {
		key = "=" + a
	}
	if prev, ok := g.aliases[key]; ok {
		if prev != canon {
			return fmt.Errorf("alias %q is already an alias of %q", a, prev)
		}
		return nil
	}
	g.aliases[key] = canon
	ga := gazAlias{words: words, name: canon}
	if exact {
		ga.exact = []string{a}
	}
	list := append(g.byFirst[words[0]], ga)
	// Longest first, so that the first alias matching wins.
	sort.SliceStable(list, func(i, j int) bool { return len(list[i].words) > len(list[j].words) })
	g.byFirst[words[0]] = list
	return nil
}

// capitalsOnly reports whether an alias matches only in capitals: one
// word of two to four letters, all upper case.
func capitalsOnly(a string) bool {
	n := utf8.RuneCountInString(a)
	if n < 2 || n > 4 {
		return false
	}
	for _, r := range a {
		if !unicode.IsUpper(r) {
			return false
		}
	}
	return true
}

// Len returns the number of organisations.
func (g *Gazetteer) Len() int { return len(g.names) }

// AliasCount returns the number of aliases, canonical names included.
func (g *Gazetteer) AliasCount() int { return len(g.aliases) }

// Names returns the canonical names in order of definition.
func (g *Gazetteer) Names() []string { return append([]string(nil), g.names...) }

// Match returns the canonical names of the organisations text mentions, in
// order of first mention, each once.
func (g *Gazetteer) Match(text string) []string {
	if g == nil || text == "" {
		return nil
	}
	toks := gazTokens(text)
	var out []string
	for i := 0; i < len(toks); {
		n := 1
		for _, a := range g.byFirst[toks[i].folded] {
			if a.matches(toks[i:]) {
				if !containsString(out, a.name) {
					out = append(out, a.name)
				}
				n = len(a.words)
				break
			}
		}
		i += n
	}
	return out
}

func (a gazAlias) matches(toks []gazToken) bool {
	if len(toks) < len(a.words) {
		return false
	}
	for j, w := range a.words {
		if toks[j].folded != w {
			return false
		}
	}
	return a.exact == nil || toks[0].raw == a.exact[0]
}

// Tag sets the incident's organisations from its organisation fields; a
// nil gazetteer clears them.
func (g *Gazetteer) Tag(in *Incident) {
	in.ResponsibleOrgs = g.Match(in.ResponsibleOrg)
	in.ImpactedOrgs = g.Match(in.ImpactedOrg)
}

// Slugs returns the facet value of each name.
func orgSlugs(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = OrgSlug(n)
	}
	return out
}

// gazToken is one word of a text: a run of letters and digits.
type gazToken struct {
	raw    string // as written (NFC)
	folded string // lower case, accents removed
}

// gazTokens splits text into words: runs of letters and digits, so that
// punctuation ("AT&T", "U.S.", "Amazon's") separates words.
func gazTokens(text string) []gazToken {
	text = norm.NFKC.String(text)
	var toks []gazToken
	start := -1
	for i, r := range text {
		word := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			toks = append(toks, gazToken{raw: text[start:i], folded: foldWord(text[start:i])})
			start = -1
		}
	}
	if start >= 0 {
		toks = append(toks, gazToken{raw: text[start:], folded: foldWord(text[start:])})
	}
	return toks
}

// gazWords returns the folded words of an alias.
func gazWords(s string) []string {
	toks := gazTokens(s)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.folded
	}
	return out
}

// foldWord lower-cases a word and removes its accents ("Études" -> "etudes").
func foldWord(w string) string {
	d := norm.NFD.String(strings.ToLower(w))
	var b strings.Builder
	for _, r := range d {
		if !unicode.Is(unicode.Mn, r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addOrganisations adds the incident's tagged organisations to its
// document: the slugs in the facet fields, and each organisation's slug
// and name in FieldOrgNames.
func addOrganisations(doc map[string]any, in *Incident) {
	var names []string
	for _, f := range OrgFacets {
		orgs := in.Organisations(f.Name)
		if len(orgs) == 0 {
			continue
		}
		doc[f.Name] = orgSlugs(orgs)
		for _, o := range orgs {
			if t := OrgSlug(o) + "\t" + o; !containsString(names, t) {
				names = append(names, t)
			}
		}
	}
	if len(names) > 0 {
		doc[FieldOrgNames] = names
	}
}

// FacetValues returns the incident's values of a facet: its options in a
// category, the slugs of its tagged organisations in an organisation facet.
func (in *Incident) FacetValues(facet string) []string {
	if IsOrgFacet(facet) {
		if orgs := in.Organisations(facet); len(orgs) > 0 {
			return orgSlugs(orgs)
		}
		return nil
	}
	return in.Options(facet)
}
