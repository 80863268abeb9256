package supabase_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

const replicaAddr = "alfred_supabase_read_replica.eu"

func replicaHCL(s *sandbox, region, extra string) string {
	return s.provider() + fmt.Sprintf(`
resource "alfred_supabase_read_replica" "eu" {
  project_ref = %q
  region      = %q
%s
}
`, ref, region, extra)
}

// replacedStep is the step after which the replica *old (read when the step runs) is replaced by a new
// ACTIVE_HEALTHY one, the only one listed: before runs first, and the plan must do action.
func (s *sandbox) replacedStep(region string, old *string, action plancheck.ResourceActionType, before func()) resource.TestStep {
	var replacement string
	return resource.TestStep{
		PreConfig: before,
		Config:    replicaHCL(s, region, ""),
		ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
			plancheck.ExpectResourceAction(replicaAddr, action),
		}},
		Check: resource.ComposeAggregateTestCheckFunc(
			resource.TestCheckResourceAttr(replicaAddr, "status", "ACTIVE_HEALTHY"),
			resource.TestCheckResourceAttrWith(replicaAddr, "identifier", capture(&replacement)),
			func(*terraform.State) error {
				if rs := s.mustReplicas(); replacement == *old || len(rs) != 1 || rs[0].Identifier != replacement {
					return fmt.Errorf("old %s, replacement %s, listed %+v", *old, replacement, rs)
				}
				return nil
			},
		),
	}
}

func stateID(st *terraform.State) string {
	return st.RootModule().Resources[replicaAddr].Primary.ID
}

func TestAccSupabaseReadReplica_createWaitsForHealthyImportAndDestroyWaitsUntilGone(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{ReplicaReadyAfter: 2 * time.Second, RemoveAfter: 2 * time.Second})
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{
				Config: replicaHCL(s, "eu-west-1", ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(replicaAddr, "status", "ACTIVE_HEALTHY"),
					resource.TestCheckResourceAttrWith(replicaAddr, "identifier", capture(&id)),
					resource.TestCheckResourceAttrWith(replicaAddr, "id", func(v string) error {
						if v != ref+"/"+id {
							return fmt.Errorf("id %q, want %s/<identifier>", v, ref)
						}
						return nil
					}),
					resource.TestCheckResourceAttrWith(replicaAddr, "db_host", func(v string) error {
						if v != "db."+id+".supabase.co" {
							return fmt.Errorf("db_host %q", v)
						}
						return nil
					}),
					resource.TestCheckResourceAttr(replicaAddr, "db_port", "5432"),
					func(*terraform.State) error {
						rs := s.mustReplicas()
						if len(rs) != 1 || rs[0].Identifier != id || rs[0].Status != "ACTIVE_HEALTHY" || rs[0].Region != "eu-west-1" {
							return fmt.Errorf("the API lists %+v", rs)
						}
						return nil
					},
				),
			},
			{
				ResourceName:            replicaAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
				ImportStateIdFunc:       func(st *terraform.State) (string, error) { return stateID(st), nil },
			},
			{
				// The short form: the identifier alone.
				ResourceName:            replicaAddr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
				ImportStateIdFunc: func(st *terraform.State) (string, error) {
					return st.RootModule().Resources[replicaAddr].Primary.Attributes["identifier"], nil
				},
			},
			{
				ResourceName:  replicaAddr,
				ImportState:   true,
				ImportStateId: "abc/" + ref + "-rr-eu-west-1-xxxxx",
				ExpectError:   words("Import a read replica as <project_ref>/<identifier>"),
			},
			{
				ResourceName:  replicaAddr,
				ImportState:   true,
				ImportStateId: "no-such-replica",
				ExpectError:   words("No project that the access token can see has a read replica"),
			},
		},
	})
}

func TestAccSupabaseReadReplica_createTimeoutIsHonoured(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{ReplicaReadyAfter: time.Hour, RemoveAfter: -1})
	start := time.Now()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{{
			Config:      replicaHCL(s, "eu-west-2", "  timeouts {\n    create = \"5s\"\n  }"),
			ExpectError: regexp.MustCompile(`(?s)timed out waiting for read replica.*last status:\s+INIT_READ_REPLICA`),
		}},
	})
	if d := time.Since(start); d > 60*time.Second {
		t.Fatalf("a 5s create timeout took %s", d)
	}
}

