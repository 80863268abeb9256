package acctest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// CronDatabase is the one database of the pg_cron cluster where pg_cron runs (cron.database_name).
const CronDatabase = "alfred_cron"

var (
	cronOnce sync.Once
	cronDSN  string
	cronErr  error
)

// PostgresWithCron returns the DSN of a database that has the pg_cron extension, in a second cluster
// started on first use with shared_preload_libraries = pg_cron (Debian's postgresql-<major>-cron package,
// installed when missing as root) and shared by the package's tests; Main stops it after them. pg_cron
// works in one database per cluster, so tests that use it share that database.
func PostgresWithCron(t testing.TB) string {
	t.Helper()
	cronOnce.Do(func() {
		bin, err := localproc.FindPostgresBin()
		if err != nil {
			cronErr = err
			return
		}
		if cronErr = localproc.EnsurePgCron(bin); cronErr != nil {
			return
		}
		dir, err := os.MkdirTemp("", "alfred-pg-cron-")
		if err != nil {
			cronErr = err
			return
		}
		c, err := localproc.StartPostgresWith(dir, 0,
			"-c shared_preload_libraries=pg_cron -c cron.database_name="+CronDatabase)
		if err != nil {
			cronErr = err
			_ = os.RemoveAll(dir)
			return
		}
		addCleanup(func() { _ = c.Stop(); _ = os.RemoveAll(dir) })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, c.DSN("postgres"))
		if err != nil {
			cronErr = err
			return
		}
		defer conn.Close(ctx)
		if _, cronErr = conn.Exec(ctx, "create database "+CronDatabase); cronErr != nil {
			return
		}
		cronDSN = c.DSN(CronDatabase)
		dbConn, err := pgx.Connect(ctx, cronDSN)
		if err != nil {
			cronErr = err
			return
		}
		defer dbConn.Close(ctx)
		_, cronErr = dbConn.Exec(ctx, "create extension pg_cron")
	})
	if cronErr != nil {
		t.Fatalf("starting PostgreSQL with pg_cron: %v", cronErr)
	}
	return cronDSN
}
