package rbac_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// unreachableDSN proves that plan-time errors need no database: nothing listens there.
const unreachableDSN = "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"

// Each configuration alone shows the mistake, so the plan fails, with a message saying what to do.
func TestAccRBAC_invalidConfigurationsFailAtPlan(t *testing.T) {
	t.Parallel()
	acctest.PreCheck(t)
	cases := []struct {
		name, hcl, want string
	}{
		{"malformed permission", `resource "alfred_rbac_role" "r" {
  name        = "analyst"
  permissions = ["task_results"]
}`, `(?s)The permission "task_results" is not valid: it has no action.*<resource>.<action>`},
		{"uppercase permission", `resource "alfred_rbac_role" "r" {
  name        = "analyst"
  permissions = ["Task_Results.Read"]
}`, `(?s)permission "Task_Results.Read" is not valid: it contains the uppercase letter 'T'`},
		{"permission with a quote", `resource "alfred_rbac_role" "r" {
  name        = "analyst"
  permissions = ["tasks.read'); drop table x; --"]
}`, `(?s)is not valid: it contains a quote`},
		{"empty role name", `resource "alfred_rbac_role" "r" {
  name = ""
}`, `(?s)The role name "" is not valid: it is empty.*\[a-z\]\[a-z0-9_\]\{0,62\}`},
		{"over-long role name", `resource "alfred_rbac_role" "r" {
  name = "` + strings.Repeat("a", 64) + `"
}`, `(?s)it is 64 bytes long, the limit is 63`},
		{"uppercase role name", `resource "alfred_rbac_role" "r" {
  name = "Analyst"
}`, `(?s)it contains the uppercase letter 'A' \(use "analyst"\)`},
		{"role name with a quote", `resource "alfred_rbac_role" "r" {
  name = "ana\"lyst"
}`, `(?s)it contains a quote \('"'\) at position 4`},
		{"role name with a semicolon", `resource "alfred_rbac_role" "r" {
  name = "analyst;drop_table"
}`, `(?s)it contains a semicolon at position 8`},
		{"role name with unicode", `resource "alfred_rbac_role" "r" {
  name = "analyst_é"
}`, `(?s)it contains the non-ASCII character 'é'`},
		{"role name starting with a digit", `resource "alfred_rbac_role" "r" {
  name = "1analyst"
}`, `(?s)it starts with a digit`},
		{"role inherits itself", `resource "alfred_rbac_role" "r" {
  name     = "analyst"
  inherits = ["viewer", "analyst"]
}`, `(?s)A role cannot inherit itself.*Remove "analyst" from inherits`},
		{"inherited role name invalid", `resource "alfred_rbac_role" "r" {
  name     = "analyst"
  inherits = ["Viewer"]
}`, `(?s)The role name "Viewer" is not valid`},
		{"principal neither uuid nor email", `resource "alfred_rbac_role_assignment" "a" {
  principal = "alice"
  role      = "viewer"
}`, `(?s)The principal "alice" is not valid: it is neither a user id \(a UUID or a numeric id\) nor user:EMAIL or serviceAccount:EMAIL.*JWT`},
		{"principal a bare email", `resource "alfred_rbac_role_assignment" "a" {
  principal = "social-intel@alfred-prod.iam.gserviceaccount.com"
  role      = "viewer"
}`, `(?s)a bare email is ambiguous: write "serviceAccount:social-intel@alfred-prod.iam.gserviceaccount.com" for a service account or "user:social-intel@alfred-prod.iam.gserviceaccount.com"`},
		{"principal prefix misspelled", `resource "alfred_rbac_role_assignment" "a" {
  principal = "serviceaccount:bot@p.iam.gserviceaccount.com"
  role      = "viewer"
}`, `(?s)the prefix is spelled user: or serviceAccount: \(with a capital A\)`},
		{"principal email in uppercase", `resource "alfred_rbac_role_assignment" "a" {
  principal = "user:Alice@Example.com"
  role      = "viewer"
}`, `(?s)emails are compared in lowercase, write "user:alice@example.com"`},
		{"principal email malformed", `resource "alfred_rbac_role_assignment" "a" {
  principal = "serviceAccount:bot@"
  role      = "viewer"
}`, `(?s)"bot@" is not a well-formed email address`},
		{"principal uuid in uppercase", `resource "alfred_rbac_role_assignment" "a" {
  principal = "6F1C2D4E-0000-4000-8000-00000000000A"
  role      = "viewer"
}`, `(?s)it has uppercase letters.*write\s+"6f1c2d4e-0000-4000-8000-00000000000a"`},
		{"assignment role with semicolon", `resource "alfred_rbac_role_assignment" "a" {
  principal = "` + alice + `"
  role      = "viewer;"
}`, `(?s)The role name "viewer;" is not valid: it contains a semicolon`},
		{"table policy without any permission", `resource "alfred_rbac_table_policy" "p" {
  table = "task_results"
}`, `(?s)At least one of these attributes must be configured:.*select_permission.*insert_permission.*update_permission.*delete_permission`},
		{"table name with a quote", `resource "alfred_rbac_table_policy" "p" {
  table             = "task_results\"; drop table x; --"
  select_permission = "task_results.read"
}`, `(?s)The table name .* is not valid: it contains a quote`},
		{"table name with a space", `resource "alfred_rbac_table_policy" "p" {
  table             = "task results"
  select_permission = "task_results.read"
}`, `(?s)it contains whitespace`},
		{"system schema", `resource "alfred_rbac_table_policy" "p" {
  schema            = "pg_catalog"
  table             = "pg_class"
  select_permission = "task_results.read"
}`, `(?s)The schema name "pg_catalog" is not valid: it is a PostgreSQL system schema`},
		{"the provider's own schema", `resource "alfred_rbac_table_policy" "p" {
  schema            = "alfred_rbac"
  table             = "roles"
  select_permission = "task_results.read"
}`, `(?s)alfred_rbac is the provider's own schema`},
		{"owner column uppercase", `resource "alfred_rbac_table_policy" "p" {
  table             = "task_results"
  select_permission = "task_results.read"
  owner_column      = "OwnerId"
}`, `(?s)The owner_column "OwnerId" is not valid: it contains the uppercase letter 'O'`},
		{"policy permission malformed", `resource "alfred_rbac_table_policy" "p" {
  table             = "task_results"
  delete_permission = "task_results.delete.all"
}`, `(?s)it has more than one dot`},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			t.Parallel()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      providerHCL(unreachableDSN) + c.hcl,
					PlanOnly:    true,
					ExpectError: wantErr(c.want),
				}},
			})
		})
	}
}

