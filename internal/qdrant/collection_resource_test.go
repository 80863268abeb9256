package qdrant_test

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	pb "github.com/qdrant/go-client/qdrant"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

func check(fn func() error) resource.TestCheckFunc {
	return func(*terraform.State) error { return fn() }
}

const fullCreate = `
resource "alfred_qdrant_collection" "c" {
  name                     = "tasks"
  shard_number             = 3
  replication_factor       = 2
  write_consistency_factor = 1
  vectors = {
    text  = { size = 4, distance = "Cosine" }
    image = { size = 8, distance = "Dot", on_disk = true }
  }
  hnsw         = { m = 32, ef_construct = 200 }
  quantization = { type = "scalar", quantile = 0.99, always_ram = true }
  payload_indexes = { agent = "keyword", created = "datetime" }
  aliases         = ["tasks-live"]
}
`

const fullUpdate = `
resource "alfred_qdrant_collection" "c" {
  name                     = "tasks"
  shard_number             = 3
  replication_factor       = 3
  write_consistency_factor = 2
  on_disk_payload          = false
  vectors = {
    text  = { size = 4, distance = "Cosine", on_disk = true }
    image = { size = 8, distance = "Dot", on_disk = true }
  }
  hnsw         = { m = 24, ef_construct = 150, full_scan_threshold = 5000, on_disk = true }
  optimizers   = { indexing_threshold = 20000, deleted_threshold = 0.3 }
  quantization = { type = "product", compression = "x16" }
  payload_indexes = { agent = "text", score = "float" }
  aliases         = ["tasks-v2", "tasks-read"]
}
`

