package agentservice_test

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/iterator"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// onlyError matches Terraform output holding exactly one error, whose summary starts with summary.
func onlyError(summary string) *regexp.Regexp {
	noError := `(?:[^E]|E[^r]|Er[^r]|Err[^o]|Erro[^r]|Error[^:])*`
	return regexp.MustCompile(`(?s)\A` + noError + `Error: ` + regexp.QuoteMeta(summary) + noError + `\z`)
}

// failReadsAfterNextWrite makes, from the moment the emulator sees the next call of write, every attempt
// of the provider's next read of method fail with UNAVAILABLE: the write succeeds, its read-back does not.
// The operation delay of the sandbox (long-running operations take that long) leaves time to queue them.
func failReadsAfterNextWrite(t *testing.T, s *sandbox, write, method string) {
	seen := s.Kit.Calls()[write]
	go func() {
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
			if s.Kit.Calls()[write] > seen {
				for i := 0; i < shared.DefaultBackoff.Attempts; i++ {
					s.Kit.FailNext(method, kit.FaultUnavailable)
				}
				return
			}
		}
	}()
}

// A write the API applied but whose read-back fails (every attempt to read the service's IAM policy
// refused) is one error, "Cannot read agent service", and never a state holding the plan's unknown values,
// which Terraform would refuse with a second error ("Provider returned invalid result object after apply").
// Update: the state keeps the prior values (the framework starts Update's state from the prior state), and
// the next plan reads the truth and is empty. Create: the service is in state as soon as the API accepted it
// (unread values null), tainted by the error, so the next apply replaces it: no orphan, one service.
func TestAccAgentService_writeWhoseReadBackFailsKeepsTheServiceInState(t *testing.T) {
	t.Parallel()
	const (
		createMethod = "/google.cloud.run.v2.Services/CreateService"
		updateMethod = "/google.cloud.run.v2.Services/UpdateService"
		iamMethod    = "/google.cloud.run.v2.Services/GetIamPolicy"
	)
	hcl := func(s *sandbox, level string) string {
		return agentHCL(s, fmt.Sprintf(`
  name  = "readback"
  image = "example.com/readback:v1"
  env   = { LOG_LEVEL = %q }`, level))
	}
	t.Run("update", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t, 300*time.Millisecond)
		s.test(t, []resource.TestStep{
			{Config: hcl(s, "info")},
			{
				PreConfig:   func() { failReadsAfterNextWrite(t, s, updateMethod, iamMethod) },
				Config:      hcl(s, "debug"),
				ExpectError: onlyError("Cannot read agent service"),
			},
			{
				Config:           hcl(s, "debug"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
				Check:            resource.TestCheckResourceAttr(addr, "env.LOG_LEVEL", "debug"),
			},
		})
	})
	t.Run("create", func(t *testing.T) {
		t.Parallel()
		s := newSandbox(t, 300*time.Millisecond)
		s.test(t, []resource.TestStep{
			{
				PreConfig:   func() { failReadsAfterNextWrite(t, s, createMethod, iamMethod) },
				Config:      hcl(s, "info"),
				ExpectError: onlyError("Cannot read agent service"),
			},
			{
				Config: hcl(s, "info"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionReplace)}},
				Check: func(*terraform.State) error {
					if n := s.Kit.Calls()[createMethod]; n != 2 {
						return fmt.Errorf("CreateService called %d times, want 2 (the create, then the replacement)", n)
					}
					var names []string
					it := s.client.ListServices(context.Background(), &runpb.ListServicesRequest{Parent: "projects/p/locations/europe-west1"})
					for {
						svc, err := it.Next()
						if err == iterator.Done {
							break
						}
						if err != nil {
							return err
						}
						names = append(names, svc.GetName())
					}
					if want := name("p", "europe-west1", "readback"); len(names) != 1 || names[0] != want {
						return fmt.Errorf("services in the API: %v, want exactly %s", names, want)
					}
					return nil
				},
			},
		})
	})
}
