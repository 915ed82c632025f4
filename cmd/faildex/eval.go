package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/faildex/faildex/search"
)

const (
	evalArgs          = "[--judged FILE] [--url URL | --index DIR] [--size N] [--json]"
	defaultJudgedFile = "search/testdata/judged.json"
	evalReqTimeout    = 30 * time.Second
)

// judgedQuery is one entry of a judged query set: a query as a user would
// type it, its kind (misspelled, synonym, ...), and the graded relevance of
// incidents to it: 2 for the incident sought, 1 for a relevant one. An
// incident not listed is not relevant.
type judgedQuery struct {
	Query     string         `json:"query"`
	Kind      string         `json:"kind"`
	Judgments map[string]int `json:"judgments"`
	Note      string         `json:"note,omitempty"`
}

// evalHits is what a ranking metric needs of one search: the ids of the
// first hits in rank order and the number of matching incidents.
type evalHits struct {
	IDs   []string
	Total uint64
}

// evalSearch runs one query and returns at most size hits.
type evalSearch func(ctx context.Context, query string, size int) (evalHits, error)

// queryOutcome is the measurement of one judged query.
type queryOutcome struct {
	Query string `json:"query"`
	Kind  string `json:"kind"`
	// Rank is the 1-based rank of the first hit judged 2 within the cut-off,
	// 0 when there is none.
	Rank   int      `json:"rank"`
	Total  uint64   `json:"total"`
	RR     float64  `json:"rr"`
	NDCG   float64  `json:"ndcg"`
	Recall float64  `json:"recall"`
	Hits   []string `json:"hits"`
}

// evalSummary is the mean of the metrics over a group of queries.
type evalSummary struct {
	Kind    string  `json:"kind"` // "overall" for all queries
	Queries int     `json:"queries"`
	MRR     float64 `json:"mrr"`
	NDCG    float64 `json:"ndcg"`
	Recall  float64 `json:"recall"`
	Zero    int     `json:"zero_results"`
}

// evalReport is the output of eval: with --json exactly this.
type evalReport struct {
	Source  string         `json:"source"`
	Size    int            `json:"size"`
	Summary []evalSummary  `json:"summary"`
	Queries []queryOutcome `json:"queries"`
}

func runEval(ctx context.Context, env *Env, args []string) error {
	fs := newFlags(env, "eval", evalArgs)
	judgedPath := fs.String("judged", defaultJudgedFile, "judged query set (JSON array of {query, kind, judgments})")
	base := fs.String("url", "", "base URL of a running server; without it the local index is searched")
	dir := indexDirFlag(env, fs)
	size := fs.Int("size", 10, "cut-off rank of the metrics (hits requested per query)")
	asJSON := fs.Bool("json", false, "print the report as JSON, with every query's outcome")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) != 0:
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, pos)
	case *size < 1 || *size > search.MaxSize:
		return fmt.Errorf("%w: --size must be between 1 and %d", errUsage, search.MaxSize)
	}
	if *base != "" {
		u, err := url.Parse(*base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%w: --url must be an http(s) URL, not %q", errUsage, *base)
		}
	}
	queries, err := readJudged(*judgedPath)
	if err != nil {
		return err
	}

	var run evalSearch
	var source string
	if *base != "" {
		run, source = httpEvalSearch(strings.TrimRight(*base, "/")), *base
	} else {
		eng, err := search.Open(ctx, *dir)
		if err != nil {
			return err
		}
		defer eng.Close()
		run, source = engineEvalSearch(eng), *dir
	}

	rep := evalReport{Source: source, Size: *size}
	for _, q := range queries {
		hits, err := run(ctx, q.Query, *size)
		if err != nil {
			return fmt.Errorf("query %q: %w", q.Query, err)
		}
		rep.Queries = append(rep.Queries, measure(q, hits, *size))
	}
	rep.Summary = summarizeEval(rep.Queries)
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return printEval(env.Stdout, rep)
}

// readJudged reads and checks a judged query set.
func readJudged(path string) ([]judgedQuery, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var qs []judgedQuery
	if err := json.Unmarshal(b, &qs); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s: no queries", path)
	}
	seen := map[string]bool{}
	for i, q := range qs {
		where := fmt.Sprintf("%s: query %d (%q)", path, i+1, q.Query)
		switch {
		case strings.TrimSpace(q.Query) == "":
			return nil, fmt.Errorf("%s: empty query", where)
		case seen[q.Query]:
			return nil, fmt.Errorf("%s: listed twice", where)
		case q.Kind == "":
			return nil, fmt.Errorf("%s: no kind", where)
		case len(q.Judgments) == 0:
			return nil, fmt.Errorf("%s: no judgments", where)
		}
		seen[q.Query] = true
		for id, g := range q.Judgments {
			if g < 0 || g > 2 {
				return nil, fmt.Errorf("%s: grade %d of %q is not 0, 1 or 2", where, g, id)
			}
		}
	}
	return qs, nil
}

// evalValues are the parameters of an eval search, the same for the API
// and the local engine.
func evalValues(query string, size int) url.Values {
	return url.Values{"q": {query}, "size": {strconv.Itoa(size)}}
}

// engineEvalSearch searches a local engine as the API would.
func engineEvalSearch(eng *search.Engine) evalSearch {
	return func(ctx context.Context, query string, size int) (evalHits, error) {
		req, err := search.FromValues(evalValues(query, size))
		if err != nil {
			return evalHits{}, err
		}
		res, err := eng.Search(ctx, req)
		if err != nil {
			return evalHits{}, err
		}
		h := evalHits{Total: res.Total}
		for _, hit := range res.Hits {
			h.IDs = append(h.IDs, hit.ID)
		}
		return h, nil
	}
}

