package rbac_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// bulkHCL is 200 roles (each inheriting a base role, so the graph has real dependencies) and 400
// assignments, two per role, to 400 distinct users.
func bulkHCL(dsn string) string {
	return providerHCL(dsn) + `
resource "alfred_rbac_role" "base" {
  name        = "base"
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role" "r" {
  count       = 200
  name        = format("role_%03d", count.index)
  description = "bulk role ${count.index}"
  permissions = [format("resource_%03d.read", count.index), format("resource_%03d.write", count.index)]
  inherits    = [alfred_rbac_role.base.name]
}
resource "alfred_rbac_role_assignment" "a" {
  count     = 400
  principal = format("00000000-0000-4000-8000-%012d", count.index)
  role      = alfred_rbac_role.r[count.index % 200].name
}
`
}

// Terraform's default parallelism is 10: 601 resources in one apply, then an empty plan.
func TestAccRBAC_200RolesAnd400AssignmentsInOneApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	var start time.Time
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             rbacEmpty(d),
		Steps: []resource.TestStep{
			{
				PreConfig: func() { start = time.Now() },
				Config:    bulkHCL(d.DSN),
				Check: resource.ComposeTestCheckFunc(
					func(_ *terraform.State) error {
						t.Logf("apply of 601 resources (with plan and refresh): %s", time.Since(start))
						return nil
					},
					expectInt(d, 201, `select count(*) from alfred_rbac.roles`),
					expectInt(d, 401, `select count(*) from alfred_rbac.role_permissions`),
					expectInt(d, 200, `select count(*) from alfred_rbac.role_inherits`),
					expectInt(d, 400, `select count(*) from alfred_rbac.assignments`),
				),
			},
			{
				Config:           bulkHCL(d.DSN),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			},
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
		d := &testDB{DSN: acctest.NewDatabase(b)}
		work := filepath.Join(dir, fmt.Sprintf("run%d", i))
		if err := os.MkdirAll(work, 0o755); err != nil {
			b.Fatal(err)
		}
		hcl := "terraform {\n  required_providers {\n    alfred = { source = \"alfred-platform/alfred\" }\n  }\n}\n" + bulkHCL(d.DSN)
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(hcl), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		cli.Run(b, work, []int{0}, "apply", "-auto-approve", "-input=false", "-parallelism=10")
		b.StopTimer()
		cli.Run(b, work, []int{0}, "plan", "-input=false", "-detailed-exitcode") // exit 2 (changes) fails the benchmark
		cli.Run(b, work, []int{0}, "destroy", "-auto-approve", "-input=false", "-parallelism=10")
	}
}
