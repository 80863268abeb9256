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
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// TestAccAgentService_updateKeepsWhatTerraformDoesNotManage: an update of the image must not wipe what
// other tools put on the service (a label, an annotation, the description, a sidecar container, a
// traffic pin set during an incident). The provider hides those from the plan, so it must leave them alone.
func TestAccAgentService_updateKeepsWhatTerraformDoesNotManage(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "keep")
	body := func(image string) string {
		return agentHCL(s, fmt.Sprintf(`
  name   = "keep"
  image  = %q
  labels = { team = "ai" }
  metrics = { port = 9090, config_secret = "gmp-config" }
`, image))
	}
	var pinned string
	s.test(t, []resource.TestStep{
		{Config: body("example.com/keep:v1")},
		{
			PreConfig: func() {
				s.update(t, full, func(svc *runpb.Service) {
					svc.Labels["cost-center"] = "42"
					svc.Annotations["example.com/owner"] = "ops"
					svc.Description = "owned by ops"
					svc.Template.Containers = append(svc.Template.Containers, &runpb.Container{
						Name: "otel", Image: "example.com/otel-collector:0.99"})
					pinned = svc.GetLatestReadyRevision()
					svc.Traffic = []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
						Revision: pinned, Percent: 100}}
				})
			},
			Config: body("example.com/keep:v2"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision")),
			}},
			Check: func(*terraform.State) error {
				svc := s.get(t, full)
				if svc.GetLabels()["cost-center"] != "42" || svc.GetLabels()["team"] != "ai" {
					return fmt.Errorf("labels after update: %v", svc.GetLabels())
				}
				if svc.GetAnnotations()["example.com/owner"] != "ops" || svc.GetAnnotations()["alfred.dev/metrics-port"] != "9090" {
					return fmt.Errorf("annotations after update: %v", svc.GetAnnotations())
				}
				if svc.GetDescription() != "owned by ops" {
					return fmt.Errorf("description after update: %q", svc.GetDescription())
				}
				cs := svc.GetTemplate().GetContainers()
				// The agent, the other tool's sidecar, and this resource's metrics sidecar.
				if len(cs) != 3 || cs[0].GetImage() != "example.com/keep:v2" || cs[1].GetName() != "otel" ||
					cs[1].GetImage() != "example.com/otel-collector:0.99" || cs[2].GetName() != "gmp-collector" {
					return fmt.Errorf("containers after update: %v", cs)
				}
				if tr := svc.GetTraffic(); len(tr) != 1 || tr[0].GetRevision() != pinned {
					return fmt.Errorf("traffic after update: %v (pinned to %s before)", tr, pinned)
				}
				return nil
			},
		},
		{
			// Labels the configuration stops managing are removed; the others' stay.
			Config: agentHCL(s, `
  name   = "keep"
  image  = "example.com/keep:v2"
`),
			Check: func(*terraform.State) error {
				svc := s.get(t, full)
				if _, ok := svc.GetLabels()["team"]; ok || svc.GetLabels()["cost-center"] != "42" {
					return fmt.Errorf("labels after removing team: %v", svc.GetLabels())
				}
				if _, ok := svc.GetAnnotations()["alfred.dev/metrics-port"]; ok || svc.GetAnnotations()["example.com/owner"] != "ops" {
					return fmt.Errorf("annotations after removing metrics: %v", svc.GetAnnotations())
				}
				// metrics removed: this resource's sidecar and its config volume go, the other tool's sidecar stays.
				cs := svc.GetTemplate().GetContainers()
				if len(cs) != 2 || cs[1].GetName() != "otel" || len(svc.GetTemplate().GetVolumes()) != 0 {
					return fmt.Errorf("containers after removing metrics: %v, volumes %v", cs, svc.GetTemplate().GetVolumes())
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_unknownValuesAtPlanTime: image, env, invokers and labels that come from another
// resource's output are unknown at plan time; the plan succeeds without calling the API with them.
func TestAccAgentService_unknownValuesAtPlanTime(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "later")
	cfg := func(tag string) string {
		return s.provider() + fmt.Sprintf(`
resource "terraform_data" "build" {
  input = %q
}
resource "terraform_data" "sa" {
  input = "serviceAccount:gw-%s@p.iam.gserviceaccount.com"
}
resource "alfred_agent_service" "bot" {
  deletion_protection = false
  name     = "later"
  image    = "example.com/later:${terraform_data.build.output}"
  env      = { BUILD = terraform_data.build.output }
  invokers = [terraform_data.sa.output]
  labels   = { build = terraform_data.build.output }
  cpu      = "2"
  memory   = "1Gi"
  min_instances = 1
}
`, tag, tag)
	}
	s.test(t, []resource.TestStep{
		{
			Config: cfg("v1"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("image")),
			}},
			Check: func(*terraform.State) error {
				svc := s.get(t, full)
				if img := svc.GetTemplate().GetContainers()[0].GetImage(); img != "example.com/later:v1" {
					return fmt.Errorf("image %s", img)
				}
				inv, err := s.invokers(full)
				if err != nil || len(inv) != 1 || inv[0] != "serviceAccount:gw-v1@p.iam.gserviceaccount.com" {
					return fmt.Errorf("invokers %v %v", inv, err)
				}
				return nil
			},
		},
		{
			Config: cfg("v2"),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("latest_ready_revision")),
			}},
			Check: resource.TestCheckResourceAttr(addr, "image", "example.com/later:v2"),
		},
	})
}

