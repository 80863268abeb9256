package backup_test

import (
	"context"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// The ops guide asks for a way back from a migration that breaks the application: back up, migrate,
// restore over the original with --force, and the application's queries work again.
func TestAccBackup_migrationRollbackRestoresTheApplicationsQueries(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	db := dbName(t, acctest.NewDatabase(t))
	execSQL(t, connect(t, db),
		"CREATE TABLE agents (id serial PRIMARY KEY, name text NOT NULL UNIQUE, config jsonb NOT NULL DEFAULT '{}')",
		"CREATE TABLE runs (id bigserial PRIMARY KEY, agent_id int NOT NULL REFERENCES agents, status text NOT NULL)",
		"INSERT INTO agents (name) SELECT 'agent-' || i FROM generate_series(1, 50) i",
		"INSERT INTO runs (agent_id, status) SELECT 1 + i % 50, CASE WHEN i % 4 = 0 THEN 'failed' ELSE 'ok' END FROM generate_series(1, 2000) i")
	appQuery := func() (int64, error) {
		var n int64
		err := connect(t, db).QueryRow(ctx, `SELECT count(*) FROM runs r JOIN agents a ON a.id = r.agent_id
			WHERE a.name = 'agent-7' AND r.status = 'failed'`).Scan(&n)
		return n, err
	}
	want, err := appQuery()
	if err != nil || want == 0 {
		t.Fatalf("fixture: %d, %v", want, err)
	}
	e := newEngine(t, storeConfig(t), keyFile(t))
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	// The bad migration: renames a column the application reads and drops data.
	execSQL(t, connect(t, db), "ALTER TABLE runs RENAME COLUMN status TO state", "DELETE FROM agents WHERE id > 10 AND id NOT IN (SELECT agent_id FROM runs)",
		"ALTER TABLE agents DROP COLUMN name")
	if _, err := appQuery(); err == nil {
		t.Fatal("precondition: the broken migration did not break the application's query")
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Force: true}); err != nil {
		t.Fatalf("rollback restore: %v", err)
	}
	if got, err := appQuery(); err != nil || got != want {
		t.Fatalf("after rollback the query returns %d, %v; want %d", got, err, want)
	}
}

// A restore over the original that fails in pg_restore (here: a GRANT to a role dropped since the backup)
// leaves the original database untouched.
func TestAccBackup_failedForcedRestoreKeepsTheOriginal(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	db := smallDatabase(t)
	role := "bk_gone_" + db[len(db)-8:]
	execSQL(t, connect(t, db), "CREATE ROLE "+role, "GRANT SELECT ON items TO "+role)
	e := newEngine(t, storeConfig(t), keyFile(t))
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	execSQL(t, connect(t, db), "INSERT INTO items VALUES (-1, 'written after the backup')", "DROP OWNED BY "+role, "DROP ROLE "+role)
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Force: true}); err == nil {
		t.Fatal("restore with a missing role succeeded; the test proves nothing")
	}
	var n int
	if err := connect(t, db).QueryRow(ctx, "SELECT count(*) FROM items WHERE id = -1").Scan(&n); err != nil || n != 1 {
		t.Fatalf("the original lost its rows after a failed restore: %d, %v", n, err)
	}
	var staging int
	if err := connect(t, "postgres").QueryRow(ctx, "SELECT count(*) FROM pg_database WHERE datname LIKE 'alfred_restore_%'").Scan(&staging); err != nil || staging != 0 {
		t.Fatalf("%d staging databases left (%v)", staging, err)
	}
}