// Create with named vectors, HNSW, quantization, payload indexes and aliases; update everything the API
// changes in place; import; replace when a vector's size changes; destroy.
func TestAccQdrantCollection_createUpdateImportReplace(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             func(*terraform.State) error { return c.gone("tasks") },
		Steps: []resource.TestStep{
			{
				Config: c.provider() + fullCreate,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "id", "tasks"),
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "shards.#", "3"),
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "shards.0.replicas.#", "2"),
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "shards.0.replicas.0.state", "Active"),
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "status", "green"),
					check(func() error {
						i := c.info(t, "tasks")
						p := i.GetConfig().GetParams()
						m := p.GetVectorsConfig().GetParamsMap().GetMap()
						if m["text"].GetSize() != 4 || m["text"].GetDistance() != pb.Distance_Cosine || m["image"].GetSize() != 8 ||
							m["image"].GetDistance() != pb.Distance_Dot || !m["image"].GetOnDisk() {
							return fmt.Errorf("vectors %v", m)
						}
						if p.GetShardNumber() != 3 || p.GetReplicationFactor() != 2 {
							return fmt.Errorf("params %v", p)
						}
						if h := i.GetConfig().GetHnswConfig(); h.GetM() != 32 || h.GetEfConstruct() != 200 {
							return fmt.Errorf("hnsw %v", h)
						}
						if q := i.GetConfig().GetQuantizationConfig().GetScalar(); q == nil || !q.GetAlwaysRam() {
							return fmt.Errorf("quantization %v", i.GetConfig().GetQuantizationConfig())
						}
						if s := i.GetPayloadSchema(); len(s) != 2 || s["agent"].GetDataType() != pb.PayloadSchemaType_Keyword ||
							s["created"].GetDataType() != pb.PayloadSchemaType_Datetime {
							return fmt.Errorf("payload schema %v", s)
						}
						if a := c.aliasesOf(t, "tasks"); len(a) != 1 || a[0] != "tasks-live" {
							return fmt.Errorf("aliases %v", a)
						}
						return c.exactlyActive("tasks", 3, 2)
					}),
				),
			},
			{
				Config: c.provider() + fullUpdate,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionUpdate),
				}},
				Check: check(func() error {
					i := c.info(t, "tasks")
					p := i.GetConfig().GetParams()
					if p.GetReplicationFactor() != 3 || p.GetWriteConsistencyFactor() != 2 || p.GetOnDiskPayload() {
						return fmt.Errorf("params %v", p)
					}
					if !p.GetVectorsConfig().GetParamsMap().GetMap()["text"].GetOnDisk() {
						return fmt.Errorf("text vector not on disk")
					}
					if h := i.GetConfig().GetHnswConfig(); h.GetM() != 24 || h.GetEfConstruct() != 150 || h.GetFullScanThreshold() != 5000 || !h.GetOnDisk() {
						return fmt.Errorf("hnsw %v", h)
					}
					if o := i.GetConfig().GetOptimizerConfig(); o.GetIndexingThreshold() != 20000 || o.GetDeletedThreshold() != 0.3 {
						return fmt.Errorf("optimizers %v", o)
					}
					if q := i.GetConfig().GetQuantizationConfig().GetProduct(); q == nil || q.GetCompression() != pb.CompressionRatio_x16 {
						return fmt.Errorf("quantization %v", i.GetConfig().GetQuantizationConfig())
					}
					if s := i.GetPayloadSchema(); len(s) != 2 || s["agent"].GetDataType() != pb.PayloadSchemaType_Text ||
						s["score"].GetDataType() != pb.PayloadSchemaType_Float {
						return fmt.Errorf("payload schema %v", s)
					}
					a := c.aliasesOf(t, "tasks")
					sort.Strings(a)
					if strings.Join(a, ",") != "tasks-read,tasks-v2" {
						return fmt.Errorf("aliases %v", a)
					}
					return c.exactlyActive("tasks", 3, 3)
				}),
			},
			{
				ResourceName:            "alfred_qdrant_collection.c",
				ImportState:             true,
				ImportStateId:           "tasks",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName:            "alfred_qdrant_collection.c",
				ImportState:             true,
				ImportStateId:           "collections/tasks",
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				// removing quantization disables it in place
				Config: c.provider() + strings.Replace(fullUpdate, `quantization = { type = "product", compression = "x16" }`, "", 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionUpdate),
				}},
				Check: check(func() error {
					if q := c.info(t, "tasks").GetConfig().GetQuantizationConfig(); q != nil {
						return fmt.Errorf("quantization still %v", q)
					}
					return nil
				}),
			},
			{
				Config: c.provider() + strings.Replace(fullUpdate, `text  = { size = 4,`, `text  = { size = 16,`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: check(func() error {
					if s := c.info(t, "tasks").GetConfig().GetParams().GetVectorsConfig().GetParamsMap().GetMap()["text"].GetSize(); s != 16 {
						return fmt.Errorf("text size %d", s)
					}
					return nil
				}),
			},
			{
				Config: c.provider() + strings.Replace(fullUpdate, `shard_number             = 3`, `shard_number             = 2`, 1),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: check(func() error { return c.exactlyActive("tasks", 2, 3) }),
			},
		},
	})
}

func rfConfig(c *cluster, rf int, extra string) string {
	return c.provider() + fmt.Sprintf(`
resource "alfred_qdrant_collection" "c" {
  name               = "memory"
  shard_number       = 2
  replication_factor = %d
  vectors            = { "" = { size = 4, distance = "Euclid" } }
  %s
}
`, rf, extra)
}

// replication_factor 1 -> 3 -> 2: after each apply every shard has exactly that many Active replicas on
// distinct peers, and the next plan is empty (the framework's post-apply plan check).
func TestAccQdrantCollection_replicationFactorReconcilesReplicas(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: rfConfig(c, 1, ""), Check: check(func() error { return c.exactlyActive("memory", 2, 1) })},
			{Config: rfConfig(c, 3, ""), Check: check(func() error { return c.exactlyActive("memory", 2, 3) })},
			{Config: rfConfig(c, 2, ""), Check: check(func() error { return c.exactlyActive("memory", 2, 2) })},
		},
	})
}

