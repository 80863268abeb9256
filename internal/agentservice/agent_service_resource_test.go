package agentservice_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const addr = "alfred_agent_service.bot"

// agentHCL is a service the test may destroy: deletion_protection is off unless body sets it.
func agentHCL(s *sandbox, body string) string {
	if !strings.Contains(body, "deletion_protection") {
		body += "\n  deletion_protection = false"
	}
	return s.provider() + "\nresource \"alfred_agent_service\" \"bot\" {\n" + body + "\n}\n"
}

func TestAccAgentService_createUpdateInPlaceReplaceImportAndDestroy(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	var rev1, uri1 string
	v1 := `
  name   = "alfred-bot"
  image  = "example.com/alfred-bot:v1"
  env    = { LOG_LEVEL = "info", QUEUE = "tasks" }
  secret_env = { OPENAI_API_KEY = { secret = "openai-key", version = "3" } }
  memory = "1Gi"
  labels = { team = "ai" }
  metrics = { port = 9090, config_secret = "gmp-config" }
`
	v2 := `
  name   = "alfred-bot"
  image  = "example.com/alfred-bot:v2"
  env    = { LOG_LEVEL = "debug", QUEUE = "tasks" }
  secret_env = { OPENAI_API_KEY = { secret = "openai-key", version = "4" } }
  memory = "1Gi"
  min_instances = 1
  max_instances = 5
  concurrency   = 10
  invokers = ["serviceAccount:gateway@p.iam.gserviceaccount.com"]
  labels = { team = "ai" }
  metrics = { port = 9090, config_secret = "gmp-config" }
`
	s.test(t, []resource.TestStep{
		{
			Config: agentHCL(s, v1),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(name("p", "europe-west1", "alfred-bot"))),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("project"), knownvalue.StringExact("p")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("region"), knownvalue.StringExact("europe-west1")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("uri"), knownvalue.StringRegexp(regexp.MustCompile(`^https://alfred-bot-[0-9a-f]{10}-ew\.a\.run\.app$`))),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("latest_ready_revision"), knownvalue.StringRegexp(regexp.MustCompile(`^projects/p/locations/europe-west1/services/alfred-bot/revisions/alfred-bot-00001-[a-z]{3}$`))),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("cpu"), knownvalue.StringExact("1000m")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("invokers"), knownvalue.SetExact([]knownvalue.Check{})),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("metrics").AtMapKey("path"), knownvalue.StringExact("/metrics")),
			},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", capture(&rev1)),
				resource.TestCheckResourceAttrWith(addr, "uri", capture(&uri1)),
				func(*terraform.State) error {
					svc := s.get(t, name("p", "europe-west1", "alfred-bot"))
					c := svc.GetTemplate().GetContainers()[0]
					if c.GetImage() != "example.com/alfred-bot:v1" || c.GetResources().GetLimits()["memory"] != "1Gi" {
						return fmt.Errorf("service in the API: %v", c)
					}
					if svc.GetAnnotations()["alfred.dev/metrics-port"] != "9090" {
						return fmt.Errorf("metrics annotation missing: %v", svc.GetAnnotations())
					}
					return nil
				},
			),
		},
		{
			Config: agentHCL(s, v2),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(name("p", "europe-west1", "alfred-bot"))),
			}},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", differs(&rev1)),
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", hasPrefix("projects/p/locations/europe-west1/services/alfred-bot/revisions/alfred-bot-00002-")),
				resource.TestCheckResourceAttrWith(addr, "uri", func(v string) error {
					if v != uri1 {
						return fmt.Errorf("uri changed from %q to %q", uri1, v)
					}
					return nil
				}),
				resource.TestCheckResourceAttr(addr, "min_instances", "1"),
				resource.TestCheckResourceAttr(addr, "concurrency", "10"),
				resource.TestCheckResourceAttr(addr, "secret_env.OPENAI_API_KEY.version", "4"),
				func(*terraform.State) error {
					svc := s.get(t, name("p", "europe-west1", "alfred-bot"))
					tm := svc.GetTemplate()
					if tm.GetContainers()[0].GetImage() != "example.com/alfred-bot:v2" || tm.GetScaling().GetMinInstanceCount() != 1 ||
						tm.GetScaling().GetMaxInstanceCount() != 5 || tm.GetMaxInstanceRequestConcurrency() != 10 {
						return fmt.Errorf("service in the API after update: %v", tm)
					}
					inv, err := s.invokers(svc.GetName())
					if err != nil || len(inv) != 1 || inv[0] != "serviceAccount:gateway@p.iam.gserviceaccount.com" {
						return fmt.Errorf("invokers in the IAM policy: %v %v", inv, err)
					}
					return nil
				},
			),
		},
		{
			ResourceName:            addr,
			ImportState:             true,
			ImportStateVerify:       true,
			ImportStateVerifyIgnore: []string{"timeouts", "deletion_protection"},
		},
		{
			ResourceName:            addr,
			ImportState:             true,
			ImportStateId:           "p/europe-west1/alfred-bot",
			ImportStateVerify:       true,
			ImportStateVerifyIgnore: []string{"timeouts", "deletion_protection"},
		},
		{
			// Invokers alone: the IAM policy changes, the revision does not.
			Config: agentHCL(s, strings.Replace(v2, `invokers = ["serviceAccount:gateway@p.iam.gserviceaccount.com"]`,
				`invokers = ["serviceAccount:gateway@p.iam.gserviceaccount.com", "group:ops@example.com"]`, 1)),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("latest_ready_revision"), knownvalue.StringRegexp(regexp.MustCompile(`^projects/p/locations/europe-west1/services/alfred-bot/revisions/alfred-bot-00002-`))),
			}},
			Check: func(*terraform.State) error {
				inv, err := s.invokers(name("p", "europe-west1", "alfred-bot"))
				sort.Strings(inv)
				if err != nil || strings.Join(inv, ",") != "group:ops@example.com,serviceAccount:gateway@p.iam.gserviceaccount.com" {
					return fmt.Errorf("invokers: %v %v", inv, err)
				}
				return nil
			},
		},
		{
			Config: agentHCL(s, strings.Replace(v2, `"alfred-bot"`, `"alfred-bot-2"`, 1)),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)}},
			Check: func(*terraform.State) error {
				s.waitGone(t, name("p", "europe-west1", "alfred-bot"))
				return nil
			},
		},
		{
			Config: agentHCL(s, strings.Replace(v2, `"alfred-bot"`, `"alfred-bot-2"`, 1)+`  region = "europe-west4"`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(name("p", "europe-west4", "alfred-bot-2")))},
		},
		{
			Config: agentHCL(s, strings.Replace(v2, `"alfred-bot"`, `"alfred-bot-2"`, 1)+`  region = "europe-west4"
  project = "other-project"`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("id"), knownvalue.StringExact(name("other-project", "europe-west4", "alfred-bot-2")))},
		},
	})
}

