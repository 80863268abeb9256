package rbac_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/rbac"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// Principals used across tests: JWT subjects of users, and an agent's service account.
const (
	alice = "6f1c2d4e-0000-4000-8000-00000000000a"
	bob   = "6f1c2d4e-0000-4000-8000-00000000000b"
	carol = "6f1c2d4e-0000-4000-8000-00000000000c"
	dave  = "6f1c2d4e-0000-4000-8000-00000000000d"
	agent = "serviceAccount:social-intel@alfred-prod.iam.gserviceaccount.com"
)

var supabaseRolesOnce sync.Once

// testDB is a fresh database of the run's PostgreSQL cluster, with Supabase's roles standing in.
type testDB struct {
	t   testing.TB
	DSN string
}

func newTestDB(t *testing.T) *testDB {
	t.Helper()
	acctest.PreCheck(t)
	d := &testDB{t: t, DSN: acctest.NewDatabase(t)}
	supabaseRolesOnce.Do(func() { createSupabaseRoles(t, d.DSN) })
	return d
}

// Install installs the alfred_rbac schema now, for tests that seed rows before Terraform runs.
func (d *testDB) Install() {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := rbac.InstallSchema(ctx, d.DSN); err != nil {
		d.t.Fatalf("installing alfred_rbac: %v", err)
	}
}

// createSupabaseRoles creates, cluster-wide, the roles Supabase provides. Roles are shared by every
// database of the cluster and tests run in parallel, hence the lock and the tolerant DO blocks.
func createSupabaseRoles(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `select pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = conn.Exec(ctx, `select pg_advisory_unlock(4242)`) }()
	for _, r := range []string{"anon", "authenticated", "service_role", "supabase_auth_admin"} {
		extra := "nologin noinherit"
		if r == "service_role" {
			extra += " bypassrls"
		}
		sql := fmt.Sprintf(`do $$ begin
			if not exists (select from pg_roles where rolname = '%s') then create role %s %s; end if;
		exception when duplicate_object or unique_violation then null; end $$`, r, r, extra)
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("creating role %s: %v", r, err)
		}
	}
}

func (d *testDB) conn() (*pgx.Conn, context.Context, func()) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	c, err := pgx.Connect(ctx, d.DSN)
	if err != nil {
		cancel()
		d.t.Fatalf("connect: %v", err)
	}
	return c, ctx, func() { _ = c.Close(ctx); cancel() }
}

// Exec runs SQL as the superuser, failing the test on error.
func (d *testDB) Exec(sql string, args ...any) {
	d.t.Helper()
	c, ctx, done := d.conn()
	defer done()
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		d.t.Fatalf("exec %q: %v", sql, err)
	}
}

// Int runs a query returning one integer, as the superuser.
func (d *testDB) Int(sql string, args ...any) (int, error) {
	c, ctx, done := d.conn()
	defer done()
	var n int
	err := c.QueryRow(ctx, sql, args...).Scan(&n)
	return n, err
}

// Strings runs a query returning one text column, as the superuser.
func (d *testDB) Strings(sql string, args ...any) ([]string, error) {
	c, ctx, done := d.conn()
	defer done()
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	sort.Strings(out)
	return out, err
}

// As runs fn in a transaction as the Supabase role `authenticated` with the given raw JWT claims, then
// rolls back, so nothing fn writes survives.
func (d *testDB) As(role, claims string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	c, ctx, done := d.conn()
	defer done()
	tx, err := c.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if _, err := tx.Exec(ctx, `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, role, claims); err != nil {
		return err
	}
	return fn(ctx, tx)
}

func claimsOf(sub string) string { return fmt.Sprintf(`{"sub":%q,"role":"authenticated"}`, sub) }

// Authorize evaluates alfred_rbac.authorize(permission) as `authenticated` with the given claims.
func (d *testDB) Authorize(claims, permission string) (bool, error) {
	var ok bool
	err := d.As("authenticated", claims, func(ctx context.Context, tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select alfred_rbac.authorize($1)`, permission).Scan(&ok)
	})
	return ok, err
}

// Check adapts a func() error to a TestCheckFunc.
func check(fn func() error) func(*terraform.State) error {
	return func(*terraform.State) error { return fn() }
}

func expectInt(d *testDB, want int, sql string, args ...any) func(*terraform.State) error {
	return check(func() error {
		n, err := d.Int(sql, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		if n != want {
			return fmt.Errorf("%s: got %d, want %d", sql, n, want)
		}
		return nil
	})
}

func expectStrings(d *testDB, want []string, sql string, args ...any) func(*terraform.State) error {
	return check(func() error {
		got, err := d.Strings(sql, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		w := append([]string(nil), want...)
		sort.Strings(w)
		if strings.Join(got, ",") != strings.Join(w, ",") {
			return fmt.Errorf("%s: got %q, want %q", sql, got, w)
		}
		return nil
	})
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

// providerHCL configures the provider against dsn.
func providerHCL(dsn string) string {
	return fmt.Sprintf("provider \"alfred\" {\n  postgres {\n    dsn = %q\n  }\n}\n", dsn)
}

// rbacEmpty asserts that no role, permission, inheritance, assignment or table policy record is left.
func rbacEmpty(d *testDB) func(*terraform.State) error {
	return check(func() error {
		n, err := d.Int(`select (select count(*) from alfred_rbac.roles) + (select count(*) from alfred_rbac.role_permissions)
			+ (select count(*) from alfred_rbac.role_inherits) + (select count(*) from alfred_rbac.assignments)
			+ (select count(*) from alfred_rbac.table_policies)
			+ (select count(*) from pg_policies where policyname like 'alfred_rbac%')`)
		if err != nil {
			return err
		}
		if n != 0 {
			return fmt.Errorf("%d alfred_rbac rows or policies left behind after destroy", n)
		}
		return nil
	})
}

// test runs steps against the database with the harness's pre-check and provider, and asserts after
// destroy that no alfred_rbac row or policy is left.
func (d *testDB) test(t *testing.T, steps []resource.TestStep) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             rbacEmpty(d),
		Steps:                    steps,
	})
}
