package rbac_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/rbac"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// Two `terraform apply` runs (or many parallel tests) start at once against a fresh database: each
// provider process migrates on its own connection. Exactly one must install the schema, the others must
// wait and find nothing to do, and nobody may fail, whatever the database's default isolation level
// (DBAs do set default_transaction_isolation to repeatable read or serializable).
func TestRBAC_migrationFromConcurrentProcessesOnAFreshDatabase(t *testing.T) {
	t.Parallel()
	for _, iso := range []string{"", "repeatable read", "serializable"} {
		t.Run(strings.ReplaceAll("isolation "+iso, " ", "_"), func(t *testing.T) {
			d := newTestDB(t)
			if iso != "" {
				db := d.DSN[strings.LastIndex(d.DSN, "/")+1 : strings.Index(d.DSN, "?")]
				d.Exec(fmt.Sprintf(`alter database %s set default_transaction_isolation = '%s'`,
					pgx.Identifier{db}.Sanitize(), iso))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					errs[i] = rbac.MigrateOnNewConnection(ctx, d.DSN)
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("migration %d of %d concurrent ones failed: %v", i+1, n, err)
				}
			}
			rows, err := d.Int(`select count(*) from alfred_rbac.schema_migrations`)
			if err != nil || rows != rbac.MigrationCount() {
				t.Errorf("schema_migrations has %d rows (%v), want exactly %d: one per version", rows, err, rbac.MigrationCount())
			}
			v, err := d.Int(`select max(version) from alfred_rbac.schema_migrations`)
			if err != nil || v != rbac.MigrationCount() {
				t.Errorf("schema version is %d (%v), want %d", v, err, rbac.MigrationCount())
			}
			fns, err := d.Int(`select count(*) from pg_proc where pronamespace = 'alfred_rbac'::regnamespace and proname = 'authorize'`)
			if err != nil || fns != 1 {
				t.Errorf("alfred_rbac.authorize defined %d times (%v), want 1", fns, err)
			}
		})
	}
}

// A bad DSN must produce an error that says what is wrong, and never the password, whatever form the DSN
// takes (pgx's own redaction misses `password = x` and escaped quotes in key=value strings).
func TestRBAC_dsnErrorsSayWhatIsWrongWithoutThePassword(t *testing.T) {
	t.Parallel()
	const pw = "S3cret-SENTINEL"
	cases := []struct{ dsn, want string }{
		{"host=127.0.0.1 password = " + pw + " port=notanumber", "invalid port"},
		{`host=127.0.0.1 password='a\'b ` + pw + `' port=notanumber`, "invalid port"},
		{"host=127.0.0.1 password=" + pw + " port=notanumber", "invalid port"},
		{"postgres://u:" + pw + "@127.0.0.1:notaport/db", "invalid port"},
		{"postgres://u:" + pw + "@127.0.0.1:1/db?sslmode=bogus", "sslmode is invalid"},
		{"postgresql://u:" + pw + "@127.0.0.1:1/db?sslmode=bogus", "sslmode is invalid"},
		{"postgres://u:" + pw + " x@127.0.0.1:1/db", "spaces"},
		{"host=127.0.0.1 port=1 user=u password=" + pw + " connect_timeout=2", "connection refused"},
		{"postgres://u:" + pw + "@127.0.0.1:1/db?connect_timeout=2", "connection refused"},
	}
	// No database is involved: the cases run side by side (those that wait for a refused connection to be
	// retried until their deadline would take 5 s each in a row).
	for i, c := range cases {
		t.Run(fmt.Sprintf("dsn_%d", i), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err := rbac.InstallSchema(ctx, c.dsn)
			cancel()
			if err == nil {
				t.Fatalf("%q: no error", strings.ReplaceAll(c.dsn, pw, "<pw>"))
			}
			msg := err.Error()
			if strings.Contains(msg, pw) {
				t.Errorf("the error for a bad DSN shows the password: %s", msg)
			}
			if !strings.Contains(msg, c.want) {
				t.Errorf("the error for DSN %q does not say what is wrong (%q): %s",
					strings.ReplaceAll(c.dsn, pw, "<pw>"), c.want, strings.ReplaceAll(msg, pw, "<pw>"))
			}
		})
	}
}

