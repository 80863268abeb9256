package main

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

func runCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

// backupCLIFixture creates a database holding public.notes (500 rows) and a bucket, and points the backup
// commands' environment at them (no key): it returns the database's name and the cluster.
func backupCLIFixture(t *testing.T) (string, *localproc.PostgresCluster) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: needs real PostgreSQL and versitygw")
	}
	ctx := context.Background()
	srv := acctest.S3(t)
	pg := acctest.Postgres(t)
	dsn := acctest.NewDatabase(t)
	u, _ := url.Parse(dsn)
	db := strings.TrimPrefix(u.Path, "/")
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT i, 'n' || i FROM generate_series(1, 500) i"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	bucket := fmt.Sprintf("cli-%d-%d", os.Getpid(), cliBucketSeq.Add(1))
	c := s3.New(s3.Options{Region: srv.Region, UsePathStyle: true, BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALFRED_BACKUP_BUCKET", bucket)
	t.Setenv("ALFRED_S3_ENDPOINT", srv.Endpoint)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretAccessKey)
	t.Setenv("AWS_REGION", srv.Region)
	t.Setenv("ALFRED_POSTGRES_DSN", pg.DSN("postgres"))
	t.Setenv("ALFRED_BACKUP_KEYSET", "")
	return db, pg
}

var cliBucketSeq atomic.Int64

func TestAccBackupCLI_runListVerifyRestore(t *testing.T) {
	ctx := context.Background()
	db, pg := backupCLIFixture(t)

	if _, _, err := runCLI(t, "backup", "run", "--database", db, "--pg-bin", pg.BinDir); err == nil ||
		!strings.Contains(err.Error(), "ALFRED_BACKUP_KEYSET") {
		t.Fatalf("run without a key: %v", err)
	}
	key := filepath.Join(t.TempDir(), "keyset.json")
	if _, _, err := runCLI(t, "backup", "keygen", "--out", key); err != nil {
		t.Fatal(err)
	}
	ks, _ := os.ReadFile(key)
	out, stderr, err := runCLI(t, "backup", "run", "--database", db, "--keyset-file", key, "--pg-bin", pg.BinDir)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	if strings.Contains(out+stderr, string(ks)) {
		t.Fatal("the keyset appears in the output")
	}
	if !strings.Contains(stderr, "backup "+db+": started") || !strings.Contains(stderr, "backup "+db+": done") {
		t.Fatalf("no plain progress lines off a terminal:\n%s", stderr)
	}
	set := regexp.MustCompile(`set (\S+) complete`).FindStringSubmatch(out)
	if set == nil {
		t.Fatalf("run printed no summary:\n%s", out)
	}
	out, _, err = runCLI(t, "backup", "list")
	if err != nil || !regexp.MustCompile(regexp.QuoteMeta(set[1])+`\s+good`).MatchString(out) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "backup", "verify", set[1], "--keyset-file", key, "--pg-bin", pg.BinDir)
	if err != nil || !regexp.MustCompile(`public\.notes\s+500\s+500\s+match`).MatchString(out) {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "backup", "restore", set[1], "--database", db, "--target", db+"_copy", "--keyset-file", key, "--pg-bin", pg.BinDir)
	if err != nil || !strings.Contains(out, db+"_copy") {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	conn, err := pgx.Connect(ctx, pg.DSN(db+"_copy"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil || n != 500 {
		t.Fatalf("restored copy: %d rows, %v", n, err)
	}
	out, _, err = runCLI(t, "backup", "prune", "--keep-last", "1")
	if err != nil || !strings.Contains(out, "deleted 0 set(s)") {
		t.Fatalf("prune: %v\n%s", err, out)
	}
}