func TestAccAgentService_driftDeletedOrChangedOutsideIsRepaired(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "social-intel")
	cfg := agentHCL(s, `
  name  = "social-intel"
  image = "example.com/social-intel:v1"
  max_instances = 4
`)
	s.test(t, []resource.TestStep{
		{Config: cfg},
		{
			PreConfig: func() { s.delete(t, full) },
			Config:    cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)}},
			Check: func(*terraform.State) error { s.get(t, full); return nil },
		},
		{
			PreConfig: func() {
				s.update(t, full, func(svc *runpb.Service) {
					svc.Template.Containers[0].Image = "example.com/social-intel:hotfix"
					svc.Template.Scaling.MaxInstanceCount = 20
					svc.Template.Scaling.MinInstanceCount = 2
				})
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("image"), knownvalue.StringExact("example.com/social-intel:v1")),
			}},
			Check: func(*terraform.State) error {
				tm := s.get(t, full).GetTemplate()
				if tm.GetContainers()[0].GetImage() != "example.com/social-intel:v1" || tm.GetScaling().GetMaxInstanceCount() != 4 || tm.GetScaling().GetMinInstanceCount() != 0 {
					return fmt.Errorf("drift not repaired: %v", tm)
				}
				return nil
			},
		},
	})
}

func TestAccAgentService_failedRolloutIsReportedAndLeftTainted(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "broken")
	s.test(t, []resource.TestStep{
		{
			Config:      agentHCL(s, `  name = "broken"`+"\n"+`  image = "example.com/agent:fail"`),
			ExpectError: regexp.MustCompile(`Revision\s+'broken-00001-[a-z]{3}'\s+is\s+not\s+ready\s+and\s+cannot\s+serve\s+traffic`),
		},
		{
			// The failed service is in state, tainted: the next apply replaces it instead of failing
			// on ALREADY_EXISTS or leaving an orphan.
			Config: agentHCL(s, `  name = "broken"`+"\n"+`  image = "example.com/agent:v1"`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)}},
			Check: func(*terraform.State) error {
				if st := s.get(t, full).GetTerminalCondition().GetState(); st != runpb.Condition_CONDITION_SUCCEEDED {
					return fmt.Errorf("terminal condition %v", st)
				}
				return nil
			},
		},
	})
}

