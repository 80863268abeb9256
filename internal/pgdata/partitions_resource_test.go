package pgdata_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
)

// The partition tests move the provider's clock, which is process-wide: they do not run in parallel with
// each other (the replication tests, which do not read it, do).

const eventsTable = `create table events (
	id bigserial, created_at timestamptz not null, kind text not null default 'task', payload text
) partition by range (created_at)`

func partitionsHCL(dsn, extra string) string {
	return providerHCL(dsn) + fmt.Sprintf(`
resource "alfred_postgres_partitions" "events" {
  table             = "events"
  interval          = "day"
  premake           = 2
  retention         = "3d"
  default_partition = true
%s}
`, extra)
}

const eventsAddr = "alfred_postgres_partitions.events"

// where returns, per row id, the partition (table) the row is stored in.
const whereRows = `select id || '@' || tableoid::regclass::text from events`

func TestAccPostgresPartitions_rowsLandInPartitionsAndMovedWindowAddsAndRetires(t *testing.T) {
	d := newDB(t).setUp(eventsTable, "2026-03-10T12:00:00Z")
	cfg := partitionsHCL(d.DSN, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: resource.ComposeAggregateTestCheckFunc(
			// Destroy stops the maintenance only: the table, its partitions and its rows stay.
			d.expectRows([]string{"0"}, `select count(*)::text from alfred_pgdata.partition_sets`),
			d.expectRows([]string{"2"}, `select count(*)::text from events`),
			d.expectRows([]string{"events_default", "events_p20260309", "events_p20260310", "events_p20260311",
				"events_p20260312", "events_p20260313", "events_p20260314"},
				`select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass`),
		),
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(eventsAddr, "id", "public.events"),
					resource.TestCheckResourceAttr(eventsAddr, "schema", "public"),
					resource.TestCheckResourceAttr(eventsAddr, "column", "created_at"),
					resource.TestCheckResourceAttr(eventsAddr, "retention_action", "detach"),
					resource.TestCheckResourceAttr(eventsAddr, "maintenance_function", "alfred_pgdata.maintain_partitions"),
					resource.TestCheckResourceAttr(eventsAddr, "cron_job", ""),
					resource.TestCheckResourceAttr(eventsAddr, "partitions.#", "6"),
					resource.TestCheckResourceAttr(eventsAddr, "partitions.0.name", "events_p20260307"),
					resource.TestCheckResourceAttr(eventsAddr, "partitions.0.from", "2026-03-07T00:00:00Z"),
					resource.TestCheckResourceAttr(eventsAddr, "partitions.0.to", "2026-03-08T00:00:00Z"),
					resource.TestCheckResourceAttr(eventsAddr, "partitions.5.name", "events_p20260312"),
					d.expectRows(append(days("events", "2026-03-07", 6), "events_default"),
						`select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass`),
				),
			},
			{
				// Rows land in their partitions; a row past the window goes to the default partition.
				PreConfig: func() {
					d.Exec(`insert into events (id, created_at) values (1, '2026-03-08 10:00+00'),
						(2, '2026-03-12 23:59:59.999+00'), (3, '2026-03-13 00:00+00')`)
				},
				Config: cfg,
				Check:  d.expectRows([]string{"1@events_p20260308", "2@events_p20260312", "3@events_default"}, whereRows),
			},
			{
				// Two days later, the plan shows the two partitions past retention leaving and two new ones coming;
				// the apply detaches the old ones (keeping their rows) and moves the stray row into its new partition.
				PreConfig: func() { pgdata.SetClock(at("2026-03-12T12:00:00Z")) },
				Config:    cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plannedPartitions{
					addr:   eventsAddr,
					before: days("events", "2026-03-07", 6),
					after:  days("events", "2026-03-09", 6),
				}}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(eventsAddr, "partitions.#", "6"),
					resource.TestCheckResourceAttr(eventsAddr, "partitions.0.name", "events_p20260309"),
					d.expectRows([]string{"2@events_p20260312", "3@events_p20260313"}, whereRows),
					// Detached, not dropped: the old partitions are tables of their own, with their rows.
					d.expectRows([]string{"1"}, `select id::text from events_p20260308`),
					d.expectRows([]string{"0"}, `select count(*)::text from events_p20260307`),
					d.expectRows([]string{"events_p20260307", "events_p20260308"}, `select relname::text from pg_class
						where relname in ('events_p20260307', 'events_p20260308') and not relispartition and relkind = 'r'`),
				),
			},
			{
				// Nothing moved: the plan is empty.
				Config:   cfg,
				PlanOnly: true,
			},
		},
	})
}

