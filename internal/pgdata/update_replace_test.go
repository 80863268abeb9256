package pgdata_test

import (
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
)

// Turning the default partition off is an update in place that detaches it with its rows; pointing the
// resource at another table replaces it, and the first table keeps its partitions.
func TestAccPostgresPartitions_updateInPlaceAndReplace(t *testing.T) {
	d := newDB(t)
	d.Exec(eventsTable)
	d.Exec(strings.Replace(eventsTable, "create table events", "create table events2", 1))
	restore := pgdata.SetClock(at("2026-03-10T12:00:00Z"))
	defer restore()
	on := partitionsHCL(d.DSN, "")
	off := strings.Replace(on, "default_partition = true", "default_partition = false", 1)
	other := strings.Replace(off, `table             = "events"`, `table             = "events2"`, 1)
	layout := `select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             d.expectRows(nil, `select table_name from alfred_pgdata.partition_sets`),
		Steps: []resource.TestStep{
			{Config: on},
			{
				PreConfig: func() { d.Exec(`insert into events (id, created_at) values (7, '2027-01-01 00:00+00')`) },
				Config:    off,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(eventsAddr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(eventsAddr, "default_partition", "false"),
					d.expectRows(days("events", "2026-03-07", 6), layout),
					d.expectRows([]string{"7"}, `select id::text from events_default`),
				),
			},
			{
				Config: other,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(eventsAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(eventsAddr, "id", "public.events2"),
					d.expectRows([]string{"events2"}, `select table_name from alfred_pgdata.partition_sets`),
					d.expectRows(days("events", "2026-03-07", 6), layout),
					d.expectRows(days("events2", "2026-03-07", 6),
						`select inhrelid::regclass::text from pg_inherits where inhparent = 'events2'::regclass`),
				),
			},
		},
	})
}
