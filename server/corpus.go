package server

import (
	"context"
	"fmt"
	"net/http"
	"sync"

	"github.com/faildex/faildex/search"
)

// Corpus describes what an index holds: how many incidents, published in
// which years.
type Corpus struct {
	Incidents uint64
	// First and Last are the years of the oldest and newest publication
	// dates (0 when no incident has a date).
	First, Last int
}

// String reads "51 incidents, 1986–2024".
func (c Corpus) String() string {
	if c.Incidents == 0 {
		return "no incidents"
	}
	s := countLabel(c.Incidents)
	switch {
	case c.First == 0:
	case c.First == c.Last:
		s += fmt.Sprintf(", %d", c.First)
	default:
		s += fmt.Sprintf(", %d–%d", c.First, c.Last)
	}
	return s
}

// Describe counts the incidents of eng and the years they span, with one
// search for everything.
func Describe(ctx context.Context, eng Searcher) (Corpus, error) {
	res, err := eng.Search(ctx, search.Request{Size: 1})
	if err != nil {
		return Corpus{}, err
	}
	c := Corpus{Incidents: res.Total}
	for _, y := range res.Years {
		if y.Count == 0 {
			continue
		}
		if c.First == 0 || y.Year < c.First {
			c.First = y.Year
		}
		if y.Year > c.Last {
			c.Last = y.Year
		}
	}
	return c, nil
}

// corpusCache remembers the Corpus of the engine it was last asked about,
// so that pages show it without a search of their own; a reload brings a
// new engine and so a new description.
type corpusCache struct {
	mu  sync.Mutex
	eng Searcher
	c   Corpus
}

func (cc *corpusCache) get(ctx context.Context, eng Searcher) (Corpus, error) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.eng == eng {
		return cc.c, nil
	}
	c, err := Describe(ctx, eng)
	if err != nil {
		return Corpus{}, err
	}
	cc.eng, cc.c = eng, c
	return c, nil
}

// corpusLabel describes the current index for a page's footer; "" when it
// cannot (the page is still worth showing).
func (s *Server) corpusLabel(r *http.Request, eng Searcher) string {
	c, err := s.corpus.get(r.Context(), eng)
	if err != nil {
		return ""
	}
	return c.String()
}

// tookLabel reads a search's duration in milliseconds as "3 ms", or
// "under 1 ms".
func tookLabel(ms float64) string {
	if ms < 1 {
		return "under 1 ms"
	}
	return fmt.Sprintf("%.0f ms", ms)
}