func TestAccAgentService_timeoutsAreHonoured(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 3*time.Second)
	full := name("p", "europe-west1", "slow")
	body := func(image string) string {
		return agentHCL(s, fmt.Sprintf(`  name = "slow"
  image = %q
  timeouts {
    create = "1s"
    update = "1s"
    delete = "1s"
  }`, image))
	}
	fast := func() { s.Server.SetOperationDelay(50 * time.Millisecond) }
	slow := func() { s.Server.SetOperationDelay(3 * time.Second) }
	s.test(t, []resource.TestStep{
		{Config: body("example.com/a:v1"), ExpectError: regexp.MustCompile(`Timed out while waiting to create`)},
		{
			PreConfig: func() {
				fast()
				time.Sleep(3 * time.Second) // let the first rollout finish
			},
			Config: body("example.com/a:v1"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate)}},
		},
		{PreConfig: slow, Config: body("example.com/a:v2"), ExpectError: regexp.MustCompile(`Timed out while waiting to update`)},
		{PreConfig: slow, Config: body("example.com/a:v1"), Destroy: true, ExpectError: regexp.MustCompile(`Timed out while waiting to delete`)},
		{
			PreConfig: func() { s.waitGone(t, full); fast() },
			Config:    body("example.com/a:v1"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate)}},
		},
	})
}

func TestAccAgentService_noPerpetualDiffFromServerDefaultsMetadataOrOrder(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "quiet")
	cfg := agentHCL(s, `
  name    = "quiet"
  image   = "example.com/quiet:v1"
  memory  = "2Gi"
  timeout = "5m"
  env     = { ZETA = "1", ALPHA = "2", MID = "3" }
  labels  = { team = "ai" }
`)
	s.test(t, []resource.TestStep{
		{
			Config: cfg,
			Check: func(*terraform.State) error {
				svc := s.get(t, full)
				if svc.GetTemplate().GetContainers()[0].GetResources().GetLimits()["cpu"] != "1000m" ||
					svc.GetLabels()["cloud.googleapis.com/location"] == "" || svc.GetAnnotations()["run.googleapis.com/operation-id"] == "" ||
					svc.GetTemplate().GetTimeout().AsDuration() != 5*time.Minute {
					return fmt.Errorf("the emulator did not fill what this test relies on: %v", svc)
				}
				return nil
			},
		},
		{
			// Reorder env, add a label of another tool and a new server-side operation id, through the API.
			PreConfig: func() {
				s.update(t, full, func(svc *runpb.Service) {
					env := svc.Template.Containers[0].Env
					sort.Slice(env, func(i, j int) bool { return env[i].Name > env[j].Name })
					svc.Labels["cost-center"] = "42"
				})
			},
			Config:   cfg,
			PlanOnly: true,
		},
		{
			Config:           cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("labels"), knownvalue.MapExact(map[string]knownvalue.Check{"team": knownvalue.StringExact("ai")})),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("timeout"), knownvalue.StringExact("5m")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("cpu"), knownvalue.StringExact("1000m")),
			},
		},
	})
}

