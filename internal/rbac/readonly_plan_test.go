package rbac_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/alfred-platform/terraform-provider-alfred/internal/rbac"
)

// dbName is the database of a DSN of the test cluster.
func dbName(t *testing.T, dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

// createPlanRole creates, with the documented grants of a plan role, a login role that can only read
// alfred_rbac and the catalogs, and returns its DSN. Its sessions are read-only besides.
func createPlanRole(t *testing.T, d *testDB) string {
	t.Helper()
	db := dbName(t, d.DSN)
	role := "plan_" + db
	if len(role) > 63 {
		role = role[:63]
	}
	r := `"` + role + `"`
	d.Exec(`create role ` + r + ` login password 'plan-secret'`)
	t.Cleanup(func() {
		d.Exec(`drop owned by ` + r)
		d.Exec(`drop role ` + r)
	})
	d.Exec(`grant connect on database "` + db + `" to ` + r)
	d.Exec(`grant usage on schema alfred_rbac to ` + r)
	d.Exec(`grant select on all tables in schema alfred_rbac to ` + r)
	d.Exec(`alter role ` + r + ` set default_transaction_read_only = on`)
	u, _ := url.Parse(d.DSN)
	u.User = url.UserPassword(role, "plan-secret")
	return u.String()
}

// recordDDL installs an event trigger that logs every DDL command run in the database, by anyone, into
// public.ddl_log (the superuser's table, written by a security definer function).
func recordDDL(d *testDB) {
	d.Exec(`create table public.ddl_log (at timestamptz default now(), who text, tag text)`)
	d.Exec(`create function public.log_ddl() returns event_trigger language plpgsql security definer
		set search_path = '' as $$
		begin
			insert into public.ddl_log (who, tag) values (session_user, tg_tag);
		end $$`)
	d.Exec(`create event trigger log_ddl on ddl_command_end execute function public.log_ddl()`)
}

// snapshot is everything a plan must leave as it was.
func snapshot(d *testDB) string {
	rows, err := d.Strings(`
		select 'migration ' || version from alfred_rbac.schema_migrations
		union all select 'role ' || name || ' ' || description || ' ' || updated_at from alfred_rbac.roles
		union all select 'perm ' || role || ' ' || permission from alfred_rbac.role_permissions
		union all select 'assignment ' || principal || ' ' || role from alfred_rbac.assignments
		union all select 'record ' || schema_name || '.' || table_name || ' ' || policies::text from alfred_rbac.table_policies
		union all select 'policy ' || policyname || ' ' || permissive || ' ' || coalesce(qual, '') from pg_policies
		union all select 'ddl ' || who || ' ' || tag from public.ddl_log
		union all select 'fn ' || p.oid::regprocedure::text || ' ' || md5(p.prosrc) from pg_proc p
			where p.pronamespace = 'alfred_rbac'::regnamespace`)
	if err != nil {
		return "error: " + err.Error()
	}
	return strings.Join(rows, "\n")
}

func unchanged(d *testDB, before *string) func() error {
	return func() error {
		if now := snapshot(d); now != *before {
			return fmt.Errorf("the plan changed the database:\nbefore:\n%s\nafter:\n%s", *before, now)
		}
		return nil
	}
}

func readOnlyHCL(dsn, perms string) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = %s
}
resource "alfred_rbac_role_assignment" "alice" {
  principal = %q
  role      = alfred_rbac_role.viewer.name
}
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
}
`, perms, alice)
}

// A pull-request pipeline plans with a role that may only read: the refresh and plan succeed, show no
// change, and write nothing (no DDL, no migration, no row); an apply with that role fails saying which
// role apply needs.
func TestAccRBAC_planWithReadOnlyCredentialsWritesNothing(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	d.Install()
	planDSN := createPlanRole(t, d)
	var before string
	d.test(t, []resource.TestStep{
		{Config: readOnlyHCL(d.DSN, `["task_results.read"]`)},
		{
			PreConfig: func() {
				recordDDL(d)
				before = snapshot(d)
			},
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			// Refresh, plan and (an empty) apply, all as the plan role.
			Config: readOnlyHCL(planDSN, `["task_results.read"]`),
			Check:  check(unchanged(d, &before)),
		},
		{
			// A real change planned with the plan role: apply cannot write, and says so.
			Config: readOnlyHCL(planDSN, `["task_results.read", "tasks.read"]`),
			ExpectError: regexp.MustCompile(`(?s)may read alfred_rbac but not install or migrate it.*` +
				`terraform\s+plan\s+works\s+with\s+read-only\s+credentials.*apply\s+role`),
		},
		{
			// Nothing was written by the failed apply either.
			Config:             readOnlyHCL(planDSN, `["task_results.read", "tasks.read"]`),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
			Check:              check(unchanged(d, &before)),
		},
		{
			// Back to the owner: the change applies.
			PreConfig: func() {
				if err := unchanged(d, &before)(); err != nil {
					t.Fatal(err)
				}
			},
			Config: readOnlyHCL(d.DSN, `["task_results.read", "tasks.read"]`),
		},
	})
}

func diagText(diags diag.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		fmt.Fprintf(&b, "%s: %s: %s\n", d.Severity(), d.Summary(), d.Detail())
	}
	return b.String()
}

// A database without alfred_rbac, or with an older version of it, is read as it is: the refresh says what
// the next apply will do, and neither installs nor migrates anything.
func TestRBAC_refreshReportsAMissingOrOlderSchemaWithoutMigrating(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	installed, diags := rbac.PlanDiagnostics(ctx, d.DSN)
	if installed || diags.HasError() || !regexp.MustCompile(`(?s)The alfred_rbac schema is not installed.*changed nothing.*installs the schema \(v0 to v\d+\)`).MatchString(diagText(diags)) {
		t.Errorf("a database without alfred_rbac: installed %v, diagnostics:\n%s", installed, diagText(diags))
	}
	if n, err := d.Int(`select count(*) from pg_namespace where nspname = 'alfred_rbac'`); err != nil || n != 0 {
		t.Fatalf("the refresh installed alfred_rbac (%d, %v)", n, err)
	}

	if err := rbac.InstallSchemaVersion(ctx, d.DSN, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3500 * time.Millisecond) // the version read above is reused for a few seconds
	installed, diags = rbac.PlanDiagnostics(ctx, d.DSN)
	want := fmt.Sprintf(`(?s)Warning: The alfred_rbac schema is older than this provider: .*at version 1; this provider uses version %d.*changed nothing.*will migrate it from v1 to v%d`,
		rbac.MigrationCount(), rbac.MigrationCount())
	if !installed || diags.HasError() || !regexp.MustCompile(want).MatchString(diagText(diags)) {
		t.Errorf("a database at version 1: installed %v, diagnostics:\n%s", installed, diagText(diags))
	}
	if v, err := d.Int(`select max(version) from alfred_rbac.schema_migrations`); err != nil || v != 1 {
		t.Errorf("the refresh migrated alfred_rbac to %d (%v)", v, err)
	}

	d.Exec(`insert into alfred_rbac.schema_migrations (version) values (99)`)
	time.Sleep(3500 * time.Millisecond)
	_, diags = rbac.PlanDiagnostics(ctx, d.DSN)
	if !diags.HasError() || !strings.Contains(diagText(diags), "version 99") || !strings.Contains(diagText(diags), "Upgrade the provider") {
		t.Errorf("a database newer than the provider must be an error that says to upgrade:\n%s", diagText(diags))
	}
}
