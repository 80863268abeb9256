package rbac_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// createTaskResults creates the application's table, as the application's migrations would, with rows
// of several owners: alice 2, bob 2, carol 1.
func createTaskResults(d *testDB) {
	d.Exec(`create table public.task_results (
		id       serial primary key,
		owner_id uuid not null,
		body     text not null
	)`)
	d.Exec(`insert into public.task_results (owner_id, body) values
		($1, 'alice 1'), ($1, 'alice 2'), ($2, 'bob 1'), ($2, 'bob 2'), ($3, 'carol 1')`, alice, bob, carol)
	d.Exec(`grant select, insert, update, delete on public.task_results to authenticated`)
	d.Exec(`grant usage on sequence public.task_results_id_seq to authenticated`)
}

func policyHCL(dsn, extra string) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = "task_results.write"
  update_permission = "task_results.write"
%s
}
`, extra)
}

func policyNames(d *testDB, want ...string) func(*terraform.State) error {
	return expectStrings(d, want, `select policyname from pg_policies where schemaname = 'public' and tablename = 'task_results'`)
}

func TestAccRBACTablePolicy_createUpdateInPlaceImportDriftAndDestroy(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	full := policyHCL(d.DSN, `  delete_permission = "task_results.delete"`)
	owned := policyHCL(d.DSN, `  owner_column      = "owner_id"`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(
			rbacEmpty(d),
			// RLS was off before the provider came, so it is off again; the data is untouched.
			expectInt(d, 0, `select count(*) from pg_class where oid = 'public.task_results'::regclass and relrowsecurity`),
			expectInt(d, 5, `select count(*) from public.task_results`),
		),
		Steps: []resource.TestStep{
			{
				Config: full,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("alfred_rbac_table_policy.task_results", tfjsonpath.New("id"), knownvalue.StringExact("public.task_results")),
					statecheck.ExpectKnownValue("alfred_rbac_table_policy.task_results", tfjsonpath.New("schema"), knownvalue.StringExact("public")),
					statecheck.ExpectKnownValue("alfred_rbac_table_policy.task_results", tfjsonpath.New("owner_column"), knownvalue.Null()),
				},
				Check: resource.ComposeTestCheckFunc(
					policyNames(d, "alfred_rbac_delete", "alfred_rbac_insert", "alfred_rbac_select", "alfred_rbac_update"),
					expectInt(d, 1, `select count(*) from pg_class where oid = 'public.task_results'::regclass and relrowsecurity`),
					expectInt(d, 1, `select count(*) from pg_policies where policyname = 'alfred_rbac_select' and cmd = 'SELECT'
						and qual like '%alfred_rbac.authorize(''task_results.read''::text)%' and with_check is null`),
					expectInt(d, 1, `select count(*) from pg_policies where policyname = 'alfred_rbac_insert' and cmd = 'INSERT'
						and qual is null and with_check like '%alfred_rbac.authorize(''task_results.write''::text)%'`),
					expectInt(d, 1, `select count(*) from pg_policies where policyname = 'alfred_rbac_update' and cmd = 'UPDATE'
						and qual like '%task_results.write%' and with_check like '%task_results.write%'`),
					expectInt(d, 1, `select count(*) from alfred_rbac.table_policies where rls_enabled_by_provider`),
				),
			},
			{
				// owner_column added and delete_permission removed: in place.
				Config: owned,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_rbac_table_policy.task_results", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					policyNames(d, "alfred_rbac_insert", "alfred_rbac_select", "alfred_rbac_update"),
					expectInt(d, 3, `select count(*) from pg_policies where policyname like 'alfred_rbac%'
						and coalesce(qual, with_check) like '%owner_id = ( SELECT alfred_rbac.current_uid()%'`),
				),
			},
			{
				ResourceName:      "alfred_rbac_table_policy.task_results",
				ImportState:       true,
				ImportStateId:     "public.task_results",
				ImportStateVerify: true,
			},
			{
				ResourceName:      "alfred_rbac_table_policy.task_results",
				ImportState:       true,
				ImportStateId:     "alfred_rbac.table_policies/public.task_results",
				ImportStateVerify: true,
			},
			{
				// A policy dropped by hand comes back.
				PreConfig: func() { d.Exec(`drop policy alfred_rbac_select on public.task_results`) },
				Config:    owned,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_rbac_table_policy.task_results", plancheck.ResourceActionUpdate),
				}},
				Check: policyNames(d, "alfred_rbac_insert", "alfred_rbac_select", "alfred_rbac_update"),
			},
			{
				// A policy loosened by hand is tightened again.
				PreConfig: func() { d.Exec(`alter policy alfred_rbac_insert on public.task_results with check (true)`) },
				Config:    owned,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_rbac_table_policy.task_results", plancheck.ResourceActionUpdate),
				}},
				Check: expectInt(d, 1, `select count(*) from pg_policies where policyname = 'alfred_rbac_insert'
					and with_check like '%task_results.write%'`),
			},
			{
				// Row-level security switched off by hand is switched on again.
				PreConfig: func() { d.Exec(`alter table public.task_results disable row level security`) },
				Config:    owned,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_rbac_table_policy.task_results", plancheck.ResourceActionUpdate),
				}},
				Check: expectInt(d, 1, `select count(*) from pg_class where oid = 'public.task_results'::regclass and relrowsecurity`),
			},
		},
	})
}

func TestAccRBACTablePolicy_destroyKeepsRowLevelSecurityTheApplicationEnabled(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	d.Exec(`alter table public.task_results enable row level security`)
	d.Exec(`create policy app_service on public.task_results for all to service_role using (true)`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(
			rbacEmpty(d),
			expectInt(d, 1, `select count(*) from pg_class where oid = 'public.task_results'::regclass and relrowsecurity`),
			policyNames(d, "app_service"),
			expectInt(d, 5, `select count(*) from public.task_results`),
		),
		Steps: []resource.TestStep{{
			Config: policyHCL(d.DSN, ""),
			Check: resource.ComposeTestCheckFunc(
				policyNames(d, "alfred_rbac_insert", "alfred_rbac_select", "alfred_rbac_update", "app_service"),
				expectInt(d, 0, `select count(*) from alfred_rbac.table_policies where rls_enabled_by_provider`),
			),
		}},
	})
}

func TestAccRBACTablePolicy_missingTableOrOwnerColumnFailsAtApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             rbacEmpty(d),
		Steps: []resource.TestStep{
			{
				Config:      policyHCL(d.DSN, ""),
				ExpectError: regexp.MustCompile(`(?s)Table public.task_results does not exist.*create it`),
			},
			{
				PreConfig:   func() { createTaskResults(d) },
				Config:      policyHCL(d.DSN, `  owner_column = "user_id"`),
				ExpectError: regexp.MustCompile(`(?s)has no column "user_id".*owner_column`),
			},
			{
				Config:      policyHCL(d.DSN, `  owner_column = "id"`),
				ExpectError: regexp.MustCompile(`(?s)Column "id" of public.task_results has type int4;.*must\s+be\s+uuid\s+or\s+text`),
			},
		},
	})
}