// TestAccAgentService_createOverExistingServiceSaysImport: a service of the same name made outside
// Terraform is not adopted silently; the error names the import ID.
func TestAccAgentService_createOverExistingServiceSaysImport(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "taken")
	op, err := s.client.CreateService(context.Background(), &runpb.CreateServiceRequest{
		Parent: "projects/p/locations/europe-west1", ServiceId: "taken",
		Service: &runpb.Service{Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "example.com/other:v1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      agentHCL(s, `  name = "taken"`+"\n"+`  image = "example.com/taken:v1"`),
			ExpectError: regexp.MustCompile(`already\s+exists[\s\S]*terraform\s+import\s+alfred_agent_service\.<name>\s+` + regexp.QuoteMeta(full)),
		}},
	})
	if img := s.get(t, full).GetTemplate().GetContainers()[0].GetImage(); img != "example.com/other:v1" {
		t.Fatalf("the existing service was changed: image %s", img)
	}
}

// TestAccAgentService_metadataOnlyChangeKeepsRevisionAndOtherBindings: labels, ingress and
// invokers live on the service or its policy, not in the revision template, so the plan keeps
// latest_ready_revision known and no revision is created; bindings of other roles in the policy survive.
func TestAccAgentService_metadataOnlyChangeKeepsRevisionAndOtherBindings(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 50*time.Millisecond)
	full := name("p", "europe-west1", "meta")
	base := "  name = \"meta\"\n  image = \"example.com/meta:v1\"\n"
	var rev string
	s.test(t, []resource.TestStep{
		{Config: agentHCL(s, base), Check: resource.TestCheckResourceAttrWith(addr, "latest_ready_revision", capture(&rev))},
		{
			PreConfig: func() {
				p, err := s.client.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: full})
				if err != nil {
					t.Fatal(err)
				}
				p.Bindings = append(p.Bindings, &iampb.Binding{Role: "roles/run.developer", Members: []string{"group:devs@example.com"}})
				if _, err := s.client.SetIamPolicy(context.Background(), &iampb.SetIamPolicyRequest{Resource: full, Policy: p}); err != nil {
					t.Fatal(err)
				}
			},
			Config: agentHCL(s, base+`  labels = { team = "ai" }
  ingress = "internal"
  invokers = ["group:ops@example.com"]
`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("latest_ready_revision"), knownvalue.StringFunc(func(v string) error {
					if v != rev {
						return fmt.Errorf("planned %q, want %q", v, rev)
					}
					return nil
				})),
				// No revision is rolled out: the other rollout attributes are known too.
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("latest_created_revision"), knownvalue.StringFunc(func(v string) error {
					if v != rev {
						return fmt.Errorf("planned %q, want %q", v, rev)
					}
					return nil
				})),
				plancheck.ExpectKnownValue(addr, tfjsonpath.New("terminal_condition").AtMapKey("state"), knownvalue.StringExact("CONDITION_SUCCEEDED")),
			}},
			Check: func(*terraform.State) error {
				svc := s.get(t, full)
				if svc.GetLatestCreatedRevision() != rev || svc.GetIngress() != runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_ONLY {
					return fmt.Errorf("latest created revision %s (want %s), ingress %v", svc.GetLatestCreatedRevision(), rev, svc.GetIngress())
				}
				p, err := s.client.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: full})
				if err != nil {
					return err
				}
				roles := map[string]string{}
				for _, b := range p.GetBindings() {
					roles[b.GetRole()] = strings.Join(b.GetMembers(), ",")
				}
				if roles["roles/run.developer"] != "group:devs@example.com" || roles["roles/run.invoker"] != "group:ops@example.com" {
					return fmt.Errorf("policy bindings: %v", roles)
				}
				return nil
			},
		},
	})
}

// TestAccAgentService_projectFromUnknownProviderConfig: the provider's project comes from a resource of
// the same run (unknown at plan time); the plan leaves the service's project unknown instead of failing,
// and the apply creates the service in that project.
func TestAccAgentService_projectFromUnknownProviderConfig(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, 0)
	cfg := fmt.Sprintf(`
resource "terraform_data" "project" {
  input = "made-later"
}
provider "alfred" {
  gcp {
    project      = terraform_data.project.output
    region       = "europe-west1"
    run_endpoint = %q
    insecure     = true
  }
}
resource "alfred_agent_service" "bot" {
  deletion_protection = false
  name  = "later"
  image = "example.com/later:v1"
}
`, s.Addr)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectUnknownValue(addr, tfjsonpath.New("project")),
			}},
			Check: resource.ComposeTestCheckFunc(
				resource.TestCheckResourceAttr(addr, "project", "made-later"),
				resource.TestCheckResourceAttr(addr, "id", name("made-later", "europe-west1", "later")),
				func(*terraform.State) error {
					if svc := s.get(t, name("made-later", "europe-west1", "later")); svc == nil {
						return fmt.Errorf("the service is not in project made-later")
					}
					return nil
				},
			),
		}},
	})
}
