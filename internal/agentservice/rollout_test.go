package agentservice_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// expectBefore checks a value the plan shows as the resource's current (refreshed) one; want is read
// when the check runs (values captured by earlier steps).
type expectBefore struct {
	addr string
	path []string
	want func() string
}

func is(v string) func() string { return func() string { return v } }

func (e expectBefore) CheckPlan(_ context.Context, req plancheck.CheckPlanRequest, resp *plancheck.CheckPlanResponse) {
	for _, rc := range req.Plan.ResourceChanges {
		if rc.Address != e.addr {
			continue
		}
		v := rc.Change.Before
		for _, p := range e.path {
			m, ok := v.(map[string]any)
			if !ok {
				resp.Error = fmt.Errorf("%s: no %s in the plan's prior value %v", e.addr, strings.Join(e.path, "."), rc.Change.Before)
				return
			}
			v = m[p]
		}
		if fmt.Sprint(v) != e.want() {
			resp.Error = fmt.Errorf("%s: the plan's current %s is %v, want %s", e.addr, strings.Join(e.path, "."), v, e.want())
		}
		return
	}
	resp.Error = fmt.Errorf("%s is not in the plan", e.addr)
}

const failMessage = `Revision\s+'[a-z-]+-\d{5}-[a-z]{3}'\s+is\s+not\s+ready\s+and\s+cannot\s+serve\s+traffic`

// TestAccAgentService_failedRolloutKeepsPlanNonEmptyUntilConfiguredTemplateServes: after an update whose
// rollout fails, Cloud Run holds the new template but serves the old revision. The next plan with the
// same configuration shows the serving revision's image and an update (before, it was empty); applying
// it again retries the rollout as a new revision; applying the good image converges with an empty plan.
func TestAccAgentService_failedRolloutKeepsPlanNonEmptyUntilConfiguredTemplateServes(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "roll")
	body := func(image string) string {
		return agentHCL(s, fmt.Sprintf("  name  = \"roll\"\n  image = %q\n", image))
	}
	var ready1, failed1 string
	s.test(t, []resource.TestStep{
		{
			Config: body("example.com/roll:v1"),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("terminal_condition"), knownvalue.ObjectExact(map[string]knownvalue.Check{
					"state": knownvalue.StringExact("CONDITION_SUCCEEDED"), "message": knownvalue.StringExact("")})),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("latest_created_revision"),
					knownvalue.StringRegexp(regexp.MustCompile(`^projects/p/locations/europe-west1/services/roll/revisions/roll-00001-[a-z]{3}$`))),
			},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", capture(&ready1)),
				resource.TestCheckResourceAttrPair(addr, "latest_ready_revision", addr, "latest_created_revision"),
			),
		},
		{
			Config: body("example.com/roll:fail"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_created_revision")),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("terminal_condition")),
			}},
			ExpectError: regexp.MustCompile(failMessage),
		},
		{
			// The same configuration again: the plan is not empty, and shows what serves.
			PreConfig: func() {
				svc := s.get(t, full)
				failed1 = svc.GetLatestCreatedRevision()
				if svc.GetLatestReadyRevision() != ready1 || failed1 == ready1 || svc.GetTemplate().GetContainers()[0].GetImage() != "example.com/roll:fail" {
					t.Fatalf("the emulator does not show what this test relies on: %v", svc)
				}
			},
			Config:             body("example.com/roll:fail"),
			PlanOnly:           true,
			ExpectNonEmptyPlan: true,
		},
		{
			// Applying it retries the rollout as a new revision (force_new_revision: the template is
			// the one the service holds), which fails again.
			Config: body("example.com/roll:fail"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				expectBefore{addr, []string{"image"}, is("example.com/roll:v1")},
				expectBefore{addr, []string{"latest_ready_revision"}, func() string { return ready1 }},
				expectBefore{addr, []string{"terminal_condition", "state"}, is("CONDITION_FAILED")},
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("image"), knownvalue.StringExact("example.com/roll:fail")),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_created_revision")),
			}},
			ExpectError: regexp.MustCompile(failMessage),
		},
		{
			// The good image: an update (the service holds the failed template), then an empty plan.
			PreConfig: func() {
				svc := s.get(t, full)
				if svc.GetLatestCreatedRevision() == failed1 || svc.GetLatestReadyRevision() != ready1 {
					t.Fatalf("retrying the failed rollout made no new revision: created %s (first failure %s)", svc.GetLatestCreatedRevision(), failed1)
				}
			},
			Config: body("example.com/roll:v1"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				expectBefore{addr, []string{"terminal_condition", "state"}, is("CONDITION_FAILED")},
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision")),
			}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("terminal_condition").AtMapKey("state"), knownvalue.StringExact("CONDITION_SUCCEEDED")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("image"), knownvalue.StringExact("example.com/roll:v1")),
			},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttrPair(addr, "latest_ready_revision", addr, "latest_created_revision"),
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", differs(&ready1)),
				func(*terraform.State) error {
					svc := s.get(t, full)
					if svc.GetTemplate().GetContainers()[0].GetImage() != "example.com/roll:v1" ||
						svc.GetTerminalCondition().GetState() != runpb.Condition_CONDITION_SUCCEEDED {
						return fmt.Errorf("the service does not serve the configured template: %v", svc)
					}
					return nil
				},
			),
		},
		{Config: body("example.com/roll:v1"), PlanOnly: true},
	})
}

