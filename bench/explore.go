package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"

	"github.com/faildex/faildex/search"
)

// onceExplore runs one exploring request (a pivot, similar incidents or a
// facet value search), encodes it as the API would, and returns the
// number of incidents it counted over (for similar incidents, the number
// listed).
func onceExplore(ctx context.Context, eng *search.Engine, c Class, w io.Writer) (uint64, map[string]uint64, error) {
	var out any
	var total uint64
	switch {
	case c.Rows != "":
		pv, err := eng.Pivot(ctx, c.Req, c.Rows, c.Cols)
		if err != nil {
			return 0, nil, err
		}
		out, total = pv, pv.Total
	case c.Similar != nil:
		c, err := resolveClass(ctx, eng, c)
		if err != nil {
			return 0, nil, err
		}
		sim, err := eng.Similar(ctx, c.similarID, search.DefaultSimilar)
		if err != nil {
			return 0, nil, err
		}
		out, total = sim, uint64(len(sim.Similar))
	default:
		fv, err := eng.FacetValues(ctx, c.Req, c.FacetCategory, c.FacetPrefix)
		if err != nil {
			return 0, nil, err
		}
		out, total = fv, fv.Total
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return 0, nil, err
	}
	return total, nil, nil
}

// resolveClass finds the incident of a similar-incidents class, so that
// finding it is not timed.
func resolveClass(ctx context.Context, eng *search.Engine, c Class) (Class, error) {
	if c.Similar == nil || c.similarID != "" {
		return c, nil
	}
	res, err := eng.Search(ctx, *c.Similar)
	if err != nil {
		return c, err
	}
	if len(res.Hits) == 0 {
		return c, errors.New("bench: no incident to find similar ones of")
	}
	c.similarID = res.Hits[0].ID
	return c, nil
}
