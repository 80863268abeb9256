package agentservice_test

import (
	"fmt"
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

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

const sidecarImage = "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0"

// envOf returns the ingress container's environment: plain values, and secret references as "secret:version".
func envOf(c *runpb.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.GetEnv() {
		if r := e.GetValueSource().GetSecretKeyRef(); r != nil {
			out[e.GetName()] = r.GetSecret() + ":" + r.GetVersion()
			continue
		}
		out[e.GetName()] = e.GetValue()
	}
	return out
}

func containerNamed(t *runpb.RevisionTemplate, name string) *runpb.Container {
	for _, c := range t.GetContainers() {
		if c.GetName() == name {
			return c
		}
	}
	return nil
}

// TestAccAgentService_newAttributesCreateUpdateImportAndRemove: every attribute agents need, created,
// each changed in place, imported, and removed again (back to Cloud Run's defaults); each step ends with an
// empty plan, which the testing framework checks.
func TestAccAgentService_newAttributesCreateUpdateImportAndRemove(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "rich")
	v1 := `
  name   = "rich"
  image  = "example.com/rich:v1"
  memory = "1Gi"
  env    = { QUEUE = "tasks" }
  cpu_idle              = false
  startup_cpu_boost     = true
  execution_environment = "gen2"
  startup_probe  = { http_get = { path = "/ready" }, period_seconds = 5, failure_threshold = 12 }
  liveness_probe = { grpc = { service = "health" }, period_seconds = 30 }
  vpc_access     = { subnetwork = "agents" }
  secret_volumes = { "/secrets/gcp" = { secret = "sa-key", path = "key.json" } }
  tracing        = { langsmith_project = "alfred", api_key_secret = "langsmith-key" }
  metrics        = {}
`
	v2 := `
  name   = "rich"
  image  = "example.com/rich:v1"
  memory = "1Gi"
  env    = { QUEUE = "tasks" }
  cpu_idle              = true
  startup_cpu_boost     = false
  execution_environment = "gen1"
  startup_probe  = { tcp_socket = {}, timeout_seconds = 3, period_seconds = 10, failure_threshold = 6, initial_delay_seconds = 20 }
  liveness_probe = { http_get = { path = "/healthz", port = 8081, http_headers = { X-Probe = "1" } } }
  vpc_access     = { connector = "projects/p/locations/europe-west1/connectors/agents", egress = "all-traffic" }
  secret_volumes = {
    "/secrets/gcp"    = { secret = "sa-key", version = "2", path = "key.json" }
    "/secrets/openai" = { secret = "projects/p/secrets/openai", path = "key" }
  }
  tracing = { langsmith_project = "alfred-eu", langsmith_endpoint = "https://eu.api.smith.langchain.com", api_key_secret = "langsmith-key" }
  metrics = { path = "/prom", config_secret = "gmp-config" }
`
	v3 := `
  name   = "rich"
  image  = "example.com/rich:v1"
  memory = "1Gi"
  env    = { QUEUE = "tasks" }
`
	// Each attribute is part of the revision template: the plan shows a new revision coming.
	update := resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
		plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision"))}}
	s.test(t, []resource.TestStep{
		{
			Config: agentHCL(s, v1),
			ConfigStateChecks: []statecheck.StateCheck{
				// The port the server fills into the probe (the container's) is not shown as configured.
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("startup_probe").AtMapKey("http_get").AtMapKey("port"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("startup_probe").AtMapKey("timeout_seconds"), knownvalue.Int64Exact(1)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("vpc_access").AtMapKey("egress"), knownvalue.StringExact("private-ranges-only")),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("metrics").AtMapKey("sidecar_image"), knownvalue.StringExact(sidecarImage)),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("env"), knownvalue.MapExact(map[string]knownvalue.Check{"QUEUE": knownvalue.StringExact("tasks")})),
			},
			Check: func(*terraform.State) error {
				tm := s.get(t, full).GetTemplate()
				c := containerNamed(tm, "agent")
				if c == nil {
					return fmt.Errorf("no container named agent: %v", tm.GetContainers())
				}
				r := c.GetResources()
				if r.GetCpuIdle() || !r.GetStartupCpuBoost() || tm.GetExecutionEnvironment() != runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN2 {
					return fmt.Errorf("resources %v, execution environment %v", r, tm.GetExecutionEnvironment())
				}
				if p := c.GetStartupProbe(); p.GetHttpGet().GetPath() != "/ready" || p.GetPeriodSeconds() != 5 || p.GetFailureThreshold() != 12 {
					return fmt.Errorf("startup probe %v", p)
				}
				if p := c.GetLivenessProbe(); p.GetGrpc().GetService() != "health" || p.GetPeriodSeconds() != 30 {
					return fmt.Errorf("liveness probe %v", p)
				}
				if va := tm.GetVpcAccess(); len(va.GetNetworkInterfaces()) != 1 || va.GetNetworkInterfaces()[0].GetSubnetwork() != "agents" ||
					va.GetConnector() != "" {
					return fmt.Errorf("vpc access %v", va)
				}
				if vm := c.GetVolumeMounts(); len(vm) != 1 || vm[0].GetMountPath() != "/secrets/gcp" {
					return fmt.Errorf("volume mounts %v", vm)
				}
				env := envOf(c)
				if env["LANGSMITH_TRACING"] != "true" || env["LANGSMITH_PROJECT"] != "alfred" || env["LANGSMITH_API_KEY"] != "langsmith-key:latest" ||
					env["QUEUE"] != "tasks" {
					return fmt.Errorf("env %v", env)
				}
				if _, ok := env["LANGSMITH_ENDPOINT"]; ok {
					return fmt.Errorf("LANGSMITH_ENDPOINT set without an endpoint: %v", env)
				}
				sc := containerNamed(tm, "gmp-collector")
				if sc == nil || sc.GetImage() != sidecarImage || strings.Join(sc.GetDependsOn(), ",") != "agent" || len(sc.GetPorts()) != 0 {
					return fmt.Errorf("metrics sidecar %v", sc)
				}
				return nil
			},
		},
		{
			Config:           agentHCL(s, v2),
			ConfigPlanChecks: update,
			Check: func(*terraform.State) error {
				tm := s.get(t, full).GetTemplate()
				c := containerNamed(tm, "agent")
				if r := c.GetResources(); !r.GetCpuIdle() || r.GetStartupCpuBoost() || tm.GetExecutionEnvironment() != runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN1 {
					return fmt.Errorf("resources %v, execution environment %v", r, tm.GetExecutionEnvironment())
				}
				if p := c.GetStartupProbe(); p.GetTcpSocket() == nil || p.GetInitialDelaySeconds() != 20 || p.GetFailureThreshold() != 6 {
					return fmt.Errorf("startup probe %v", p)
				}
				if p := c.GetLivenessProbe(); p.GetHttpGet().GetPort() != 8081 || len(p.GetHttpGet().GetHttpHeaders()) != 1 {
					return fmt.Errorf("liveness probe %v", p)
				}
				if va := tm.GetVpcAccess(); va.GetConnector() != "projects/p/locations/europe-west1/connectors/agents" ||
					len(va.GetNetworkInterfaces()) != 0 || va.GetEgress() != runpb.VpcAccess_ALL_TRAFFIC {
					return fmt.Errorf("vpc access %v", va)
				}
				if len(c.GetVolumeMounts()) != 2 {
					return fmt.Errorf("volume mounts %v", c.GetVolumeMounts())
				}
				if env := envOf(c); env["LANGSMITH_ENDPOINT"] != "https://eu.api.smith.langchain.com" || env["LANGSMITH_PROJECT"] != "alfred-eu" {
					return fmt.Errorf("env %v", env)
				}
				sc := containerNamed(tm, "gmp-collector")
				if sc == nil || len(sc.GetVolumeMounts()) != 1 || sc.GetVolumeMounts()[0].GetMountPath() != "/etc/rungmp" {
					return fmt.Errorf("metrics sidecar %v", sc)
				}
				return nil
			},
		},
		{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts", "deletion_protection"}},
		{
			Config:           agentHCL(s, v3),
			ConfigPlanChecks: update,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("startup_probe"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("tracing"), knownvalue.Null()),
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("cpu_idle"), knownvalue.Bool(true)),
			},
			Check: func(*terraform.State) error {
				tm := s.get(t, full).GetTemplate()
				c := tm.GetContainers()[0]
				if len(tm.GetContainers()) != 1 || tm.GetVpcAccess() != nil || len(tm.GetVolumes()) != 0 || c.GetLivenessProbe() != nil ||
					len(c.GetVolumeMounts()) != 0 || tm.GetExecutionEnvironment() != runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_UNSPECIFIED {
					return fmt.Errorf("template after removing the attributes: %v", tm)
				}
				// The server's default startup probe is back.
				if p := c.GetStartupProbe(); p.GetTcpSocket().GetPort() != 8080 || p.GetPeriodSeconds() != 240 {
					return fmt.Errorf("startup probe %v, want Cloud Run's default", p)
				}
				if env := envOf(c); len(env) != 1 {
					return fmt.Errorf("env %v, want QUEUE only", env)
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_serverDefaultsGiveNoDiff: a service that leaves every new attribute unset gets
// what Cloud Run fills (the TCP startup probe, cpu_idle, probe timings), and neither the next plan nor an
// import shows it. A startup probe written out as the default stays as written.
func TestAccAgentService_serverDefaultsGiveNoDiff(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "defaults")
	base := "  name = \"defaults\"\n  image = \"example.com/d:v1\"\n  port = 9000\n"
	asDefault := base + "  startup_probe = { tcp_socket = {}, timeout_seconds = 240, period_seconds = 240, failure_threshold = 1 }\n"
	s.test(t, []resource.TestStep{
		{
			Config: agentHCL(s, base),
			Check: func(*terraform.State) error {
				c := s.get(t, full).GetTemplate().GetContainers()[0]
				if p := c.GetStartupProbe(); p.GetTcpSocket().GetPort() != 9000 || p.GetTimeoutSeconds() != 240 || !c.GetResources().GetCpuIdle() {
					return fmt.Errorf("the emulator did not fill what this test relies on: %v", c)
				}
				return nil
			},
		},
		{Config: agentHCL(s, base), ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()}}},
		{ResourceName: addr, ImportState: true, ImportStateVerify: true, ImportStateVerifyIgnore: []string{"timeouts", "deletion_protection"}},
		{
			Config:           agentHCL(s, asDefault),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate)}},
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue(addr, tfjsonpath.New("startup_probe").AtMapKey("period_seconds"), knownvalue.Int64Exact(240))},
		},
	})
}

