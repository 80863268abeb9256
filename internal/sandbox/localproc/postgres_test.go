package localproc_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// A cluster whose owner died without stopping it is taken over on the next start: the old server is
// stopped, the new one listens on the port asked for, and the data is still there.
func TestStartPostgresTakesOverAServerLeftRunning(t *testing.T) {
	dir, err := os.MkdirTemp("", "alfred-pg-leftover-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	first, err := localproc.StartPostgres(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, first.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `create table kept (v int); insert into kept values (7)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	port, err := localproc.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	second, err := localproc.StartPostgres(dir, port) // first was never stopped
	if err != nil {
		_ = first.Stop()
		t.Fatalf("starting over a server left running: %v", err)
	}
	defer func() { _ = second.Stop() }()
	if _, err := pgx.Connect(ctx, first.DSN("postgres")); err == nil {
		t.Error("the server left running must have been stopped")
	}
	conn, err = pgx.Connect(ctx, second.DSN("postgres"))
	if err != nil {
		t.Fatalf("the new server must listen on port %d: %v", port, err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, `select v from kept`).Scan(&v); err != nil || v != 7 {
		t.Errorf("data after the takeover: %d %v", v, err)
	}
}

// A data directory deep enough that a Unix socket path under it would pass PostgreSQL's 107-byte limit
// (a checkout under a long path) still starts: the cluster listens on TCP only.
func TestStartPostgresUnderADeepDirectory(t *testing.T) {
	base, err := os.MkdirTemp("", "alfred-pg-deep-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	dir := filepath.Join(base, strings.Repeat("d", 60), strings.Repeat("e", 40), "postgres")
	if len(dir)+len("/.s.PGSQL.65535") <= 107 {
		t.Fatalf("the directory is not deep enough to test the limit: %s", dir)
	}
	c, err := localproc.StartPostgres(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop() }()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
}

// As root the cluster runs as the postgres user, which must be able to reach a data directory below a
// directory only root may enter (like /root): the search bit for others is added there, and nothing else.
func TestStartPostgresBelowARootOnlyDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to the postgres user")
	}
	base, err := os.MkdirTemp("", "alfred-pg-private-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	private := filepath.Join(base, "private")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o700|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	c, err := localproc.StartPostgres(filepath.Join(private, "sandbox", "postgres"), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Stop() }()
	fi, err := os.Stat(private)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0o701 | os.ModeSetgid | os.ModeDir; fi.Mode() != want {
		t.Errorf("mode of the root-only directory: %v, want %v (o+x only, setgid kept)", fi.Mode(), want)
	}
}

func TestRotateLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.log")
	if err := localproc.RotateLog(path, 10); err != nil {
		t.Fatalf("a missing log is not an error: %v", err)
	}
	if err := os.WriteFile(path, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := localproc.RotateLog(path, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("a log of max bytes stays: %v", err)
	}
	if err := os.WriteFile(path+".1", []byte("older"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("0123456789x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := localproc.RotateLog(path, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a log over max bytes moves away: %v", err)
	}
	if b, _ := os.ReadFile(path + ".1"); string(b) != "0123456789x" {
		t.Errorf("%s.1 holds %q, want the rotated log", path, b)
	}
}