// Without a postgres block and without ALFRED_POSTGRES_DSN, the plan names both.
func TestAccRBAC_missingPostgresBlockFailsAtPlan(t *testing.T) {
	acctest.PreCheck(t)
	t.Setenv("ALFRED_POSTGRES_DSN", "")
	for _, hcl := range []string{
		`resource "alfred_rbac_role" "r" { name = "viewer" }`,
		`resource "alfred_rbac_role_assignment" "a" {
  principal = "` + alice + `"
  role      = "viewer"
}`,
		`resource "alfred_rbac_table_policy" "p" {
  table             = "task_results"
  select_permission = "task_results.read"
}`,
	} {
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
			Steps: []resource.TestStep{
				{
					Config:      `provider "alfred" {}` + "\n" + hcl,
					PlanOnly:    true,
					ExpectError: wantErr(`(?s)Provider block "postgres" is not configured.*ALFRED_POSTGRES_DSN`),
				},
				{
					Config:      "provider \"alfred\" {\n  postgres {}\n}\n" + hcl,
					PlanOnly:    true,
					ExpectError: wantErr(`(?s)The postgres block has no dsn.*ALFRED_POSTGRES_DSN`),
				},
			},
		})
	}
}

// These mistakes need the database to be seen, so they fail at apply, as clearly.
func TestAccRBACRole_applyTimeErrorsSayWhatToDo(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.test(t, []resource.TestStep{
		{
			Config: providerHCL(d.DSN) + `
resource "alfred_rbac_role" "analyst" {
  name     = "analyst"
  inherits = ["ghost"]
}`,
			ExpectError: wantErr(`(?s)Role "analyst" inherits "ghost", which does not exist.*Create the inherited role first`),
		},
		{
			Config: providerHCL(d.DSN) + chainHCL,
		},
		{
			// a -> c closes the loop a -> c -> b -> a.
			Config: providerHCL(d.DSN) + `
resource "alfred_rbac_role" "a" {
  name     = "a"
  inherits = ["c"]
}
resource "alfred_rbac_role" "b" {
  name     = "b"
  inherits = [alfred_rbac_role.a.name]
}
resource "alfred_rbac_role" "c" {
  name     = "c"
  inherits = [alfred_rbac_role.b.name]
}`,
			ExpectError: wantErr(`(?s)Role "a" cannot inherit "c": the inheritance would form a\s+cycle\s+\(a\s+->\s+c\s+->\s+b\s+->\s+a\)`),
		},
		{
			// Two resources claiming one role: the second is refused with an import hint.
			Config: providerHCL(d.DSN) + chainHCL + `
resource "alfred_rbac_role" "c_again" {
  name       = "c"
  depends_on = [alfred_rbac_role.c]
}`,
			ExpectError: wantErr(`(?s)Role "c" already exists.*terraform import`),
		},
		{
			// The cycle attempt changed nothing.
			Config: providerHCL(d.DSN) + chainHCL,
			Check:  expectInt(d, 0, `select count(*) from alfred_rbac.role_inherits where role = 'a'`),
		},
	})
}

// wantErr compiles an expected message; Terraform wraps long messages, so any space matches any run of
// whitespace.
func wantErr(pattern string) *regexp.Regexp {
	return regexp.MustCompile(strings.ReplaceAll(pattern, " ", `\s+`))
}

// chainHCL is three roles, each inheriting the one before: c -> b -> a.
const chainHCL = `
resource "alfred_rbac_role" "a" {
  name = "a"
}
resource "alfred_rbac_role" "b" {
  name     = "b"
  inherits = [alfred_rbac_role.a.name]
}
resource "alfred_rbac_role" "c" {
  name     = "c"
  inherits = [alfred_rbac_role.b.name]
}
`