func TestAccAgentService_invokersEmptyIsPrivateAllUsersOnlyWhenWritten(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "gate")
	base := `  name = "gate"
  image = "example.com/gate:v1"
`
	wantInvokers := func(want ...string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			got, err := s.invokers(full)
			sort.Strings(got)
			if err != nil || strings.Join(got, ",") != strings.Join(want, ",") {
				return fmt.Errorf("roles/run.invoker members: got %v (err %v), want %v", got, err, want)
			}
			return nil
		}
	}
	s.test(t, []resource.TestStep{
		{
			Config: agentHCL(s, base),
			Check:  wantInvokers(),
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("invokers"), knownvalue.SetExact([]knownvalue.Check{}))},
		},
		{Config: agentHCL(s, base+`  invokers = ["allUsers"]`), Check: wantInvokers("allUsers")},
		{Config: agentHCL(s, base), Check: wantInvokers()},
	})
}

// TestAccAgentService_secretEnvHoldsReferencesOnly checks that secret_env is references only: the
// provider sends and stores the secret's name and version, Cloud Run receives a secret_key_ref and no
// value, and a full TF_LOG=TRACE log of plan, apply, refresh and import contains the reference. The
// provider never learns a secret_env value, so the log is also checked for a secret it does handle: the
// sentinel is given as the provider's sensitive gcp.credentials through GOOGLE_CREDENTIALS (resolved in
// Configure, unused on the sandbox's plaintext connection), and must appear neither in state nor in the log.
func TestAccAgentService_secretEnvHoldsReferencesOnly(t *testing.T) {
	const sentinel = "sk-SENTINEL-never-in-state-or-logs-7f3a"
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logPath)
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "keeper")
	// Through the environment, not the HCL: the test harness itself logs the configuration's text.
	t.Setenv("GOOGLE_CREDENTIALS", sentinel)
	cfg := agentHCL(s, `
  name  = "keeper"
  image = "example.com/keeper:v1"
  secret_env = { OPENAI_API_KEY = { secret = "projects/p/secrets/openai-key", version = "7" } }
`)
	s.test(t, []resource.TestStep{
		{
			Config: cfg,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("secret_env"), knownvalue.MapExact(map[string]knownvalue.Check{
					"OPENAI_API_KEY": knownvalue.ObjectExact(map[string]knownvalue.Check{
						"secret": knownvalue.StringExact("projects/p/secrets/openai-key"), "version": knownvalue.StringExact("7")})})),
			},
			Check: func(st *terraform.State) error {
				for k, v := range st.RootModule().Resources[addr].Primary.Attributes {
					if strings.Contains(v, sentinel) {
						return fmt.Errorf("state attribute %s holds the secret value", k)
					}
				}
				for _, e := range s.get(t, full).GetTemplate().GetContainers()[0].GetEnv() {
					if e.GetName() == "OPENAI_API_KEY" && (e.GetValue() != "" || e.GetValueSource().GetSecretKeyRef().GetVersion() != "7") {
						return fmt.Errorf("Cloud Run received %v, want a secret reference only", e)
					}
				}
				return nil
			},
		},
		{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts", "deletion_protection"}},
	})
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no TRACE log was written: %v", err)
	}
	log := string(b)
	// The log must really hold the provider's traffic for this resource, or the next assertion proves nothing.
	if !strings.Contains(log, "alfred_agent_service") || !strings.Contains(log, "projects/p/secrets/openai-key") {
		t.Fatalf("the TRACE log (%d bytes) does not contain the resource's plan/apply traffic", len(b))
	}
	if i := strings.Index(log, sentinel); i >= 0 {
		t.Logf("context: %s", log[max(0, i-600):min(len(log), i+200)])
		t.Fatal("the TRACE log contains the sensitive credentials")
	}
	t.Logf("TRACE log checked: %d bytes, contains the secret reference, not the value", len(b))
}

