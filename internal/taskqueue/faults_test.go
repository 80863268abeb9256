package taskqueue_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Under faults of every kind (refused, applied with the reply lost, concurrent edit, rate limit), create,
// update and destroy converge: the plan after each apply is empty and nothing is left behind.
func TestAccTaskQueue_convergesUnderFaults(t *testing.T) {
	for _, seed := range []uint64{3, 11} {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			sb := newSandbox(t)
			faults := func(on bool) {
				rate := 0.0
				if on {
					rate = 0.3
				}
				if err := sb.Kit.SetFaultSettings(kit.FaultSettings{Rate: rate, Seed: seed}); err != nil {
					t.Fatal(err)
				}
			}
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t); faults(true) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				CheckDestroy: func(st *terraform.State) error {
					faults(false)
					injected := sb.Kit.Injected()
					if len(injected) == 0 {
						return fmt.Errorf("no fault was injected: the test proves nothing")
					}
					return sb.checkDestroyed(st)
				},
				Steps: []resource.TestStep{
					{Config: sb.provider() + queueConfig("tasks", agentURI, "")},
					{Config: sb.provider() + queueConfig("tasks", agentURI, "  max_delivery_attempts = 20\n  min_backoff = \"5s\"")},
				},
			})
		})
	}
}

const (
	getIAM = "/google.iam.v1.IAMPolicy/GetIamPolicy"
	setIAM = "/google.iam.v1.IAMPolicy/SetIamPolicy"
)

// A grant is a read-modify-write; its read is retried on a budget of its own. Four failed reads, then four
// refused writes, are eight failures in all: shared, they used up the grant's eight attempts and failed the
// apply; now the reads take four attempts of their own and the fifth write lands.
func TestAccTaskQueue_grantReadHasItsOwnRetries(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	for range 4 {
		sb.Kit.FailNext(getIAM, kit.FaultUnavailable)
		sb.Kit.FailNext(setIAM, kit.FaultConflict)
	}
	sb.applyOnce(t, func() error {
		if !sb.granted("projects/p/topics/tasks-dead-letter", "roles/pubsub.publisher", "serviceAccount:"+agentSA) {
			return fmt.Errorf("the publisher grant on the dead-letter topic is missing")
		}
		if inj := sb.Kit.Injected(); inj[kit.FaultUnavailable] != 4 || inj[kit.FaultConflict] != 4 {
			return fmt.Errorf("the queued faults were not all met: %v", inj)
		}
		return nil
	})
}

// Every write of a create whose reply is lost (the write took effect) is found done by its retry, not
// duplicated nor refused: the topics' ALREADY_EXISTS is success, the subscription that exists is checked and
// patched to the plan, and a grant is read again before it is written again.
func TestAccTaskQueue_createWritesWithLostRepliesConverge(t *testing.T) {
	t.Parallel()
	sb := newSandbox(t)
	for _, m := range []string{"/google.pubsub.v1.Publisher/CreateTopic", "/google.pubsub.v1.Subscriber/CreateSubscription", setIAM} {
		sb.Kit.FailNext(m, kit.FaultLostReply)
	}
	sb.applyOnce(t, func() error {
		if n := sb.Kit.Injected()[kit.FaultLostReply]; n != 3 {
			return fmt.Errorf("%d lost replies injected, want 3", n)
		}
		if sb.sub(t, "tasks").GetDeadLetterPolicy().GetMaxDeliveryAttempts() != 5 {
			return fmt.Errorf("the subscription is not as planned")
		}
		return nil
	})
}

// applyOnce applies one queue, "tasks", runs check on it and destroys it, asking the API that nothing remains.
func (s *sandbox) applyOnce(t *testing.T, check func() error) {
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: s.provider() + queueConfig("tasks", agentURI, ""),
			Check:  func(*terraform.State) error { return check() },
		}},
	})
}
