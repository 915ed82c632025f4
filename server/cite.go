package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/faildex/faildex/index"
)

// Citation is what an incident page shows in its "cite" block: the BibTeX
// entry and the URL of the .bib file.
type Citation struct {
	BibTeX string
	BibURL string
}

// citation returns the citation of an incident for the page that r asks
// for. The incident page's handler calls it.
func (s *Server) citation(r *http.Request, in *index.Incident) Citation {
	base := s.baseURL(r)
	return Citation{
		BibTeX: BibTeX(in, base+incidentPath(in.ID), time.Now()),
		BibURL: incidentPath(in.ID) + ".bib",
	}
}

func (s *Server) handleBibTeX(w http.ResponseWriter, r *http.Request, eng Searcher) error {
	in, err := eng.Incident(r.Context(), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	bib := BibTeX(in, s.baseURL(r)+incidentPath(in.ID), time.Now())
	h := w.Header()
	h.Set("Content-Type", "application/x-bibtex; charset=utf-8")
	h.Set("Content-Disposition", `inline; filename="`+in.ID+`.bib"`) // ids are [A-Za-z0-9._-]
	if r.Method != http.MethodHead {
		fmt.Fprint(w, bib)
	}
	return nil
}

var bibMonths = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// BibTeX returns a BibTeX @misc entry citing an incident report found at
// url and accessed at the given time. Its key is "faildex:" plus the id;
// the title is braced so that styles keep its capitals, and every field's
// TeX special characters are escaped.
func BibTeX(in *index.Incident, url string, accessed time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "@misc{faildex:%s,\n", in.ID)
	field := func(name, value string) {
		fmt.Fprintf(&b, "  %-12s = {%s},\n", name, value)
	}
	field("title", "{"+texEscape(in.Title)+"}")
	if d, err := index.ParseDate(in.Published); err == nil {
		field("year", fmt.Sprint(d.Year()))
		// Month macros (jan, feb, ...) are unbraced so styles can format them.
		fmt.Fprintf(&b, "  %-12s = %s,\n", "month", bibMonths[d.Month()-1])
	}
	// The URL is not escaped: \url and biblatex's url field read it
	// verbatim, and it holds no brace or percent sign (ids are
	// [A-Za-z0-9._-] and baseURL checks the host).
	field("howpublished", `\url{`+url+`}`)
	field("url", url)
	field("note", "Software-failure incident report "+texEscape(in.ID)+", faildex. Accessed "+accessed.UTC().Format(index.DateLayout))
	fmt.Fprintf(&b, "  %-12s = {%s}\n", "key", texEscape(in.ID))
	b.WriteString("}\n")
	return b.String()
}

// texReplacer escapes the characters that TeX treats specially, and turns
// line breaks into spaces. Braces become \textbraceleft{} and
// \textbraceright{}, not \{ and \}: BibTeX counts every brace, escaped or
// not, so a lone \{ would unbalance the entry.
var texReplacer = strings.NewReplacer(
	`\`, `\textbackslash{}`,
	`{`, `\textbraceleft{}`,
	`}`, `\textbraceright{}`,
	`$`, `\$`,
	`&`, `\&`,
	`%`, `\%`,
	`#`, `\#`,
	`_`, `\_`,
	`~`, `\textasciitilde{}`,
	`^`, `\textasciicircum{}`,
	`<`, `\textless{}`,
	`>`, `\textgreater{}`,
	"\r\n", " ",
	"\n", " ",
	"\r", " ",
	"\t", " ",
)

// texEscape escapes s for a braced BibTeX field.
func texEscape(s string) string {
	return strings.Join(strings.Fields(texReplacer.Replace(s)), " ")
}
