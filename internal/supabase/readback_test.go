package supabase_test

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

// A create whose settings were written but whose read-back failed (every attempt of the client's retry
// budget refused) records the resource, tainted, with the values written: the project's settings were
// changed, so the state must know it. The next apply replaces it (writes the settings again).
func TestAccSupabaseNetworkSecurity_createWhoseReadFailsIsRecorded(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	var known acctest.KnownStates
	cfg := netHCL(s, `
  ssl_enforcement = true
  allowed_cidrs   = ["192.0.2.0/24"]`)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: known.Factories(),
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					for range 10 { // the client's attempts
						s.Kit.FailNext("GET /v1/projects/{ref}/network-restrictions", kit.FaultUnavailable)
					}
				},
				Config:      cfg,
				ExpectError: regexp.MustCompile(`Could not read network restrictions`),
			},
			{
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(netAddr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(known.Check, s.expectNet(true, "192.0.2.0/24", "::/0")),
			},
		},
	})
}
