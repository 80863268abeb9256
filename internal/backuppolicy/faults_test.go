package backuppolicy_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/jackc/pgx/v5"
	"google.golang.org/api/iterator"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Faults on the exact methods of a policy's create: the reads of the read-then-write steps (the job's IAM
// policy, the scheduler job) fail 5 times each, the scheduler job's create loses its reply, and the writes
// after it fail 3 times. Each read has a retry budget of its own, so the writes still have theirs (one
// shared budget of 8 attempts ran out here), and the create after the lost reply is found and updated,
// not created twice. Not parallel: the faults are queued on the package's sandbox, whose next calls of
// these methods must be this test's.
func TestAccBackupPolicy_faultsOnEachStepOfCreate(t *testing.T) {
	e := newEnv(t)
	k := acctest.Sandbox(t).Kit
	const run, sched = "/google.cloud.run.v2.Jobs/", "/google.cloud.scheduler.v1.CloudScheduler/"
	var before int64
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			PreConfig: func() {
				for _, n := range k.Injected() {
					before += n
				}
				for range 5 {
					k.FailNext(run+"GetIamPolicy", kit.FaultUnavailable)
					k.FailNext(sched+"GetJob", kit.FaultUnavailable)
				}
				for range 3 {
					k.FailNext(run+"SetIamPolicy", kit.FaultConflict)
					k.FailNext(sched+"UpdateJob", kit.FaultUnavailable)
				}
				k.FailNext(sched+"CreateJob", kit.FaultLostReply)
			},
			Config: e.provider() + e.policy("0 3 * * *", 7, ""),
			Check: func(*terraform.State) error {
				var after int64
				for _, n := range k.Injected() {
					after += n
				}
				if after-before != 17 {
					t.Errorf("%d faults injected, want the 17 queued", after-before)
				}
				if !e.runnerGranted() || e.schedulerJob().GetSchedule() != "0 3 * * *" {
					t.Errorf("grant %v, schedule %q", e.runnerGranted(), e.schedulerJob().GetSchedule())
				}
				return nil
			},
		}},
	})
}

// alfred_backup's run of the policy's job loses its reply (the execution starts): the create finds its own
// execution by the run's prefix and waits for it, instead of failing (or running a second backup). One
// execution and one set. Not parallel, as above.
func TestAccBackup_lostReplyOfTheRunFindsItsExecution(t *testing.T) {
	e := newEnv(t)
	k := acctest.Sandbox(t).Kit
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			PreConfig: func() { k.FailNext("/google.cloud.run.v2.Jobs/RunJob", kit.FaultLostReply) },
			Config:    e.provider() + e.policy("0 3 * * *", 7, "") + "\nresource \"alfred_backup\" \"pre\" {\n  policy = alfred_backup_policy.p.id\n}\n",
			Check: func(s *terraform.State) error {
				prefix := s.RootModule().Resources["alfred_backup.pre"].Primary.Attributes["prefix"]
				if _, err := e.set(s, "alfred_backup.pre"); err != nil {
					return err
				}
				if sets := e.sets(prefix); len(sets) != 1 {
					return fmt.Errorf("%d sets under %s, want 1", len(sets), prefix)
				}
				n := 0
				it := e.execs.ListExecutions(context.Background(), &runpb.ListExecutionsRequest{Parent: e.jobName()})
				for {
					ex, err := it.Next()
					if errors.Is(err, iterator.Done) {
						break
					}
					if err != nil {
						return err
					}
					if slices.Contains(ex.GetTemplate().GetContainers()[0].GetArgs(), prefix) {
						n++
					}
				}
				if n != 1 {
					return fmt.Errorf("%d executions ran into %s, want 1", n, prefix)
				}
				return nil
			},
		}},
	})
}

// pinnedManifests counts the manifests under the policy's pinned prefixes (every alfred_backup's).
func (e *env) pinnedManifests() int {
	e.t.Helper()
	out, err := e.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(e.bucket), Prefix: aws.String("alfred-pinned/")})
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, o := range out.Contents {
		if strings.HasSuffix(aws.ToString(o.Key), "/manifest.json") {
			n++
		}
	}
	return n
}

// A backup whose create fails after its run started (here its timeout ends while the run waits for a
// lock on the table, and goes on once it is released) is kept in state, tainted, with the prefix the run
// writes to: the replacement deletes that set (retain_on_destroy = false) instead of leaving it in the
// bucket, known to no state.
func TestAccBackup_failedCreateKeepsItsPrefixInState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var lock pgx.Tx
	cfg := func(timeout string) string {
		return e.provider() + e.policy("0 3 * * *", 7, "") + fmt.Sprintf(`
resource "alfred_backup" "pre" {
  policy            = alfred_backup_policy.p.id
  retain_on_destroy = false
  timeouts = { create = %q }
}
`, timeout)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					conn, err := pgx.Connect(ctx, e.dbDSN(e.db))
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { conn.Close(ctx) })
					if lock, err = conn.Begin(ctx); err == nil {
						_, err = lock.Exec(ctx, "LOCK TABLE items IN ACCESS EXCLUSIVE MODE")
					}
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg("8s"), ExpectError: regexp.MustCompile(`The backup failed`),
			},
			{
				PreConfig: func() {
					if err := lock.Commit(ctx); err != nil {
						t.Fatal(err)
					}
					// The run goes on after the failed create: wait for its set.
					deadline := time.Now().Add(2 * time.Minute)
					for e.pinnedManifests() == 0 {
						if time.Now().After(deadline) {
							t.Fatal("the run of the failed create wrote no set")
						}
						time.Sleep(300 * time.Millisecond)
					}
				},
				Config: cfg("10m"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup.pre", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: func(*terraform.State) error {
					if n := e.pinnedManifests(); n != 1 {
						return fmt.Errorf("%d sets under the pinned prefixes after the replacement, want 1 (the failed create's was left behind)", n)
					}
					return nil
				},
			},
		},
	})
}
