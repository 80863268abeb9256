package supabase_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

// Two replicas of one project in one apply: their setups are serialised, so each gets its own replica.
func TestAccSupabaseReadReplica_twoInOneApplyAreToldApart(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	cfg := s.provider() + fmt.Sprintf(`
resource "alfred_supabase_read_replica" "r" {
  count                          = 2
  project_ref                    = %q
  region                         = "eu-west-1"
  allow_other_replicas_in_region = true
}
`, ref)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				a := st.RootModule().Resources["alfred_supabase_read_replica.r.0"].Primary.Attributes["identifier"]
				b := st.RootModule().Resources["alfred_supabase_read_replica.r.1"].Primary.Attributes["identifier"]
				if a == "" || a == b {
					return fmt.Errorf("identifiers %q and %q", a, b)
				}
				if rs := s.mustReplicas(); len(rs) != 2 {
					return fmt.Errorf("listed %+v", rs)
				}
				return nil
			},
		}},
	})
}

// With a fifth of all calls failing in every way the kit knows (refused, applied with the reply lost,
// concurrent change, rate limited), create, update and destroy still converge: one replica, the settings
// as written, nothing left behind.
func TestAccSupabase_convergesUnderEveryFaultKind(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: 500 * time.Millisecond})
	if err := s.Kit.SetFaultSettings(kit.FaultSettings{Rate: 0.2, Seed: 7, Kinds: kit.AllFaultKinds}); err != nil {
		t.Fatal(err)
	}
	// And at least one of each kind where it hurts most: on the writes.
	s.Kit.FailNext("POST /v1/projects/{ref}/read-replicas/setup", kit.FaultLostReply)
	s.Kit.FailNext("POST /v1/projects/{ref}/read-replicas/remove", kit.FaultConflict)
	s.Kit.FailNext("POST /v1/projects/{ref}/read-replicas/remove", kit.FaultLostReply)
	s.Kit.FailNext("PUT /v1/projects/{ref}/ssl-enforcement", kit.FaultLostReply)
	s.Kit.FailNext("POST /v1/projects/{ref}/network-restrictions/apply", kit.FaultConflict)
	body := func(ssl bool, cidr string) string {
		return replicaHCL(s, "us-west-1", "") + fmt.Sprintf(`
resource "alfred_supabase_network_security" "db" {
  project_ref     = %q
  ssl_enforcement = %v
  allowed_cidrs   = [%q]
}
`, ref, ssl, cidr)
	}
	check := func(ssl bool, cidr string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			// Asked without faults: the sandbox's own view.
			f := s.Kit.FaultSettings()
			_ = s.Kit.SetFaultSettings(kit.FaultSettings{})
			defer func() { _ = s.Kit.SetFaultSettings(f) }()
			if rs := s.mustReplicas(); len(rs) != 1 || rs[0].Status != "ACTIVE_HEALTHY" {
				return fmt.Errorf("listed %+v", rs)
			}
			return s.expectNet(ssl, cidr, "::/0")(nil)
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(st *terraform.State) error {
			_ = s.Kit.SetFaultSettings(kit.FaultSettings{})
			return s.checkNoReplicas(st)
		},
		Steps: []resource.TestStep{
			{Config: body(true, "10.0.0.0/8"), Check: check(true, "10.0.0.0/8")},
			{Config: body(false, "192.0.2.0/24"), Check: check(false, "192.0.2.0/24")},
		},
	})
	if len(s.Kit.Injected()) != len(kit.AllFaultKinds) {
		t.Fatalf("too few kinds of fault were served to prove anything: %v", s.Kit.Injected())
	}
	if n := s.Kit.Calls()["POST /v1/projects/{ref}/read-replicas/setup"]; n < 1 {
		t.Fatal("no setup was sent")
	}
	t.Logf("faults served: %v", s.Kit.Injected())
}