// TestAccPostgresPartitions_maintenanceFunctionMatchesPlan runs alfred_pgdata.maintain_partitions as pg_cron
// would, at a later time: afterwards the provider's plan at that time is empty, so the function and the
// provider keep the same window. It also covers retention_action = "drop" and weekly partitions.
func TestAccPostgresPartitions_maintenanceFunctionMatchesPlan(t *testing.T) {
	d := newDB(t)
	d.Exec(`create schema app`)
	d.Exec(`create table app.audit (at timestamp not null, who text) partition by range (at)`)
	restore := pgdata.SetClock(at("2026-01-07T08:00:00Z")) // a Wednesday
	defer restore()
	cfg := providerHCL(d.DSN) + `
resource "alfred_postgres_partitions" "audit" {
  schema           = "app"
  table            = "audit"
  column           = "at"
  interval         = "week"
  premake          = 1
  retention        = "2w"
  retention_action = "drop"
}
`
	addr := "alfred_postgres_partitions.audit"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "default_partition", "false"),
					// 2025-12-24 (now - 2w) is in the week of Monday 2025-12-22; premake 1 reaches 2026-01-12.
					d.expectRows([]string{"app.audit_p20251222", "app.audit_p20251229", "app.audit_p20260105", "app.audit_p20260112"},
						`select inhrelid::regclass::text from pg_inherits where inhparent = 'app.audit'::regclass`),
				),
			},
			{
				PreConfig: func() {
					later := at("2026-01-29T08:00:00Z")
					pgdata.SetClock(later)
					d.Exec(`select alfred_pgdata.maintain_partitions(p_at => $1)`, later)
				},
				// terraform plan refreshes first: the refreshed partitions are what the provider plans at that time.
				RefreshState: true,
			},
			{
				Config:   cfg,
				PlanOnly: true,
			},
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "partitions.#", "4"),
					resource.TestCheckResourceAttr(addr, "partitions.0.name", "audit_p20260112"),
					// Dropped, not detached.
					d.expectRows(nil, `select relname::text from pg_class where relname in ('audit_p20251222', 'audit_p20251229', 'audit_p20260105')`),
				),
			},
		},
	})
}

func TestAccPostgresPartitions_importsExistingLayout(t *testing.T) {
	d := newDB(t)
	d.Exec(`create table metrics (ts timestamp not null, v float8) partition by range (ts)`)
	d.Exec(`create table metrics_2026_01 partition of metrics for values from ('2026-01-01') to ('2026-02-01')`)
	d.Exec(`create table metrics_2026_02 partition of metrics for values from ('2026-02-01') to ('2026-03-01')`)
	d.Exec(`create table metrics_2026_03 partition of metrics for values from ('2026-03-01') to ('2026-04-01')`)
	d.Exec(`insert into metrics values ('2026-01-15 10:00', 1), ('2026-02-15 10:00', 2)`)
	restore := pgdata.SetClock(at("2026-02-20T00:00:00Z"))
	defer restore()
	cfg := providerHCL(d.DSN) + `
resource "alfred_postgres_partitions" "metrics" {
  table    = "metrics"
  interval = "month"
  premake  = 2
}
`
	addr := "alfred_postgres_partitions.metrics"
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:             cfg,
				ResourceName:       addr,
				ImportState:        true,
				ImportStateId:      "public.metrics",
				ImportStatePersist: true,
				ImportStateCheck: func(is []*terraform.InstanceState) error {
					if len(is) != 1 {
						return fmt.Errorf("%d instances imported", len(is))
					}
					a := is[0].Attributes
					for k, want := range map[string]string{"interval": "month", "column": "ts", "partitions.#": "3",
						"partitions.0.name": "metrics_2026_01", "partitions.2.to": "2026-04-01T00:00:00Z",
						"default_partition": "false", "schema": "public", "table": "metrics"} {
						if a[k] != want {
							return fmt.Errorf("imported %s = %q, want %q", k, a[k], want)
						}
					}
					return nil
				},
			},
			{
				// The existing partitions are adopted as they are; only April is added.
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "partitions.#", "4"),
					resource.TestCheckResourceAttr(addr, "partitions.3.name", "metrics_p202604"),
					d.expectRows([]string{"1@metrics_2026_01", "2@metrics_2026_02"},
						`select v::int || '@' || tableoid::regclass::text from metrics`),
				),
			},
			{
				// Now that the provider manages it, an import reads back every attribute.
				ResourceName:            addr,
				ImportState:             true,
				ImportStateId:           "metrics",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
		},
	})
}

