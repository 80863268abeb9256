package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// checksumFixture: an acceptance test in parallel, a store, an engine and a fresh database.
func checksumFixture(t *testing.T) (context.Context, backup.StoreConfig, *backup.Engine, string, *pgx.Conn) {
	t.Helper()
	needAcc(t)
	t.Parallel()
	cfg := storeConfig(t)
	db := dbName(t, acctest.NewDatabase(t))
	return context.Background(), cfg, newEngine(t, cfg, keyFile(t)), db, connect(t, db)
}

// putManifest replaces set m's manifest in the bucket, as a test that rewrites it needs.
func putManifest(t *testing.T, cfg backup.StoreConfig, m *backup.Manifest) {
	t.Helper()
	b, _ := json.Marshal(m)
	if _, err := rawS3(cfg).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket),
		Key: aws.String(cfg.Prefix + m.ID + "/manifest.json"), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
}

func tableStat(t *testing.T, m *backup.Manifest, table string) backup.TableStat {
	t.Helper()
	for _, s := range m.Objects[0].Tables {
		if s.Table == table {
			return s
		}
	}
	t.Fatalf("manifest of %s has no stats for %s: %+v", m.ID, table, m.Objects[0].Tables)
	return backup.TableStat{}
}

// Every table's stats come from the dump stream (ChecksumCopy, no second scan), whatever its column types,
// and a one-value change shows; tables checksummed by a scan in the snapshot (ChecksumRecord, or
// ChecksumText for types without an extended hash: see TestAccBackup_scanChecksumsWhereTheStreamCannotServe)
// still verify; and a manifest written before methods existed (text checksums as
// sum(hashtextextended(row::text)::numeric), no method) still verifies.
func TestAccBackup_tableChecksumMethods(t *testing.T) {
	ctx, cfg, e, db, conn := checksumFixture(t)
	execSQL(t, conn,
		"CREATE TABLE vecs (id int PRIMARY KEY, v real[], doc jsonb, note text)",
		"INSERT INTO vecs SELECT i, ARRAY[i, i / 3.0, -i]::real[], jsonb_build_object('k', i), 'n' || i FROM generate_series(1, 200) i",
		"CREATE TABLE legacy (id int, doc json, p point)",
		`INSERT INTO legacy SELECT i, json_build_object('k', i), point(i, i) FROM generate_series(1, 50) i`,
		"CREATE TABLE empty_json (doc json)")

	m1, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	for table, rows := range map[string]int64{"public.vecs": 200, "public.legacy": 50, "public.empty_json": 0} {
		if s := tableStat(t, m1, table); s.Method != backup.ChecksumCopy || s.Rows != rows {
			t.Fatalf("%s: %+v, want method %q and %d rows", table, s, backup.ChecksumCopy, rows)
		}
	}
	if _, err := e.Verify(ctx, m1.ID); err != nil {
		t.Fatalf("verify: %v", err)
	}

	// One float of one vector changes: same row count, another checksum.
	execSQL(t, conn, "UPDATE vecs SET v[2] = v[2] + 0.5 WHERE id = 77")
	m2, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tableStat(t, m1, "public.vecs"), tableStat(t, m2, "public.vecs"); a.Checksum == b.Checksum || a.Rows != b.Rows {
		t.Fatalf("one changed float left the checksum as it was: %+v then %+v", a, b)
	}

	// Rewrite m2 as an older alfredctl wrote it: text checksums by the old formula, no method.
	for i := range m2.Objects[0].Tables {
		s := &m2.Objects[0].Tables[i]
		if err := conn.QueryRow(ctx, "SELECT coalesce(sum(hashtextextended(t::text, 0)::numeric), 0)::text FROM ONLY "+s.Table+" t").Scan(&s.Checksum); err != nil {
			t.Fatal(err)
		}
		s.Method = ""
	}
	putManifest(t, cfg, m2)
	if checks, err := e.Verify(ctx, m2.ID); err != nil || len(checks) != 3 {
		t.Fatalf("verify of a manifest with text checksums and no method: %v %+v", err, checks)
	}
}