func TestAccAgentService_badInputsRejectedAtPlanTime(t *testing.T) {
	s := newSandbox(t, 0)
	ok := "  name = \"ok\"\n  image = \"example.com/a:v1\"\n"
	cases := []struct {
		name, body, want string
	}{
		{"cpu string", ok + `  cpu = "3x"`, `not a CPU quantity`},
		{"unsupported cpu", ok + `  cpu = "3"`, `supports 1, 2, 4, 6 or 8 CPUs`},
		{"fractional cpu with concurrency", ok + `  cpu = "500m"`, `concurrency = 1`},
		{"memory string", ok + `  memory = "512Q"`, `not a memory quantity`},
		{"memory too small", ok + `  memory = "64Mi"`, `between 128Mi and 32Gi`},
		{"fractional cpu step", ok + "  cpu = \"0.0805\"\n  concurrency = 1", `steps of 0.001`},
		{"4 cpu with 1Gi", ok + "  cpu = \"4\"\n  memory = \"1Gi\"", `4 CPUs need at least 2Gi of memory`},
		{"16Gi with 2 cpu", ok + "  cpu = \"2\"\n  memory = \"16Gi\"", `Memory above 8Gi needs at least 4 CPU`},
		{"6Gi with the default cpu", ok + `  memory = "6Gi"`, `Memory above 4Gi needs at least 2 CPU`},
		{"min above max", ok + "  min_instances = 5\n  max_instances = 2", `must not exceed max_instances`},
		{"concurrency 0", ok + `  concurrency = 0`, `between 1 and 1000`},
		{"concurrency 1001", ok + `  concurrency = 1001`, `between 1 and 1000`},
		{"reserved label", ok + `  labels = { "run.googleapis.com/owner" = "me" }`, `reserves for itself`},
		{"bad label key", ok + `  labels = { "Team" = "ai" }`, `must start with a lowercase letter`},
		{"service name uppercase", "  name = \"Alfred\"\n  image = \"x:1\"", `must use lowercase letters, digits and hyphens`},
		{"service name too long", "  name = \"" + strings.Repeat("a", 50) + "\"\n  image = \"x:1\"", `at most 49 characters`},
		{"port 0", ok + `  port = 0`, `between 1 and 65535`},
		{"port 70000", ok + `  port = 70000`, `between 1 and 65535`},
		{"ingress", ok + `  ingress = "public"`, `value must be one of`},
		{"invoker member", ok + `  invokers = ["bob@example.com"]`, `must be allUsers, allAuthenticatedUsers`},
		{"timeout format", ok + `  timeout = "five minutes"`, `not a duration`},
		{"timeout range", ok + `  timeout = "2h"`, `from 1s to 3600s`},
		{"secret version", ok + `  secret_env = { K = { secret = "k", version = "v1" } }`, `"latest" or a positive number`},
		{"secret name", ok + `  secret_env = { K = { secret = "a/b" } }`, `must be a secret name`},
		{"PORT env", ok + `  env = { PORT = "9000" }`, `instead of the PORT variable`},
		{"env and secret_env overlap", ok + "  env = { K = \"x\" }\n  secret_env = { K = { secret = \"k\" } }", `both env and secret_env`},
		{"metrics path", ok + `  metrics = { path = "metrics" }`, `must start with / and have no spaces`},
		{"service account", ok + `  service_account = "agent"`, `must be a service account's email address`},
		{"liveness tcp", ok + `  liveness_probe = { tcp_socket = {} }`, `liveness probes are HTTP`},
		{"startup delay", ok + `  startup_probe = { tcp_socket = {}, initial_delay_seconds = 241 }`, `value must be between 0 and 240`},
		{"liveness period", ok + `  liveness_probe = { grpc = {}, period_seconds = 3601 }`, `value must be between 1 and 3600`},
		{"liveness delay", ok + `  liveness_probe = { http_get = {}, initial_delay_seconds = 3601 }`, `value must be between 0 and 3600`},
		{"startup window", ok + `  startup_probe = { tcp_socket = {}, period_seconds = 100, failure_threshold = 3 }`, `allows a startup probe at most 240 s`},
		{"probe timeout above period", ok + `  liveness_probe = { http_get = {}, timeout_seconds = 20, period_seconds = 10 }`, `must not exceed period_seconds`},
		{"probe with two kinds", ok + `  startup_probe = { tcp_socket = {}, grpc = {} }`, `Invalid Attribute Combination`},
		{"probe with no kind", ok + `  startup_probe = { period_seconds = 10 }`, `Invalid Attribute Combination`},
		{"probe port", ok + `  startup_probe = { tcp_socket = { port = 0 } }`, `between 1 and 65535`},
		{"probe header name", ok + `  liveness_probe = { http_get = { http_headers = { "bad header" = "x" } } }`, `HTTP header name`},
		{"connector and network", ok + `  vpc_access = { network = "default", connector = "projects/p/locations/europe-west1/connectors/c" }`, `Invalid Attribute Combination`},
		{"vpc access empty", ok + `  vpc_access = { egress = "all-traffic" }`, `Invalid Attribute Combination`},
		{"vpc egress", ok + `  vpc_access = { network = "default", egress = "everything" }`, `value must be one of`},
		{"connector format", ok + `  vpc_access = { connector = "agents" }`, `must be projects/{project}/locations/{region}/connectors/{name}`},
		{"execution environment", ok + `  execution_environment = "gen3"`, `value must be one of`},
		{"gen2 memory", ok + "  execution_environment = \"gen2\"\n  memory = \"256Mi\"", `minimum of 512Mi`},
		{"reserved mount path", ok + `  secret_volumes = { "/proc/keys" = { secret = "k", path = "key" } }`, `Reserved mount path`},
		{"relative mount path", ok + `  secret_volumes = { "secrets" = { secret = "k", path = "key" } }`, `absolute directory path`},
		{"secret volume file", ok + `  secret_volumes = { "/secrets" = { secret = "k", path = "../key" } }`, `relative file path`},
		{"tracing env clash", ok + "  env = { LANGSMITH_PROJECT = \"x\" }\n  tracing = { langsmith_project = \"p\", api_key_secret = \"k\" }", `rendered from the tracing block`},
		{"tracing secret_env clash", ok + "  secret_env = { LANGSMITH_API_KEY = { secret = \"k\" } }\n  tracing = { langsmith_project = \"p\", api_key_secret = \"k\" }", `rendered from the tracing block`},
		{"tracing overridden by LANGCHAIN_TRACING_V2", ok + "  env = { LANGCHAIN_TRACING_V2 = \"false\" }\n  tracing = { langsmith_project = \"p\", api_key_secret = \"k\" }", `would override what it renders`},
		{"tracing endpoint", ok + `  tracing = { langsmith_project = "p", api_key_secret = "k", langsmith_endpoint = "eu.smith" }`, `must be an http(s) URL`},
		{"tracing key secret", ok + `  tracing = { langsmith_project = "p", api_key_secret = "a/b" }`, `must be a secret name`},
		{"metrics off the sidecar default", ok + `  metrics = { port = 9090 }`, `metrics.config_secret`},
		{"metrics on a service port not 8080", ok + "  port = 9000\n  metrics = {}", `metrics.config_secret`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{
			Config:      agentHCL(s, c.body),
			PlanOnly:    true,
			ExpectError: words(c.want),
		})
	}
	// The gcp block (and its environment variables) missing entirely.
	for _, e := range shared.BlockEnv[shared.BlockGCP] {
		t.Setenv(e, "")
	}
	steps = append(steps, resource.TestStep{
		Config:      "resource \"alfred_agent_service\" \"bot\" {\n" + ok + "}\n",
		PlanOnly:    true,
		ExpectError: regexp.MustCompile(`Provider block "gcp" is not configured`),
	})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
	if calls := s.Kit.Calls(); len(calls) != 0 {
		t.Fatalf("bad input reached the API: %v", calls)
	}
	t.Logf("%d bad inputs rejected at plan time, no API call", len(steps))
}