func TestAccPostgresPartitions_refusesColumnOrIntervalChange(t *testing.T) {
	d := newDB(t).setUp(eventsTable, "2026-03-10T12:00:00Z")
	layout := `select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass`
	want := append(days("events", "2026-03-07", 6), "events_default")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: partitionsHCL(d.DSN, "")},
			{
				Config:      regexp.MustCompile(`interval += "day"`).ReplaceAllString(partitionsHCL(d.DSN, ""), `interval = "week"`),
				ExpectError: regexp.MustCompile(`(?s)The interval of existing partitions cannot change.*Keep\s+interval\s+=\s+"day"`),
			},
			{
				Config:      partitionsHCL(d.DSN, `  column = "kind"`+"\n"),
				ExpectError: regexp.MustCompile(`(?s)The partition column cannot change.*partitioned by "created_at"`),
			},
			{
				// Nothing was touched by the refused plans.
				Config: partitionsHCL(d.DSN, ""),
				Check:  d.expectRows(want, layout),
			},
		},
	})
}

func TestAccPostgresPartitions_createChecksTheTable(t *testing.T) {
	d := newDB(t)
	d.Exec(`create table plain (created_at timestamptz)`)
	d.Exec(`create table by_list (kind text) partition by list (kind)`)
	d.Exec(eventsTable)
	hcl := func(table, extra string) string {
		return providerHCL(d.DSN) + fmt.Sprintf(`
resource "alfred_postgres_partitions" "t" {
  table    = %q
  interval = "day"
%s}
`, table, extra)
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: hcl("missing", ""), ExpectError: regexp.MustCompile(`(?s)public\.missing does not exist.*never creates`)},
			{Config: hcl("plain", ""), ExpectError: regexp.MustCompile(`(?s)public\.plain is not a partitioned table`)},
			{Config: hcl("by_list", ""), ExpectError: regexp.MustCompile(`(?s)must be partitioned BY RANGE on one timestamp`)},
			{Config: hcl("events", `  column = "kind"`+"\n"), ExpectError: regexp.MustCompile(`(?s)column is "kind", but public\.events is partitioned by "created_at"`)},
			{
				Config: hcl("events", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					d.expectRows([]string{"0", "0"}, `select count(*)::text from pg_inherits where inhparent in
						('plain'::regclass, 'by_list'::regclass) union all select count(*)::text from alfred_pgdata.partition_sets where table_name <> 'events'`),
				),
			},
		},
	})
}

// A partition dropped outside Terraform inside the window shows in the plan and is re-created; a table
// dropped outside Terraform leaves the state.
func TestAccPostgresPartitions_driftIsRepaired(t *testing.T) {
	d := newDB(t).setUp(eventsTable, "2026-03-10T12:00:00Z")
	cfg := partitionsHCL(d.DSN, "")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					d.Exec(`drop table events_p20260311`)
					d.Exec(`alter table events detach partition events_default`)
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(eventsAddr, plancheck.ResourceActionUpdate),
					plannedPartitions{addr: eventsAddr,
						before: []string{"events_p20260307", "events_p20260308", "events_p20260309", "events_p20260310", "events_p20260312"},
						after:  []string{"events_p20260307", "events_p20260308", "events_p20260309", "events_p20260310", "events_p20260311", "events_p20260312"},
					},
				}},
				Check: d.expectRows([]string{"events_default", "events_p20260311"},
					`select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass
						and inhrelid in ('events_p20260311'::regclass, 'events_default'::regclass)`),
			},
			{
				PreConfig: func() { d.Exec(`drop table events`) },
				// The table is gone: the resource leaves the state (the next plan creates it, and that apply would
				// say the table must exist).
				RefreshState:       true,
				ExpectNonEmptyPlan: true,
				Check: func(s *terraform.State) error {
					if _, ok := s.RootModule().Resources[eventsAddr]; ok {
						return fmt.Errorf("%s still in state after its table was dropped", eventsAddr)
					}
					return nil
				},
			},
		},
	})
}
