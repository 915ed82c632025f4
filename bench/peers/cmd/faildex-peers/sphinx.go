package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql"

	"github.com/faildex/faildex/bench"
	"github.com/faildex/faildex/index"
)

// sphinx is Sphinx 2.2 (Debian's sphinxsearch): a plain index built by
// indexer from an xmlpipe2 stream, served by a private searchd on
// 127.0.0.1 and queried over SphinxQL (the MySQL protocol) with one
// connection (one per client in the throughput mix, see Clients).
//
// Schema: one full-text field per prose field of faildex (title, each
// postmortem field, the rationales, the sources, the words of the id),
// morphology stem_en (Porter, as bleve's English analyzer), prefixes of 3
// letters and more for "confi*"; one MVA per category holding option ids,
// the publication date as a timestamp, the year as an int, the id, title,
// date and lead as string attributes for the hit list.
//
// A request is the page with a FACET clause for every category not
// filtered and for the year, and SHOW META for the total, in one batch;
// then, for each filtered category, one GROUP BY query without that
// category's filter (disjunctive counts), each its own round trip.
//
// max_matches bounds the matches and groups each sorter keeps, and searchd
// sets up that many slots per sorter: a FACET batch has up to 18 sorters,
// so Sphinx's default of 1,000 costs time without changing any answer
// here. It is set to the smallest value that keeps every answer exact: the
// largest number of groups any facet has in the corpus (options of a
// category, years), or the page's last hit (offset + size), whichever is
// larger. The deep page's 2,000 would slow its 17 facets, so its facets go
// in a second SELECT with the smaller value.
type sphinx struct {
	db   *sql.DB
	addr string
	// maxChildren is searchd's max_children: the connections served at
	// once (see sphinxConf).
	maxChildren int
	dir         string
	cmd         *exec.Cmd
	exited      chan error
	ids         map[string]map[string]int // category -> option -> id (from 1)
	names       map[string][]string       // category -> id -> option
	groupMM     int                       // max_matches that keeps every facet's groups
	load        bench.PeerLoad
	version     string
}

func (s *sphinx) Name() string { return "sphinx" }

// Approx: the Porter stemmer is the same as bleve's English analyzer's
// (totals and counts are compared); the misspelled and unfinished words use
// the nearest equivalent (see sphinxMatch).
func (s *sphinx) Approx(c bench.Class) bool { return c.Reading && widened(c) == nil }

func (s *sphinx) Load() bench.PeerLoad { return s.load }

// CPUSeconds is searchd's CPU time: the work of answering is done there.
func (s *sphinx) CPUSeconds() (float64, error) { return bench.ProcCPUSeconds(s.cmd.Process.Pid) }

// Supports reports whether Sphinx has an equivalent of the class: every
// search class, and of those reading what people type, the unfinished word
// and the synonyms (see sphinxMatch). Export is left out: the index keeps
// no documents.
func (s *sphinx) Supports(c bench.Class) bool {
	_, ok := sphinxMatch(c)
	return ok && c.ExportLimit == 0 && !c.Suggest
}

// Version is searchd's.
func (s *sphinx) Version() string {
	return s.version + ", max_matches " + strconv.Itoa(s.groupMM) + " for facets and page 1"
}

// sphinxMatch returns the MATCH() expression of a class, if Sphinx can ask
// it: words and phrases as they are; an unfinished word as a prefix
// (min_prefix_len, "confi*"); a word with synonyms as the OR of the set (in
// every class: faildex widens the word of word_2_filters too). Sphinx 2.2
// has no typo correction, no reading of questions and no suggestions.
func sphinxMatch(c bench.Class) (string, bool) {
	if set := widened(c); set != nil {
		return strings.Join(set, " | "), true
	}
	if c.Name == "unfinished" {
		return c.Req.Query + "*", true
	}
	if c.Reading {
		return "", false
	}
	text, phrase := words(c)
	if phrase {
		return `"` + text + `"`, true
	}
	return text, true
}

const sphinxConf = `source reports
{
	type            = xmlpipe2
	xmlpipe_command = cat %[1]s/docs.xml
}
index reports
{
	source          = reports
	path            = %[1]s/data/reports
	docinfo         = extern
	dict            = keywords
	morphology      = stem_en
	min_word_len    = 1
	min_prefix_len  = 3
	html_strip      = 0
}
indexer
{
	mem_limit       = 512M
}
searchd
{
	listen          = %[2]s:mysql41
	log             = %[1]s/searchd.log
	pid_file        = %[1]s/searchd.pid
	binlog_path     =
	workers         = threads
	max_children    = %[3]d
	dist_threads    = 0
	preopen_indexes = 1
	seamless_rotate = 0
	unlink_old      = 1
}
`

