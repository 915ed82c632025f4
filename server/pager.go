package server

import "github.com/faildex/faildex/search"

// pagerAround is the number of page links either side of the current one.
const pagerAround = 2

// pager links a search's pages: the previous and next ones, the first and
// last, and those around the current one, with gaps marked.
type pager struct {
	Prev, Next string
	Pages      []pageLink
}

type pageLink struct {
	N       int
	Href    string
	Current bool
	Gap     bool // an ellipsis
}

// newPager returns the pager of a result, or nil when it has one page.
func newPager(req search.Request, res *search.Result) *pager {
	if res.Pages <= 1 {
		return nil
	}
	link := func(n int) string {
		q := req.Clone()
		q.Page = n
		return searchPageURL(q)
	}
	p := &pager{}
	if res.Page > 1 {
		p.Prev = link(min(res.Page-1, res.Pages))
	}
	if res.Page < res.Pages {
		p.Next = link(res.Page + 1)
	}
	last := 0
	for n := 1; n <= res.Pages; n++ {
		if n != 1 && n != res.Pages && (n < res.Page-pagerAround || n > res.Page+pagerAround) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Pages = append(p.Pages, pageLink{Gap: true})
		}
		p.Pages = append(p.Pages, pageLink{N: n, Href: link(n), Current: n == res.Page})
		last = n
	}
	return p
}
