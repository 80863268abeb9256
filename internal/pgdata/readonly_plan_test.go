package pgdata_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
)

// A plan only reads: with a role that may read but not write, a plan after the window moved shows the
// change, and nothing in the database changed.
func TestAccPostgresPartitions_planReadsOnlyWithReadOnlyRole(t *testing.T) {
	d := newDB(t)
	d.Exec(eventsTable)
	role := fmt.Sprintf("pgdata_planner_%d", acctest.Postgres(t).Port)
	d.Exec(fmt.Sprintf(`do $$ begin
		if not exists (select from pg_roles where rolname = '%s') then create role %s login; end if;
	exception when duplicate_object or unique_violation then null; end $$`, role, role))
	restore := pgdata.SetClock(at("2026-03-10T12:00:00Z"))
	defer restore()
	u, err := url.Parse(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	readOnly := u.String()
	layout := `select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: partitionsHCL(d.DSN, "")},
			{
				PreConfig: func() {
					d.Exec(fmt.Sprintf(`grant usage on schema alfred_pgdata to %s; grant select on alfred_pgdata.partition_sets to %s;
						alter role %s set default_transaction_read_only = on`, role, role, role))
					pgdata.SetClock(at("2026-03-12T12:00:00Z"))
				},
				Config:             partitionsHCL(readOnly, ""),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{plannedPartitions{
					addr: eventsAddr, before: days("events", "2026-03-07", 6), after: days("events", "2026-03-09", 6),
				}}},
			},
			{
				// The plan above changed nothing; the superuser's apply does it.
				PreConfig: func() {
					if err := d.expectRows(append(days("events", "2026-03-07", 6), "events_default"), layout)(nil); err != nil {
						t.Fatalf("after the read-only plan: %v", err)
					}
				},
				Config: partitionsHCL(d.DSN, ""),
				Check:  d.expectRows(append(days("events", "2026-03-09", 6), "events_default"), layout),
			},
		},
	})
}
