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
