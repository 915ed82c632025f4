package server

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/faildex/faildex/index"
)

// textView is prose split for reading: a numbered list when the text is
// "1. ... 2. ...", a lettered one for "(a) ... (b) ...", else paragraphs.
type textView struct {
	Paras   []string
	Items   []string
	Letters bool
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

// displayDate formats a YYYY-MM-DD date for reading: "24 May 2018".
func displayDate(d string) string {
	t, err := time.Parse(index.DateLayout, d)
	if err != nil {
		return d
	}
	return t.Format("2 January 2006")
}

// plural counts n of word: "1 article", "4 articles".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// countLabel counts incidents in words: "No incidents", "1 incident".
func countLabel(n uint64) string {
	switch n {
	case 0:
		return "No incidents"
	case 1:
		return "1 incident"
	}
	return strconv.FormatUint(n, 10) + " incidents"
}

// optionDefinition returns the definition of one of c's options, or ""
// for an option outside the vocabulary.
func optionDefinition(c *index.Category, v string) string {
	if o := c.Option(v); o != nil {
		return o.Definition
	}
	return ""
}
