package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Postgres says how to reach the cluster: a DSN (any database; the engine swaps the database name) and
// where pg_dump / pg_restore live (empty: PATH, then the newest /usr/lib/postgresql/*/bin).
type Postgres struct {
	DSN    string
	BinDir string
}

func (p Postgres) config(db string) (*pgx.ConnConfig, error) {
	if p.DSN == "" { // a set of Qdrant collections only needs none; one with databases does
		return nil, errors.New("no PostgreSQL DSN: pass --postgres-dsn or set ALFRED_POSTGRES_DSN")
	}
	cfg, err := pgx.ParseConfig(p.DSN)
	if err != nil {
		return nil, fmt.Errorf("the PostgreSQL DSN does not parse: %v", redact(err))
	}
	if db != "" {
		cfg.Database = db
	}
	return cfg, nil
}

// redact drops a DSN's password from an error text.
func redact(err error) string {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return "invalid connection string"
	}
	return err.Error()
}

func (p Postgres) connect(ctx context.Context, db string) (*pgx.Conn, error) {
	cfg, err := p.config(db)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "3D000" {
			return nil, fmt.Errorf("database %q does not exist on %s:%d: check the database name", cfg.Database, cfg.Host, cfg.Port)
		}
		return nil, fmt.Errorf("connecting to database %q on %s:%d: %v", cfg.Database, cfg.Host, cfg.Port, err)
	}
	return conn, nil
}

// env passes the connection to pg_dump / pg_restore through libpq variables, so no password is on argv.
func (p Postgres) env(db string) ([]string, error) {
	cfg, err := p.config(db)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(),
		"PGHOST="+cfg.Host, "PGPORT="+strconv.Itoa(int(cfg.Port)), "PGUSER="+cfg.User,
		"PGDATABASE="+cfg.Database, "PGCONNECT_TIMEOUT=10")
	if cfg.Password != "" {
		env = append(env, "PGPASSWORD="+cfg.Password)
	}
	if cfg.TLSConfig == nil {
		env = append(env, "PGSSLMODE=disable")
	}
	return env, nil
}