var _ = context.Background

// words matches the phrase however Terraform wraps it.
func words(phrase string) *regexp.Regexp {
	f := strings.Fields(phrase)
	for i := range f {
		f[i] = regexp.QuoteMeta(f[i])
	}
	return regexp.MustCompile(strings.Join(f, `\s+`))
}

// TestAccAgentService_survivesUnavailableFaults runs create, update and destroy of three services while
// the emulator answers 30% of all calls (including operation polls and IAM) with UNAVAILABLE.
func TestAccAgentService_survivesUnavailableFaults(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	// UNAVAILABLE only (SetFaults mixes every kind; faults_test.go runs each kind and the mix).
	if err := s.Kit.SetFaultSettings(kit.FaultSettings{Rate: 0.3, Seed: 42, Kinds: []kit.FaultKind{kit.FaultUnavailable}}); err != nil {
		t.Fatal(err)
	}
	hcl := func(image string) string {
		return s.provider() + fmt.Sprintf(`
resource "alfred_agent_service" "flaky" {
  count    = 3
  deletion_protection = false
  name     = "flaky-${count.index}"
  image    = %q
  invokers = ["group:ops@example.com"]
}
`, image)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(st *terraform.State) error {
			s.Kit.SetFaults(0, 0, 1)
			return s.checkDestroyed(st)
		},
		Steps: []resource.TestStep{
			{Config: hcl("example.com/flaky:v1")},
			{
				Config: hcl("example.com/flaky:v2"),
				Check: func(*terraform.State) error {
					faults := 0
					for i := 0; i < 3; i++ {
						full := name("p", "europe-west1", fmt.Sprintf("flaky-%d", i))
						svc, err := s.client.GetService(context.Background(), &runpb.GetServiceRequest{Name: full})
						if err != nil {
							faults++ // the test's own client does not retry
							continue
						}
						if img := svc.GetTemplate().GetContainers()[0].GetImage(); img != "example.com/flaky:v2" {
							return fmt.Errorf("%s has image %s", full, img)
						}
					}
					if faults == 3 {
						return fmt.Errorf("could not check any service")
					}
					return nil
				},
			},
		},
	})
}