// sphinxFields are the full-text fields after the title, as faildex's
// prose fields (index.ProseFields).
func sphinxFields() []string {
	var out []string
	for _, f := range index.TextFields[1:] {
		out = append(out, f.Name)
	}
	return append(out, index.FieldRationale, index.FieldSources, index.FieldIDWords)
}

func sphinxText(in *index.Incident, field string) string {
	switch field {
	case index.FieldRationale:
		var r []string
		for _, c := range index.Taxonomy {
			if cl, ok := in.Taxonomy[c.Name]; ok && len(cl.Options) > 0 && cl.Rationale != "" {
				r = append(r, cl.Rationale)
			}
		}
		return strings.Join(r, "\n")
	case index.FieldSources:
		return strings.Join(in.Sources, "\n")
	case index.FieldIDWords:
		return in.ID
	}
	for _, f := range index.TextFields {
		if f.Name == field {
			return *f.Get(in)
		}
	}
	return ""
}

// openSphinx writes the corpus as xmlpipe2, builds the index with indexer
// (timed: the load), and starts searchd. Everything lives in a directory
// of its own under dir, made anew each run.
func openSphinx(ctx context.Context, dir string, seed uint64, n int, load func() ([]index.Incident, int64, error)) (p peer, err error) {
	for _, prog := range []string{"indexer", "searchd"} {
		if _, err := exec.LookPath(prog); err != nil {
			return nil, fmt.Errorf("%s not found: run bench/setup-sphinx.sh", prog)
		}
	}
	ins, fileBytes, err := load()
	if err != nil {
		return nil, err
	}
	s := &sphinx{dir: filepath.Join(dir, fmt.Sprintf("peer-sphinx-s%d-n%d", seed, n))}
	s.assignIDs(ins)
	addr, err := bench.FreeAddr()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(s.dir, "sphinx.conf")
	var kept bool
	if s.load, kept = keptLoad(s.dir, n, seed, fileBytes); !kept {
		if err := s.build(ctx, fileBytes, ins); err != nil {
			return nil, err
		}
		if err := keepLoad(s.dir, n, seed, s.load); err != nil {
			return nil, err
		}
	}
	// The port is chosen anew each run. max_children leaves room for the
	// connection of the one-at-a-time timings and each client of the mix.
	s.maxChildren = max(mixClients, 1) + 1
	if err := os.WriteFile(conf, fmt.Appendf(nil, sphinxConf, s.dir, addr, s.maxChildren), 0o644); err != nil {
		return nil, err
	}

	// --nodetach keeps searchd our child, so that it is stopped by its
	// process id whatever happens to its pid file.
	s.cmd = exec.Command("searchd", "--config", conf, "--nodetach")
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, io.Discard
	dieWithParent(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("searchd: %w", err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.addr = addr
	if s.db, err = s.connect(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var id string
		row := s.db.QueryRowContext(ctx, "SELECT id FROM reports LIMIT 1")
		if err = row.Scan(&id); err == nil {
			break
		}
		select {
		case werr := <-s.exited:
			s.exited <- werr
			log, _ := os.ReadFile(filepath.Join(s.dir, "searchd.log"))
			return nil, fmt.Errorf("searchd exited: %v: %s", werr, lastLines(string(log), 5))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("searchd not answering after a minute: %w", err)
		}
	}
	// searchd -h prints its version first ("Sphinx 2.2.11-id64-release").
	help, _ := exec.Command("searchd", "-h").Output()
	s.version, _, _ = strings.Cut(string(help), "\n")
	return s, nil
}

// connect returns a client of searchd holding one connection, kept open.
// No database name; multiStatements lets a request's statements go in one
// round trip. Queries carry no arguments, so they are sent as text, never
// prepared (SphinxQL has no server-side prepare).
func (s *sphinx) connect() (*sql.DB, error) {
	db, err := sql.Open("mysql", "tcp("+s.addr+")/?multiStatements=true")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	return db, nil
}

// Clients opens n more connections to searchd, one per client of the mix.
// searchd (workers = threads) gives each connection a thread of its own, so
// the n clients' queries run at once; CPU is searchd's, the clients' this
// process's.
func (s *sphinx) Clients(ctx context.Context, n int) (*clientSet, error) {
	if n+1 > s.maxChildren {
		return nil, fmt.Errorf("%d clients, but searchd was started with max_children %d", n, s.maxChildren)
	}
	cs := &clientSet{cpu: s.CPUSeconds, clientCPU: selfCPU}
	var dbs []*sql.DB
	cs.close = func() error {
		var errs []error
		for _, db := range dbs {
			errs = append(errs, db.Close())
		}
		return errors.Join(errs...)
	}
	for range n {
		db, err := s.connect()
		if err == nil {
			err = db.PingContext(ctx)
		}
		if err != nil {
			cs.close()
			return nil, err
		}
		dbs = append(dbs, db)
		cs.run = append(cs.run, func(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
			return s.runOn(ctx, db, c, w)
		})
	}
	cs.note = fmt.Sprintf("searchd: workers = threads (a thread per connection), max_children = %d, dist_threads = 0 (one plain index: nothing to split); %d connections", s.maxChildren, n)
	return cs, nil
}

// build writes the xmlpipe2 stream and runs indexer on it (timed: the
// load), in s.dir made anew.
func (s *sphinx) build(ctx context.Context, fileBytes int64, ins []index.Incident) error {
	if err := os.RemoveAll(s.dir); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(s.dir, "data"), 0o755); err != nil {
		return err
	}
	start := time.Now()
	if err := s.writeXMLPipe(ins); err != nil {
		return err
	}
	xmlTime := time.Since(start)
	conf := filepath.Join(s.dir, "sphinx.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, sphinxConf, s.dir, "127.0.0.1:0", 1), 0o644); err != nil {
		return err
	}
	ix := exec.CommandContext(ctx, "indexer", "--config", conf, "--all", "--quiet")
	var ixOut strings.Builder
	ix.Stdout, ix.Stderr = &ixOut, &ixOut
	start = time.Now()
	if err := ix.Run(); err != nil {
		return fmt.Errorf("indexer: %w: %s", err, ixOut.String())
	}
	s.load = bench.PeerLoad{Engine: s.Name(), Seconds: time.Since(start).Seconds(), Bytes: fileBytes,
		CPUSeconds: ix.ProcessState.UserTime().Seconds() + ix.ProcessState.SystemTime().Seconds(),
		IndexBytes: dirSize(filepath.Join(s.dir, "data")),
		Note:       fmt.Sprintf("indexer (1 core) reading xmlpipe2 (%.1f s to write it, not counted)", xmlTime.Seconds())}
	return nil
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}

func dirSize(dir string) int64 {
	var n int64
	filepath.Walk(dir, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			n += fi.Size()
		}
		return nil
	})
	return n
}

