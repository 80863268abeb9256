package rbac_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/rbac"
)

// holdLock opens a session named application_name that locks the table the way a long migration of the
// application would, and keeps the transaction open until release is called.
func holdLock(t *testing.T, d *testDB, appName, lockSQL string) (release func()) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, d.DSN+"&application_name="+appName)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, lockSQL); err != nil {
		t.Fatal(err)
	}
	done := false
	release = func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
			_ = c.Close(ctx)
		}
	}
	t.Cleanup(release)
	return release
}

func lockedPolicyHCL(dsn, timeout string) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
  timeouts {
    create = %q
    update = %q
  }
}
`, timeout, timeout)
}

// Behind an application transaction that holds the table, the apply waits (every statement with a
// lock_timeout, the transaction repeated) until the resource's timeout, then fails naming the blocking
// session and its query. It never hangs; once the transaction ends, the next apply goes through.
func TestAccRBACTablePolicy_applyBehindAnOpenTransactionTimesOutNamingTheBlocker(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	d.Install()
	var release func()
	var started time.Time
	d.test(t, []resource.TestStep{
		{
			PreConfig: func() {
				release = holdLock(t, d, "nightly_migration", `lock table public.task_results in access exclusive mode`)
				started = time.Now()
			},
			Config: lockedPolicyHCL(d.DSN, "5s"),
			ExpectError: wantErr(`(?s)Could not create table policy.*gave up after [0-9.]+s of waiting for a lock` +
				`.*held by pid \d+ \(user \S+, application_name nightly_migration, idle in transaction` +
				`.*last query is: lock table public.task_results in access exclusive mode` +
				`.*pg_terminate_backend\(\d+\).*timeouts.*(55P03|context deadline exceeded)`),
		},
		{
			PreConfig: func() {
				// 5s of timeout, plus planning: well under what a hang would take.
				if waited := time.Since(started); waited > 40*time.Second {
					t.Errorf("the apply behind the lock took %s; it must give up at its 5s timeout", waited)
				}
				release()
			},
			Config: lockedPolicyHCL(d.DSN, "5s"),
			Check: resource.ComposeTestCheckFunc(
				policyNames(d, rbacPolicies("select")...),
				func(*terraform.State) error {
					n, err := d.Int(`select count(*) from pg_stat_activity where datname = current_database()
							and application_name = 'terraform-provider-alfred' and wait_event_type = 'Lock'`)
					if err != nil || n != 0 {
						return fmt.Errorf("%d provider sessions still wait for a lock (%v)", n, err)
					}
					return nil
				},
			),
		},
	})
}

// A row of alfred_rbac held by another transaction (a person editing roles by hand in psql) does not make
// an update hang either: it gives up at the resource's update timeout, naming the session.
func TestAccRBACRole_updateBehindALockedRowTimesOutNamingTheBlocker(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	var release func()
	cfg := func(desc string) string {
		return providerHCL(d.DSN) + fmt.Sprintf(`
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  description = %q
  timeouts {
    update = "4s"
  }
}
`, desc)
	}
	d.test(t, []resource.TestStep{
		{Config: cfg("first")},
		{
			PreConfig: func() {
				release = holdLock(t, d, "psql_by_hand", `select * from alfred_rbac.roles where name = 'viewer' for update`)
			},
			Config: cfg("second"),
			ExpectError: wantErr(`(?s)Could not update role.*gave up after.*application_name psql_by_hand` +
				`.*select \* from alfred_rbac.roles where name = 'viewer' for update`),
		},
		{
			PreConfig: func() { release() },
			Config:    cfg("second"),
			Check:     expectStrings(d, []string{"second"}, `select description from alfred_rbac.roles`),
		},
	})
}

// The migration's DDL is bounded too: behind a long transaction that read alfred_rbac.assignments (a
// report calling authorize() for every row, say), the apply that would migrate gives up at its timeout,
// naming that transaction, and leaves the schema as it was; once it ends, the apply migrates.
func TestAccRBAC_migrationBehindAnOpenTransactionTimesOutNamingTheBlocker(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rbac.InstallSchemaVersion(ctx, d.DSN, 1); err != nil {
		t.Fatal(err)
	}
	var release func()
	cfg := providerHCL(d.DSN) + `
resource "alfred_rbac_role" "viewer" {
  name = "viewer"
  timeouts {
    create = "5s"
  }
}
`
	version := func(v int) func(*terraform.State) error {
		return expectInt(d, v, `select max(version) from alfred_rbac.schema_migrations`)
	}
	d.test(t, []resource.TestStep{
		{
			PreConfig: func() {
				release = holdLock(t, d, "long_report", `select count(*) from alfred_rbac.assignments`)
			},
			Config: cfg,
			ExpectError: wantErr(`(?s)Cannot install or migrate the alfred_rbac schema.*installing or migrating the ` +
				`alfred_rbac schema: gave up after .* application_name long_report, idle in transaction` +
				`.*select count\(\*\) from alfred_rbac.assignments`),
		},
		{
			PreConfig: func() {
				if err := version(1)(nil); err != nil {
					t.Fatal(err)
				}
				release()
			},
			Config: cfg,
			Check:  version(rbac.MigrationCount()),
		},
	})
}
