package rbac_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// A create whose COMMIT reaches PostgreSQL but whose reply is lost (the connection breaks after the server
// committed) has made its object. The apply must end with it in state, not fail and leave it for the next
// apply to refuse as "already exists". The proxy loses the COMMIT reply of each resource type's create
// once, then of each one's update; the database must then hold each object once, as configured, and each
// next plan must be empty.
func TestAccRBAC_writeWhoseCommitReplyIsLostKeepsWhatItMade(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	proxy, dsn := acctest.StartPGProxy(t, d.DSN)
	creates := []string{ // a statement of each create's transaction
		"insert into alfred_rbac.roles (name, description)",
		"insert into alfred_rbac.assignments (principal, role)",
		"insert into alfred_rbac.table_policies as t",
	}
	updates := []string{
		"update alfred_rbac.roles set description",
		"delete from alfred_rbac.assignments where principal",
		"insert into alfred_rbac.table_policies as t",
	}
	cfg := func(description, assigned, insertPermission string) string {
		return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  description = %q
  permissions = ["task_results.read"]
}
resource "alfred_rbac_role" "writer" {
  name        = "writer"
  permissions = ["task_results.write"]
}
resource "alfred_rbac_role_assignment" "alice" {
  principal = %q
  role      = alfred_rbac_role.%s.name
}
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = %s
}
`, description, alice, assigned, insertPermission)
	}
	// lost checks that the proxy lost exactly these COMMIT replies so far: the test means something only if
	// it did.
	lost := func(want ...string) resource.TestCheckFunc {
		return check(func() error {
			got, want := proxy.Lost(), slices.Clone(want)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				return fmt.Errorf("COMMIT replies lost for %q, want one for each of %q", got, want)
			}
			return nil
		})
	}
	d.test(t, []resource.TestStep{
		{
			PreConfig: func() { proxy.LoseCommitReply(creates...) },
			Config:    cfg("", "analyst", "null"),
			Check: resource.ComposeTestCheckFunc(
				lost(creates...),
				expectInt(d, 2, `select count(*) from alfred_rbac.roles`),
				expectStrings(d, []string{"analyst"}, `select role from alfred_rbac.assignments where principal = $1`, alice),
				policyNames(d, rbacPolicies("select")...),
				func(s *terraform.State) error {
					if n := len(s.RootModule().Resources); n != 4 {
						return fmt.Errorf("%d resources in state, want 4", n)
					}
					return nil
				},
			),
		},
		{
			// Updates are idempotent: when the reply of their COMMIT is lost, they run again.
			PreConfig: func() { proxy.LoseCommitReply(updates...) },
			Config:    cfg("reads results", "writer", `"task_results.write"`),
			Check: resource.ComposeTestCheckFunc(
				lost(append(slices.Clone(creates), updates...)...),
				expectStrings(d, []string{"reads results"}, `select description from alfred_rbac.roles where name = 'analyst'`),
				expectStrings(d, []string{"writer"}, `select role from alfred_rbac.assignments where principal = $1`, alice),
				policyNames(d, rbacPolicies("select", "insert")...),
			),
		},
	})
}
