package supabase_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

const netAddr = "alfred_supabase_network_security.db"

func netHCL(s *sandbox, body string) string {
	return s.provider() + fmt.Sprintf("resource \"alfred_supabase_network_security\" \"db\" {\n  project_ref = %q\n%s\n}\n", ref, body)
}

type netState struct {
	SSL    bool
	V4, V6 []string
}

// read asks the API what the project's settings are.
func (s *sandbox) netState() (netState, error) {
	var out netState
	code, b := s.do("GET", "/v1/projects/"+ref+"/ssl-enforcement", nil)
	if code != 200 {
		return out, fmt.Errorf("ssl: %d %s", code, b)
	}
	var ssl struct {
		CurrentConfig struct {
			Database bool `json:"database"`
		} `json:"currentConfig"`
	}
	if err := json.Unmarshal(b, &ssl); err != nil {
		return out, err
	}
	code, b = s.do("GET", "/v1/projects/"+ref+"/network-restrictions", nil)
	if code != 200 {
		return out, fmt.Errorf("restrictions: %d %s", code, b)
	}
	var nr struct {
		Config struct {
			V4 []string `json:"dbAllowedCidrs"`
			V6 []string `json:"dbAllowedCidrsV6"`
		} `json:"config"`
	}
	if err := json.Unmarshal(b, &nr); err != nil {
		return out, err
	}
	out.SSL, out.V4, out.V6 = ssl.CurrentConfig.Database, nr.Config.V4, nr.Config.V6
	slices.Sort(out.V4)
	slices.Sort(out.V6)
	return out, nil
}

func (s *sandbox) expectNet(ssl bool, v4, v6 string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		got, err := s.netState()
		if err != nil {
			return err
		}
		if got.SSL != ssl || strings.Join(got.V4, ",") != v4 || strings.Join(got.V6, ",") != v6 {
			return fmt.Errorf("the API has ssl=%v v4=%v v6=%v; want ssl=%v v4=%s v6=%s", got.SSL, got.V4, got.V6, ssl, v4, v6)
		}
		return nil
	}
}

func withPreConfig(step resource.TestStep, pre func()) resource.TestStep {
	step.PreConfig = pre
	return step
}

func TestAccSupabaseNetworkSecurity_applyUpdateImportAndDriftRepaired(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	narrowed := resource.TestStep{
		Config: netHCL(s, `
  ssl_enforcement  = false
  allowed_cidrs    = ["198.51.100.0/24"]
  allowed_cidrs_v6 = []`),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(netAddr, plancheck.ResourceActionUpdate),
		}},
		Check: s.expectNet(false, "198.51.100.0/24", ""),
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: netHCL(s, `
  ssl_enforcement  = true
  allowed_cidrs    = ["192.0.2.0/24", "10.0.0.0/8"]
  allowed_cidrs_v6 = ["2001:db8::/32"]`),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(netAddr, "id", ref),
					resource.TestCheckResourceAttr(netAddr, "ssl_enforcement", "true"),
					resource.TestCheckResourceAttr(netAddr, "allowed_cidrs.#", "2"),
					s.expectNet(true, "10.0.0.0/8,192.0.2.0/24", "2001:db8::/32"),
				),
			},
			narrowed, // in place: SSL off, other IPv4 ranges, no IPv6 at all
			{ResourceName: netAddr, ImportState: true, ImportStateId: ref, ImportStateVerify: true},
			withPreConfig(narrowed, func() {
				// Changed outside Terraform: the plan shows it and the apply puts it back.
				if code, b := s.do("PUT", "/v1/projects/"+ref+"/ssl-enforcement", map[string]any{"requestedConfig": map[string]bool{"database": true}}); code != 200 {
					t.Fatalf("ssl: %d %s", code, b)
				}
				if code, b := s.do("POST", "/v1/projects/"+ref+"/network-restrictions/apply",
					map[string]any{"dbAllowedCidrs": []string{"198.51.100.0/24", "0.0.0.0/0"}, "dbAllowedCidrsV6": []string{"::/0"}}); code != 201 {
					t.Fatalf("apply: %d %s", code, b)
				}
			}),
		},
	})
}

// With only project_ref the resource holds Supabase's defaults (everyone may connect, SSL not enforced)
// and plans no change against a new project; written once, it survives 429s and lost replies.
func TestAccSupabaseNetworkSecurity_defaultsAndFaults(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: netHCL(s, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(netAddr, "ssl_enforcement", "false"),
					resource.TestCheckTypeSetElemAttr(netAddr, "allowed_cidrs.*", "0.0.0.0/0"),
					resource.TestCheckTypeSetElemAttr(netAddr, "allowed_cidrs_v6.*", "::/0"),
					s.expectNet(false, "0.0.0.0/0", "::/0"),
				),
			},
			{
				PreConfig: func() {
					s.Kit.FailNext("PUT /v1/projects/{ref}/ssl-enforcement", kit.FaultLostReply)
					s.Kit.FailNext("POST /v1/projects/{ref}/network-restrictions/apply", kit.FaultRateLimit)
					s.Kit.FailNext("GET /v1/projects/{ref}/network-restrictions", kit.FaultUnavailable)
				},
				Config: netHCL(s, "  ssl_enforcement = true\n  allowed_cidrs = [\"203.0.113.7/32\"]"),
				Check: resource.ComposeAggregateTestCheckFunc(
					s.expectNet(true, "203.0.113.7/32", "::/0"),
					func(*terraform.State) error {
						if n := len(s.Kit.Injected()); n != 3 {
							return fmt.Errorf("faults served: %v", s.Kit.Injected())
						}
						return nil
					},
				),
			},
		},
	})
}