// A PostgreSQL restart or a DBA's pg_terminate_backend ends the session in the middle of a transaction
// (SQLSTATE 57P01, or the socket just closes). The transaction was rolled back by the server, so the
// provider repeats it on a new connection instead of failing the apply.
func TestRBAC_transactionRepeatedWhenTheServerEndsTheSession(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.Install()
	d.Exec(`create table public.hits (n int)`)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	t.Run("own session terminated (57P01)", func(t *testing.T) {
		attempts := 0
		err := rbac.RunTx(ctx, d.DSN, func(tx pgx.Tx) error {
			attempts++
			if attempts == 1 {
				_, err := tx.Exec(ctx, `select pg_terminate_backend(pg_backend_pid())`)
				return err
			}
			_, err := tx.Exec(ctx, `insert into public.hits values (1)`)
			return err
		})
		if err != nil || attempts != 2 {
			t.Fatalf("got error %v after %d attempts; want success on the 2nd", err, attempts)
		}
	})
	t.Run("session terminated by another", func(t *testing.T) {
		attempts := 0
		err := rbac.RunTx(ctx, d.DSN, func(tx pgx.Tx) error {
			attempts++
			if attempts == 1 {
				var pid int
				if err := tx.QueryRow(ctx, `select pg_backend_pid()`).Scan(&pid); err != nil {
					return err
				}
				d.Exec(`select pg_terminate_backend($1, 10000)`, pid)
			}
			_, err := tx.Exec(ctx, `insert into public.hits values (2)`)
			return err
		})
		if err != nil || attempts != 2 {
			t.Fatalf("got error %v after %d attempts; want success on the 2nd", err, attempts)
		}
	})
	if n, err := d.Int(`select count(*) from public.hits`); err != nil || n != 2 {
		t.Errorf("hits: %d rows (%v), want 2: each transaction committed exactly once", n, err)
	}
}

// The database restarts (a Supabase upgrade, a failover) while the provider holds pooled connections: the
// next read waits for it to come back instead of failing.
func TestRBAC_readWaitsForAPostgresRestart(t *testing.T) {
	acctest.PreCheck(t)
	dir, err := os.MkdirTemp("", "alfred-restartpg-")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := localproc.StartPostgres(dir, 0)
	if err != nil {
		t.Fatalf("starting a PostgreSQL cluster: %v", err)
	}
	t.Cleanup(func() { _ = cluster.Stop(); _ = os.RemoveAll(dir) })
	dsn := cluster.DSN("postgres")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := rbac.InstallSchema(ctx, dsn); err != nil {
		t.Fatal(err)
	}
	d := &testDB{t: t, DSN: dsn}
	d.Exec(`insert into alfred_rbac.roles (name, description) values ('survivor', 'still here')`)
	if _, err := rbac.RoleDescription(ctx, dsn, "survivor"); err != nil {
		t.Fatal(err)
	}
	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := make(chan error, 1)
	go func() {
		time.Sleep(1500 * time.Millisecond)
		c, err := localproc.StartPostgres(dir, cluster.Port)
		if err == nil {
			cluster = c
		}
		restarted <- err
	}()
	desc, err := rbac.RoleDescription(ctx, dsn, "survivor")
	if rerr := <-restarted; rerr != nil {
		t.Fatalf("restarting PostgreSQL: %v", rerr)
	}
	if err != nil || desc != "still here" {
		t.Fatalf("read across a restart: %q, %v", desc, err)
	}
}

// The application drops and recreates its table (a migration that rebuilds it): the refresh forgets the
// policy, and the next apply must put the policies on the new table instead of refusing because of the
// provider's own bookkeeping of the old one.
func TestAccRBACTablePolicy_tableDroppedAndRecreatedGetsItsPoliciesBack(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	cfg := policyHCL(d.DSN, "")
	d.test(t, []resource.TestStep{
		{Config: cfg, Check: policyNames(d, rbacPolicies("insert", "select", "update")...)},
		{
			// terraform apply -refresh-only: the state forgets the policy of the dropped table.
			PreConfig:          func() { d.Exec(`drop table public.task_results`) },
			RefreshState:       true,
			ExpectNonEmptyPlan: true,
		},
		{
			PreConfig: func() { createTaskResults(d) },
			Config:    cfg,
			Check: resource.ComposeTestCheckFunc(
				policyNames(d, rbacPolicies("insert", "select", "update")...),
				expectInt(d, 1, `select count(*) from pg_class where oid = 'public.task_results'::regclass and relrowsecurity`),
			),
		},
	})
}

// The DSN comes from another resource and is unknown while planning. Planning must neither fail nor try
// to connect somewhere (an empty DSN means libpq's defaults: a local socket as the OS user); refresh keeps
// the prior state, and apply uses the real DSN.
func TestAccRBAC_dsnUnknownAtPlanTime(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	cfg := func(dsn string) string {
		return fmt.Sprintf(`
resource "terraform_data" "dsn" {
  input = %q
}
provider "alfred" {
  postgres {
    dsn = terraform_data.dsn.output
  }
}
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["tasks.read"]
}
`, dsn)
	}
	d.test(t, []resource.TestStep{
		{Config: cfg(d.DSN), Check: expectInt(d, 1, `select count(*) from alfred_rbac.roles where name = 'viewer'`)},
		{
			// A changed input makes terraform_data.dsn.output unknown during this plan.
			Config: cfg(d.DSN + "&application_name=alfred_second"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.viewer", plancheck.ResourceActionNoop),
			}},
			Check: expectInt(d, 1, `select count(*) from alfred_rbac.roles where name = 'viewer'`),
		},
	})
}
