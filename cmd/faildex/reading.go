package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/faildex/faildex/search"
)

// readingFlags are the flags that set how queries are read: the user's
// synonym file and the typo thresholds.
type readingFlags struct {
	synonyms       *string
	typoOne, typo2 *int
}

func addReadingFlags(fs *flag.FlagSet) *readingFlags {
	return &readingFlags{
		synonyms: fs.String("synonyms", "", "file of synonym sets added to the shipped ones (one set a line, entries separated by commas; see the README)"),
		typoOne:  fs.Int("typo-one", search.DefaultTypos.One, "correct one typo in words of this many letters or more (0 turns it off)"),
		typo2:    fs.Int("typo-two", search.DefaultTypos.Two, "correct two typos in words of this many letters or more (0 turns it off)"),
	}
}

// options returns the engine options the flags ask for; a bad synonym file
// is an error naming the file and line.
func (f *readingFlags) options() ([]search.Option, error) {
	opts := []search.Option{search.WithTypos(search.Typos{One: *f.typoOne, Two: *f.typo2})}
	if *f.synonyms != "" {
		b, err := os.ReadFile(*f.synonyms)
		if err != nil {
			return nil, fmt.Errorf("--synonyms: %w", err)
		}
		s, err := search.ParseSynonyms(*f.synonyms, b)
		if err != nil {
			return nil, err
		}
		opts = append(opts, search.WithSynonyms(s))
	}
	return opts, nil
}
