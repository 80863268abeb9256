package backuppolicy_test

import (
	"testing"

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