// createOutside makes a service through the official client, spelled as another tool (or the console)
// would write it: cpu "1000m", memory "1024Mi", a timeout of 300s.
func createOutside(t *testing.T, s *sandbox, id string) string {
	t.Helper()
	op, err := s.client.CreateService(context.Background(), &runpb.CreateServiceRequest{
		Parent: "projects/p/locations/europe-west1", ServiceId: id,
		Service: &runpb.Service{Template: &runpb.RevisionTemplate{
			Timeout: durationpb.New(300 * time.Second),
			Containers: []*runpb.Container{{Image: "example.com/" + id + ":v1",
				// CpuIdle as the console and gcloud send it: with resources set, the API takes an unset
				// cpu_idle as false (CPU always allocated).
				Resources: &runpb.ResourceRequirements{Limits: map[string]string{"cpu": "1000m", "memory": "1024Mi"}, CpuIdle: true}}},
		}},
	})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	if _, err := op.Wait(context.Background()); err != nil {
		t.Fatalf("CreateService wait: %v", err)
	}
	return name("p", "europe-west1", id)
}

// importedHCL is the configuration of a service imported with its default deletion_protection (true)
// unless extra sets it.
func importedHCL(s *sandbox, id, cpu, timeout, extra string) string {
	if !strings.Contains(extra, "deletion_protection") {
		extra += "\n  deletion_protection = true"
	}
	return agentHCL(s, fmt.Sprintf(`
  name    = %q
  image   = "example.com/%s:v1"
  cpu     = %q
  memory  = "1Gi"
  timeout = %q
%s`, id, id, cpu, timeout, extra))
}