// assignIDs numbers each category's options (sorted, from 1) and works out
// max_matches (see sphinx).
func (s *sphinx) assignIDs(ins []index.Incident) {
	s.ids, s.names = map[string]map[string]int{}, map[string][]string{}
	years := map[int]bool{}
	s.groupMM = 20
	for _, c := range index.Taxonomy {
		set := map[string]bool{}
		for i := range ins {
			for _, o := range ins[i].Options(c.Name) {
				set[o] = true
			}
		}
		names := make([]string, 0, len(set))
		for o := range set {
			names = append(names, o)
		}
		sort.Strings(names)
		s.ids[c.Name] = map[string]int{}
		s.names[c.Name] = append([]string{""}, names...)
		for i, o := range names {
			s.ids[c.Name][o] = i + 1
		}
		s.groupMM = max(s.groupMM, len(names))
	}
	for i := range ins {
		years[ins[i].Year()] = true
	}
	s.groupMM = max(s.groupMM, len(years))
}

// writeXMLPipe writes the reports, sorted by id (document ids in id order
// break ties of the date sort as faildex does), as xmlpipe2.
func (s *sphinx) writeXMLPipe(ins []index.Incident) error {
	f, err := os.Create(filepath.Join(s.dir, "docs.xml"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	esc := func(v string) {
		xml.EscapeText(w, []byte(v))
	}
	w.WriteString("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sphinx:docset>\n<sphinx:schema>\n")
	w.WriteString("<sphinx:field name=\"title\" attr=\"string\"/>\n")
	fields := sphinxFields()
	for _, f := range fields {
		fmt.Fprintf(w, "<sphinx:field name=%q/>\n", f)
	}
	w.WriteString("<sphinx:attr name=\"sid\" type=\"string\"/>\n<sphinx:attr name=\"lead\" type=\"string\"/>\n" +
		"<sphinx:attr name=\"pubdate\" type=\"string\"/>\n<sphinx:attr name=\"published\" type=\"timestamp\"/>\n" +
		"<sphinx:attr name=\"year\" type=\"int\" bits=\"16\"/>\n")
	for _, c := range index.Taxonomy {
		fmt.Fprintf(w, "<sphinx:attr name=%q type=\"multi\"/>\n", c.Name)
	}
	w.WriteString("</sphinx:schema>\n")
	order := make([]int, len(ins))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return ins[order[a]].ID < ins[order[b]].ID })
	for docID, i := range order {
		in := &ins[i]
		fmt.Fprintf(w, "<sphinx:document id=\"%d\">\n<title>", docID+1)
		esc(in.Title)
		w.WriteString("</title>\n")
		for _, f := range fields {
			if v := sphinxText(in, f); v != "" {
				fmt.Fprintf(w, "<%s>", f)
				esc(v)
				fmt.Fprintf(w, "</%s>\n", f)
			}
		}
		w.WriteString("<sid>")
		esc(in.ID)
		w.WriteString("</sid>\n<lead>")
		esc(lead(in))
		w.WriteString("</lead>\n<pubdate>")
		esc(in.Published)
		var ts int64
		if t, err := time.Parse("2006-01-02", in.Published); err == nil {
			ts = t.Unix()
		}
		fmt.Fprintf(w, "</pubdate>\n<published>%d</published>\n<year>%d</year>\n", ts, in.Year())
		for _, c := range index.Taxonomy {
			var ids []string
			for _, o := range in.Options(c.Name) {
				ids = append(ids, strconv.Itoa(s.ids[c.Name][o]))
			}
			fmt.Fprintf(w, "<%s>%s</%s>\n", c.Name, strings.Join(ids, ","), c.Name)
		}
		w.WriteString("</sphinx:document>\n")
	}
	w.WriteString("</sphinx:docset>\n")
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// where is the WHERE clause of a class, leaving out one category's filter.
func (s *sphinx) where(c bench.Class, skip string) string {
	var w []string
	if m, _ := sphinxMatch(c); m != "" {
		w = append(w, "MATCH('"+strings.ReplaceAll(m, "'", `\'`)+"')")
	}
	for _, cat := range sortedCats(c.Req.Filters) {
		if cat == skip {
			continue
		}
		var ids []string
		for _, o := range c.Req.Filters[cat] {
			ids = append(ids, strconv.Itoa(s.ids[cat][o])) // 0 (no such option) matches nothing
		}
		w = append(w, fmt.Sprintf("%s IN (%s)", cat, strings.Join(ids, ",")))
	}
	if len(w) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w, " AND ")
}

