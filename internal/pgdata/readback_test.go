package pgdata_test

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// A create that fails after the partition set was committed (here pg_cron refuses the job) records the
// resource, tainted, with what was not read null: it is in state, so removing it from the configuration
// removes the set, instead of leaving one no state knows of that the maintenance function keeps running.
func TestAccPostgresPartitions_createFailingAfterCommitIsRecorded(t *testing.T) {
	d := cronDB(t).setUp(`create table refused_events (created_at timestamptz not null) partition by range (created_at)`, "2026-03-10T12:00:00Z")
	d.Exec(`create or replace function public.refuse_cron_job() returns trigger language plpgsql as
		$$ begin raise exception 'no new cron jobs today'; end $$`)
	d.Exec(`create trigger refuse_cron_job before insert on cron.job for each row execute function public.refuse_cron_job()`)
	unrefuse := func() { d.Exec(`drop trigger if exists refuse_cron_job on cron.job`) }
	t.Cleanup(unrefuse)
	var known acctest.KnownStates
	sets := `select table_name from alfred_pgdata.partition_sets where table_name = 'refused_events'`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: known.Factories(),
		Steps: []resource.TestStep{
			{
				Config: providerHCL(d.DSN) + `
resource "alfred_postgres_partitions" "events" {
  table    = "refused_events"
  interval = "day"
  premake  = 1
}
`,
				ExpectError: regexp.MustCompile(`no new cron jobs today`),
			},
			{
				PreConfig: unrefuse,
				Config:    providerHCL(d.DSN),
				Check:     resource.ComposeAggregateTestCheckFunc(known.Check, d.expectRows(nil, sets)),
			},
		},
	})
}