// A peer that is down makes the apply wait, then fail within its timeout naming the shard and the peer;
// the next plan still shows the change; once the peer is back the apply finishes it.
func TestAccQdrantCollection_downPeerFailsNamingShardAndPeer(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{AutoRecoveryDelay: time.Hour})
	peers := c.Server.PeerIDs()
	var started time.Time
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: rfConfig(c, 2, ""), Check: check(func() error { return c.exactlyActive("memory", 2, 2) })},
			{
				PreConfig: func() {
					// the peer holding no replica of shard 0 goes down: shard 0 cannot get a third replica
					reps, err := c.replicas("memory")
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range peers {
						if _, ok := reps[0][p]; !ok {
							if err := c.Server.SetPeerDown(p, true); err != nil {
								t.Fatal(err)
							}
						}
					}
					started = time.Now()
				},
				Config: rfConfig(c, 3, `timeouts {
    update = "4s"
  }`),
				ExpectError: regexp.MustCompile(`(?s)shard 0 has 2 of 3 Active replicas; no peer could take a replica:.*peer\s+\d+`),
			},
			{
				PreConfig: func() {
					if d := time.Since(started); d > 30*time.Second {
						t.Errorf("the failed apply took %s: it must stop at its 4s timeout", d)
					}
				},
				Config: rfConfig(c, 3, `timeouts {
    update = "4s"
  }`),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				PreConfig: func() {
					for _, p := range peers {
						_ = c.Server.SetPeerDown(p, false)
					}
				},
				Config: rfConfig(c, 3, ""),
				Check:  check(func() error { return c.exactlyActive("memory", 2, 3) }),
			},
		},
	})
}

// A replica made Dead outside Terraform (its peer went down and came back; automatic recovery is held
// off), or a replication aborted halfway, shows in the next plan and is repaired by the apply.
func TestAccQdrantCollection_deadReplicaAndAbortedTransferRepaired(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{AutoRecoveryDelay: time.Hour, ReplicaSyncDelay: 3 * time.Second})
	peers := c.Server.PeerIDs()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: rfConfig(c, 2, ""), Check: check(func() error { return c.exactlyActive("memory", 2, 2) })},
			{
				PreConfig: func() {
					_ = c.Server.SetPeerDown(peers[1], true)
					_ = c.Server.SetPeerDown(peers[1], false)
					reps, _ := c.replicas("memory")
					dead := 0
					for _, byPeer := range reps {
						for _, st := range byPeer {
							if st == pb.ReplicaState_Dead {
								dead++
							}
						}
					}
					if dead == 0 {
						t.Fatalf("no Dead replica after the peer's restart: %v", reps)
					}
				},
				Config: rfConfig(c, 2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionUpdate),
				}},
				Check: check(func() error { return c.exactlyActive("memory", 2, 2) }),
			},
			{
				PreConfig: func() {
					// start a replication of shard 0 to the peer that lacks it, then abort it halfway
					reps, _ := c.replicas("memory")
					var from, to uint64
					for _, p := range peers {
						if _, ok := reps[0][p]; ok {
							from = p
						} else {
							to = p
						}
					}
					op := &pb.UpdateCollectionClusterSetupRequest{CollectionName: "memory",
						Operation: &pb.UpdateCollectionClusterSetupRequest_ReplicateShard{ReplicateShard: &pb.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to}}}
					if err := c.client.UpdateClusterCollectionSetup(tctx(t), op); err != nil {
						t.Fatal(err)
					}
					time.Sleep(300 * time.Millisecond)
					ab := &pb.UpdateCollectionClusterSetupRequest{CollectionName: "memory",
						Operation: &pb.UpdateCollectionClusterSetupRequest_AbortTransfer{AbortTransfer: &pb.AbortShardTransfer{ShardId: 0, FromPeerId: from, ToPeerId: to}}}
					if err := c.client.UpdateClusterCollectionSetup(tctx(t), ab); err != nil {
						t.Fatal(err)
					}
					reps, _ = c.replicas("memory")
					if reps[0][to] != pb.ReplicaState_Dead {
						t.Fatalf("aborted replication left %v", reps[0])
					}
				},
				Config: rfConfig(c, 2, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionUpdate),
				}},
				Check: check(func() error { return c.exactlyActive("memory", 2, 2) }),
			},
		},
	})
}