// protectedHCL is a service whose deletion_protection is left to the default (true).
func protectedHCL(s *sandbox, body string) string {
	return s.provider() + "\nresource \"alfred_agent_service\" \"bot\" {\n" + body + "\n}\n"
}

// TestAccAgentService_deletionProtectionBlocksDestroyAndReplace: with the default deletion_protection,
// a destroy and a replacing change fail at apply with a message that says how to turn it off; turning it
// off is an in-place change without a write, after which destroy works.
func TestAccAgentService_deletionProtectionBlocksDestroyAndReplace(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "guarded")
	base := "  name  = \"guarded\"\n  image = \"example.com/guarded:v1\"\n"
	writes := func() int64 {
		c := s.Kit.Calls()
		return c["/google.cloud.run.v2.Services/UpdateService"] + c["/google.cloud.run.v2.Services/SetIamPolicy"] +
			c["/google.cloud.run.v2.Services/DeleteService"] + c["/google.cloud.run.v2.Services/CreateService"]
	}
	stillThere := func() {
		if svc := s.get(t, full); svc.GetDeleteTime() != nil {
			t.Fatalf("the protected service is being deleted: %v", svc)
		}
	}
	howTo := regexp.MustCompile(`deletion_protection\s+=\s+true[\s\S]*set\s+deletion_protection\s+=\s+false[\s\S]*apply\s+first`)
	s.test(t, []resource.TestStep{
		{
			Config: protectedHCL(s, base),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("deletion_protection"), knownvalue.Bool(true))},
		},
		{Config: protectedHCL(s, base), Destroy: true, ExpectError: howTo},
		{
			PreConfig:   stillThere,
			Config:      protectedHCL(s, strings.Replace(base, `"guarded"`, `"guarded-2"`, 1)),
			ExpectError: howTo,
		},
		{
			PreConfig: func() { stillThere(); s.Kit.ResetCalls() },
			Config:    protectedHCL(s, base+"  deletion_protection = false\n"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("latest_ready_revision"),
					knownvalue.StringRegexp(regexp.MustCompile(`^projects/p/locations/europe-west1/services/guarded/revisions/guarded-00001-`))),
			}},
			Check: func(*terraform.State) error {
				if n := writes(); n != 0 {
					return fmt.Errorf("turning deletion_protection off wrote to the API %d times: %v", n, s.Kit.Calls())
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_failedCreateIsReplacedDespiteDeletionProtection: a service whose creation failed
// never served; it stays tainted and the next apply replaces it although deletion_protection is on.
func TestAccAgentService_failedCreateIsReplacedDespiteDeletionProtection(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "broken")
	s.test(t, []resource.TestStep{
		{
			Config:      protectedHCL(s, "  name = \"broken\"\n  image = \"example.com/agent:fail\""),
			ExpectError: regexp.MustCompile(failMessage),
		},
		{
			Config: protectedHCL(s, "  name = \"broken\"\n  image = \"example.com/agent:v1\""),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)}},
			Check: func(*terraform.State) error {
				if st := s.get(t, full).GetTerminalCondition().GetState(); st != runpb.Condition_CONDITION_SUCCEEDED {
					return fmt.Errorf("terminal condition %v", st)
				}
				return nil
			},
		},
		{Config: protectedHCL(s, "  name = \"broken\"\n  image = \"example.com/agent:v1\"\n  deletion_protection = false")},
	})
}

