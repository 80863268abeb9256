package backup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

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

// Hashable tables get the cheap hash_record_extended checksum, which sees a one-value change; tables with a
// column type that has no extended hash function fall back to the text checksum; both verify; and a
// manifest written before methods existed (text checksums as sum(hashtextextended(row::text)::numeric),
// no method) still verifies.
func TestAccBackup_tableChecksumMethods(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := context.Background()
	cfg := storeConfig(t)
	e := newEngine(t, cfg, keyFile(t))
	db := dbName(t, acctest.NewDatabase(t))
	conn := connect(t, db)
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
	if s := tableStat(t, m1, "public.vecs"); s.Method != backup.ChecksumRecord || s.Rows != 200 {
		t.Fatalf("public.vecs: %+v, want method %q and 200 rows", s, backup.ChecksumRecord)
	}
	if s := tableStat(t, m1, "public.legacy"); s.Method != backup.ChecksumText || s.Rows != 50 {
		t.Fatalf("public.legacy (json, point columns): %+v, want the text method and 50 rows", s)
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
	b, _ := json.Marshal(m2)
	if _, err := rawS3(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket),
		Key: aws.String(cfg.Prefix + m2.ID + "/manifest.json"), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
	if checks, err := e.Verify(ctx, m2.ID); err != nil || len(checks) != 3 {
		t.Fatalf("verify of a manifest with text checksums and no method: %v %+v", err, checks)
	}
}