// TestAccAgentService_sidecarAndTracingDriftIsShown: the metrics sidecar removed, or the tracing variables
// changed, outside Terraform show in the next plan and are put back.
func TestAccAgentService_sidecarAndTracingDriftIsShown(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "watched")
	cfg := agentHCL(s, `
  name    = "watched"
  image   = "example.com/w:v1"
  metrics = {}
  tracing = { langsmith_project = "alfred", api_key_secret = "langsmith-key" }
`)
	s.test(t, []resource.TestStep{
		{Config: cfg},
		{
			PreConfig: func() {
				s.update(t, full, func(svc *runpb.Service) {
					svc.Template.Containers = svc.Template.Containers[:1]
					for _, e := range svc.Template.Containers[0].Env {
						if e.Name == "LANGSMITH_PROJECT" {
							e.Values = &runpb.EnvVar_Value{Value: "someone-else"}
						}
					}
				})
			},
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("metrics").AtMapKey("sidecar_image"), knownvalue.StringExact(sidecarImage)),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("tracing").AtMapKey("langsmith_project"), knownvalue.StringExact("alfred")),
			}},
			Check: func(*terraform.State) error {
				tm := s.get(t, full).GetTemplate()
				if containerNamed(tm, "gmp-collector") == nil || envOf(tm.GetContainers()[0])["LANGSMITH_PROJECT"] != "alfred" {
					return fmt.Errorf("drift not repaired: %v", tm)
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_eachNewAttributeAloneRollsARevision: a change of any one new attribute alone plans a
// new revision (latest_ready_revision unknown) and creates one.
func TestAccAgentService_eachNewAttributeAloneRollsARevision(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 20*time.Millisecond)
	full := name("p", "europe-west1", "one")
	base := "  name = \"one\"\n  image = \"example.com/one:v1\"\n  memory = \"1Gi\"\n"
	changes := []string{
		`  cpu_idle = false`,
		`  startup_cpu_boost = true`,
		`  execution_environment = "gen2"`,
		`  startup_probe = { tcp_socket = {} }`,
		`  liveness_probe = { http_get = {} }`,
		`  vpc_access = { network = "default" }`,
		`  secret_volumes = { "/secrets/a" = { secret = "a", path = "a" } }`,
		`  tracing = { langsmith_project = "p", api_key_secret = "k" }`,
		`  metrics = {}`,
	}
	var rev string
	steps := []resource.TestStep{{Config: agentHCL(s, base), Check: resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", capture(&rev))}}
	for _, c := range changes {
		steps = append(steps, resource.TestStep{
			Config: agentHCL(s, base+c),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision"))}},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", differs(&rev)),
				resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", capture(&rev)),
				func(*terraform.State) error {
					if got := s.get(t, full).GetLatestReadyRevision(); got != rev {
						return fmt.Errorf("the API serves %s, state says %s", got, rev)
					}
					return nil
				}),
		}, resource.TestStep{Config: agentHCL(s, base), Check: resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", capture(&rev))})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps:                    steps,
	})
}
