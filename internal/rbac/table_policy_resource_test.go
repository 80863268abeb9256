package rbac_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/rbac"
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

// rbacPolicies are the names of the provider's policies for these commands: a restrictive one and its
// permissive _permit companion each.
func rbacPolicies(cmds ...string) []string {
	var out []string
	for _, c := range cmds {
		out = append(out, "alfred_rbac_"+c, "alfred_rbac_"+c+"_permit")
	}
	return out
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
					policyNames(d, rbacPolicies("delete", "insert", "select", "update")...),
					expectInt(d, 1, `select count(*) from pg_class where oid = 'public.task_results'::regclass and relrowsecurity`),
					expectInt(d, 1, `select count(*) from pg_policies where policyname = 'alfred_rbac_select' and cmd = 'SELECT'
						and permissive = 'RESTRICTIVE'
						and qual like '%alfred_rbac.authorize(''task_results.read''::text)%' and with_check is null`),
					expectInt(d, 1, `select count(*) from pg_policies where policyname = 'alfred_rbac_select_permit' and cmd = 'SELECT'
						and permissive = 'PERMISSIVE'
						and qual like '%alfred_rbac.authorize(''task_results.read''::text)%' and with_check is null`),
					expectInt(d, 0, `select count(*) from pg_policies where policyname like 'alfred_rbac%'
						and (permissive = 'PERMISSIVE') = (policyname not like '%\_permit')`),
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
					policyNames(d, rbacPolicies("insert", "select", "update")...),
					expectInt(d, 6, `select count(*) from pg_policies where policyname like 'alfred_rbac%'
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
				Check: policyNames(d, rbacPolicies("insert", "select", "update")...),
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
				policyNames(d, append(rbacPolicies("insert", "select", "update"), "app_service")...),
				expectInt(d, 0, `select count(*) from alfred_rbac.table_policies where rls_enabled_by_provider`),
			),
		}},
	})
}

func TestAccRBACTablePolicy_missingTableOrOwnerColumnFailsAtApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	d.test(t, []resource.TestStep{
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
	})
}

// The application adds a permissive policy that lets everyone through (`using (true)`): the provider's
// restrictive policies still apply to every row, so a user without a role reads and writes nothing, and
// the plan stays empty because nothing RBAC allows has changed.
func TestAccRBACTablePolicy_foreignPermissivePolicyCannotWidenAccess(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	all := []string{"alice 1", "alice 2", "bob 1", "bob 2", "carol 1"}
	cfg := securityHCL(d.DSN, true, true, "")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeTestCheckFunc(
			rbacEmpty(d),
			policyNames(d, "app_open"),
		),
		Steps: []resource.TestStep{
			{Config: cfg, Check: expectVisible(d, dave)},
			{
				PreConfig: func() {
					d.Exec(`create policy app_open on public.task_results using (true) with check (true)`)
				},
				Config:           cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check: resource.ComposeTestCheckFunc(
					policyNames(d, append(rbacPolicies("delete", "insert", "select", "update"), "app_open")...),
					expectVisible(d, dave),
					expectCannotWrite(d, dave),
					expectCannotWrite(d, alice), // read only, whatever app_open says
					expectVisible(d, alice, all...),
					expectWrites(d, carol, dave, true, 5, 5),
				),
			},
		},
	})
}

// A table governed by an earlier provider version has one permissive policy per command, which a foreign
// permissive policy widens. The refresh (which does not migrate) shows the table as needing an update, and
// that apply migrates alfred_rbac and installs the restrictive policies.
func TestAccRBACTablePolicy_policiesOfSchemaVersion1AreUpgradedByTheNextApply(t *testing.T) {
	t.Parallel()
	d := newTestDB(t)
	createTaskResults(d)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := rbac.InstallSchemaVersion(ctx, d.DSN, 1); err != nil {
		t.Fatal(err)
	}
	// What version 1 of the provider left: its rows, row-level security, one permissive policy, its record.
	d.Exec(`insert into alfred_rbac.roles (name) values ('viewer')`)
	d.Exec(`insert into alfred_rbac.role_permissions values ('viewer', 'task_results.read')`)
	d.Exec(`insert into alfred_rbac.assignments (principal, role) values ($1, 'viewer')`, bob)
	d.Exec(`alter table public.task_results enable row level security`)
	d.Exec(`create policy alfred_rbac_select on public.task_results as permissive for select to public
		using ((select alfred_rbac.authorize('task_results.read')))`)
	d.Exec(`insert into alfred_rbac.table_policies (schema_name, table_name, select_permission, rls_enabled_by_provider, policies)
		select 'public', 'task_results', 'task_results.read', true,
			jsonb_object_agg(substr(policyname, 13), jsonb_build_object('qual', qual, 'with_check', with_check))
		from pg_policies where tablename = 'task_results' and policyname like 'alfred\_rbac\_%'`)
	d.Exec(`create policy app_open on public.task_results for select using (true)`)
	all := []string{"alice 1", "alice 2", "bob 1", "bob 2", "carol 1"}
	cfg := providerHCL(d.DSN) + `
resource "alfred_rbac_table_policy" "task_results" {
  table             = "task_results"
  select_permission = "task_results.read"
}
`
	atVersion := func(v int) func(*terraform.State) error {
		return expectInt(d, v, `select max(version) from alfred_rbac.schema_migrations`)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Before: the foreign policy widens version 1's permissive policy to everyone.
				Config:             cfg,
				ResourceName:       "alfred_rbac_table_policy.task_results",
				ImportState:        true,
				ImportStateId:      "public.task_results",
				ImportStatePersist: true,
				ImportStateCheck: func(s []*terraform.InstanceState) error {
					if len(s) != 1 || s[0].Attributes["select_permission"] != "" {
						return fmt.Errorf("the import must show the old permissive policy as not what the provider "+
							"manages now (select_permission empty): %v", s)
					}
					if err := expectVisible(d, dave, all...)(nil); err != nil {
						return fmt.Errorf("version 1's policies should be widened by app_open: %w", err)
					}
					return atVersion(1)(nil)
				},
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_rbac_table_policy.task_results", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeTestCheckFunc(
					atVersion(rbac.MigrationCount()),
					policyNames(d, append(rbacPolicies("select"), "app_open")...),
					expectVisible(d, dave),
					expectVisible(d, bob, all...),
				),
			},
		},
	})
}
