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

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

func assignmentHCL(dsn, principal, role string) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["tasks.read"]
}
resource "alfred_rbac_role" "operator" {
  name        = "operator"
  permissions = ["tasks.write"]
}
resource "alfred_rbac_role_assignment" "user" {
  principal = %q
  role      = alfred_rbac_role.%s.name
}
resource "alfred_rbac_role_assignment" "agent" {
  principal = %q
  role      = alfred_rbac_role.operator.name
}
`, principal, role, agent)
}

func TestAccRBACRoleAssignment_createMoveImportDriftAndDestroy(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.test(t, []resource.TestStep{
		{
			Config: assignmentHCL(d.DSN, alice, "viewer"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("alfred_rbac_role_assignment.user", tfjsonpath.New("id"), knownvalue.StringExact(alice+"/viewer")),
				statecheck.ExpectKnownValue("alfred_rbac_role_assignment.agent", tfjsonpath.New("id"), knownvalue.StringExact(agent+"/operator")),
			},
			Check: resource.ComposeTestCheckFunc(
				expectStrings(d, []string{alice + "/viewer", agent + "/operator"}, `select principal || '/' || role from alfred_rbac.assignments`),
			),
		},
		{
			// Another role for the same user: the assignment moves in one transaction, so the user is never
			// left without a role halfway through the apply, and a role rename can carry it along.
			Config: assignmentHCL(d.DSN, alice, "operator"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role_assignment.user", plancheck.ResourceActionUpdate),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("alfred_rbac_role_assignment.user", tfjsonpath.New("id"), knownvalue.StringExact(alice+"/operator")),
			},
			Check: expectStrings(d, []string{alice + "/operator", agent + "/operator"}, `select principal || '/' || role from alfred_rbac.assignments`),
		},
		{
			ResourceName:      "alfred_rbac_role_assignment.user",
			ImportState:       true,
			ImportStateId:     alice + "/operator",
			ImportStateVerify: true,
		},
		{
			ResourceName:      "alfred_rbac_role_assignment.agent",
			ImportState:       true,
			ImportStateId:     "alfred_rbac.assignments/" + agent + "/operator",
			ImportStateVerify: true,
		},
		{
			ResourceName:  "alfred_rbac_role_assignment.user",
			ImportState:   true,
			ImportStateId: "alice-without-role",
			ExpectError:   regexp.MustCompile(`is not\s+` + "`<principal>/<role>`"),
		},
		{
			// Deleted by hand: the plan shows it again and the apply restores it.
			PreConfig: func() { d.Exec(`delete from alfred_rbac.assignments where principal = $1`, alice) },
			Config:    assignmentHCL(d.DSN, alice, "operator"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_rbac_role_assignment.user", plancheck.ResourceActionCreate),
			}},
			Check: expectInt(d, 1, `select count(*) from alfred_rbac.assignments where principal = $1 and role = 'operator'`, alice),
		},
	})
}

func TestAccRBACRoleAssignment_unknownRoleFailsAtApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.test(t, []resource.TestStep{{
		Config: providerHCL(d.DSN) + fmt.Sprintf(`
resource "alfred_rbac_role_assignment" "a" {
  principal = %q
  role      = "ghost"
}
`, alice),
		ExpectError: regexp.MustCompile(`Role "ghost" does not exist, so it cannot be assigned`),
	}})
}

func TestAccRBACRoleAssignment_duplicateFailsAtApplyWithImportHint(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			PreConfig: func() {
				// Another configuration (or a person) already made this assignment.
				d.Install()
				d.Exec(`insert into alfred_rbac.roles (name) values ('viewer')`)
				d.Exec(`insert into alfred_rbac.assignments values ($1, 'viewer')`, alice)
			},
			Config: providerHCL(d.DSN) + fmt.Sprintf(`
resource "alfred_rbac_role_assignment" "a" {
  principal = %q
  role      = "viewer"
}
`, alice),
			ExpectError: regexp.MustCompile(`(?s)already assigned.*terraform import`),
		}},
	})
}
