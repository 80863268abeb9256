package backup_test

import (
	"context"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// fixture fills db with what a platform database holds: an extension, a sequence, indexes, a function, an
// alfred_rbac schema with grants, and a table under row-level security. It returns the role names.
func fixture(t *testing.T, db string) (reader, stranger string) {
	t.Helper()
	conn := connect(t, db)
	suffix := fmt.Sprintf("%d_%d", os.Getpid(), time.Now().UnixNano()%1e6)
	reader, stranger = "bk_reader_"+suffix, "bk_stranger_"+suffix
	execSQL(t, conn,
		"CREATE EXTENSION IF NOT EXISTS pgcrypto",
		"CREATE EXTENSION IF NOT EXISTS citext",
		"CREATE ROLE "+reader, "CREATE ROLE "+stranger,
		"CREATE SCHEMA alfred_rbac",
		`CREATE TABLE alfred_rbac.assignments (id bigserial PRIMARY KEY, member citext NOT NULL, tenant text NOT NULL)`,
		"GRANT USAGE ON SCHEMA alfred_rbac TO "+reader+", "+stranger,
		"GRANT SELECT ON alfred_rbac.assignments TO "+reader+", "+stranger,
		`CREATE TABLE documents (id bigserial PRIMARY KEY, tenant text NOT NULL, body jsonb NOT NULL,
			embedding real[] NOT NULL, secret bytea, created_at timestamptz NOT NULL DEFAULT now())`,
		"CREATE INDEX documents_tenant_idx ON documents (tenant)",
		"CREATE INDEX documents_body_idx ON documents USING gin (body)",
		`CREATE FUNCTION doc_count(p_tenant text) RETURNS bigint LANGUAGE sql STABLE AS
			'SELECT count(*) FROM documents WHERE tenant = p_tenant'`,
		"ALTER TABLE documents ENABLE ROW LEVEL SECURITY",
		`CREATE POLICY tenant_isolation ON documents USING (tenant IN
			(SELECT a.tenant FROM alfred_rbac.assignments a WHERE a.member = current_user::citext))`,
		"GRANT SELECT ON documents TO "+reader+", "+stranger,
		"GRANT EXECUTE ON FUNCTION doc_count(text) TO "+reader,
		fmt.Sprintf("INSERT INTO alfred_rbac.assignments (member, tenant) VALUES ('%s', 'acme')", reader),
		`INSERT INTO documents (tenant, body, embedding, secret)
			SELECT CASE WHEN i % 3 = 0 THEN 'acme' ELSE 'globex' END,
				jsonb_build_object('n', i, 'title', 'doc ' || i, 'tags', jsonb_build_array('a', i % 7)),
				ARRAY[random()::real, random()::real, random()::real], gen_random_bytes(16)
			FROM generate_series(1, 3000) i`,
	)
	return reader, stranger
}

func visibleRows(t *testing.T, db, role string) int64 {
	t.Helper()
	conn := connect(t, db)
	ctx := context.Background()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{role}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM documents").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAccBackup_roundTripRestoresSchemaDataAndRowLevelSecurity(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	db := dbName(t, acctest.NewDatabase(t))
	reader, stranger := fixture(t, db)
	before := snapshotTables(t, db)
	if got := visibleRows(t, db, stranger); got != 0 {
		t.Fatalf("fixture: the unassigned role sees %d rows", got)
	}
	wantReader := visibleRows(t, db, reader)
	if wantReader != 1000 {
		t.Fatalf("fixture: the assigned role sees %d rows, want 1000", wantReader)
	}
	var seqBefore int64
	if err := connect(t, db).QueryRow(ctx, "SELECT last_value FROM documents_id_seq").Scan(&seqBefore); err != nil {
		t.Fatal(err)
	}

	e := newEngine(t, storeConfig(t), keyFile(t))
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(m.Objects) != 1 || m.Objects[0].Size == 0 || len(m.Objects[0].SHA256) != 64 || m.ToolVersions["pg_dump"] == "" {
		t.Fatalf("manifest lacks size, sha256 or versions: %+v", m)
	}
	sets, err := e.Store.Sets(ctx)
	if err != nil || len(sets) != 1 || sets[0].Manifest == nil {
		t.Fatalf("sets after one run: %+v, %v", sets, err)
	}

	dropDB(t, db)
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db}); err == nil {
		t.Fatal("restore over the original name without --force succeeded")
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, Database: db, Force: true}); err != nil {
		t.Fatalf("restore: %v", err)
	}
	if after := snapshotTables(t, db); !reflect.DeepEqual(before, after) {
		t.Fatalf("tables differ after restore:\nbefore %v\nafter  %v", before, after)
	}
	if got := visibleRows(t, db, stranger); got != 0 {
		t.Fatalf("after restore the unassigned role sees %d rows; RLS was lost", got)
	}
	if got := visibleRows(t, db, reader); got != wantReader {
		t.Fatalf("after restore the assigned role sees %d rows, want %d", got, wantReader)
	}
	conn := connect(t, db)
	var n, seq int64
	var idx int
	var hasExt bool
	if err := conn.QueryRow(ctx, "SELECT doc_count('acme')").Scan(&n); err != nil || n != 1000 {
		t.Fatalf("function after restore: %d, %v", n, err)
	}
	if err := conn.QueryRow(ctx, "SELECT last_value FROM documents_id_seq").Scan(&seq); err != nil || seq != seqBefore {
		t.Fatalf("sequence after restore: %d (want %d), %v", seq, seqBefore, err)
	}
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_indexes WHERE tablename = 'documents'").Scan(&idx); err != nil || idx != 3 {
		t.Fatalf("indexes after restore: %d, %v", idx, err)
	}
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgcrypto')").Scan(&hasExt); err != nil || !hasExt {
		t.Fatalf("extension after restore: %v, %v", hasExt, err)
	}
	var canUse bool
	if err := conn.QueryRow(ctx, "SELECT has_schema_privilege($1, 'alfred_rbac', 'USAGE') AND has_table_privilege($1, 'alfred_rbac.assignments', 'SELECT')", reader).Scan(&canUse); err != nil || !canUse {
		t.Fatalf("alfred_rbac grants after restore: %v, %v", canUse, err)
	}
}