// TestAccAgentService_importedOtherSpellingPlansNoChange: a service imported as cpu "1000m", memory
// "1024Mi", timeout "300s" under a configuration saying "1", "1Gi" and "5m" plans no change (before, the
// first plan after import showed an update that made no API call). A real change, and drift made through
// the API, still show.
func TestAccAgentService_importedOtherSpellingPlansNoChange(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := createOutside(t, s, "imported")
	limits := func() map[string]string {
		return s.get(t, full).GetTemplate().GetContainers()[0].GetResources().GetLimits()
	}
	writes := func() int64 {
		c := s.Kit.Calls()
		return c["/google.cloud.run.v2.Services/UpdateService"] + c["/google.cloud.run.v2.Services/SetIamPolicy"]
	}
	cfg := importedHCL(s, "imported", "1", "5m", "")
	s.test(t, []resource.TestStep{
		{
			// terraform import: the state holds the API's spelling.
			Config: cfg, ResourceName: addr, ImportState: true, ImportStatePersist: true, ImportStateId: full,
			ImportStateCheck: func(is []*terraform.InstanceState) error {
				if len(is) != 1 {
					return fmt.Errorf("%d instances imported", len(is))
				}
				a := is[0].Attributes
				if a["cpu"] != "1000m" || a["memory"] != "1024Mi" || a["timeout"] != "300s" {
					return fmt.Errorf("imported cpu %q memory %q timeout %q, want the API's 1000m, 1024Mi, 300s", a["cpu"], a["memory"], a["timeout"])
				}
				return nil
			},
		},
		{
			PreConfig: s.Kit.ResetCalls,
			Config:    cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("cpu"), knownvalue.StringExact("1000m")),
			}},
			Check: func(*terraform.State) error {
				if n := writes(); n != 0 {
					return fmt.Errorf("the apply after import wrote to the API %d times: %v", n, s.Kit.Calls())
				}
				return nil
			},
		},
		{
			// A real change plans exactly that change; the equivalent values keep their spelling.
			Config: importedHCL(s, "imported", "1", "5m", `  labels  = { team = "ai" }`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("cpu"), knownvalue.StringExact("1000m")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("memory"), knownvalue.StringExact("1024Mi")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("timeout"), knownvalue.StringExact("300s")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("latest_ready_revision"), knownvalue.StringRegexp(regexp.MustCompile(`^projects/p/locations/europe-west1/services/imported/revisions/imported-00001-`))),
			}},
		},
		{
			Config: importedHCL(s, "imported", "2", "6m", `  labels  = { team = "ai" }`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("cpu"), knownvalue.StringExact("2")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("timeout"), knownvalue.StringExact("6m")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("memory"), knownvalue.StringExact("1024Mi")),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision")),
			}},
			Check: func(*terraform.State) error {
				tm := s.get(t, full).GetTemplate()
				if l := limits(); l["cpu"] != "2" || l["memory"] != "1024Mi" || tm.GetTimeout().AsDuration() != 6*time.Minute {
					return fmt.Errorf("after the update the API has limits %v, timeout %v", l, tm.GetTimeout().AsDuration())
				}
				return nil
			},
		},
		{
			// Another tool re-spells memory: refresh keeps the state's spelling, nothing to plan.
			PreConfig: func() {
				s.update(t, full, func(svc *runpb.Service) {
					svc.Template.Containers[0].Resources.Limits["memory"] = "1Gi"
					svc.Template.Timeout = durationpb.New(6 * time.Minute)
				})
			},
			Config:           importedHCL(s, "imported", "2", "6m", `  labels  = { team = "ai" }`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("memory"), knownvalue.StringExact("1024Mi")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("timeout"), knownvalue.StringExact("6m")),
			},
		},
		{
			// Drift to another amount is shown and repaired.
			PreConfig: func() {
				s.update(t, full, func(svc *runpb.Service) { svc.Template.Containers[0].Resources.Limits["memory"] = "2Gi" })
			},
			Config: importedHCL(s, "imported", "2", "6m", `  labels  = { team = "ai" }`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("memory"), knownvalue.StringExact("1Gi")),
			}},
			Check: func(*terraform.State) error {
				if l := limits(); l["memory"] != "1Gi" {
					return fmt.Errorf("memory drift not repaired: %v", l)
				}
				return nil
			},
		},
		{
			// deletion_protection is Terraform's own: turning it off is an in-place change without a write.
			PreConfig: s.Kit.ResetCalls,
			Config:    importedHCL(s, "imported", "2", "6m", "  labels  = { team = \"ai\" }\n  deletion_protection = false"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("latest_ready_revision"), knownvalue.StringRegexp(regexp.MustCompile(`^projects/p/locations/europe-west1/services/imported/revisions/imported-[0-9]{5}-[a-z]{3}$`))),
			}},
			Check: func(*terraform.State) error {
				if n := writes(); n != 0 {
					return fmt.Errorf("changing deletion_protection wrote to the API %d times: %v", n, s.Kit.Calls())
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_importBlockWithOtherSpellingIsNoOp: the same through an `import` block (Terraform
// 1.5+): the plan that imports the service has no change for it.
func TestAccAgentService_importBlockWithOtherSpellingIsNoOp(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := createOutside(t, s, "adopted")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: importedHCL(s, "adopted", "1", "5m", ""), ResourceName: addr, ImportState: true,
			ImportStateKind: resource.ImportBlockWithID, ImportStateId: full,
			// The testing framework itself fails an import block plan whose action is not a no-op.
			ImportPlanChecks: resource.ImportPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectEmptyPlan(),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("cpu"), knownvalue.StringExact("1000m")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("memory"), knownvalue.StringExact("1024Mi")),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("timeout"), knownvalue.StringExact("300s")),
			}},
		}},
	})
}
