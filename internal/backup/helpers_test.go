package backup_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

func TestMain(m *testing.M) { acctest.Main(m) }

var bucketSeq atomic.Int64

func needAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: this test needs real PostgreSQL and versitygw")
	}
}

// storeConfig creates a fresh bucket on the run's versitygw.
func storeConfig(t testing.TB) backup.StoreConfig {
	t.Helper()
	srv := acctest.S3(t)
	cfg := backup.StoreConfig{
		Bucket: fmt.Sprintf("backups-%d-%d", os.Getpid(), bucketSeq.Add(1)),
		Prefix: "alfred/", Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey,
	}
	c := rawS3(cfg)
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	return cfg
}

func rawS3(cfg backup.StoreConfig) *s3.Client {
	return s3.New(s3.Options{
		Region: cfg.Region, UsePathStyle: true, BaseEndpoint: aws.String(cfg.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey}, nil
		}),
	})
}

// keyFile writes a fresh keyset and returns its path.
func keyFile(t testing.TB) string {
	t.Helper()
	ks, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "keyset.json")
	if err := os.WriteFile(p, ks, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newEngine(t *testing.T, cfg backup.StoreConfig, keyPath string) *backup.Engine {
	t.Helper()
	e := storeEngine(t, cfg, keyPath)
	pg := acctest.Postgres(t)
	e.PG = backup.Postgres{DSN: pg.DSN("postgres"), BinDir: pg.BinDir}
	return e
}

// storeEngine is an engine with a store and a key, and no PostgreSQL.
func storeEngine(t testing.TB, cfg backup.StoreConfig, keyPath string) *backup.Engine {
	t.Helper()
	st, err := backup.NewStore(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key, err := backup.LoadKey(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	return &backup.Engine{Store: st, Key: key, Version: "test"}
}

func dbName(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func connect(t *testing.T, db string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, acctest.Postgres(t).DSN(db))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func execSQL(t *testing.T, conn *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := conn.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func dropDB(t *testing.T, db string) {
	t.Helper()
	c := connect(t, "postgres")
	execSQL(t, c, "DROP DATABASE "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
}

// snapshotTables returns "schema.table" -> "rows/checksum" computed independently of the engine.
func snapshotTables(t *testing.T, db string) map[string]string {
	t.Helper()
	conn := connect(t, db)
	ctx := context.Background()
	rows, err := conn.Query(ctx, `SELECT format('%I.%I', n.nspname, c.relname), n.nspname || '.' || c.relname FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog','information_schema')`)
	if err != nil {
		t.Fatal(err)
	}
	type tbl struct{ q, name string }
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (tbl, error) {
		var x tbl
		return x, r.Scan(&x.q, &x.name)
	})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, x := range ts {
		var n int64
		var sum string
		// A different checksum from the engine's: md5 over the rows' text sorted.
		if err := conn.QueryRow(ctx, "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM "+x.q+" t").Scan(&n, &sum); err != nil {
			t.Fatal(err)
		}
		out[x.name] = fmt.Sprintf("%d/%s", n, sum)
	}
	return out
}

func connectTB(tb testing.TB, dsn string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func mustExec(tb testing.TB, conn *pgx.Conn, sql string) {
	tb.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
