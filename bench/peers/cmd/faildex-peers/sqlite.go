package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite"

	"github.com/faildex/faildex/bench"
	"github.com/faildex/faildex/index"
)

// sqliteFTS is SQLite with an FTS5 index (porter stemmer) over the prose and
// the options of each incident as a JSON object, counted with json_each.
type sqliteFTS struct {
	db *sql.DB
}

func (s *sqliteFTS) Name() string { return "sqlite_fts5" }

// Approx: FTS5's porter tokenizer splits and stems words slightly
// differently from bleve's English analyzer, and keeps stop words.
func (s *sqliteFTS) Approx(c bench.Class) bool { t, _ := words(c); return t != "" }
func (s *sqliteFTS) Close() error              { return s.db.Close() }

// prose joins an incident's prose fields other than title and summary.
func prose(in *index.Incident) string {
	var parts []string
	for _, f := range index.TextFields[2:] {
		parts = append(parts, *f.Get(in))
	}
	for _, c := range index.Taxonomy {
		parts = append(parts, in.Taxonomy[c.Name].Rationale)
	}
	parts = append(parts, in.Sources...)
	return strings.Join(parts, "\n")
}

func optionsJSON(in *index.Incident) string {
	m := map[string][]string{}
	for _, c := range index.Taxonomy {
		if o := in.Options(c.Name); len(o) > 0 {
			m[c.Name] = o
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func openSQLite(ctx context.Context, dir string, seed uint64, n int, load func() ([]index.Incident, error)) (peer, error) {
	path := filepath.Join(dir, fmt.Sprintf("peer-sqlite-s%d-n%d.db", seed, n))
	if db, err := sql.Open("sqlite", path+"?mode=ro"); err == nil {
		var c int
		if db.QueryRowContext(ctx, "SELECT count(*) FROM incident").Scan(&c) == nil && c == n {
			db.SetMaxOpenConns(1)
			return &sqliteFTS{db}, nil
		}
		db.Close()
	}
	os.Remove(path)
	ins, err := load()
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	for _, stmt := range []string{
		"PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF",
		`CREATE TABLE incident (n INTEGER PRIMARY KEY, id TEXT UNIQUE, title TEXT, published TEXT, year INTEGER,
			lead TEXT, doc TEXT, opts TEXT)`,
		`CREATE VIRTUAL TABLE fts USING fts5(title, summary, body, content='', tokenize='porter unicode61')`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		db.Close()
		return nil, err
	}
	insInc, _ := tx.PrepareContext(ctx, "INSERT INTO incident VALUES (?,?,?,?,?,?,?,?)")
	insFTS, _ := tx.PrepareContext(ctx, "INSERT INTO fts(rowid, title, summary, body) VALUES (?,?,?,?)")
	for i := range ins {
		in := &ins[i]
		doc, _ := json.Marshal(in)
		if _, err := insInc.ExecContext(ctx, i+1, in.ID, in.Title, in.Published, in.Year(), lead(in), string(doc), optionsJSON(in)); err != nil {
			tx.Rollback()
			db.Close()
			return nil, err
		}
		if _, err := insFTS.ExecContext(ctx, i+1, in.Title, in.Summary, prose(in)); err != nil {
			tx.Rollback()
			db.Close()
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		db.Close()
		return nil, err
	}
	for _, stmt := range []string{
		"CREATE INDEX incident_date ON incident(published DESC, id)",
		"INSERT INTO fts(fts) VALUES('optimize')", "ANALYZE",
	} {
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			db.Close()
			return nil, fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return &sqliteFTS{db}, nil
}

func ftsMatch(c bench.Class) string {
	text, phrase := words(c)
	if text == "" {
		return ""
	}
	if phrase {
		return `"` + text + `"`
	}
	return text
}

// where is the condition of a class, leaving out one category's filter.
func (s *sqliteFTS) where(c bench.Class, skip string) (string, []any) {
	var conds []string
	var args []any
	if m := ftsMatch(c); m != "" {
		conds = append(conds, "i.n IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
		args = append(args, m)
	}
	for _, cat := range sortedCats(c.Req.Filters) {
		if cat == skip {
			continue
		}
		ph := strings.TrimSuffix(strings.Repeat("?,", len(c.Req.Filters[cat])), ",")
		conds = append(conds, fmt.Sprintf("EXISTS (SELECT 1 FROM json_each(i.opts, '$.%s') WHERE value IN (%s))", cat, ph))
		for _, v := range c.Req.Filters[cat] {
			args = append(args, v)
		}
	}
	if len(conds) == 0 {
		return "1", nil
	}
	return strings.Join(conds, " AND "), args
}

func sortedCats(f map[string][]string) []string {
	var out []string
	for _, c := range index.Taxonomy {
		if _, ok := f[c.Name]; ok {
			out = append(out, c.Name)
		}
	}
	return out
}

func (s *sqliteFTS) Run(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	if c.ExportLimit > 0 {
		rows, err := s.db.QueryContext(ctx, "SELECT doc FROM incident ORDER BY id LIMIT ?", c.ExportLimit)
		if err != nil {
			return 0, nil, err
		}
		defer rows.Close()
		var n uint64
		for rows.Next() {
			var doc string
			if err := rows.Scan(&doc); err != nil {
				return 0, nil, err
			}
			var in index.Incident
			if err := json.Unmarshal([]byte(doc), &in); err != nil {
				return 0, nil, err
			}
			if err := index.WriteJSONL(w, &in); err != nil {
				return 0, nil, err
			}
			n++
		}
		return n, nil, rows.Err()
	}
	where, args := s.where(c, "")
	out := result{Counts: map[string]uint64{}}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM incident i WHERE "+where, args...).Scan(&out.Total); err != nil {
		return 0, nil, err
	}
	var parts []string
	var fargs []any
	for _, cat := range index.Taxonomy {
		wh, a := s.where(c, cat.Name)
		parts = append(parts, fmt.Sprintf("SELECT '%s', j.value, count(*) FROM incident i, json_each(i.opts, '$.%s') j WHERE %s GROUP BY j.value", cat.Name, cat.Name, wh))
		fargs = append(fargs, a...)
	}
	parts = append(parts, "SELECT 'year', CAST(i.year AS TEXT), count(*) FROM incident i WHERE "+where+" GROUP BY i.year")
	fargs = append(fargs, args...)
	rows, err := s.db.QueryContext(ctx, strings.Join(parts, " UNION ALL "), fargs...)
	if err != nil {
		return 0, nil, err
	}
	for rows.Next() {
		var cat, val string
		var n uint64
		if err := rows.Scan(&cat, &val, &n); err != nil {
			rows.Close()
			return 0, nil, err
		}
		out.Counts[cat+"="+val] = n
	}
	rows.Close()
	offset, size := page(c)
	var q string
	hargs := append([]any(nil), args...)
	if m := ftsMatch(c); m != "" {
		q = "SELECT i.id, i.title, i.published, i.lead, i.opts, bm25(fts) FROM fts JOIN incident i ON i.n = fts.rowid WHERE fts MATCH ? AND " +
			where + " ORDER BY bm25(fts), i.published DESC, i.id LIMIT ? OFFSET ?"
		hargs = append([]any{m}, args...)
	} else {
		q = "SELECT i.id, i.title, i.published, i.lead, i.opts, 0.0 FROM incident i WHERE " + where +
			" ORDER BY i.published DESC, i.id LIMIT ? OFFSET ?"
	}
	hargs = append(hargs, size, offset)
	rows, err = s.db.QueryContext(ctx, q, hargs...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h hit
		var opts string
		if err := rows.Scan(&h.ID, &h.Title, &h.Published, &h.Summary, &opts, &h.Score); err != nil {
			return 0, nil, err
		}
		json.Unmarshal([]byte(opts), &h.Options)
		out.Hits = append(out.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return 0, nil, err
	}
	return out.Total, out.Counts, nil
}
