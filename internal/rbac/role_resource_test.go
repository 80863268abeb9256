package rbac_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

func strSet(vals ...string) knownvalue.Check {
	c := make([]knownvalue.Check, len(vals))
	for i, v := range vals {
		c[i] = knownvalue.StringExact(v)
	}
	return knownvalue.SetExact(c)
}

func rolesHCL(dsn, analystPerms, analystInherits, desc string) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role" "auditor" {
  name        = "auditor"
  permissions = ["audit_log.read"]
}
resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  description = %q
  permissions = %s
  inherits    = %s
}
`, desc, analystPerms, analystInherits)
}

func TestAccRBACRole_createUpdateInPlaceImportAndDestroy(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.test(t, []resource.TestStep{
		{
			Config: rolesHCL(d.DSN, `["tasks.read", "task_results.read"]`, `[alfred_rbac_role.viewer.name]`, "Reads task results"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("alfred_rbac_role.analyst", tfjsonpath.New("id"), knownvalue.StringExact("analyst")),
				statecheck.ExpectKnownValue("alfred_rbac_role.analyst", tfjsonpath.New("permissions"), strSet("tasks.read", "task_results.read")),
				statecheck.ExpectKnownValue("alfred_rbac_role.analyst", tfjsonpath.New("inherits"), strSet("viewer")),
				statecheck.ExpectKnownValue("alfred_rbac_role.viewer", tfjsonpath.New("inherits"), strSet()),
				statecheck.ExpectKnownValue("alfred_rbac_role.viewer", tfjsonpath.New("description"), knownvalue.StringExact("")),
			},
			Check: resource.ComposeTestCheckFunc(
				expectStrings(d, []string{"analyst", "auditor", "viewer"}, `select name from alfred_rbac.roles`),
				expectStrings(d, []string{"task_results.read", "tasks.read"}, `select permission from alfred_rbac.role_permissions where role = 'analyst'`),
				expectStrings(d, []string{"viewer"}, `select inherits from alfred_rbac.role_inherits where role = 'analyst'`),
				expectStrings(d, []string{"Reads task results"}, `select description from alfred_rbac.roles where name = 'analyst'`),
			),
		},
		{
			// One permission removed, one added, inheritance switched, description changed: all in place.
			Config: rolesHCL(d.DSN, `["task_results.read", "task_results.export"]`, `[alfred_rbac_role.auditor.name]`, "Reads and exports task results"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.analyst", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction("alfred_rbac_role.viewer", plancheck.ResourceActionNoop),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("alfred_rbac_role.analyst", tfjsonpath.New("permissions"), strSet("task_results.read", "task_results.export")),
				statecheck.ExpectKnownValue("alfred_rbac_role.analyst", tfjsonpath.New("inherits"), strSet("auditor")),
			},
			Check: resource.ComposeTestCheckFunc(
				expectStrings(d, []string{"task_results.export", "task_results.read"}, `select permission from alfred_rbac.role_permissions where role = 'analyst'`),
				expectStrings(d, []string{"auditor"}, `select inherits from alfred_rbac.role_inherits where role = 'analyst'`),
			),
		},
		{
			// Dropping every permission and inheritance (attributes removed) empties the sets.
			Config: providerHCL(d.DSN) + `
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role" "auditor" {
  name        = "auditor"
  permissions = ["audit_log.read"]
}
resource "alfred_rbac_role" "analyst" {
  name = "analyst"
}
`,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.analyst", plancheck.ResourceActionUpdate),
			}},
			Check: resource.ComposeTestCheckFunc(
				expectInt(d, 0, `select count(*) from alfred_rbac.role_permissions where role = 'analyst'`),
				expectInt(d, 0, `select count(*) from alfred_rbac.role_inherits where role = 'analyst'`),
			),
		},
		{
			Config: rolesHCL(d.DSN, `["tasks.read", "task_results.read"]`, `[alfred_rbac_role.viewer.name]`, "Reads task results"),
		},
		{
			ResourceName:      "alfred_rbac_role.analyst",
			ImportState:       true,
			ImportStateId:     "analyst",
			ImportStateVerify: true,
		},
		{
			ResourceName:      "alfred_rbac_role.analyst",
			ImportState:       true,
			ImportStateId:     "alfred_rbac.roles/analyst",
			ImportStateVerify: true,
		},
		{
			ResourceName:  "alfred_rbac_role.analyst",
			ImportState:   true,
			ImportStateId: "no_such_role",
			ExpectError:   regexp.MustCompile(`Cannot import non-existent remote object`),
		},
	})
}

// Renaming a role that another role inherits (and that users hold) is one apply: the role is renamed in
// place and its inheritance and assignments follow, where a replacement would be refused while the role is
// inherited.
func TestAccRBACRole_renameOfAnInheritedRoleIsOneApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	cfg := func(name string) string {
		return providerHCL(d.DSN) + fmt.Sprintf(`
