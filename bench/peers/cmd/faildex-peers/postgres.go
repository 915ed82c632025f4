package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/faildex/faildex/bench"
	"github.com/faildex/faildex/index"
)

// postgres is a throwaway PostgreSQL cluster on 127.0.0.1.
type postgres struct {
	bin, data, sock string
	port            int
	asUser          string // run the server as this user ("" = ourselves)
	pool            *pgxpool.Pool
	version         string
}

// pgBin finds the newest installed PostgreSQL's programs.
func pgBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		a, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		b, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return a < b
	})
	if len(dirs) == 0 {
		return "", fmt.Errorf("PostgreSQL is not installed (run bench/peers/setup-postgres.sh)")
	}
	return dirs[len(dirs)-1], nil
}

func (pg *postgres) cmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	prog := filepath.Join(pg.bin, name)
	if pg.asUser != "" {
		return exec.CommandContext(ctx, "runuser", append([]string{"-u", pg.asUser, "--", prog}, args...)...)
	}
	return exec.CommandContext(ctx, prog, args...)
}

func startPostgres(ctx context.Context, dir string) (*postgres, error) {
	bin, err := pgBin()
	if err != nil {
		return nil, err
	}
	pg := &postgres{bin: bin}
	root, err := os.MkdirTemp("", "faildex-pg-")
	if err != nil {
		return nil, err
	}
	pg.data, pg.sock = filepath.Join(root, "data"), root
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(root, uid, gid); err != nil {
			return nil, err
		}
		pg.asUser = "postgres"
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	pg.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	if out, err := pg.cmd(ctx, "initdb", "-D", pg.data, "-U", "bench", "--auth=trust", "-E", "UTF8", "--locale=C").CombinedOutput(); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	opts := strings.Join([]string{
		"-p", strconv.Itoa(pg.port), "-k", pg.sock, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "shared_buffers=1GB", "-c", "work_mem=64MB", "-c", "maintenance_work_mem=1GB",
		"-c", "max_parallel_workers_per_gather=2", "-c", "jit=off",
	}, " ")
	if out, err := pg.cmd(ctx, "pg_ctl", "-D", pg.data, "-o", opts, "-l", filepath.Join(root, "log"), "-w", "start").CombinedOutput(); err != nil {
		os.RemoveAll(root)
		return nil, fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	pool, err := pgxpool.New(ctx, fmt.Sprintf("postgres://bench@127.0.0.1:%d/postgres?sslmode=disable&pool_max_conns=4", pg.port))
	if err != nil {
		pg.stop()
		return nil, err
	}
	pg.pool = pool
	if err := pool.QueryRow(ctx, "SHOW server_version").Scan(&pg.version); err != nil {
		pg.stop()
		return nil, err
	}
	logf("postgres %s on 127.0.0.1:%d (%s)", pg.version, pg.port, root)
	return pg, nil
}

func (pg *postgres) stop() {
	if pg.pool != nil {
		pg.pool.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pg.cmd(ctx, "pg_ctl", "-D", pg.data, "-m", "fast", "-w", "stop").Run()
	os.RemoveAll(filepath.Dir(pg.data))
}

// loadPG creates the tables of both PostgreSQL peers and copies the
// incidents in.
func loadPG(ctx context.Context, pg *postgres, ins []index.Incident) error {
	var cols, naiveCols []string
	for _, c := range index.Taxonomy {
		cols = append(cols, c.Name+" text[] NOT NULL DEFAULT '{}'")
		naiveCols = append(naiveCols, c.Name+"_option text NOT NULL DEFAULT ''")
	}
	for _, stmt := range []string{
		"DROP TABLE IF EXISTS incident, incident_naive, staging",
		`CREATE UNLOGGED TABLE staging (id text, title text, published date, summary text, body text, lead text, doc jsonb, opts jsonb)`,
	} {
		if _, err := pg.pool.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	rows := make([][]any, len(ins))
	for i := range ins {
		in := &ins[i]
		doc, _ := json.Marshal(in)
		rows[i] = []any{in.ID, in.Title, in.Published, in.Summary, prose(in), lead(in), string(doc), optionsJSON(in)}
	}
	if _, err := pg.pool.CopyFrom(ctx, pgx.Identifier{"staging"},
		[]string{"id", "title", "published", "summary", "body", "lead", "doc", "opts"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	var sel, naiveSel []string
	for _, c := range index.Taxonomy {
		sel = append(sel, fmt.Sprintf("coalesce(array(SELECT jsonb_array_elements_text(opts->'%s')), '{}')", c.Name))
		naiveSel = append(naiveSel, fmt.Sprintf("coalesce((SELECT string_agg(x, ', ') FROM jsonb_array_elements_text(opts->'%s') x), '')", c.Name))
	}
	stmts := []string{
		`CREATE TABLE incident (id text PRIMARY KEY, title text, published date, year int, lead text, doc jsonb, tsv tsvector, ` +
			strings.Join(cols, ", ") + ")",
		`INSERT INTO incident SELECT id, title, published, extract(year FROM published)::int, lead, doc,
			setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', summary), 'B') ||
			to_tsvector('english', body), ` + strings.Join(sel, ", ") + " FROM staging",
		"CREATE INDEX incident_tsv ON incident USING gin (tsv)",
		"CREATE INDEX incident_date ON incident (published DESC, id)",
		`CREATE TABLE incident_naive (id text PRIMARY KEY, title text, published date, year int, summary text, lead text, ` +
			strings.Join(naiveCols, ", ") + ")",
		`INSERT INTO incident_naive SELECT id, title, published, extract(year FROM published)::int, summary, lead, ` +
			strings.Join(naiveSel, ", ") + " FROM staging",
		"CREATE INDEX incident_naive_date ON incident_naive (published DESC, id)",
		"DROP TABLE staging",
	}
	for _, c := range index.Taxonomy {
		stmts = append(stmts, fmt.Sprintf("CREATE INDEX incident_%s ON incident USING gin (%s)", c.Name, c.Name))
	}
	stmts = append(stmts, "VACUUM ANALYZE incident", "VACUUM ANALYZE incident_naive")
	for _, stmt := range stmts {
		if _, err := pg.pool.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%.80s: %w", stmt, err)
		}
	}
	return nil
}

var pgLoaded = map[*postgres]bool{}

func ensurePG(ctx context.Context, pg *postgres, load func() ([]index.Incident, error)) error {
	if pgLoaded[pg] {
		return nil
	}
	ins, err := load()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := loadPG(ctx, pg, ins); err != nil {
		return err
	}
	logf("postgres: loaded %d incidents in %s", len(ins), time.Since(start).Round(time.Millisecond))
	pgLoaded[pg] = true
	return nil
}

// pgFTS is PostgreSQL's full-text search done properly.
type pgFTS struct{ pg *postgres }

func openPGFTS(ctx context.Context, pg *postgres, n int, load func() ([]index.Incident, error)) (peer, error) {
	return &pgFTS{pg}, ensurePG(ctx, pg, load)
}

func (p *pgFTS) Name() string { return "pg_fts" }

// Approx: PostgreSQL's english configuration stems with Snowball and
// tokenizes by its own rules.
func (p *pgFTS) Approx(c bench.Class) bool { t, _ := words(c); return t != "" }
func (p *pgFTS) Close() error              { return nil }

// args collects positional parameters.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

func (p *pgFTS) tsquery(c bench.Class, a *args) string {
	text, phrase := words(c)
	if text == "" {
		return ""
	}
	if phrase {
		return "phraseto_tsquery('english', " + a.add(text) + ")"
	}
	return "plainto_tsquery('english', " + a.add(text) + ")"
}

func (p *pgFTS) where(c bench.Class, skip string, a *args) string {
	conds := []string{"true"}
	if q := p.tsquery(c, a); q != "" {
		conds = append(conds, "tsv @@ "+q)
	}
	for _, cat := range sortedCats(c.Req.Filters) {
		if cat != skip {
			conds = append(conds, cat+" && "+a.add(c.Req.Filters[cat])+"::text[]")
		}
	}
	return strings.Join(conds, " AND ")
}

func (p *pgFTS) Run(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	if c.ExportLimit > 0 {
		return pgExport(ctx, p.pg, c, w)
	}
	out := result{Counts: map[string]uint64{}}
	var a args
	where := p.where(c, "", &a)
	if err := p.pg.pool.QueryRow(ctx, "SELECT count(*) FROM incident WHERE "+where, a...).Scan(&out.Total); err != nil {
		return 0, nil, err
	}
	var parts []string
	var fa args
	for _, cat := range index.Taxonomy {
		parts = append(parts, fmt.Sprintf("SELECT '%s', o, count(*) FROM incident, unnest(%s) o WHERE %s GROUP BY o", cat.Name, cat.Name, p.where(c, cat.Name, &fa)))
	}
	parts = append(parts, "SELECT 'year', year::text, count(*) FROM incident WHERE "+p.where(c, "", &fa)+" GROUP BY year")
	if err := scanCounts(ctx, p.pg, strings.Join(parts, " UNION ALL "), fa, out.Counts); err != nil {
		return 0, nil, err
	}
	offset, size := page(c)
	var ha args
	hw := p.where(c, "", &ha)
	order := "published DESC, id"
	score := "0::float8"
	if q := p.tsquery(c, &ha); q != "" {
		score = "ts_rank(tsv, " + q + ")::float8"
		order = "6 DESC, " + order
	}
	var opts []string
	for _, cat := range index.Taxonomy {
		opts = append(opts, cat.Name)
	}
	q := fmt.Sprintf("SELECT id, title, published::text, lead, %s, %s FROM incident WHERE %s ORDER BY %s LIMIT %d OFFSET %d",
		strings.Join(opts, ", "), score, hw, order, size, offset)
	q = strings.Replace(q, "6 DESC", strconv.Itoa(5+len(opts))+" DESC", 1)
	rows, err := p.pg.pool.Query(ctx, q, ha...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h hit
		vals := make([][]string, len(opts))
		dest := []any{&h.ID, &h.Title, &h.Published, &h.Summary}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		dest = append(dest, &h.Score)
		if err := rows.Scan(dest...); err != nil {
			return 0, nil, err
		}
		h.Options = map[string][]string{}
		for i, v := range vals {
			if len(v) > 0 {
				h.Options[opts[i]] = v
			}
		}
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

func scanCounts(ctx context.Context, pg *postgres, q string, a args, into map[string]uint64) error {
	rows, err := pg.pool.Query(ctx, q, a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var cat, val string
		var n int64
		if err := rows.Scan(&cat, &val, &n); err != nil {
			return err
		}
		into[cat+"="+val] = uint64(n)
	}
	return rows.Err()
}

func pgExport(ctx context.Context, pg *postgres, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	rows, err := pg.pool.Query(ctx, "SELECT doc::text FROM incident ORDER BY id LIMIT $1", c.ExportLimit)
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

// pgNaive queries PostgreSQL the way the Failures Database does: the words
// as a case-insensitive substring of the summary, a filter as equality with
// the category's option string ("design, operation" does not equal
// "design"), and counts per distinct option string.
type pgNaive struct{ pg *postgres }

func openPGNaive(ctx context.Context, pg *postgres, n int, load func() ([]index.Incident, error)) (peer, error) {
	return &pgNaive{pg}, ensurePG(ctx, pg, load)
}

func (p *pgNaive) Name() string              { return "pg_naive" }
func (p *pgNaive) Approx(c bench.Class) bool { return true }
func (p *pgNaive) Close() error              { return nil }

func (p *pgNaive) where(c bench.Class, skip string, a *args) string {
	conds := []string{"true"}
	if text, _ := words(c); text != "" {
		conds = append(conds, "summary ILIKE "+a.add("%"+text+"%"))
	}
	for _, cat := range sortedCats(c.Req.Filters) {
		if cat != skip {
			conds = append(conds, cat+"_option = ANY("+a.add(c.Req.Filters[cat])+"::text[])")
		}
	}
	return strings.Join(conds, " AND ")
}

func (p *pgNaive) Run(ctx context.Context, c bench.Class, w io.Writer) (uint64, map[string]uint64, error) {
	if c.ExportLimit > 0 {
		return pgExport(ctx, p.pg, c, w)
	}
	out := result{Counts: map[string]uint64{}}
	var a args
	where := p.where(c, "", &a)
	if err := p.pg.pool.QueryRow(ctx, "SELECT count(*) FROM incident_naive WHERE "+where, a...).Scan(&out.Total); err != nil {
		return 0, nil, err
	}
	var parts []string
	var fa args
	for _, cat := range index.Taxonomy {
		parts = append(parts, fmt.Sprintf("SELECT '%s', %s_option, count(*) FROM incident_naive WHERE %s GROUP BY 2", cat.Name, cat.Name, p.where(c, cat.Name, &fa)))
	}
	parts = append(parts, "SELECT 'year', year::text, count(*) FROM incident_naive WHERE "+p.where(c, "", &fa)+" GROUP BY year")
	if err := scanCounts(ctx, p.pg, strings.Join(parts, " UNION ALL "), fa, out.Counts); err != nil {
		return 0, nil, err
	}
	offset, size := page(c)
	var ha args
	q := fmt.Sprintf("SELECT id, title, published::text, lead FROM incident_naive WHERE %s ORDER BY published DESC, id LIMIT %d OFFSET %d",
		p.where(c, "", &ha), size, offset)
	rows, err := p.pg.pool.Query(ctx, q, ha...)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.ID, &h.Title, &h.Published, &h.Summary); err != nil {
			return 0, nil, err
		}
		out.Hits = append(out.Hits, h)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, err
	}
	if err := json.NewEncoder(w).Encode(out); err != nil {
		return 0, nil, err
	}
	return out.Total, nil, nil
}