// A trip is one round trip: statements and what each result set is
// ("rows", "meta", "skip", "facet:CATEGORY", "year").
type trip struct {
	sql   string
	kinds []string
}

// sphinxRanker is the ranker of word queries (--sphinx-ranker). faildex
// ranks by BM25 without proximity, so Sphinx is asked for the same: its
// bm25 ranker, which costs searchd 10-35% less CPU on the word classes at
// 10k than its default, proximity_bm25.
var sphinxRanker = "bm25"

func sphinxRank() string { return "ranker=" + sphinxRanker + ", field_weights=(title=3)" }

func (s *sphinx) plan(c bench.Class) []trip {
	offset, size := page(c)
	m, _ := sphinxMatch(c)
	order := "published DESC, id ASC"
	if m != "" {
		order = "WEIGHT() DESC, published DESC, id ASC"
	}
	where := s.where(c, "")
	var facets strings.Builder
	var fkinds []string
	for _, cat := range index.Taxonomy {
		if _, ok := c.Req.Filters[cat.Name]; !ok {
			fmt.Fprintf(&facets, " FACET %s LIMIT %d", cat.Name, s.groupMM)
			fkinds = append(fkinds, "facet:"+cat.Name)
		}
	}
	fmt.Fprintf(&facets, " FACET year LIMIT %d", s.groupMM)
	fkinds = append(fkinds, "year")
	// SELECT *: other select lists (even *, WEIGHT()) make the FACET
	// batch two to three times slower on searchd 2.2.11.
	need := offset + size
	pageSQL := fmt.Sprintf("SELECT * FROM reports%s ORDER BY %s LIMIT %d,%d OPTION max_matches=%d, %s",
		where, order, offset, size, max(need, s.groupMM), sphinxRank())
	var trips []trip
	if need <= s.groupMM {
		trips = append(trips, trip{pageSQL + facets.String() + "; SHOW META", append(append([]string{"rows"}, fkinds...), "meta")})
	} else {
		trips = append(trips, trip{pageSQL + "; SHOW META", []string{"rows", "meta"}},
			trip{fmt.Sprintf("SELECT * FROM reports%s LIMIT 1 OPTION max_matches=%d, %s", where, s.groupMM, sphinxRank()) + facets.String(),
				append([]string{"skip"}, fkinds...)})
	}
	for _, cat := range sortedCats(c.Req.Filters) {
		trips = append(trips, trip{fmt.Sprintf("SELECT GROUPBY() AS g, COUNT(*) AS n FROM reports%s GROUP BY %s LIMIT %d OPTION max_matches=%d",
			s.where(c, cat), cat, s.groupMM, s.groupMM), []string{"facet:" + cat}})
	}
	return trips
}

