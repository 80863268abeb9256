package rbac_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// On plain PostgreSQL 15 (a cluster of its own, so none of Supabase's roles exist anywhere in it) the
// schema installs, the application's own login role is governed by the table policy exactly as Supabase's
// authenticated role is, and the token hook stays closed to it.
func TestAccRBAC_plainPostgresWithoutSupabaseRoles(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	dir, err := os.MkdirTemp("", "alfred-plainpg-")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := localproc.StartPostgres(dir, 0)
	if err != nil {
		t.Fatalf("starting a plain PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop(); _ = os.RemoveAll(dir) })
	dsn := cluster.DSN("postgres")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	var supabaseRoles int
	if err := conn.QueryRow(ctx, `select count(*) from pg_roles where rolname in ('anon','authenticated','service_role','supabase_auth_admin')`).Scan(&supabaseRoles); err != nil || supabaseRoles != 0 {
		t.Fatalf("this cluster must have none of Supabase's roles: %d %v", supabaseRoles, err)
	}
	exec(`create role app_user nologin`)
	exec(`create table public.task_results (id int primary key, owner_id uuid not null, body text)`)
	exec(`grant select, insert, update, delete on public.task_results to app_user`)
	exec(`insert into public.task_results values (1, $1, 'a'), (2, $2, 'b')`, alice, bob)

	// visible returns how many rows app_user sees with the given JWT subject, or -1 on an error.
	visible := func(sub string) (int, error) {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return -1, err
		}
		defer func() { _ = tx.Rollback(ctx) }()
		if _, err := tx.Exec(ctx, `set local role app_user`); err != nil {
			return -1, err
		}
		if _, err := tx.Exec(ctx, `select set_config('request.jwt.claims', $1, true)`, fmt.Sprintf(`{"sub":%q}`, sub)); err != nil {
			return -1, err
		}
		var n int
		err = tx.QueryRow(ctx, `select count(*) from public.task_results`).Scan(&n)
		return n, err
	}

	cfg := providerHCL(dsn) + `
resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  permissions = ["task_results.read"]
}
resource "alfred_rbac_role_assignment" "alice" {
  principal = "` + alice + `"
  role      = alfred_rbac_role.analyst.name
}
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(*terraform.State) error {
				if n, err := visible(alice); err != nil || n != 2 {
					return fmt.Errorf("alice holds task_results.read and must see both rows: %d, %v", n, err)
				}
				if n, err := visible(bob); err != nil || n != 0 {
					return fmt.Errorf("bob holds no role and must see no row: %d, %v", n, err)
				}
				tx, err := conn.Begin(ctx)
				if err != nil {
					return err
				}
				defer func() { _ = tx.Rollback(ctx) }()
				if _, err := tx.Exec(ctx, `set local role app_user`); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, `select alfred_rbac.custom_access_token_hook('{"user_id":"x","claims":{}}')`); err == nil {
					return fmt.Errorf("the token hook must not be executable by an application role")
				}
				return nil
			},
		}},
	})
}