// TestAccAgentService_invokerEmailsCompareAsIAMDoes: IAM returns emails lower-cased. A service imported
// with lower-cased members plans no change under a configuration that spells them with capitals; applying
// a configuration with capitals raises no "inconsistent result", keeps its spelling and plans no change;
// two spellings of one member are refused at plan time.
func TestAccAgentService_invokerEmailsCompareAsIAMDoes(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := createOutside(t, s, "mixed")
	p, err := s.client.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: full})
	if err != nil {
		t.Fatal(err)
	}
	p.Bindings = []*iampb.Binding{{Role: "roles/run.invoker", Members: []string{"user:Alice@Example.com"}}}
	if _, err := s.client.SetIamPolicy(context.Background(), &iampb.SetIamPolicyRequest{Resource: full, Policy: p}); err != nil {
		t.Fatal(err)
	}
	imported := importedHCL(s, "mixed", "1", "5m", `  invokers = ["user:Alice@Example.com"]`)
	wider := importedHCL(s, "mixed", "1", "5m", `  invokers = ["user:Alice@Example.com", "serviceAccount:Gateway@p.iam.gserviceaccount.com"]
  deletion_protection = false`)
	s.test(t, []resource.TestStep{
		{
			Config: agentHCL(s, `  name  = "mixed"
  image = "example.com/mixed:v1"
  invokers = ["user:Alice@Example.com", "user:alice@example.com"]
`),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Duplicate invoker.*same principal`),
		},
		{
			Config: imported, ResourceName: addr, ImportState: true, ImportStatePersist: true, ImportStateId: full,
			ImportStateCheck: func(is []*terraform.InstanceState) error {
				if len(is) != 1 || is[0].Attributes["invokers.0"] != "user:alice@example.com" {
					return fmt.Errorf("imported %v, want the API's lower-cased member", is[0].Attributes)
				}
				return nil
			},
		},
		{
			Config: imported,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionNoop)}},
		},
		{
			Config: wider,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("invokers"), knownvalue.SetExact([]knownvalue.Check{
					knownvalue.StringExact("user:Alice@Example.com"), knownvalue.StringExact("serviceAccount:Gateway@p.iam.gserviceaccount.com")})),
			},
			Check: func(*terraform.State) error {
				got, err := s.invokers(full)
				if err != nil || strings.Join(got, ",") != "serviceAccount:gateway@p.iam.gserviceaccount.com,user:alice@example.com" {
					return fmt.Errorf("the API holds %v (%v), want the lower-cased members", got, err)
				}
				return nil
			},
		},
		{Config: wider, PlanOnly: true},
	})
}

// TestAccAgentService_invokersReadUntilVisible: when the IAM policy read right after SetIamPolicy does not
// show the change yet (a sandbox fault: IAM changes propagate), apply reads until it does, instead of
// recording the stale members (which Terraform reports as an inconsistent result).
func TestAccAgentService_invokersReadUntilVisible(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	s.Server.SetIAMReadLag(3)
	full := name("p", "europe-west1", "lagged")
	cfg := func(members string) string {
		return agentHCL(s, fmt.Sprintf("  name  = \"lagged\"\n  image = \"example.com/lagged:v1\"\n  invokers = [%s]\n", members))
	}
	s.test(t, []resource.TestStep{
		{Config: cfg(`"group:ops@example.com"`)},
		{
			Config: cfg(`"group:ops@example.com", "serviceAccount:gw@p.iam.gserviceaccount.com"`),
			Check: func(*terraform.State) error {
				s.Server.SetIAMReadLag(0)
				got, err := s.invokers(full)
				if err != nil || len(got) != 2 {
					return fmt.Errorf("invokers in the API: %v %v", got, err)
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_providerDefaultProjectOrRegionChangeShowsInNextPlan: a service that takes project
// and region from the provider moves (is replaced) as soon as the provider's defaults change, whether in
// the provider block or in ALFRED_GCP_REGION; before, the plan stayed empty until something else changed.
func TestAccAgentService_providerDefaultProjectOrRegionChangeShowsInNextPlan(t *testing.T) {
	s := newSandbox(t, 50*time.Millisecond)
	hcl := func(project, region string) string {
		r := ""
		if region != "" {
			r = fmt.Sprintf("region = %q", region)
		}
		return fmt.Sprintf(`
provider "alfred" {
  gcp {
    project      = %q
    %s
    run_endpoint = %q
    insecure     = true
  }
}
resource "alfred_agent_service" "bot" {
  name                = "mover"
  image               = "example.com/mover:v1"
  deletion_protection = false
}
`, project, r, s.Addr)
	}
	moved := func(project, region string) resource.ConfigPlanChecks {
		return resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("project"), knownvalue.StringExact(project)),
			plancheck.ExpectKnownValue(addr, tfjsonpath.New("region"), knownvalue.StringExact(region)),
		}}
	}
	there := func(project, region string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			s.get(t, name(project, region, "mover"))
			return nil
		}
	}
	s.test(t, []resource.TestStep{
		{Config: hcl("p", "europe-west1"), Check: there("p", "europe-west1")},
		{Config: hcl("p", "europe-west4"), ConfigPlanChecks: moved("p", "europe-west4"), Check: there("p", "europe-west4")},
		{Config: hcl("other-project", "europe-west4"), ConfigPlanChecks: moved("other-project", "europe-west4"),
			Check: there("other-project", "europe-west4")},
		{
			PreConfig:        func() { t.Setenv("ALFRED_GCP_REGION", "europe-west1") },
			Config:           hcl("other-project", ""),
			ConfigPlanChecks: moved("other-project", "europe-west1"),
			Check:            there("other-project", "europe-west1"),
		},
	})
}
