package pgdata_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
)

// The documentation's examples work as written, configured from ALFRED_POSTGRES_DSN, and leave an empty plan.
func TestAccPostgresPartitions_documentedExamplesApply(t *testing.T) {
	d := newDB(t)
	acctest.Standby(t)
	d.Exec(`create table events (id bigserial, created_at timestamptz not null, kind text, payload jsonb) partition by range (created_at)`)
	d.Exec(`create schema app`)
	d.Exec(`create table app.audit_log (at timestamptz not null, who text) partition by range (at)`)
	restore := pgdata.SetClock(at("2026-03-10T12:00:00Z"))
	defer restore()
	var hcl string
	for _, f := range []string{"resources/alfred_postgres_partitions/resource.tf", "data-sources/alfred_postgres_replication/data-source.tf"} {
		b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", f))
		if err != nil {
			t.Fatal(err)
		}
		hcl += string(b) + "\n"
	}
	t.Setenv("ALFRED_POSTGRES_DSN", d.DSN)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: hcl,
			Check: resource.ComposeAggregateTestCheckFunc(
				// 30 days back (from 2026-02-08) to 7 days ahead (2026-03-17): 38 daily partitions.
				resource.TestCheckResourceAttr("alfred_postgres_partitions.events", "partitions.#", "38"),
				// 365 days back (2025-03) to 2 months ahead (2026-05): 15 monthly partitions.
				resource.TestCheckResourceAttr("alfred_postgres_partitions.audit", "partitions.#", "15"),
				resource.TestCheckResourceAttr("alfred_postgres_partitions.audit", "partitions.0.name", "audit_log_p202503"),
				resource.TestCheckResourceAttrSet("data.alfred_postgres_replication.primary", "standbys.0.application_name"),
			),
		}},
	})
}