func TestAccSupabaseReadReplica_failedSetupIsAnErrorAndTheNextApplyReplacesIt(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{FailRegions: []string{"ap-south-1"}, RemoveAfter: 500 * time.Millisecond})
	var failed string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{
				Config:      replicaHCL(s, "ap-south-1", ""),
				ExpectError: words("ended in INIT_READ_REPLICA_FAILED"),
			},
			s.replacedStep("ap-south-1", &failed, plancheck.ResourceActionDestroyBeforeCreate, func() {
				rs := s.mustReplicas()
				if len(rs) != 1 || rs[0].Status != "INIT_READ_REPLICA_FAILED" {
					t.Fatalf("after the failed apply the API lists %+v", rs)
				}
				failed = rs[0].Identifier
				if err := s.Srv.SetFailRegions(nil); err != nil {
					t.Fatal(err)
				}
			}),
		},
	})
}

// A replica can be healthy and later report other documented statuses: they are shown without a diff,
// while one that reports INIT_READ_REPLICA_FAILED is planned for replacement.
func TestAccSupabaseReadReplica_statusesShownAndAFailedReplicaIsReplaced(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: 500 * time.Millisecond})
	var first string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{
				Config: replicaHCL(s, "us-west-2", ""),
				Check:  resource.TestCheckResourceAttrWith(replicaAddr, "identifier", capture(&first)),
			},
			{
				PreConfig: func() {
					if err := s.Srv.SetReplicaStatus(first, "RESTARTING"); err != nil {
						t.Fatal(err)
					}
				},
				Config: replicaHCL(s, "us-west-2", ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(replicaAddr, plancheck.ResourceActionNoop),
				}},
				Check: resource.TestCheckResourceAttr(replicaAddr, "status", "RESTARTING"),
			},
			s.replacedStep("us-west-2", &first, plancheck.ResourceActionDestroyBeforeCreate, func() {
				if err := s.Srv.SetReplicaStatus(first, "INIT_READ_REPLICA_FAILED"); err != nil {
					t.Fatal(err)
				}
			}),
		},
	})
}

func TestAccSupabaseReadReplica_removedOutsideTerraformIsRecreated(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: 500 * time.Millisecond})
	var first string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{
				Config: replicaHCL(s, "eu-central-1", ""),
				Check:  resource.TestCheckResourceAttrWith(replicaAddr, "identifier", capture(&first)),
			},
			s.replacedStep("eu-central-1", &first, plancheck.ResourceActionCreate, func() { s.removeOutside(first) }),
		},
	})
}

func TestAccSupabaseReadReplica_replicaLimitIsReportedClearly(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{MaxReplicas: 1, RemoveAfter: -1})
	cfg := s.provider() + fmt.Sprintf(`
resource "alfred_supabase_read_replica" "a" {
  project_ref = %[1]q
  region      = "us-east-1"
}
resource "alfred_supabase_read_replica" "b" {
  project_ref = %[1]q
  region      = "us-east-2"
}
`, ref)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{{
			Config:      cfg,
			ExpectError: words("already has 1 read replicas, the most its compute size allows (1); remove one or upgrade the compute add-on"),
		}},
	})
}

func TestAccSupabaseReadReplica_prerequisitesNotMetAreReported(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	const free = "freeplanprojectxxxxx"
	if err := s.Srv.AddProject(free, "hobby", "free"); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      s.provider() + "resource \"alfred_supabase_read_replica\" \"eu\" {\n  project_ref = \"" + free + "\"\n  region = \"eu-west-1\"\n}\n",
			ExpectError: words("only available to projects on the Pro plan and above"),
		}},
	})
}

func TestAccSupabaseReadReplica_wrongOrMissingTokenIsReported(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      s.providerWithToken("sbp_wrong") + replicaHCL(s, "eu-west-1", "")[len(s.provider()):],
				ExpectError: words("401 Unauthorized: Unauthorized. The access token was refused"),
			},
			{
				// An empty token (a variable left unset) is refused before any call.
				Config:      s.providerWithToken("") + replicaHCL(s, "eu-west-1", "")[len(s.provider()):],
				ExpectError: words("needs a Management API access token"),
			},
		},
	})
	if rs := s.mustReplicas(); len(rs) != 0 {
		t.Fatalf("replicas created without a valid token: %+v", rs)
	}
}

