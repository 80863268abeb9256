package backup_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// BenchmarkBackupAgainstOpsGuideAndFloor generates a database of ALFRED_BENCH_MB MiB (default 1024) of
// realistic rows (JSON payloads, text, float vectors), then times, in one run:
//   - the floor: pg_dump -Fc -Z0 > /dev/null;
//   - the ops guide's way: pg_dump -Fc to a file, then upload the file;
//   - `alfredctl backup run` (a subprocess, for its peak RSS), with TMPDIR pointing at an empty directory
//     that must stay empty (no temporary file the size of the dump);
//   - restore: `alfredctl backup restore` against pg_restore from the local file.
func BenchmarkBackupAgainstOpsGuideAndFloor(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1 (make bench does): needs real PostgreSQL and versitygw")
	}
	sizeMB := envInt("ALFRED_BENCH_MB", 1024)
	ctx := context.Background()
	pg := acctest.Postgres(b)
	dsn, err := pg.CreateDatabase(ctx, "bench")
	if err != nil {
		b.Fatal(err)
	}
	db := filepath.Base(dsn[:len(dsn)-len("?sslmode=disable")])
	conn := connectTB(b, pg.DSN(db))
	mustExec(b, conn, `CREATE TABLE events (id bigserial PRIMARY KEY, tenant text NOT NULL, kind text NOT NULL,
		payload jsonb NOT NULL, body text NOT NULL, embedding real[] NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`)
	for {
		var size int64
		if err := conn.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size); err != nil {
			b.Fatal(err)
		}
		if size >= int64(sizeMB)<<20 {
			b.Logf("generated database: %d MiB", size>>20)
			break
		}
		mustExec(b, conn, `INSERT INTO events (tenant, kind, payload, body, embedding)
			SELECT 'tenant-' || (i % 97), (ARRAY['chat','tool','error','retrieval'])[1 + i % 4],
				jsonb_build_object('request_id', md5(i::text || random()::text), 'tokens', (random() * 4000)::int,
					'model', 'alfred-' || (i % 5), 'tags', jsonb_build_array('a' || (i % 13), 'b' || (i % 7)),
					'latency_ms', random() * 900),
				repeat(md5(random()::text) || ' ', 6 + (i % 10)),
				ARRAY(SELECT random()::real FROM generate_series(1, 64))
			FROM generate_series(1, 50000) i`)
	}
	_ = conn.Close(ctx)

	srv := acctest.S3(b)
	bucket := fmt.Sprintf("bench-%d", os.Getpid())
	c := s3.New(s3.Options{Region: srv.Region, UsePathStyle: true, BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey}, nil
		})})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	work := b.TempDir()
	pgEnv := append(os.Environ(), "PGHOST=127.0.0.1", "PGPORT="+strconv.Itoa(pg.Port), "PGUSER="+pg.User, "PGDATABASE="+db, "PGSSLMODE=disable")
	timed := func(name string, cmd *exec.Cmd) (time.Duration, *syscall.Rusage) {
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		return time.Since(start), cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
	sh := func(script string) *exec.Cmd {
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = pgEnv
		return cmd
	}
	pgDump, pgRestore := filepath.Join(pg.BinDir, "pg_dump"), filepath.Join(pg.BinDir, "pg_restore")

	// A first scan after the bulk load sets hint bits and writes pages back: that run warms up, uncounted,
	// so the floor is not slowed by work that no later step pays.
	timed("floor warm-up", sh(pgDump+" -Fc -Z0 > /dev/null"))
	floor, floorRU := timed("floor", sh(pgDump+" -Fc -Z0 > /dev/null"))

	dumpFile := filepath.Join(work, "ops.dump")
	start := time.Now()
	timed("ops-guide pg_dump", sh(pgDump+" -Fc > "+dumpFile))
	f, err := os.Open(dumpFile)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := transfermanager.New(c).UploadObject(ctx, &transfermanager.UploadObjectInput{Bucket: aws.String(bucket), Key: aws.String("ops/" + db + ".dump"), Body: f}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	ops := time.Since(start)
	st, _ := os.Stat(dumpFile)

	bin := filepath.Join(work, "alfredctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/alfredctl").CombinedOutput(); err != nil {
		b.Fatalf("building alfredctl: %v\n%s", err, out)
	}
	key := filepath.Join(work, "keyset.json")
	if out, err := exec.Command(bin, "backup", "keygen", "--out", key).CombinedOutput(); err != nil {
		b.Fatalf("keygen: %v\n%s", err, out)
	}
	tmp := filepath.Join(work, "tmp")
	_ = os.Mkdir(tmp, 0o755)
	alfred := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, append(args, "--bucket", bucket, "--s3-endpoint", srv.Endpoint, "--keyset-file", key,
			"--postgres-dsn", pg.DSN("postgres"), "--pg-bin", pg.BinDir)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+srv.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+srv.SecretAccessKey,
			"AWS_REGION="+srv.Region, "TMPDIR="+tmp)
		return cmd
	}
	b.ResetTimer()
	run, ru := timed("alfredctl backup run", alfred("backup", "run", "--database", db))
	b.StopTimer()
	runNoStats, _ := timed("alfredctl backup run --table-checksums=false", alfred("backup", "run", "--database", db, "--table-checksums=false", "--keep-last", "0"))
	entries, _ := os.ReadDir(tmp)
	if len(entries) != 0 {
		b.Fatalf("alfredctl left %d temporary files", len(entries))
	}
	out, err := alfred("backup", "list").Output()
	if err != nil {
		b.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "good") {
		b.Fatalf("list after two runs:\n%s", out)
	}
	setID := strings.Fields(lines[1])[0]

	restore, _ := timed("alfredctl backup restore", alfred("backup", "restore", setID, "--database", db, "--target", db+"_r1"))
	mustExec(b, connectTB(b, pg.DSN("postgres")), "CREATE DATABASE "+db+"_r2 TEMPLATE template0")
	cmd := exec.Command(pgRestore, "-d", db+"_r2", dumpFile)
	cmd.Env = pgEnv
	pgr, _ := timed("pg_restore", cmd)

	// CPU seconds of the process and the children it waited for (pg_dump in both): on a busy machine wall
	// time swings with the load, while the CPU the pipeline adds to pg_dump's does not.
	cpu := func(ru *syscall.Rusage) float64 {
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	}
	rssMiB := float64(ru.Maxrss) / 1024 // Linux: KiB
	if rssMiB >= 128 {
		b.Errorf("alfredctl backup run peaked at %.1f MiB RSS; the target is under 128 MiB whatever the size", rssMiB)
	}
	b.ReportMetric(floor.Seconds(), "floor_s")
	b.ReportMetric(ops.Seconds(), "opsguide_s")
	b.ReportMetric(run.Seconds(), "alfred_s")
	b.ReportMetric(run.Seconds()/floor.Seconds(), "alfred/floor")
	b.ReportMetric(rssMiB, "alfred_peak_rss_MiB")
	b.ReportMetric(cpu(floorRU), "floor_cpu_s")
	b.ReportMetric(cpu(ru), "alfred_cpu_s")
	b.ReportMetric(runNoStats.Seconds(), "alfred_nochecksums_s")
	b.ReportMetric(restore.Seconds(), "alfred_restore_s")
	b.ReportMetric(pgr.Seconds(), "pg_restore_s")
	b.Logf("db %d MiB, dump file %d MiB: floor %s, ops guide %s, alfredctl run %s (%.2fx floor; %s without table checksums), peak RSS %.1f MiB, CPU floor %.1f s, alfredctl %.1f s; restore %s vs pg_restore %s",
		sizeMB, st.Size()>>20, floor.Round(time.Millisecond), ops.Round(time.Millisecond), run.Round(time.Millisecond),
		run.Seconds()/floor.Seconds(), runNoStats.Round(time.Millisecond), rssMiB, cpu(floorRU), cpu(ru), restore.Round(time.Millisecond), pgr.Round(time.Millisecond))
}

// envInt is the benchmark size in environment variable name, else def.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}