// Where the dump stream cannot give the stats (here a LATIN1 database with the C locale: the in-stream
// reader takes UTF8 archives only), each table is scanned in the dump's snapshot instead:
// hash_record_extended where its types allow, the text form otherwise; and both verify, because restore
// gives the new database the source's encoding and locale (in the cluster's default locale, the text
// column hashed differently and verify failed).
func TestAccBackup_scanChecksumsWhereTheStreamCannotServe(t *testing.T) {
	ctx, _, e, db, admin := checksumFixture(t)
	db += "_latin1"
	execSQL(t, admin, "CREATE DATABASE "+db+" TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'")
	t.Cleanup(func() { dropDB(t, db) })
	conn := connect(t, db)
	execSQL(t, conn,
		"CREATE TABLE vecs (id int PRIMARY KEY, v real[], note text)",
		"INSERT INTO vecs SELECT i, ARRAY[i, -i]::real[], 'caf\u00e9 ' || i FROM generate_series(1, 100) i",
		"CREATE TABLE legacy (id int, p point)",
		"INSERT INTO legacy SELECT i, point(i, i) FROM generate_series(1, 30) i")
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	if s := tableStat(t, m, "public.vecs"); s.Method != backup.ChecksumRecord || s.Rows != 100 {
		t.Fatalf("public.vecs: %+v, want method %q and 100 rows", s, backup.ChecksumRecord)
	}
	if s := tableStat(t, m, "public.legacy"); s.Method != backup.ChecksumText || s.Rows != 30 {
		t.Fatalf("public.legacy (a point column): %+v, want the text method and 30 rows", s)
	}
	if checks, err := e.Verify(ctx, m.ID); err != nil {
		t.Fatalf("verify: %v\n%+v", err, checks)
	}
}

// The stats read from the dump stream match what verify reads back with its own COPY, for the values whose
// text depends on session settings (time zones, date and interval styles, floats), escapes, NULLs, a
// generated and a dropped column, quoted names, a table without columns, partitions and an unlogged
// table, with the database's own DateStyle and TimeZone set to something else; and verify sees one changed
// value in any of them.
func TestAccBackup_streamChecksumsMatchWhatVerifyReads(t *testing.T) {
	ctx, cfg, e, db, conn := checksumFixture(t)
	execSQL(t, conn,
		"ALTER DATABASE "+db+" SET DateStyle = 'SQL, DMY'",
		"ALTER DATABASE "+db+" SET TimeZone = 'Pacific/Chatham'",
		"ALTER DATABASE "+db+" SET IntervalStyle = 'iso_8601'",
		`CREATE SCHEMA "Odd Schema"`,
		`CREATE TABLE "Odd Schema"."Mixed Case" (id int, "select" text, at timestamptz, d date, span interval,
			f8 float8, f4 real, n numeric, b bytea, gone int, total int GENERATED ALWAYS AS (id * 2) STORED)`,
		`ALTER TABLE "Odd Schema"."Mixed Case" DROP COLUMN gone`,
		`INSERT INTO "Odd Schema"."Mixed Case" (id, "select", at, d, span, f8, f4, n, b) VALUES
			(1, E'tab\there\nnewline \\ backslash', '2026-03-01 12:34:56.789+05:30', '2026-12-31', '1 year 2 mons 3 days 04:05:06.7',
			 0.1, 0.1, 12345678901234567890.123456789, '\xdeadbeef'),
			(2, NULL, '-infinity', 'epoch', '-3 days', 'NaN', '-Infinity', 'NaN', ''),
			(3, '\.', now(), now(), '0', 1e300, 3.4e38, 0, NULL)`,
		"CREATE TABLE nocols ()",
		"INSERT INTO nocols DEFAULT VALUES", "INSERT INTO nocols DEFAULT VALUES",
		"CREATE TABLE events (at timestamptz NOT NULL, v float8) PARTITION BY RANGE (at)",
		"CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
		"CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')",
		"INSERT INTO events SELECT '2026-06-01'::timestamptz + i * interval '1 day', i / 7.0 FROM generate_series(0, 400) i",
		"CREATE UNLOGGED TABLE scratchpad (k text PRIMARY KEY, v jsonb)",
		`INSERT INTO scratchpad VALUES ('a', '{"x": [1, 2.50, "\u00e9"]}'), ('b', 'null')`)

	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"Odd Schema.Mixed Case": 3, "public.nocols": 2, "public.events_2026": 214,
		"public.events_2027": 187, "public.scratchpad": 2}
	for table, rows := range want {
		if s := tableStat(t, m, table); s.Method != backup.ChecksumCopy || s.Rows != rows {
			t.Errorf("%s: %+v, want method %q and %d rows", table, s, backup.ChecksumCopy, rows)
		}
	}
	if len(m.Objects[0].Tables) != len(want) {
		t.Errorf("tables in the manifest: %+v, want %d", m.Objects[0].Tables, len(want))
	}
	if checks, err := e.Verify(ctx, m.ID); err != nil {
		t.Fatalf("verify: %v\n%+v", err, checks)
	}

	// A changed checksum in the manifest (as if the restore had lost a row's change) fails verify, naming
	// the table.
	for i := range m.Objects[0].Tables {
		if s := &m.Objects[0].Tables[i]; s.Table == "Odd Schema.Mixed Case" {
			s.Checksum = "0000000000000000"
		}
	}
	putManifest(t, cfg, m)
	checks, err := e.Verify(ctx, m.ID)
	if !errors.Is(err, backup.ErrIntegrity) {
		t.Fatalf("verify of a set whose checksum differs: %v, want an integrity error", err)
	}
	for _, c := range checks {
		if c.OK() != (c.Table != "Odd Schema.Mixed Case") {
			t.Errorf("check %+v", c)
		}
	}
}
