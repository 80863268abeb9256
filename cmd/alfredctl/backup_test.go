package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/qdrant/go-client/qdrant"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
	qdrantsandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
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

// A run of Qdrant collections only (no --database, no PostgreSQL DSN), against a 3-peer sandbox Qdrant
// found through the provider's environment and the sandbox's debug API: run, list, verify, restore under
// another name; an unknown collection fails before data moves.
func TestAccBackupCLI_qdrantCollectionsOnly(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: needs versitygw")
	}
	ctx := context.Background()
	srv := acctest.S3(t)
	q := qdrantsandbox.StartTestServer(t, qdrantsandbox.Options{APIKey: "cli-key", ReplicaSyncDelay: 100 * time.Millisecond})
	debug := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/qdrant/peers/endpoints" {
			http.NotFound(w, r)
			return
		}
		var eps []map[string]any
		for _, p := range q.Peers {
			eps = append(eps, map[string]any{"id": p.ID, "grpc": p.Addr, "rest": p.RESTURL})
		}
		_ = json.NewEncoder(w).Encode(eps)
	}))
	t.Cleanup(debug.Close)
	host, port, _ := net.SplitHostPort(q.Addr)
	p, _ := strconv.Atoi(port)
	qc, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: "cli-key", PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	seedMemories(t, qc, 40)
	bucket := fmt.Sprintf("cli-qdrant-%d", os.Getpid())
	c := s3.New(s3.Options{Region: srv.Region, UsePathStyle: true, BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"ALFRED_BACKUP_BUCKET": bucket, "ALFRED_S3_ENDPOINT": srv.Endpoint, "AWS_ACCESS_KEY_ID": srv.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY": srv.SecretAccessKey, "AWS_REGION": srv.Region, "ALFRED_POSTGRES_DSN": "", "ALFRED_BACKUP_KEYSET": "",
		"ALFRED_QDRANT_URL": q.Addr, "ALFRED_QDRANT_REST_URL": q.RESTURL, "QDRANT_API_KEY": "cli-key", "ALFRED_SANDBOX_DEBUG_URL": debug.URL,
		"ALFRED_QDRANT_PEER_REST_URLS": ""} {
		t.Setenv(k, v)
	}
	key := filepath.Join(t.TempDir(), "keyset.json")
	if _, _, err := runCLI(t, "backup", "keygen", "--out", key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCLI(t, "backup", "run", "--qdrant-collection", "memories", "--qdrant-collection", "nope", "--keyset-file", key); err == nil ||
		!strings.Contains(err.Error(), `"nope" does not exist`) {
		t.Fatalf("run with an unknown collection: %v", err)
	}
	out, stderr, err := runCLI(t, "backup", "run", "--qdrant-collection", "memories", "--keyset-file", key)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	set := regexp.MustCompile(`set (\S+) complete`).FindStringSubmatch(out)
	if set == nil || !strings.Contains(out, "memories/2") || strings.Contains(out+stderr, "cli-key") {
		t.Fatalf("run printed:\n%s\n%s", out, stderr)
	}
	out, _, err = runCLI(t, "backup", "list")
	if err != nil || !regexp.MustCompile(regexp.QuoteMeta(set[1])+`\s+good\s+\S+\s+3\s`).MatchString(out) {
		t.Fatalf("list: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "backup", "verify", set[1], "--keyset-file", key)
	if err != nil || !regexp.MustCompile(`qdrant\s+memories\s+40\s+40\s+match`).MatchString(out) {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	out, _, err = runCLI(t, "backup", "restore", set[1], "--qdrant-collection", "memories", "--target", "memories_copy", "--keyset-file", key)
	if err != nil || !regexp.MustCompile(`memories\s+memories_copy`).MatchString(out) {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if n, err := qc.Count(ctx, &qdrant.CountPoints{CollectionName: "memories_copy", Exact: qdrant.PtrOf(true)}); err != nil || n != 40 {
		t.Fatalf("restored copy: %d points, %v", n, err)
	}
}

// seedMemories creates collection "memories" (3 shards x 2 replicas, a named vector) with n points.
func seedMemories(t *testing.T, qc *qdrant.Client, n int) {
	t.Helper()
	ctx := context.Background()
	if err := qc.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "memories",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{"text": {Size: 3, Distance: qdrant.Distance_Cosine}}),
		ShardNumber:   qdrant.PtrOf(uint32(3)), ReplicationFactor: qdrant.PtrOf(uint32(2))}); err != nil {
		t.Fatal(err)
	}
	var pts []*qdrant.PointStruct
	for i := 1; i <= n; i++ {
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)),
			Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"text": qdrant.NewVector(float32(i), 1, 2)}),
			Payload: qdrant.NewValueMap(map[string]any{"agent": "alfred-bot", "i": i})})
	}
	if _, err := qc.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "memories", Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
		t.Fatal(err)
	}
}

func TestParsePeerURLs(t *testing.T) {
	got, err := parsePeerURLs([]string{"381894127136002=http://10.0.0.2:6333", " 7=https://q7:6333/ "})
	if err != nil || got[381894127136002] != "http://10.0.0.2:6333" || got[7] != "https://q7:6333/" || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parsePeerURLs([]string{"q2:6333"}); err == nil || !strings.Contains(err.Error(), "PEER_ID=") {
		t.Fatalf("malformed pair: %v", err)
	}
}

// The whole product path: `alfredctl sandbox up`, then the binary's `backup run --qdrant-collection`,
// `verify` and `restore` with nothing but sandbox.env (3 Qdrant peers found through the debug API,
// versitygw), and a restored collection with every point.
func TestSandboxBackupQdrantCollectionEndToEnd(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: starts the whole sandbox")
	}
	if testing.Short() {
		t.Skip("-short: starting the whole sandbox takes tens of seconds")
	}
	bin, _, run := alfredctl(t)
	run("sandbox", "up")
	env := map[string]string{}
	for _, line := range strings.Split(run("sandbox", "env"), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			env[k] = strings.Trim(v, "'")
		}
	}
	ctx := context.Background()
	host, port, _ := net.SplitHostPort(env["ALFRED_QDRANT_URL"])
	p, _ := strconv.Atoi(port)
	qc, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: env["QDRANT_API_KEY"], PoolSize: 1, SkipCompatibilityCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer qc.Close()
	seedMemories(t, qc, 30)
	c := s3.New(s3.Options{Region: env["AWS_REGION"], UsePathStyle: true, BaseEndpoint: aws.String(env["ALFRED_S3_ENDPOINT"]),
		Credentials: credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], "")})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("backups")}); err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(t.TempDir(), "keyset.json")
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"backup"}, args...)...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "ALFRED_BACKUP_BUCKET=backups"}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("alfredctl backup %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	cli("keygen", "--out", key)
	out := cli("run", "--qdrant-collection", "memories", "--keyset-file", key)
	set := regexp.MustCompile(`set (\S+) complete`).FindStringSubmatch(out)
	if set == nil {
		t.Fatalf("run printed:\n%s", out)
	}
	if out := cli("verify", set[1], "--keyset-file", key); !regexp.MustCompile(`qdrant\s+memories\s+30\s+30\s+match`).MatchString(out) {
		t.Fatalf("verify:\n%s", out)
	}
	cli("restore", set[1], "--qdrant-collection", "memories", "--target", "memories_restored", "--keyset-file", key)
	if n, err := qc.Count(ctx, &qdrant.CountPoints{CollectionName: "memories_restored", Exact: qdrant.PtrOf(true)}); err != nil || n != 30 {
		t.Fatalf("restored %d points, %v", n, err)
	}
}