// Drift: an index dropped, an alias moved to another collection, the collection deleted: the next plan
// repairs each.
func TestAccQdrantCollection_driftRepaired(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	cfg := c.provider() + `
resource "alfred_qdrant_collection" "c" {
  name            = "agent-memory"
  vectors         = { "" = { size = 4, distance = "Cosine" } }
  payload_indexes = { agent = "keyword" }
  aliases         = ["memory"]
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg},
			{
				PreConfig: func() {
					if _, err := c.client.DeleteFieldIndex(tctx(t), &pb.DeleteFieldIndexCollection{CollectionName: "agent-memory", FieldName: "agent"}); err != nil {
						t.Fatal(err)
					}
					if err := c.client.CreateCollection(tctx(t), &pb.CreateCollection{CollectionName: "other",
						VectorsConfig: pb.NewVectorsConfig(&pb.VectorParams{Size: 4, Distance: pb.Distance_Cosine})}); err != nil {
						t.Fatal(err)
					}
					if err := c.client.UpdateAliases(tctx(t), []*pb.AliasOperations{pb.NewAliasCreate("memory", "other")}); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionUpdate),
				}},
				Check: check(func() error {
					if s := c.info(t, "agent-memory").GetPayloadSchema(); s["agent"].GetDataType() != pb.PayloadSchemaType_Keyword {
						return fmt.Errorf("index not restored: %v", s)
					}
					if a := c.aliasesOf(t, "agent-memory"); len(a) != 1 || a[0] != "memory" {
						return fmt.Errorf("alias not restored: %v", a)
					}
					return nil
				}),
			},
			{
				PreConfig: func() {
					if err := c.client.DeleteCollection(tctx(t), "agent-memory"); err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_qdrant_collection.c", plancheck.ResourceActionCreate),
				}},
				Check: check(func() error {
					if a := c.aliasesOf(t, "agent-memory"); len(a) != 1 {
						return fmt.Errorf("aliases %v", a)
					}
					return nil
				}),
			},
		},
	})
}

// Blue/green: moving an alias from the old collection to the new one is one apply, and the alias is
// re-pointed by one UpdateAliases call (the old collection's update, ordered after, finds nothing to drop).
func TestAccQdrantCollection_aliasSwitchesAtomically(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{})
	cfg := func(blue, green string) string {
		return c.provider() + fmt.Sprintf(`
resource "alfred_qdrant_collection" "green" {
  name    = "tasks-green"
  vectors = { "" = { size = 8, distance = "Cosine" } }
  aliases = %s
}
resource "alfred_qdrant_collection" "blue" {
  name       = "tasks-blue"
  vectors    = { "" = { size = 4, distance = "Cosine" } }
  aliases    = %s
  depends_on = [alfred_qdrant_collection.green]
}
`, green, blue)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg(`["tasks"]`, `[]`)},
			{
				PreConfig: func() { c.Kit.ResetCalls() },
				Config:    cfg(`[]`, `["tasks"]`),
				Check: check(func() error {
					if a := c.aliasesOf(t, "tasks-green"); len(a) != 1 || a[0] != "tasks" {
						return fmt.Errorf("green aliases %v", a)
					}
					if a := c.aliasesOf(t, "tasks-blue"); len(a) != 0 {
						return fmt.Errorf("blue aliases %v", a)
					}
					if n := c.Kit.Calls()["/qdrant.Collections/UpdateAliases"]; n != 1 {
						return fmt.Errorf("UpdateAliases called %d times, want 1 (an atomic re-point)", n)
					}
					return nil
				}),
			},
		},
	})
}
