package main

import (
	"fmt"
	"os"

	"github.com/faildex/faildex/data"
	"github.com/faildex/faildex/index"
)

// defaultGazetteer returns the shipped organisation gazetteer.
func defaultGazetteer() *index.Gazetteer {
	g, err := index.ParseGazetteer(data.OrganisationsName, data.Organisations)
	if err != nil {
		panic(err) // the embedded file is checked by the tests
	}
	return g
}

// gazetteer returns the shipped gazetteer extended with the user's files
// (--organisations, repeatable).
func gazetteer(files []string) (*index.Gazetteer, error) {
	g := defaultGazetteer()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--organisations: %w", err)
		}
		if err := g.Add(f, b); err != nil {
			return nil, fmt.Errorf("--organisations: %w", err)
		}
	}
	return g, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return fmt.Sprint([]string(*l)) }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }
