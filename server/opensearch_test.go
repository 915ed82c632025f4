package server_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"

	"github.com/faildex/faildex/server"
)

// openSearchDoc is an OpenSearch 1.1 description document.
type openSearchDoc struct {
	XMLName       xml.Name `xml:"http://a9.com/-/spec/opensearch/1.1/ OpenSearchDescription"`
	ShortName     string   `xml:"ShortName"`
	Description   string   `xml:"Description"`
	InputEncoding string   `xml:"InputEncoding"`
	URLs          []struct {
		Type     string `xml:"type,attr"`
		Rel      string `xml:"rel,attr"`
		Template string `xml:"template,attr"`
	} `xml:"Url"`
}

// fillTemplate fills an OpenSearch URL template: searchTerms with terms,
// optional parameters left out.
func fillTemplate(tmpl, terms string) string {
	s := strings.ReplaceAll(tmpl, "{searchTerms}", strings.ReplaceAll(terms, " ", "+"))
	for _, opt := range []string{"&page={startPage?}", "&size={count?}"} {
		s = strings.ReplaceAll(s, opt, "")
	}
	return s
}

// TestOpenSearch reads /opensearch.xml as a browser does and searches
// through its JSON and Atom templates.
func TestOpenSearch(t *testing.T) {
	f := newEmbFixture(t, server.Config{})
	base := f.listen(t)
	resp, body := download(t, base+"/opensearch.xml")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/opensearchdescription+xml; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	var d openSearchDoc
	if err := xml.Unmarshal(body, &d); err != nil {
		t.Fatalf("%v:\n%s", err, body)
	}
	if d.ShortName == "" || len(d.ShortName) > 16 || d.Description == "" || len(d.Description) > 1024 || d.InputEncoding != "UTF-8" {
		t.Errorf("ShortName %q Description %q InputEncoding %q", d.ShortName, d.Description, d.InputEncoding)
	}
	tmpl := map[string]string{}
	for _, u := range d.URLs {
		if u.Type == "application/x-suggestions+json" {
			t.Error("a suggestions URL is declared, but there is no suggestions endpoint")
		}
		if !strings.HasPrefix(u.Template, base+"/") {
			t.Errorf("template %q is not an absolute URL of this server", u.Template)
		}
		if u.Rel != "self" && !strings.Contains(u.Template, "{searchTerms}") {
			t.Errorf("template %q has no {searchTerms}", u.Template)
		}
		tmpl[u.Type] = u.Template
	}
	for _, typ := range []string{"text/html", "application/json", "application/atom+xml", "application/opensearchdescription+xml"} {
		if tmpl[typ] == "" {
			t.Errorf("no %s URL", typ)
		}
	}

	resp, body = download(t, fillTemplate(tmpl["application/json"], "wake word"))
	var res struct {
		Total int `json:"total"`
		Hits  []struct {
			Title string `json:"title"`
		} `json:"hits"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &res) != nil || res.Total == 0 || !strings.Contains(res.Hits[0].Title, "Alexa") {
		t.Errorf("JSON template: status %d, %.300s", resp.StatusCode, body)
	}
	resp, body = download(t, fillTemplate(tmpl["application/atom+xml"], "wake word"))
	feed, err := gofeed.NewParser().ParseString(string(body))
	if resp.StatusCode != http.StatusOK || err != nil || len(feed.Items) == 0 {
		t.Errorf("Atom template: status %d, err %v", resp.StatusCode, err)
	}
	if tmpl["application/opensearchdescription+xml"] != base+"/opensearch.xml" {
		t.Errorf("self %q", tmpl["application/opensearchdescription+xml"])
	}

	// A forged Host header cannot put markup or paths into the templates.
	w := f.do(t, http.MethodGet, "/opensearch.xml", "Host", `evil"><x>.example/path`)
	mustStatus(t, w, http.StatusOK)
	if strings.Contains(w.Body.String(), "evil") || !strings.Contains(w.Body.String(), `template="http://localhost/api/v1/search?`) {
		t.Errorf("forged host reflected:\n%s", w.Body.String())
	}
}