func (s *sphinx) Run(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	return s.runOn(ctx, s.db, c, w)
}

// runOn answers a request over db's connection.
func (s *sphinx) runOn(ctx context.Context, db *sql.DB, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	if c.ExportLimit > 0 {
		return 0, nil, errUnsupported // no stored documents to export
	}
	out := result{Counts: map[string]uint64{}}
	for _, t := range s.plan(c) {
		if err := s.trip(ctx, db, t, &out); err != nil {
			return 0, nil, fmt.Errorf("%s: %w", t.sql, err)
		}
	}
	if err := encodeResult(w, &out); err != nil {
		return 0, nil, err
	}
	return out.Total, out.Counts, nil
}

func (s *sphinx) trip(ctx context.Context, db *sql.DB, t trip, out *result) error {
	rows, err := db.QueryContext(ctx, t.sql)
	if err != nil {
		return err
	}
	defer rows.Close()
	for i, kind := range t.kinds {
		if i > 0 && !rows.NextResultSet() {
			if err := rows.Err(); err != nil {
				return err
			}
			return fmt.Errorf("%d result sets, want %d", i, len(t.kinds))
		}
		if err := s.resultSet(rows, kind, out); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *sphinx) resultSet(rows *sql.Rows, kind string, out *result) error {
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	cat, isFacet := strings.CutPrefix(kind, "facet:")
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		switch {
		case kind == "rows":
			h := hit{Options: map[string][]string{}}
			for i, col := range cols {
				v := string(vals[i])
				switch col {
				case "sid":
					h.ID = v
				case "title":
					h.Title = v
				case "pubdate":
					h.Published = v
				case "lead":
					h.Summary = v
				default:
					if names, ok := s.names[col]; ok && v != "" {
						for _, id := range strings.Split(v, ",") {
							if k, err := strconv.Atoi(id); err == nil && k > 0 && k < len(names) {
								h.Options[col] = append(h.Options[col], names[k])
							}
						}
					}
				}
			}
			out.Hits = append(out.Hits, h)
		case kind == "meta":
			if string(vals[0]) == "total_found" {
				out.Total, err = strconv.ParseUint(string(vals[1]), 10, 64)
				if err != nil {
					return err
				}
			}
		case kind == "year":
			n, err := strconv.ParseUint(string(vals[1]), 10, 64)
			if err != nil {
				return err
			}
			if y := string(vals[0]); y != "0" {
				out.Counts["year="+y] = n
			}
		case isFacet:
			id, err1 := strconv.Atoi(string(vals[0]))
			n, err2 := strconv.ParseUint(string(vals[1]), 10, 64)
			if err := errors.Join(err1, err2); err != nil {
				return err
			}
			if id > 0 && id < len(s.names[cat]) {
				out.Counts[cat+"="+s.names[cat][id]] = n
			}
		}
	}
	return nil
}

// Close stops searchd (SIGTERM, then SIGKILL after 30 s) and closes the
// connection.
func (s *sphinx) Close() error {
	var err error
	if s.db != nil {
		err = s.db.Close()
	}
	if s.cmd != nil && s.cmd.Process != nil {
		stop(s.cmd, s.exited, 30*time.Second)
	}
	return err
}

// stop sends a child process SIGTERM and, if it has not exited (its Wait's
// result on exited) within grace, SIGKILL; it returns once it has exited.
func stop(cmd *exec.Cmd, exited <-chan error, grace time.Duration) {
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-exited
	}
}
