package localproc_test

import (
	"context"
	"os"
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
