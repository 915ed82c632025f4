package index

import (
	"fmt"
	"strconv"
	"strings"
)

// normKey folds a column or JSON key for alias matching: lower case with
// spaces, '_' and '-' removed.
func normKey(s string) string {
	s = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
	return strings.NewReplacer(" ", "", "_", "", "-", "").Replace(s)
}

// fieldAliases maps folded column/key names to incident fields. Names from
// the database's CSV export, its Django model and faildex's own JSON all
// resolve here.
var fieldAliases = map[string]string{
	"id": "id", "incidentid": "id", "pk": "id",
	"title": "title", "published": "published", "publisheddate": "published", "summary": "summary",
	"timeline": "timeline", "time": "timeline",
	"system":                  "system",
	"responsibleorganization": "responsible_organization", "responsibleorg": "responsible_organization",
	"impactedorganization": "impacted_organization", "impactedorg": "impacted_organization",
	"softwarecauses": "software_causes", "secauses": "software_causes",
	"nonsoftwarecauses": "non_software_causes", "nsecauses": "non_software_causes",
	"impacts": "impacts", "preventions": "preventions", "fixes": "fixes", "references": "references",
	"articles": "articles", "relatedarticleids": "articles", "articleids": "articles",
	"sources":  "sources",
	"taxonomy": "taxonomy",
	// The tagged organisations of an export ("responsible_orgs", CSV's
	// "Responsible Organisations") are read and dropped: a build tags
	// every incident again from its gazetteer.
	"responsibleorgs": "derived", "impactedorgs": "derived",
	"responsibleorganisations": "derived", "impactedorganisations": "derived",
}

// categoryKey resolves "<category> option", "<category>_option",
// "<category>" (options) and "<category> rationale" keys.
func categoryKey(k string) (cat string, rationale, ok bool) {
	for _, c := range Taxonomy {
		switch k {
		case c.Name, c.Name + "option", c.Name + "options":
			return c.Name, false, true
		case c.Name + "rationale":
			return c.Name, true, true
		}
	}
	return "", false, false
}

// incidentBuilder assembles an incident from named string values.
type incidentBuilder struct {
	in          Incident
	articlesSet bool
}

func newBuilder() *incidentBuilder {
	return &incidentBuilder{in: Incident{Taxonomy: map[string]Classification{}}}
}

// set assigns one value by column or key name; it reports false for names
// it does not know.
func (b *incidentBuilder) set(key, value string) (bool, error) {
	k := normKey(key)
	if f, ok := fieldAliases[k]; ok {
		switch f {
		case "id":
			b.in.ID = strings.TrimSpace(value)
		case "published":
			b.in.Published = strings.TrimSpace(value)
		case "articles":
			ids, err := parseArticleCell(value)
			if err != nil {
				return true, err
			}
			b.in.Articles, b.articlesSet = ids, true
		case "sources":
			for _, l := range strings.Split(value, "\n") {
				if l = strings.TrimSpace(l); l != "" {
					b.in.Sources = append(b.in.Sources, l)
				}
			}
		case "taxonomy":
			return false, nil
		case "derived":
		default:
			*fieldPtr(&b.in, f) = value
		}
		return true, nil
	}
	if cat, rat, ok := categoryKey(k); ok {
		cl := b.in.Taxonomy[cat]
		if rat {
			cl.Rationale = value
		} else {
			cl.Options = SplitOptions(strings.ReplaceAll(value, ";", ","))
		}
		b.in.Taxonomy[cat] = cl
		return true, nil
	}
	return false, nil
}

// finish validates the incident and, when no article column was given,
// collects the article ids cited in its text.
func (b *incidentBuilder) finish() (Incident, []string, error) {
	in := b.in
	if !b.articlesSet {
		var texts []string
		for _, f := range TextFields {
			texts = append(texts, *f.Get(&in))
		}
		for _, c := range Taxonomy {
			texts = append(texts, in.Taxonomy[c.Name].Rationale)
		}
		in.Articles = ArticleIDs(texts...)
	}
	w, err := in.Validate()
	return in, w, err
}

// parseArticleCell reads "[104834]", "[106334, 106355]", "[Article 1]",
// "104834; 106355" or an empty cell.
func parseArticleCell(s string) ([]int64, error) {
	s = strings.TrimSpace(s)
	ids := []int64{}
	if s == "" || s == "[]" {
		return ids, nil
	}
	inner := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	for _, part := range strings.FieldsFunc(inner, func(r rune) bool { return r == ',' || r == ';' }) {
		part = strings.TrimSpace(part)
		part = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(part, "Article"), "article"))
		n, err := strconv.ParseInt(part, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("article ids: %q is not a number", Truncate(part, 30))
		}
		ids = append(ids, n)
	}
	return ids, nil
}
