package qdrant_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// hnsw, optimizers and the rest are left to Qdrant: unknown in the plan until read.
const minimalCreate = `
resource "alfred_qdrant_collection" "c" {
  name    = "notes"
  vectors = { "" = { size = 4, distance = "Cosine" } }
}
`

// A create whose first read after the collection was made fails (every attempt of one call's retry
// budget refused) records the collection, tainted, with what was not read null rather than unknown, so the
// next apply replaces it instead of meeting a collection it does not know of.
func TestAccQdrantCollection_createWhoseReadFailsRecordsTheCollection(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	var known acctest.KnownStates
	const get = "/qdrant.Collections/Get"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: known.Factories(),
		CheckDestroy:             func(*terraform.State) error { return c.gone("notes") },
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					for range 8 { // shared.DefaultBackoff's attempts
						c.Kit.FailNext(get, kit.FaultUnavailable)
					}
				},
				Config:      c.provider() + minimalCreate,
				ExpectError: regexp.MustCompile(`Cannot read Qdrant collection`),
			},
			{
				PreConfig: func() {
					if err := known.Check(nil); err != nil {
						t.Error(err)
					}
				},
				Config: c.provider() + minimalCreate,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(known.Check,
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "status", "green")),
			},
		},
	})
}

// A refresh's three reads are retried each on its own: five refusals of each, fifteen in all, would have
// run one shared budget of eight attempts out.
func TestAccQdrantCollection_refreshReadsRetryEachOnItsOwn(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	reads := []string{"/qdrant.Collections/Get", "/qdrant.Collections/CollectionClusterInfo", "/qdrant.Collections/ListCollectionAliases"}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := c.Kit.Injected()[kit.FaultUnavailable]; n != 15 {
				return fmt.Errorf("%d refusals served, want 15: the refresh did not meet them all", n)
			}
			return c.gone("notes")
		},
		Steps: []resource.TestStep{
			{Config: c.provider() + minimalCreate},
			{
				PreConfig: func() {
					for _, m := range reads {
						for range 5 {
							c.Kit.FailNext(m, kit.FaultUnavailable)
						}
					}
				},
				Config:   c.provider() + minimalCreate,
				PlanOnly: true,
			},
		},
	})
}

// An update refused on every attempt of its budget leaves the prior state (the framework's default for an
// Update that sets none), not the plan, whose status and shards are unknown until read; the next apply
// makes the update. A guard: the resource was already right here.
func TestAccQdrantCollection_failedUpdateKeepsWhatIsThere(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	var known acctest.KnownStates
	wider := `
resource "alfred_qdrant_collection" "c" {
  name            = "notes"
  vectors         = { "" = { size = 4, distance = "Cosine" } }
  hnsw    = { m = 48 }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: known.Factories(),
		CheckDestroy:             func(*terraform.State) error { return c.gone("notes") },
		Steps: []resource.TestStep{
			{Config: c.provider() + minimalCreate},
			{
				PreConfig: func() {
					for range 8 { // shared.DefaultBackoff's attempts
						c.Kit.FailNext("/qdrant.Collections/Update", kit.FaultUnavailable)
					}
				},
				Config:      c.provider() + wider,
				ExpectError: regexp.MustCompile(`Cannot update Qdrant collection`),
			},
			{
				Config: c.provider() + wider,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(known.Check,
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "hnsw.m", "48")),
			},
		},
	})
}
