package pgdata_test

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// With pg_cron in the database (a real pg_cron, preloaded by a cluster of its own), apply schedules the
// maintenance function; a job removed outside Terraform shows in the plan and is scheduled again; destroy
// unschedules it once no partition set is left.
func TestAccPostgresPartitions_schedulesMaintenanceWithPgCron(t *testing.T) {
	d := cronDB(t).setUp(`create table cron_events (created_at timestamptz not null) partition by range (created_at)`, "2026-03-10T12:00:00Z")
	cfg := providerHCL(d.DSN) + `
resource "alfred_postgres_partitions" "events" {
  table    = "cron_events"
  interval = "day"
  premake  = 1
}
`
	job := `select jobname || ' ' || schedule || ' ' || command from cron.job`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             d.expectRows(nil, job),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_postgres_partitions.events", "cron_job", "alfred_pgdata_maintain_partitions"),
					d.expectRows([]string{"alfred_pgdata_maintain_partitions 7 * * * * select alfred_pgdata.maintain_partitions()"}, job),
					// The job's command runs as written.
					d.expectRows([]string{}, `select * from alfred_pgdata.maintain_partitions(p_at => '2026-03-10 12:00+00')`),
				),
			},
			{
				PreConfig: func() { d.Exec(`select cron.unschedule('alfred_pgdata_maintain_partitions')`) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_postgres_partitions.events", plancheck.ResourceActionUpdate),
				}},
				Check: d.expectRows([]string{"alfred_pgdata_maintain_partitions 7 * * * * select alfred_pgdata.maintain_partitions()"}, job),
			},
		},
	})
}
