package pgdata_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

const replicationConfig = `
data "alfred_postgres_replication" "this" {}
`

// standbyIndex finds the acceptance standby in the data source's state and returns its attributes.
func standbyAttrs(s *terraform.State) (map[string]string, error) {
	rs, ok := s.RootModule().Resources["data.alfred_postgres_replication.this"]
	if !ok {
		return nil, fmt.Errorf("data source not in state")
	}
	a := rs.Primary.Attributes
	n, _ := strconv.Atoi(a["standbys.#"])
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("standbys.%d.", i)
		if a[p+"application_name"] == acctest.StandbyName {
			out := map[string]string{}
			for _, k := range []string{"state", "sync_state", "client_addr", "replay_lag", "replay_lag_bytes",
				"replay_lsn", "sent_lsn", "flush_lsn", "write_lsn", "write_lag", "flush_lag", "reply_time"} {
				v, present := a[p+k]
				if present {
					out[k] = v
				}
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("standby %q not among the %d standbys reported", acctest.StandbyName, n)
}

func TestAccPostgresReplication_reportsStandbyAndSlot(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	standby := acctest.Standby(t)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			// Pointed at the standby itself: it says so, and streams to nobody.
			Config: providerHCL(standby.DSN("postgres")) + replicationConfig,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.alfred_postgres_replication.this", "in_recovery", "true"),
				resource.TestCheckResourceAttrSet("data.alfred_postgres_replication.this", "current_lsn"),
				resource.TestCheckResourceAttr("data.alfred_postgres_replication.this", "standbys.#", "0"),
			),
		}, {
			Config: providerHCL(d.DSN) + replicationConfig,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("data.alfred_postgres_replication.this", "in_recovery", "false"),
				resource.TestCheckResourceAttrSet("data.alfred_postgres_replication.this", "current_lsn"),
				resource.TestCheckTypeSetElemNestedAttrs("data.alfred_postgres_replication.this", "standbys.*", map[string]string{
					"application_name": acctest.StandbyName,
					"client_addr":      "127.0.0.1",
					"state":            "streaming",
					"sync_state":       "async",
				}),
				resource.TestCheckTypeSetElemNestedAttrs("data.alfred_postgres_replication.this", "slots.*", map[string]string{
					"slot_name":  acctest.StandbySlot,
					"slot_type":  "physical",
					"active":     "true",
					"wal_status": "reserved",
					"database":   "",
				}),
				resource.TestMatchTypeSetElemNestedAttrs("data.alfred_postgres_replication.this", "slots.*", map[string]*regexp.Regexp{
					"slot_name":      regexp.MustCompile("^" + acctest.StandbySlot + "$"),
					"retained_bytes": regexp.MustCompile(`^\d+$`),
					"restart_lsn":    regexp.MustCompile(`^[0-9A-F]+/[0-9A-F]+$`),
				}),
				func(s *terraform.State) error {
					a, err := standbyAttrs(s)
					if err != nil {
						return err
					}
					for _, k := range []string{"sent_lsn", "write_lsn", "flush_lsn", "replay_lsn", "reply_time"} {
						if a[k] == "" {
							return fmt.Errorf("standby's %s is empty: %v", k, a)
						}
					}
					return nil
				},
			),
		}},
	})
}

