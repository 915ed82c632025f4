package index

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// FieldCard is the stored field holding an incident's Card.
const FieldCard = "_card"

// Card is the part of an incident that a list of results shows when no
// words are highlighted. It is stored beside the full incident so that such
// lists need not decode whole reports.
type Card struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Published string `json:"published"`
	Articles  int    `json:"articles"`
	// Lead is the start of the first non-empty of Summary, SoftwareCauses
	// and Impacts, with each run of white space made one space, cut to at
	// least CardLeadBytes bytes where the text is that long.
	Lead string `json:"lead,omitempty"`
	// Options holds the incident's values of each facet it has values in
	// (Incident.FacetValues).
	Options map[string][]string `json:"options,omitempty"`
}

// CardLeadBytes bounds Card.Lead. Lead is the whole collapsed text when it
// is shorter and never less than CardLeadBytes-3 bytes otherwise (it ends
// at a character boundary), so that any cut to fewer bytes reads the same
// from the lead as from the full text.
const CardLeadBytes = 600

// CardOf returns the card of an incident.
func CardOf(in *Incident) Card {
	c := Card{ID: in.ID, Title: in.Title, Published: in.Published, Articles: len(in.Articles)}
	s := in.Summary
	if s == "" {
		s = in.SoftwareCauses
	}
	if s == "" {
		s = in.Impacts
	}
	s = collapsePrefix(s, CardLeadBytes)
	if len(s) > CardLeadBytes {
		n := CardLeadBytes
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s = s[:n]
	}
	c.Lead = s
	for _, cat := range Facets {
		if o := in.FacetValues(cat.Name); len(o) > 0 {
			if c.Options == nil {
				c.Options = map[string][]string{}
			}
			c.Options[cat.Name] = o
		}
	}
	return c
}

// collapsePrefix returns strings.Join(strings.Fields(s), " ") cut after at
// least n bytes (or all of it), without collapsing the whole of a long s.
func collapsePrefix(s string, n int) string {
	var b strings.Builder
	for _, f := range strings.Fields(s) {
		if b.Len() > n {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f)
	}
	return b.String()
}

// DecodeCard decodes a stored card.
func DecodeCard(b []byte) (Card, error) {
	var c Card
	err := json.Unmarshal(b, &c)
	return c, err
}
