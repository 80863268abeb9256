package rbac_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// bulkHCL is n roles (each inheriting a base role, so the graph has real dependencies) and 2n
// assignments, two per role, to 2n distinct users.
func bulkHCL(dsn string, n int) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_role" "base" {
  name        = "base"
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role" "r" {
  count       = %[1]d
  name        = format("role_%%03d", count.index)
  description = "bulk role ${count.index}"
  permissions = [format("resource_%%03d.read", count.index), format("resource_%%03d.write", count.index)]
  inherits    = [alfred_rbac_role.base.name]
}
resource "alfred_rbac_role_assignment" "a" {
  count     = %[2]d
  principal = format("00000000-0000-4000-8000-%%012d", count.index)
  role      = alfred_rbac_role.r[count.index %% %[1]d].name
}
`, n, 2*n)
}

// bulkRows checks that the database holds exactly what bulkHCL(_, n) configures.
func bulkRows(d *testDB, n int) error {
	for _, c := range []struct {
		want int
		sql  string
	}{
		{n + 1, `select count(*) from alfred_rbac.roles`},
		{2*n + 1, `select count(*) from alfred_rbac.role_permissions`},
		{n, `select count(*) from alfred_rbac.role_inherits`},
		{2 * n, `select count(*) from alfred_rbac.assignments`},
	} {
		if err := expectInt(d, c.want, c.sql)(nil); err != nil {
			return err
		}
	}
	return nil
}

// bulkRoles is how many roles the acceptance test applies: 20 (61 resources, six times Terraform's
// parallelism) in make test; ALFRED_RBAC_BULK_ROLES=200 runs the full 601, which make bench measures
// (BenchmarkRBACApply200Roles400Assignments) with the same checks.
func bulkRoles(t *testing.T) int {
	n := 20
	if v := os.Getenv("ALFRED_RBAC_BULK_ROLES"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 999 {
			t.Fatalf("ALFRED_RBAC_BULK_ROLES=%q: want a number of roles from 1 to 999", v)
		}
	}
	return n
}

// Terraform's default parallelism is 10: many more resources than that in one apply, then an empty plan.
func TestAccRBAC_manyRolesAndAssignmentsInOneApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	n := bulkRoles(t)
	var start time.Time
	d.test(t, []resource.TestStep{
		{
			PreConfig: func() { start = time.Now() },
			Config:    bulkHCL(d.DSN, n),
			Check: resource.ComposeTestCheckFunc(
				func(_ *terraform.State) error {
					t.Logf("apply of %d resources (with plan and refresh): %s", 3*n+1, time.Since(start))
					return nil
				},
				check(func() error { return bulkRows(d, n) }),
			),
		},
		{
			Config:           bulkHCL(d.DSN, n),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
		},
	})
}

// BenchmarkRBACApply200Roles400Assignments times `terraform apply -parallelism=10` of bulkHCL with the
// real provider binary (dev_overrides), against a fresh database each iteration; destroy is not timed.
//
//	TF_ACC=1 go test ./internal/rbac/ -run '^$' -bench BenchmarkRBACApply200Roles400Assignments -benchtime 3x -timeout 30m
func BenchmarkRBACApply200Roles400Assignments(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1: the benchmark runs Terraform against a real PostgreSQL")
	}
	cli := acctest.NewCLI(b)
	dir := b.TempDir()
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		d := &testDB{t: b, DSN: acctest.NewDatabase(b)}
		work := filepath.Join(dir, fmt.Sprintf("run%d", i))
		if err := os.MkdirAll(work, 0o755); err != nil {
			b.Fatal(err)
		}
		hcl := "terraform {\n  required_providers {\n    alfred = { source = \"alfred-platform/alfred\" }\n  }\n}\n" + bulkHCL(d.DSN, 200)
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(hcl), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cli.Run(b, work, []int{0}, "apply", "-auto-approve", "-input=false", "-parallelism=10")
		b.StopTimer()
		if err := bulkRows(d, 200); err != nil {
			b.Fatal(err)
		}
		cli.Run(b, work, []int{0}, "plan", "-input=false", "-detailed-exitcode") // exit 2 (changes) fails the benchmark
		cli.Run(b, work, []int{0}, "destroy", "-auto-approve", "-input=false", "-parallelism=10")
	}
}