func (p Postgres) tool(name string) (string, error) {
	if p.BinDir != "" {
		return filepath.Join(p.BinDir, name), nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgDirMajor(dirs[i]) > pgDirMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return filepath.Join(d, name), nil
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("%s not found: install the PostgreSQL client or pass --pg-bin", name)
}

func pgDirMajor(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func (p Postgres) toolVersion(name string) (string, error) {
	path, err := p.tool(name)
	if err != nil {
		return "", err
	}
	out, err := exec.Command(path, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("running %s --version: %v", path, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Checksum methods of TableStat.Method: both sum a 64-bit hash of every row (independent of row order,
// constant memory on the server).
const (
	// ChecksumText hashes each row's text form: sum(hashtextextended(row::text, 0)). It works for every
	// column type but pays the text output of every value (float4out of a vector costs most of the scan).
	// Manifests that name no method used it.
	ChecksumText = ""
	// ChecksumRecord hashes each row's values with their types' extended hash functions (PostgreSQL 14+
	// hash_record_extended, the functions hash partitioning relies on, stable across versions): about 4x
	// cheaper than ChecksumText on rows of text, jsonb and real[]. Tables with a column type that has no
	// extended hash function (json, point, xml, ...) fall back to ChecksumText.
	ChecksumRecord = "hash_record_extended"
)

var checksumSQL = map[string]string{
	ChecksumText:   "hashtextextended(t::text, 0)",
	ChecksumRecord: "hash_record_extended(t, 0)",
}

type querier interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}

// tableStats returns every user table's row count and checksum. With methods nil (a backup, q inside the
// dump's transaction) each table gets its stats from known (ChecksumCopy, read from the dump stream) or
// else ChecksumRecord, or ChecksumText where its column types cannot be hashed; otherwise (a verify) each
// table gets the method methods names for it, ChecksumText if none.
func tableStats(ctx context.Context, q querier, methods map[string]string, known map[string]TableStat) ([]TableStat, error) {
	rows, err := q.Query(ctx, `SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog','information_schema') AND n.nspname NOT LIKE 'pg_toast%'
		ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (pgx.Identifier, error) {
		var s, t string
		err := r.Scan(&s, &t)
		return pgx.Identifier{s, t}, err
	})
	if err != nil {
		return nil, err
	}
	var out []TableStat
	for _, id := range tables {
		st := TableStat{Table: id[0] + "." + id[1]}
		if methods != nil {
			st.Method = methods[st.Table]
			if st.Method == ChecksumCopy {
				err = checksumCopy(ctx, q, id, &st)
			} else {
				err = checksumTable(ctx, q, id, &st)
			}
		} else if k, ok := known[st.Table]; ok {
			st = k
		} else {
			st.Method = ChecksumRecord
			err = checksumTableOrFallBack(ctx, q, id, &st)
		}
		if err != nil {
			return nil, fmt.Errorf("checksumming %s: %w", st.Table, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// checksumTableOrFallBack tries st.Method inside a savepoint (q is a transaction) and falls back to
// ChecksumText when a column type has no extended hash function (SQLSTATE 42883).
func checksumTableOrFallBack(ctx context.Context, q querier, id pgx.Identifier, st *TableStat) error {
	if _, err := q.Exec(ctx, "SAVEPOINT alfred_checksum"); err != nil {
		return err
	}
	err := checksumTable(ctx, q, id, st)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42883" {
		if _, err := q.Exec(ctx, "ROLLBACK TO SAVEPOINT alfred_checksum"); err != nil {
			return err
		}
		st.Method = ChecksumText
		err = checksumTable(ctx, q, id, st)
	}
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, "RELEASE SAVEPOINT alfred_checksum")
	return err
}

// copySession is what pg_dump's setup_connection sets that shapes COPY text (dates, intervals, floats),
// and the time zone the engine gives pg_dump (PGTZ), for ChecksumCopy.
const copySession = "SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 3; SET TimeZone = 'UTC'"

// checksumCopy computes ChecksumCopy: the lines of the COPY pg_dump runs for the table (every column but
// dropped and generated ones, in attnum order), in copySession. q must be a *pgx.Conn.
func checksumCopy(ctx context.Context, q querier, id pgx.Identifier, st *TableStat) error {
	c, ok := q.(interface{ PgConn() *pgconn.PgConn })
	if !ok {
		return errors.New("checksum method " + ChecksumCopy + " needs a connection")
	}
	rows, err := q.Query(ctx, `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0
		AND NOT attisdropped AND attgenerated = '' ORDER BY attnum`, id.Sanitize())
	if err != nil {
		return err
	}
	cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	stmt := "COPY " + id.Sanitize()
	if len(cols) > 0 {
		quoted := make([]string, len(cols))
		for i, col := range cols {
			quoted[i] = pgx.Identifier{col}.Sanitize()
		}
		stmt += " (" + strings.Join(quoted, ", ") + ")"
	}
	if _, err := q.Exec(ctx, copySession); err != nil {
		return err
	}
	// Back to the session's defaults after: ChecksumText of the next table reads text in them.
	defer func() {
		_, _ = q.Exec(context.WithoutCancel(ctx), "RESET DateStyle; RESET IntervalStyle; RESET extra_float_digits; RESET TimeZone")
	}()
	var sum lineSum
	if _, err := c.PgConn().CopyTo(ctx, &sum, stmt+" TO STDOUT"); err != nil {
		return err
	}
	*st = sum.stat(st.Table)
	return nil
}

func checksumTable(ctx context.Context, q querier, id pgx.Identifier, st *TableStat) error {
	expr, ok := checksumSQL[st.Method]
	if !ok {
		return fmt.Errorf("unknown checksum method %q (a newer alfredctl wrote this manifest)", st.Method)
	}
	// sum(bigint) accumulates in 128-bit integers; the result is the same numeric as summing numerics.
	rs, err := q.Query(ctx, `SELECT count(*), coalesce(sum(`+expr+`), 0)::text FROM ONLY `+id.Sanitize()+` AS t`)
	if err != nil {
		return err
	}
	for rs.Next() {
		if err := rs.Scan(&st.Rows, &st.Checksum); err != nil {
			rs.Close()
			return err
		}
	}
	rs.Close()
	return rs.Err()
}