// Rate-limit bursts on the listing and on the setup are waited out as the 429s ask (Retry-After,
// X-RateLimit-Reset), and exactly one replica results.
func TestAccSupabaseReadReplica_rateLimitBurstsAreWaitedOut(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	const list = "GET /v1/organizations/{slug}/projects"
	const setup = "POST /v1/projects/{ref}/read-replicas/setup"
	for range 3 {
		s.Kit.FailNext(list, kit.FaultRateLimit)
	}
	for range 2 {
		s.Kit.FailNext(setup, kit.FaultRateLimit)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{{
			Config: replicaHCL(s, "eu-north-1", ""),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(replicaAddr, "status", "ACTIVE_HEALTHY"),
				func(*terraform.State) error {
					if n := s.Kit.Injected()[kit.FaultRateLimit]; n != 5 {
						return fmt.Errorf("%d rate-limit faults served, want 5", n)
					}
					if n := s.Kit.Calls()[setup]; n != 3 {
						return fmt.Errorf("%d setup calls, want 3 (two refused with 429, one accepted)", n)
					}
					if rs := s.mustReplicas(); len(rs) != 1 {
						return fmt.Errorf("listed %+v", rs)
					}
					return nil
				},
			),
		}},
	})
}

// The setup runs but its reply is lost: the provider finds the new replica in the listing instead of
// asking for a second one.
func TestAccSupabaseReadReplica_lostSetupReplyCreatesExactlyOne(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	const setup = "POST /v1/projects/{ref}/read-replicas/setup"
	s.Kit.FailNext(setup, kit.FaultLostReply)
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{{
			Config: replicaHCL(s, "ca-central-1", ""),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr(replicaAddr, "status", "ACTIVE_HEALTHY"),
				resource.TestCheckResourceAttrWith(replicaAddr, "identifier", capture(&id)),
				func(*terraform.State) error {
					if n := s.Kit.Injected()[kit.FaultLostReply]; n != 1 {
						return fmt.Errorf("%d lost replies served, want 1", n)
					}
					if n := s.Kit.Calls()[setup]; n != 1 {
						return fmt.Errorf("setup sent %d times, want once", n)
					}
					if rs := s.mustReplicas(); len(rs) != 1 || rs[0].Identifier != id {
						return fmt.Errorf("listed %+v, state has %s", rs, id)
					}
					return nil
				},
			),
		}},
	})
}

func TestAccSupabase_badInputsRejectedAtPlanTime(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	replica := func(ref, region string) string {
		return s.provider() + fmt.Sprintf("resource \"alfred_supabase_read_replica\" \"r\" {\n  project_ref = %q\n  region = %q\n}\n", ref, region)
	}
	netsec := func(ref, body string) string {
		return s.provider() + fmt.Sprintf("resource \"alfred_supabase_network_security\" \"n\" {\n  project_ref = %q\n%s\n}\n", ref, body)
	}
	cases := []struct{ name, cfg, want string }{
		{"ref too short", replica("abc", "eu-west-1"), `project_ref must be a Supabase project ref: 20 lowercase letters`},
		{"ref with upper case", replica("ABCDEFGHIJKLMNOPQRST", "eu-west-1"), `20 lowercase letters`},
		{"ref with a hyphen", netsec("abcdefghij-lmnopqrst", ""), `project_ref must be a Supabase project ref`},
		{"unknown region", replica(ref, "eu-west-9"), `region value must be one of`},
		{"region of another cloud", replica(ref, "europe-west1"), `region value must be one of`},
		{"region in upper case", replica(ref, "EU-WEST-1"), `region value must be one of`},
		{"prefix too long", netsec(ref, `  allowed_cidrs = ["10.0.0.0/33"]`), `is not a CIDR`},
		{"host bits set", netsec(ref, `  allowed_cidrs = ["10.1.2.3/8"]`), `write 10.0.0.0/8`},
		{"an address, not a CIDR", netsec(ref, `  allowed_cidrs = ["192.0.2.1"]`), `is an address, not a CIDR; for this one address write 192.0.2.1/32`},
		{"IPv6 in allowed_cidrs", netsec(ref, `  allowed_cidrs = ["2001:db8::/32"]`), `is an IPv6 CIDR; put it in allowed_cidrs_v6`},
		{"IPv4 in allowed_cidrs_v6", netsec(ref, `  allowed_cidrs_v6 = ["10.0.0.0/8"]`), `is an IPv4 CIDR; put it in allowed_cidrs`},
		{"IPv6 not canonical", netsec(ref, `  allowed_cidrs_v6 = ["2001:DB8::/32"]`), `write 2001:db8::/32`},
		{"empty string", netsec(ref, `  allowed_cidrs = [""]`), `is not a CIDR`},
		{"IPv4-mapped IPv6", netsec(ref, `  allowed_cidrs_v6 = ["::ffff:10.0.0.0/104"]`), `is an IPv4 CIDR`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: c.cfg, PlanOnly: true, ExpectError: words(c.want)})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
	if calls := s.Kit.Calls(); len(calls) != 0 {
		t.Fatalf("bad input reached the API: %v", calls)
	}
	t.Log(strconv.Itoa(len(cases)) + " bad inputs rejected at plan time, no API call")
}

