package pgdata_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// db is a database of the run's PostgreSQL cluster.
type db struct {
	t   *testing.T
	DSN string
}

func newDB(t *testing.T) *db {
	t.Helper()
	acctest.PreCheck(t)
	return &db{t: t, DSN: acctest.NewDatabase(t)}
}

// cronDB is the database of the run's pg_cron cluster, shared by the tests that use pg_cron.
func cronDB(t *testing.T) *db {
	t.Helper()
	acctest.PreCheck(t)
	return &db{t: t, DSN: acctest.PostgresWithCron(t)}
}

// setUp runs ddl (the application's table) and sets the provider's clock to now until the test ends.
func (d *db) setUp(ddl, now string) *db {
	d.t.Helper()
	d.Exec(ddl)
	d.t.Cleanup(pgdata.SetClock(at(now)))
	return d
}

func (d *db) conn() (*pgx.Conn, context.Context, func()) {
	d.t.Helper()
	return connect(d.t, d.DSN)
}

func connect(t *testing.T, dsn string) (*pgx.Conn, context.Context, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		cancel()
		t.Fatalf("connect: %v", err)
	}
	return c, ctx, func() { _ = c.Close(ctx); cancel() }
}

// Exec runs SQL, failing the test on error.
func (d *db) Exec(sql string, args ...any) {
	d.t.Helper()
	c, ctx, done := d.conn()
	defer done()
	if _, err := c.Exec(ctx, sql, args...); err != nil {
		d.t.Fatalf("exec %q: %v", sql, err)
	}
}

// Strings runs a query returning one text column, sorted.
func (d *db) Strings(sql string, args ...any) ([]string, error) {
	c, ctx, done := d.conn()
	defer done()
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	sort.Strings(out)
	return out, err
}

func check(fn func() error) func(*terraform.State) error {
	return func(*terraform.State) error { return fn() }
}

// expectRows asserts the rows of a one-text-column query, in any order.
func (d *db) expectRows(want []string, sql string, args ...any) func(*terraform.State) error {
	return check(func() error {
		got, err := d.Strings(sql, args...)
		if err != nil {
			return fmt.Errorf("%s: %w", sql, err)
		}
		w := append([]string(nil), want...)
		sort.Strings(w)
		if strings.Join(got, ",") != strings.Join(w, ",") {
			return fmt.Errorf("%s:\n got %q\nwant %q", sql, got, w)
		}
		return nil
	})
}

func providerHCL(dsn string) string {
	return fmt.Sprintf("provider \"alfred\" {\n  postgres {\n    dsn = %q\n  }\n}\n", dsn)
}

// partitionNames reads the names of the `partitions` attribute of a planned or applied object.
func partitionNames(v any) []string {
	list, _ := v.([]any)
	var out []string
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, fmt.Sprint(m["name"]))
		}
	}
	return out
}

// plannedPartitions checks that the plan updates addr in place, from partitions `before` to `after`.
type plannedPartitions struct {
	addr          string
	before, after []string
}

func (c plannedPartitions) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != c.addr {
			continue
		}
		if !rc.Change.Actions.Update() {
			resp.Error = fmt.Errorf("%s: planned %v, want an update in place", c.addr, rc.Change.Actions)
			return
		}
		before, _ := rc.Change.Before.(map[string]any)
		after, _ := rc.Change.After.(map[string]any)
		b, a := partitionNames(before["partitions"]), partitionNames(after["partitions"])
		if strings.Join(b, ",") != strings.Join(c.before, ",") || strings.Join(a, ",") != strings.Join(c.after, ",") {
			resp.Error = fmt.Errorf("%s: planned partitions\n  %q\n->%q\nwant\n  %q\n->%q", c.addr, b, a, c.before, c.after)
		}
		return
	}
	resp.Error = fmt.Errorf("no change planned for %s", c.addr)
}

// days names the daily partitions of table from first for n days (dates as 2006-01-02).
func days(table, first string, n int) []string {
	t, err := time.Parse("2006-01-02", first)
	if err != nil {
		panic(err)
	}
	out := make([]string, n)
	for i := range out {
		out[i] = table + "_p" + t.AddDate(0, 0, i).Format("20060102")
	}
	return out
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
