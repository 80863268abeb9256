package pgdata_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// holdLock takes an ACCESS EXCLUSIVE lock on events in an open transaction, as a long migration of the
// application would, until release is called.
func holdLock(t *testing.T, dsn string) (release func()) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `lock table events in access exclusive mode`); err != nil {
		t.Fatal(err)
	}
	done := false
	return func() {
		if !done {
			done = true
			_ = tx.Rollback(ctx)
			_ = c.Close(ctx)
		}
	}
}

// DDL waits for a lock at most lock_timeout per statement and is repeated until the resource's timeout: a
// lock held for a few seconds delays the apply, one held past the timeout fails it with a message saying so.
func TestAccPostgresPartitions_ddlWaitsBoundedByLockTimeout(t *testing.T) {
	d := newDB(t).setUp(eventsTable, "2026-03-10T12:00:00Z")
	var release func()
	t.Cleanup(func() {
		if release != nil {
			release()
		}
	})
	var started time.Time
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				// Held for 5s (longer than one lock_timeout of 2s): the transaction is repeated and succeeds.
				PreConfig: func() {
					release = holdLock(t, d.DSN)
					started = time.Now()
					time.AfterFunc(5*time.Second, release)
				},
				Config: partitionsHCL(d.DSN, "  timeouts {\n    create = \"60s\"\n  }\n"),
				Check: func(*terraform.State) error {
					if waited := time.Since(started); waited < 5*time.Second {
						t.Errorf("apply finished %s after the lock was taken, before it was released", waited)
					}
					return nil
				},
			},
			{
				// Held past the update's timeout: the apply gives up and says what it waited for.
				PreConfig: func() {
					release = holdLock(t, d.DSN)
				},
				Config:      premake4(partitionsHCL(d.DSN, "  timeouts {\n    update = \"5s\"\n  }\n")),
				ExpectError: regexp.MustCompile(`(?s)gave\s+up\s+on\s+the\s+partitions\s+of\s+public\.events\s+after.*waiting\s+for\s+a\s+lock`),
			},
			{
				PreConfig: func() { release() },
				Config:    premake4(partitionsHCL(d.DSN, "  timeouts {\n    update = \"60s\"\n  }\n")),
				Check:     d.expectRows(append(days("events", "2026-03-07", 8), "events_default"), `select inhrelid::regclass::text from pg_inherits where inhparent = 'events'::regclass`),
			},
		},
	})
}

func premake4(hcl string) string {
	return strings.Replace(hcl, "premake           = 2", "premake           = 4", 1)
}
