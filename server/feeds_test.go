package server_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/mmcdole/gofeed/atom"
	jsonfeed "github.com/mmcdole/gofeed/json"

	"github.com/faildex/faildex/server"
)

var urnUUID = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// strictAtom is the part of RFC 4287 that the tests hold the feed to,
// decoded without a feed library's leniency.
type strictAtom struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	IDs     []string `xml:"id"`
	Titles  []string `xml:"title"`
	Updated []string `xml:"updated"`
	Authors []struct {
		Name string `xml:"name"`
	} `xml:"author"`
	Links []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		IDs       []string `xml:"id"`
		Titles    []string `xml:"title"`
		Updated   []string `xml:"updated"`
		Published []string `xml:"published"`
		Summaries []string `xml:"summary"`
		Links     []struct {
			Rel  string `xml:"rel,attr"`
			Href string `xml:"href,attr"`
		} `xml:"link"`
	} `xml:"entry"`
}

// checkAtom holds a feed to RFC 4287's rules: one id, title and updated
// per feed and entry, an author, RFC 3339 dates, an alternate link per
// entry, unique ids, and entries newest first.
func checkAtom(tb testing.TB, body string) strictAtom {
	tb.Helper()
	var f strictAtom
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		tb.Fatalf("not an Atom document: %v", err)
	}
	if len(f.IDs) != 1 || len(f.Titles) != 1 || len(f.Updated) != 1 {
		tb.Errorf("feed has %d ids, %d titles, %d updated; want one each", len(f.IDs), len(f.Titles), len(f.Updated))
	}
	if len(f.Authors) == 0 || f.Authors[0].Name == "" {
		tb.Error("feed has no author")
	}
	self := false
	for _, l := range f.Links {
		self = self || l.Rel == "self"
	}
	if !self {
		tb.Error("feed has no rel=self link")
	}
	rfc3339 := func(what, s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			tb.Errorf("%s %q is not RFC 3339", what, s)
		}
		return t
	}
	for _, u := range f.Updated {
		rfc3339("feed updated", u)
	}
	ids := map[string]bool{}
	var prev time.Time
	for i, e := range f.Entries {
		if len(e.IDs) != 1 || len(e.Titles) != 1 || len(e.Updated) != 1 || len(e.Published) != 1 || len(e.Summaries) > 1 {
			tb.Errorf("entry %d: %d ids, %d titles, %d updated, %d published, %d summaries", i, len(e.IDs), len(e.Titles), len(e.Updated), len(e.Published), len(e.Summaries))
			continue
		}
		if !urnUUID.MatchString(e.IDs[0]) || ids[e.IDs[0]] {
			tb.Errorf("entry %d: id %q is not a unique urn:uuid", i, e.IDs[0])
		}
		ids[e.IDs[0]] = true
		rfc3339("updated", e.Updated[0])
		pub := rfc3339("published", e.Published[0])
		if i > 0 && pub.After(prev) {
			tb.Errorf("entry %d (%s) is newer than the one before it (%s)", i, pub, prev)
		}
		prev = pub
		alt := false
		for _, l := range e.Links {
			alt = alt || (l.Rel == "alternate" && strings.Contains(l.Href, "/incidents/"))
		}
		if !alt {
			tb.Errorf("entry %d has no alternate link to its incident", i)
		}
	}
	return f
}

// TestAtomFeed reads the Atom feed of "ransomware with consequence death"
// with a real feed parser and checks it against RFC 4287.
func TestAtomFeed(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	base := f.listen(t)
	resp, body := download(t, base+"/feed.atom?q=ransomware&consequence=death")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/atom+xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	checkAtom(t, string(body))

	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if feed.FeedType != "atom" || feed.FeedVersion != "1.0" {
		t.Errorf("parsed as %s %s, want atom 1.0", feed.FeedType, feed.FeedVersion)
	}
	if feed.Title != "faildex: ransomware, consequence: Death" {
		t.Errorf("title %q", feed.Title)
	}
	if len(feed.Items) != 1 {
		t.Fatalf("%d items, want the Düsseldorf attack", len(feed.Items))
	}
	it := feed.Items[0]
	if !strings.Contains(it.Title, "Düsseldorf") || it.Link != base+"/incidents/"+ransomID ||
		it.PublishedParsed == nil || it.PublishedParsed.Format("2006-01-02") != "2020-09-17" ||
		!strings.HasPrefix(it.Description, "A ransomware attack encrypted 30 servers") {
		t.Errorf("item: title %q link %q published %v description %.60q", it.Title, it.Link, it.PublishedParsed, it.Description)
	}
	cats := strings.Join(it.Categories, ",")
	if !strings.Contains(cats, "Consequence: Death") || !strings.Contains(cats, "Domain: Health") {
		t.Errorf("categories %q lack death and health", cats)
	}

	// Ids are stable: the same for every request and every host name.
	w := f.do(t, http.MethodGet, "/feed.atom?consequence=death&q=ransomware")
	again := checkAtom(t, w.Body.String())
	if len(again.Entries) != 1 || again.Entries[0].IDs[0] != it.GUID {
		t.Errorf("entry id %q on another host, %q before", again.Entries[0].IDs[0], it.GUID)
	}
	if first := checkAtom(t, string(body)); first.IDs[0] != again.IDs[0] {
		t.Errorf("feed id %q, then %q for the same search", first.IDs[0], again.IDs[0])
	}
}