// httpEvalSearch searches through base's /api/v1/search.
func httpEvalSearch(base string) evalSearch {
	client := &http.Client{Timeout: evalReqTimeout}
	return func(ctx context.Context, query string, size int) (evalHits, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/search?"+evalValues(query, size).Encode(), nil)
		if err != nil {
			return evalHits{}, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return evalHits{}, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return evalHits{}, err
		}
		if resp.StatusCode != http.StatusOK {
			return evalHits{}, fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(body)))
		}
		var res struct {
			Total uint64 `json:"total"`
			Hits  []struct {
				ID string `json:"id"`
			} `json:"hits"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return evalHits{}, fmt.Errorf("response: %w", err)
		}
		h := evalHits{Total: res.Total}
		for _, hit := range res.Hits {
			h.IDs = append(h.IDs, hit.ID)
		}
		return h, nil
	}
}

// measure computes one query's metrics at cut-off k.
func measure(q judgedQuery, hits evalHits, k int) queryOutcome {
	return queryOutcome{
		Query:  q.Query,
		Kind:   q.Kind,
		Rank:   firstRank(hits.IDs, q.Judgments, 2, k),
		Total:  hits.Total,
		RR:     reciprocalRank(hits.IDs, q.Judgments, k),
		NDCG:   ndcg(hits.IDs, q.Judgments, k),
		Recall: recall(hits.IDs, q.Judgments, k),
		Hits:   hits.IDs,
	}
}

// firstRank returns the 1-based rank of the first of the top k ids whose
// grade is at least min, or 0 if there is none.
func firstRank(ranked []string, judged map[string]int, min, k int) int {
	for i, id := range ranked {
		if i >= k {
			break
		}
		if judged[id] >= min {
			return i + 1
		}
	}
	return 0
}

// reciprocalRank is 1/rank of the first of the top k ids judged 2 (the
// incident sought), or 0 if none is in the top k.
func reciprocalRank(ranked []string, judged map[string]int, k int) float64 {
	if r := firstRank(ranked, judged, 2, k); r > 0 {
		return 1 / float64(r)
	}
	return 0
}

// ndcg is the normalised discounted cumulative gain of the top k ids with
// graded gains 2^g-1 and a log2(rank+1) discount; the ideal ranking orders
// all judged incidents by grade. It is 0 when nothing is judged relevant.
func ndcg(ranked []string, judged map[string]int, k int) float64 {
	gain := func(g int) float64 { return math.Exp2(float64(g)) - 1 }
	var dcg float64
	for i, id := range ranked {
		if i >= k {
			break
		}
		if g := judged[id]; g > 0 {
			dcg += gain(g) / math.Log2(float64(i+2))
		}
	}
	var grades []int
	for _, g := range judged {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(grades)))
	var ideal float64
	for i, g := range grades {
		if i >= k {
			break
		}
		ideal += gain(g) / math.Log2(float64(i+2))
	}
	if ideal == 0 {
		return 0
	}
	return dcg / ideal
}

// recall is the fraction of incidents judged 1 or 2 found in the top k ids.
func recall(ranked []string, judged map[string]int, k int) float64 {
	relevant := 0
	for _, g := range judged {
		if g > 0 {
			relevant++
		}
	}
	if relevant == 0 {
		return 0
	}
	found := 0
	for i, id := range ranked {
		if i >= k {
			break
		}
		if judged[id] > 0 {
			found++
		}
	}
	return float64(found) / float64(relevant)
}

// summarizeEval averages the outcomes per kind, in the order the kinds first
// appear, then over all queries.
func summarizeEval(outs []queryOutcome) []evalSummary {
	var kinds []string
	groups := map[string][]queryOutcome{}
	for _, o := range outs {
		if _, ok := groups[o.Kind]; !ok {
			kinds = append(kinds, o.Kind)
		}
		groups[o.Kind] = append(groups[o.Kind], o)
	}
	var sums []evalSummary
	for _, k := range kinds {
		sums = append(sums, mean(k, groups[k]))
	}
	return append(sums, mean("overall", outs))
}

func mean(kind string, outs []queryOutcome) evalSummary {
	s := evalSummary{Kind: kind, Queries: len(outs)}
	if len(outs) == 0 {
		return s
	}
	for _, o := range outs {
		s.MRR += o.RR
		s.NDCG += o.NDCG
		s.Recall += o.Recall
		if o.Total == 0 {
			s.Zero++
		}
	}
	n := float64(len(outs))
	s.MRR, s.NDCG, s.Recall = s.MRR/n, s.NDCG/n, s.Recall/n
	return s
}

// printEval writes the summary table, then the misses: queries whose
// incident judged 2 is not the first hit.
func printEval(w io.Writer, rep evalReport) error {
	k := rep.Size
	fmt.Fprintf(w, "%d judged queries against %s, cut-off %d\n\n", len(rep.Queries), rep.Source, k)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "KIND\tQUERIES\tMRR@%d\tnDCG@%d\tRECALL@%d\tZERO-RESULT\n", k, k, k)
	for _, s := range rep.Summary {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.3f\t%.3f\t%d\n", s.Kind, s.Queries, s.MRR, s.NDCG, s.Recall, s.Zero)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var misses []queryOutcome
	for _, o := range rep.Queries {
		if o.Rank != 1 {
			misses = append(misses, o)
		}
	}
	fmt.Fprintf(w, "\n%d misses (incident sought not at rank 1)\n", len(misses))
	if len(misses) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tRANK\tTOTAL\tQUERY")
	for _, o := range misses {
		rank := fmt.Sprintf("not in top %d", k)
		if o.Rank > 0 {
			rank = strconv.Itoa(o.Rank)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", o.Kind, rank, o.Total, o.Query)
	}
	return tw.Flush()
}
