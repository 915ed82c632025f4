package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/faildex/faildex/index"
	"github.com/faildex/faildex/search"
)

const searchArgs = "[--index DIR] [--json] [--facets] QUERY [category=option ...] [from=|to=|sort=|page=|size=VALUE ...]"

func runSearch(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "search", searchArgs)
	dir := indexDirFlag(env, fs)
	asJSON := fs.Bool("json", false, "print exactly the JSON of /api/v1/search")
	facets := fs.Bool("facets", false, "print facet and year counts after the hits")
	reading := addReadingFlags(fs)
	flags, words := splitSearchArgs(fs, args)
	pos, err := parseFlags(fs, flags)
	if err != nil {
		return err
	}
	v, err := searchValues(append(pos, words...))
	if err != nil {
		return err
	}
	req, err := search.FromValues(v)
	if err != nil {
		return err
	}
	opts, err := reading.options()
	if err != nil {
		return err
	}
	eng, err := search.Open(ctx, *dir, opts...)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Search(ctx, req)
	if err != nil {
		return err
	}
	if *asJSON {
		// The same encoder settings as the API's writeJSON, so the bytes
		// are the same.
		return json.NewEncoder(env.Stdout).Encode(res)
	}
	return printResult(env.Stdout, res, *facets)
}

// splitSearchArgs separates the command's flags from the words of the
// query, so that exclusions such as "-hack" are words, not unknown flags.
// An argument starting with "-" is a flag only when the command defines it
// (or it is -h/-help); the value of a non-boolean flag may follow it. After
// "--" everything is a word.
func splitSearchArgs(fs *flag.FlagSet, args []string) (flags, words []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return flags, append(words, args[i+1:]...)
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" {
			words = append(words, a)
			continue
		}
		f := fs.Lookup(name)
		if f == nil && name != "h" && name != "help" {
			words = append(words, a)
			continue
		}
		flags = append(flags, a)
		if f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			i++
			flags = append(flags, args[i])
		}
	}
	return flags, words
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// paramArg matches "name=value" arguments whose name could be a parameter.
var paramArg = regexp.MustCompile(`^([a-z_]+)=(.*)$`)

// searchValues turns positional arguments into the API's parameters:
// "category=option" and "from=", "to=", "sort=", "page=", "size=" set those
// parameters (repeat them, or separate options with commas, for several);
// every other argument is a word of the query.
func searchValues(args []string) (url.Values, error) {
	v := url.Values{}
	var words []string
	for _, a := range args {
		m := paramArg.FindStringSubmatch(a)
		if m == nil {
			words = append(words, a)
			continue
		}
		name, value := m[1], m[2]
		switch {
		case name == "q":
			words = append(words, value)
		case isParam(name):
			v.Add(name, value)
		default:
			c, ok := index.LookupFacet(name)
			if ok {
				v.Add(c.Name, value)
				continue
			}
			return nil, fmt.Errorf("%w: unknown parameter %q in %q; use a category (%s) or from, to, sort, page, size", errUsage, name, a, categoryNames())
		}
	}
	if len(words) > 0 {
		v.Set("q", strings.Join(words, " "))
	}
	return v, nil
}

func isParam(name string) bool {
	for _, p := range search.Params {
		if p == name && p != "q" {
			return true
		}
	}
	return false
}

func categoryNames() string {
	names := make([]string, len(index.Taxonomy))
	for i, c := range index.Taxonomy {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// printResult writes a result as a table for people: a summary line, one
// row per hit, and with facets the non-zero counts per category and year.
func printResult(w io.Writer, res *search.Result, facets bool) error {
	desc := "all incidents"
	if res.Query != "" {
		desc = fmt.Sprintf("%q", res.Query)
	}
	var filters []string
	for _, f := range res.Filters {
		filters = append(filters, f.Field+"="+f.Value)
	}
	if res.From != "" {
		filters = append(filters, "from="+res.From)
	}
	if res.To != "" {
		filters = append(filters, "to="+res.To)
	}
	if len(filters) > 0 {
		desc += " with " + strings.Join(filters, " ")
	}
	noun := "incidents"
	if res.Total == 1 {
		noun = "incident"
	}
	fmt.Fprintf(w, "%d %s for %s, by %s", res.Total, noun, desc, res.Sort)
	if res.Pages > 1 {
		fmt.Fprintf(w, " (page %d of %d)", res.Page, res.Pages)
	}
	fmt.Fprintln(w)
	printReading(w, res)
	if len(res.Hits) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PUBLISHED\tID\tTITLE")
		for _, h := range res.Hits {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", h.Published, clip(h.ID, 40), clip(h.Title, 90))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if res.Page < res.Pages {
		fmt.Fprintf(w, "\nmore: page=%d\n", res.Page+1)
	}
	if !facets {
		return nil
	}
	return printFacets(w, res)
}

// printFacets writes the non-zero counts per category, the selected options
// marked with "*", and the counts per year.
func printFacets(w io.Writer, res *search.Result) error {
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range res.Facets {
		var vals []string
		for _, fv := range f.Values {
			if fv.Count == 0 && !fv.Selected {
				continue
			}
			mark := ""
			if fv.Selected {
				mark = "*"
			}
			vals = append(vals, fmt.Sprintf("%s%s %d", mark, fv.Value, fv.Count))
		}
		if f.Missing > 0 {
			vals = append(vals, fmt.Sprintf("(not assessed %d)", f.Missing))
		}
		if len(vals) == 0 {
			vals = []string{"-"}
		}
		fmt.Fprintf(tw, "%s\t%s\n", f.Field, strings.Join(vals, ", "))
	}
	var years []string
	for _, y := range res.Years {
		years = append(years, fmt.Sprintf("%d %d", y.Year, y.Count))
	}
	fmt.Fprintf(tw, "year\t%s\n", strings.Join(years, ", "))
	return tw.Flush()
}

// clip cuts s to at most n characters, marking the cut with "…".
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// printReading prints how the query was read: the did-you-mean query, the
// words left out and the notices.
func printReading(w io.Writer, res *search.Result) {
	if res.Suggestion != "" {
		fmt.Fprintf(w, "Did you mean: %s\n", res.Suggestion)
	}
	if res.Relaxed != nil {
		fmt.Fprintf(w, "No incident has all %d words; showing incidents with %d of them (left out: %s)\n", res.Relaxed.Of, res.Relaxed.Matched, strings.Join(res.Relaxed.Dropped, ", "))
	}
	for _, n := range res.Notices {
		fmt.Fprintln(w, "Note: "+n)
	}
}