// Changing only the timeouts is an in-place update that leaves the replica and its known values alone.
func TestAccSupabaseReadReplica_timeoutsChangeInPlace(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	var id string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{
				Config: replicaHCL(s, "sa-east-1", ""),
				Check:  resource.TestCheckResourceAttrWith(replicaAddr, "identifier", capture(&id)),
			},
			{
				Config: replicaHCL(s, "sa-east-1", "  timeouts {\n    delete = \"10m\"\n  }"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(replicaAddr, plancheck.ResourceActionUpdate),
					plancheck.ExpectKnownValue(replicaAddr, tfjsonpath.New("status"), knownvalue.StringExact("ACTIVE_HEALTHY")),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(replicaAddr, "identifier", func(v string) error {
						if v != id {
							return fmt.Errorf("identifier changed from %s to %s", id, v)
						}
						return nil
					}),
					resource.TestCheckResourceAttr(replicaAddr, "timeouts.delete", "10m"),
				),
			},
		},
	})
}

// A replica already in the region that this resource does not manage (here set up through the API, as an
// apply killed before it recorded its replica leaves one) makes create fail with the import command and
// send nothing; once imported the plan is empty, and allow_other_replicas_in_region = true sets up a
// second replica in the region on purpose.
func TestAccSupabaseReadReplica_replicaAlreadyInRegionIsImportedNotDuplicated(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	const setup = "POST /v1/projects/{ref}/read-replicas/setup"
	const region = "ap-south-1"
	if code, b := s.do("POST", "/v1/projects/"+ref+"/read-replicas/setup", map[string]string{"read_replica_region": region}); code != 201 {
		t.Fatalf("setup outside Terraform: %d %s", code, b)
	}
	var outside string
	for deadline := time.Now().Add(10 * time.Second); outside == ""; time.Sleep(100 * time.Millisecond) {
		if rs := s.mustReplicas(); len(rs) == 1 {
			outside = rs[0].Identifier
		} else if time.Now().After(deadline) {
			t.Fatal("the replica set up outside Terraform is not listed")
		}
	}
	second := `
resource "alfred_supabase_read_replica" "more" {
  project_ref                    = alfred_supabase_read_replica.eu.project_ref
  region                         = alfred_supabase_read_replica.eu.region
  allow_other_replicas_in_region = true
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{
				Config:      replicaHCL(s, region, ""),
				ExpectError: words(fmt.Sprintf("already has the read replica %s in %s, and this resource does not manage it. If an apply that was interrupted set it up, import it: `terraform import <address> %s/%s`", outside, region, ref, outside)),
			},
			{
				PreConfig: func() {
					if n := s.Kit.Calls()[setup]; n != 1 {
						t.Errorf("setup sent %d times: only the one outside Terraform may be", n)
					}
				},
				Config:             replicaHCL(s, region, ""),
				ResourceName:       replicaAddr,
				ImportState:        true,
				ImportStateId:      ref + "/" + outside,
				ImportStatePersist: true,
			},
			{
				Config: replicaHCL(s, region, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
				Check: resource.TestCheckResourceAttr(replicaAddr, "identifier", outside),
			},
			{
				Config: replicaHCL(s, region, "") + second,
				Check: func(*terraform.State) error {
					if rs := s.mustReplicas(); len(rs) != 2 || rs[0].Region != region || rs[1].Region != region {
						return fmt.Errorf("allow_other_replicas_in_region = true sets up a second replica in %s, listed %+v", region, rs)
					}
					return nil
				},
			},
		},
	})
}