// TestAccPostgresReplication_replayLagGrowsWhilePausedAndFallsAfterResume pauses replay on the real
// standby while the primary keeps writing: the primary's replay_lag and replay_lag_bytes grow, and after
// pg_wal_replay_resume() they fall back to about zero (PostgreSQL reports null lag once caught up and idle).
func TestAccPostgresReplication_replayLagGrowsWhilePausedAndFallsAfterResume(t *testing.T) {
	t.Parallel()
	d := newDB(t)
	standby := acctest.Standby(t)
	d.Exec(`create table ticks (id bigserial primary key, at timestamptz not null default now(), pad text)`)

	standbyExec := func(sql string) {
		t.Helper()
		c, ctx, done := connect(t, standby.DSN("postgres"))
		defer done()
		if _, err := c.Exec(ctx, sql); err != nil {
			t.Fatalf("standby: %s: %v", sql, err)
		}
	}
	// Whatever happens, replay resumes: the standby is shared by the package's tests.
	t.Cleanup(func() { standbyExec(`select pg_wal_replay_resume()`) })

	var (
		writerStop = make(chan struct{})
		writerDone sync.WaitGroup
		stopOnce   sync.Once
	)
	stopWriter := func() { stopOnce.Do(func() { close(writerStop); writerDone.Wait() }) }
	t.Cleanup(stopWriter)
	startWriter := func() {
		writerDone.Add(1)
		go func() {
			defer writerDone.Done()
			ctx := context.Background()
			c, err := pgx.Connect(ctx, d.DSN)
			if err != nil {
				t.Errorf("writer: %v", err)
				return
			}
			defer c.Close(ctx)
			for {
				select {
				case <-writerStop:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Exec(ctx, `insert into ticks (pad) select repeat('x', 500) from generate_series(1, 20)`); err != nil {
					t.Errorf("writer: %v", err)
					return
				}
			}
		}()
	}

	var lag1 float64
	var bytes1 int64
	lagOf := func(s *terraform.State) (lag float64, known bool, bytes int64, err error) {
		a, err := standbyAttrs(s)
		if err != nil {
			return 0, false, 0, err
		}
		if v, ok := a["replay_lag"]; ok && v != "" {
			lag, err = strconv.ParseFloat(v, 64)
			known = true
		}
		if v := a["replay_lag_bytes"]; v != "" {
			bytes, _ = strconv.ParseInt(v, 10, 64)
		}
		return lag, known, bytes, err
	}

	cfg := providerHCL(d.DSN) + replicationConfig
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					standbyExec(`select pg_wal_replay_pause()`)
					startWriter()
					time.Sleep(4 * time.Second)
				},
				Config: cfg,
				Check: func(s *terraform.State) error {
					lag, known, bytes, err := lagOf(s)
					if err != nil {
						return err
					}
					if !known || lag < 2 {
						return fmt.Errorf("replay paused for 4s with the primary writing: replay_lag = %v (known %v), want >= 2s", lag, known)
					}
					if bytes <= 0 {
						return fmt.Errorf("replay paused with the primary writing: replay_lag_bytes = %d, want > 0", bytes)
					}
					lag1, bytes1 = lag, bytes
					return nil
				},
			},
			{
				PreConfig: func() { time.Sleep(3 * time.Second) },
				Config:    cfg,
				Check: func(s *terraform.State) error {
					lag, known, bytes, err := lagOf(s)
					if err != nil {
						return err
					}
					if !known || lag <= lag1+1 {
						return fmt.Errorf("replay still paused 3s later: replay_lag = %v (known %v), want more than %v + 1s", lag, known, lag1)
					}
					if bytes <= bytes1 {
						return fmt.Errorf("replay still paused: replay_lag_bytes = %d, want more than %d", bytes, bytes1)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					stopWriter()
					standbyExec(`select pg_wal_replay_resume()`)
					waitCaughtUp(t, d.DSN, standby.DSN("postgres"))
				},
				Config: cfg,
				Check: func(s *terraform.State) error {
					lag, known, _, err := lagOf(s)
					if err != nil {
						return err
					}
					if known && lag > 1 {
						return fmt.Errorf("replay resumed and caught up: replay_lag = %v, want null or below 1s", lag)
					}
					return nil
				},
			},
		},
	})
}

// waitCaughtUp waits until the standby has replayed everything the primary had written when it was called.
func waitCaughtUp(t *testing.T, primaryDSN, standbyDSN string) {
	t.Helper()
	p, ctx, done := connect(t, primaryDSN)
	defer done()
	var target string
	if err := p.QueryRow(ctx, `select pg_current_wal_lsn()::text`).Scan(&target); err != nil {
		t.Fatal(err)
	}
	s, sctx, sdone := connect(t, standbyDSN)
	defer sdone()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ok bool
		if err := s.QueryRow(sctx, `select pg_last_wal_replay_lsn() >= $1::pg_lsn`, target).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("standby did not replay up to %s in 30s", target)
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The standby reports its replay position within wal_receiver_status_interval (1s in the harness).
	time.Sleep(2500 * time.Millisecond)
}