resource "alfred_rbac_role" "parent" {
  name        = %q
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role" "child" {
  name        = "analyst"
  permissions = ["task_results.read"]
  inherits    = [alfred_rbac_role.parent.name]
}
resource "alfred_rbac_role_assignment" "alice" {
  principal = %q
  role      = alfred_rbac_role.child.name
}
resource "alfred_rbac_role_assignment" "bob" {
  principal = %q
  role      = alfred_rbac_role.parent.name
}
resource "alfred_rbac_role" "other" {
  name = "auditor"
}
`, name, alice, bob)
	}
	d.test(t, []resource.TestStep{
		{
			Config: cfg("reader"),
			Check:  expectAuthorize(d, claimsOf(alice), "tasks.read", true),
		},
		{
			Config: cfg("task_reader"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.parent", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction("alfred_rbac_role.child", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction("alfred_rbac_role_assignment.bob", plancheck.ResourceActionUpdate),
				plancheck.ExpectResourceAction("alfred_rbac_role_assignment.alice", plancheck.ResourceActionNoop),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("alfred_rbac_role.parent", tfjsonpath.New("id"), knownvalue.StringExact("task_reader")),
				statecheck.ExpectKnownValue("alfred_rbac_role.child", tfjsonpath.New("inherits"), strSet("task_reader")),
				statecheck.ExpectKnownValue("alfred_rbac_role_assignment.bob", tfjsonpath.New("id"), knownvalue.StringExact(bob+"/task_reader")),
			},
			Check: resource.ComposeTestCheckFunc(
				expectStrings(d, []string{"analyst", "auditor", "task_reader"}, `select name from alfred_rbac.roles`),
				expectStrings(d, []string{"task_reader"}, `select inherits from alfred_rbac.role_inherits where role = 'analyst'`),
				expectStrings(d, []string{"tasks.read"}, `select permission from alfred_rbac.role_permissions where role = 'task_reader'`),
				expectStrings(d, []string{"task_reader"}, `select role from alfred_rbac.assignments where principal = $1`, bob),
				// A user of the child still holds the parent's permission, and the parent's user keeps it.
				expectAuthorize(d, claimsOf(alice), "tasks.read", true),
				expectAuthorize(d, claimsOf(alice), "task_results.read", true),
				expectAuthorize(d, claimsOf(bob), "tasks.read", true),
			),
		},
		{
			// A rename onto the name of another role is refused, saying why, and changes nothing.
			Config:      cfg("auditor"),
			ExpectError: regexp.MustCompile(`(?s)Role "task_reader" cannot be renamed to "auditor": a role\s+named\s+"auditor"\s+already\s+exists`),
		},
	})
}

func TestAccRBACRole_driftRemovedOutsideTerraformComesBack(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	cfg := rolesHCL(d.DSN, `["tasks.read", "task_results.read"]`, `[alfred_rbac_role.viewer.name]`, "Reads task results")
	d.test(t, []resource.TestStep{
		{Config: cfg},
		{
			// A permission deleted by hand is put back in place.
			PreConfig: func() {
				d.Exec(`delete from alfred_rbac.role_permissions where role = 'analyst' and permission = 'task_results.read'`)
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.analyst", plancheck.ResourceActionUpdate),
			}},
			Check: expectStrings(d, []string{"task_results.read", "tasks.read"}, `select permission from alfred_rbac.role_permissions where role = 'analyst'`),
		},
		{
			// An inheritance deleted by hand, and a permission added by hand, are both reverted.
			PreConfig: func() {
				d.Exec(`delete from alfred_rbac.role_inherits where role = 'analyst'`)
				d.Exec(`insert into alfred_rbac.role_permissions values ('analyst', 'secrets.read')`)
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.analyst", plancheck.ResourceActionUpdate),
			}},
			Check: resource.ComposeTestCheckFunc(
				expectStrings(d, []string{"viewer"}, `select inherits from alfred_rbac.role_inherits where role = 'analyst'`),
				expectInt(d, 0, `select count(*) from alfred_rbac.role_permissions where permission = 'secrets.read'`),
			),
		},
		{
			// A whole role deleted by hand is created again.
			PreConfig: func() {
				d.Exec(`delete from alfred_rbac.roles where name = 'auditor'`)
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role.auditor", plancheck.ResourceActionCreate),
			}},
			Check: expectStrings(d, []string{"audit_log.read"}, `select permission from alfred_rbac.role_permissions where role = 'auditor'`),
		},
	})
}
