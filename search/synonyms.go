package search

import (
	_ "embed"
	"fmt"
	"strings"
	"unicode/utf8"
)

// defaultSynonyms is the curated synonym file shipped with faildex.
//
//go:embed synonyms.txt
var defaultSynonyms []byte

// Limits on a synonym file.
const (
	maxSynonymLine    = 2000
	maxSynonymEntries = 64
)

// Synonyms holds sets of words and phrases that mean the same. Every entry
// of a set matches every other entry.
type Synonyms struct {
	sets [][]string
}

// DefaultSynonyms returns the synonym sets shipped with faildex.
func DefaultSynonyms() *Synonyms {
	s, err := ParseSynonyms("synonyms.txt", defaultSynonyms)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return s
}

// ParseSynonyms reads a synonym file: one set per line, entries separated
// by commas, '#' starting a comment line. Errors name the file and line.
func ParseSynonyms(name string, data []byte) (*Synonyms, error) {
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s: not valid UTF-8", name)
	}
	s := &Synonyms{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if len(line) > maxSynonymLine {
			return nil, fmt.Errorf("%s:%d: line is %d bytes; the limit is %d", name, i+1, len(line), maxSynonymLine)
		}
		var set []string
		for _, e := range strings.Split(line, ",") {
			e = strings.Join(strings.Fields(e), " ")
			if e == "" {
				return nil, fmt.Errorf("%s:%d: empty entry (two commas in a row, or a comma at the end)", name, i+1)
			}
			if !hasWordChars(e) {
				return nil, fmt.Errorf("%s:%d: entry %q has no letters or digits", name, i+1, e)
			}
			set = append(set, e)
		}
		if len(set) < 2 {
			return nil, fmt.Errorf("%s:%d: a set needs at least two entries separated by commas", name, i+1)
		}
		if len(set) > maxSynonymEntries {
			return nil, fmt.Errorf("%s:%d: %d entries; the limit is %d", name, i+1, len(set), maxSynonymEntries)
		}
		s.sets = append(s.sets, set)
	}
	return s, nil
}

// With returns the sets of s followed by those of other.
func (s *Synonyms) With(other *Synonyms) *Synonyms {
	if other == nil {
		return s
	}
	out := &Synonyms{sets: append(append([][]string(nil), s.sets...), other.sets...)}
	return out
}

// Len returns the number of sets.
func (s *Synonyms) Len() int { return len(s.sets) }