// TestAtomFeedPages checks a large feed: newest first whatever sort says,
// RFC 5005 next/previous links that a reader can follow to the end.
func TestAtomFeedPages(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	base := f.listen(t)
	next := base + "/feed.atom?size=10&sort=title"
	seen := map[string]bool{}
	var last time.Time
	for page := 1; next != ""; page++ {
		if page > 10 {
			t.Fatal("next links do not end")
		}
		resp, body := download(t, next)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", next, resp.StatusCode)
		}
		checkAtom(t, string(body))
		feed, err := (&atom.Parser{}).Parse(strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		next = ""
		prev := false
		for _, l := range feed.Links {
			switch l.Rel {
			case "next":
				next = l.Href
			case "previous":
				prev = true
			}
		}
		if prev != (page > 1) {
			t.Errorf("page %d: previous link %v", page, prev)
		}
		for _, e := range feed.Entries {
			if seen[e.ID] {
				t.Errorf("%s on two pages", e.ID)
			}
			seen[e.ID] = true
			if !last.IsZero() && e.PublishedParsed.After(last) {
				t.Errorf("%s published %s after an older entry", e.Title, e.PublishedParsed)
			}
			last = *e.PublishedParsed
		}
	}
	if len(seen) != 35 {
		t.Errorf("the pages list %d incidents, want 35", len(seen))
	}

	w := f.get(t, "/feed.atom?from=nope")
	mustStatus(t, w, http.StatusBadRequest)
}

// TestJSONFeed reads the JSON Feed 1.1 of a search with a real parser and
// checks the fields the spec requires.
func TestJSONFeed(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	base := f.listen(t)
	resp, body := download(t, base+"/feed.json?q=ransomware&consequence=death")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/feed+json; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	feed, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		t.Fatal(err)
	}
	if feed.FeedType != "json" || feed.FeedVersion != "https://jsonfeed.org/version/1.1" {
		t.Errorf("parsed as %s %s, want JSON Feed 1.1", feed.FeedType, feed.FeedVersion)
	}
	jf, err := (&jsonfeed.Parser{}).Parse(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.Title == "" || jf.FeedURL != base+"/feed.json?consequence=death&q=ransomware" ||
		jf.HomePageURL != base+"/?consequence=death&q=ransomware" {
		t.Errorf("feed: version %q title %q feed_url %q home_page_url %q", jf.Version, jf.Title, jf.FeedURL, jf.HomePageURL)
	}
	if len(jf.Items) != 1 {
		t.Fatalf("%d items", len(jf.Items))
	}
	it := jf.Items[0]
	if !urnUUID.MatchString(it.ID) || it.URL != base+"/incidents/"+ransomID || it.ContentText == "" {
		t.Errorf("item: id %q url %q content_text %q", it.ID, it.URL, it.ContentText)
	}
	if _, err := time.Parse(time.RFC3339, it.DatePublished); err != nil {
		t.Errorf("date_published %q: %v", it.DatePublished, err)
	}

	// The same incident has the same id in both feeds.
	atomFeed, err := gofeed.NewParser().ParseString(f.get(t, "/feed.atom?q=ransomware&consequence=death").Body.String())
	if err != nil {
		t.Fatal(err)
	}
	if atomFeed.Items[0].GUID != it.ID {
		t.Errorf("Atom id %q, JSON Feed id %q", atomFeed.Items[0].GUID, it.ID)
	}

	// next_url pages through everything.
	next := base + "/feed.json?size=15"
	n := 0
	for pages := 0; next != ""; pages++ {
		if pages > 5 {
			t.Fatal("next_url does not end")
		}
		_, body := download(t, next)
		var page struct {
			NextURL string            `json:"next_url"`
			Items   []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatal(err)
		}
		n += len(page.Items)
		next = page.NextURL
	}
	if n != 35 {
		t.Errorf("next_url pages list %d incidents, want 35", n)
	}
}
