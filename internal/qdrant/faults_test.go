package qdrant_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// Create and update converge while 30% of the calls fail in every kind Qdrant has (refused before
// the call, applied with the reply lost, rate limited): each write is retried only where that is safe,
// and the replica reconciliation re-reads the cluster every round.
func TestAccQdrantCollection_convergesUnderFaults(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	if err := c.Kit.SetFaultSettings(kit.FaultSettings{Rate: 0.3, Seed: 1,
		Kinds: []kit.FaultKind{kit.FaultUnavailable, kit.FaultLostReply, kit.FaultRateLimit}}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             func(*terraform.State) error { c.Kit.SetFaults(0, 0, 1); return c.gone("tasks") },
		Steps: []resource.TestStep{
			{Config: c.provider() + fullCreate},
			{Config: c.provider() + fullUpdate, Check: check(func() error {
				c.Kit.SetFaults(0, 0, 1)
				return c.exactlyActive("tasks", 3, 3)
			})},
		},
	})
	inj := c.Kit.Injected()
	for _, k := range []kit.FaultKind{kit.FaultUnavailable, kit.FaultLostReply, kit.FaultRateLimit} {
		if inj[k] == 0 {
			t.Errorf("no %s fault was injected (%v): the test does not cover it", k, inj)
		}
	}
}

// A delete whose reply is lost is retried; Qdrant then answers false (no such collection), which is
// success, not "failed to delete collection".
func TestAccQdrantCollection_deleteSurvivesLostReply(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			if n := c.Kit.Injected()[kit.FaultLostReply]; n != 1 {
				return fmt.Errorf("%d lost replies injected, want 1", n)
			}
			return c.gone("tasks")
		},
		Steps: []resource.TestStep{{
			Config: c.provider() + fullCreate,
			Check: check(func() error {
				c.Kit.FailNext("/qdrant.Collections/Delete", kit.FaultLostReply)
				return nil
			}),
		}},
	})
}

// The look for an existing collection and the create are retried each on its own, so faults that ran
// one shared budget of attempts out (four on the look, four on the create) still converge; the create
// whose reply was lost is found by the next attempt (ALREADY_EXISTS), and the collection made once.
func TestAccQdrantCollection_createLookAndCreateRetryOnTheirOwn(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	const look, create = "/qdrant.Collections/CollectionExists", "/qdrant.Collections/Create"
	for range 4 {
		c.Kit.FailNext(look, kit.FaultUnavailable)
	}
	for range 3 {
		c.Kit.FailNext(create, kit.FaultUnavailable)
	}
	c.Kit.FailNext(create, kit.FaultLostReply)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return c.gone("tasks") },
		Steps: []resource.TestStep{{
			Config: c.provider() + fullCreate,
			Check: check(func() error {
				if n := c.Kit.Calls()[create]; n != 5 {
					return fmt.Errorf("create sent %d times, want 5 (four failed, the last found the collection)", n)
				}
				return c.exactlyActive("tasks", 3, 2)
			}),
		}},
	})
}
