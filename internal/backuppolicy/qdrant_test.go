package backuppolicy_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// qdrantProvider is the provider's qdrant block pointing at the sandbox's cluster, as a user writes it.
func (e *env) qdrantProvider() string {
	return e.providerWith(fmt.Sprintf("qdrant {\n    url     = %q\n    rest_url = %q\n    api_key = %q\n  }",
		e.sb["ALFRED_QDRANT_URL"], e.sb["ALFRED_QDRANT_REST_URL"], e.sb["QDRANT_API_KEY"]))
}

// withCollections adds a qdrant { collections } block to a policy rendered by e.policy.
func withCollections(policy string, names ...string) string {
	return strings.Replace(policy, "  destination {", fmt.Sprintf("  qdrant {\n    collections = [%q]\n  }\n  destination {", strings.Join(names, `", "`)), 1)
}

// seedQdrant creates a collection of 3 shards x 2 replicas in the sandbox's cluster with n points.
func (e *env) seedQdrant(name string, n int) {
	e.t.Helper()
	c, err := qdrantClient(e.sb)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.CreateCollection(ctx, &pb.CreateCollection{CollectionName: name, ShardNumber: proto.Uint32(3), ReplicationFactor: proto.Uint32(2),
		VectorsConfig: pb.NewVectorsConfig(&pb.VectorParams{Size: 4, Distance: pb.Distance_Cosine})}); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = deleteCollection(e.sb, name) })
	var pts []*pb.PointStruct
	for i := 1; i <= n; i++ {
		pts = append(pts, &pb.PointStruct{Id: pb.NewIDNum(uint64(i)), Vectors: pb.NewVectors(float32(i), 1, -1, float32(i%5)),
			Payload: pb.NewValueMap(map[string]any{"agent": "alfred-bot", "n": i})})
	}
	if _, err := c.Upsert(ctx, &pb.UpsertPoints{CollectionName: name, Points: pts, Wait: proto.Bool(true)}); err != nil {
		e.t.Fatal(err)
	}
}

// qdrantClient is an official client to the sandbox's Qdrant cluster.
func qdrantClient(sb map[string]string) (*pb.Client, error) {
	host, port, _ := strings.Cut(sb["ALFRED_QDRANT_URL"], ":")
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, err
	}
	return pb.NewClient(&pb.Config{Host: host, Port: p, APIKey: sb["QDRANT_API_KEY"], PoolSize: 1, SkipCompatibilityCheck: true})
}

func deleteCollection(sb map[string]string, name string) error {
	c, err := qdrantClient(sb)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.DeleteCollection(context.Background(), name)
}

// checkQdrantEnv checks that the job carries the provider's Qdrant connection in its environment, names no
// sandbox, and keeps the API key out of its arguments.
func (e *env) checkQdrantEnv(*terraform.State) error {
	ctr := e.job().GetTemplate().GetTemplate().GetContainers()[0]
	got := map[string]string{}
	for _, v := range ctr.GetEnv() {
		got[v.GetName()] = v.GetValue()
	}
	for k, want := range map[string]string{"ALFRED_QDRANT_URL": e.sb["ALFRED_QDRANT_URL"],
		"ALFRED_QDRANT_REST_URL": e.sb["ALFRED_QDRANT_REST_URL"], "QDRANT_API_KEY": e.sb["QDRANT_API_KEY"]} {
		if got[k] != want {
			return fmt.Errorf("the job's %s is %q, want the provider's %q", k, got[k], want)
		}
	}
	if _, has := got["ALFRED_SANDBOX_DEBUG_URL"]; has {
		return fmt.Errorf("the job names the sandbox: %v", ctr.GetEnv())
	}
	if strings.Contains(strings.Join(ctr.GetArgs(), " "), e.sb["QDRANT_API_KEY"]) {
		return fmt.Errorf("the Qdrant API key is in the job's arguments")
	}
	return nil
}

// A policy with a Qdrant collection and a database: the job carries the provider's Qdrant connection in
// its environment (the key never in its arguments), a run forced through Cloud Scheduler backs up both,
// `alfredctl backup verify` accepts the set and lists the collection with its points, and a connection
// changed outside Terraform is shown and repaired.
func TestAccBackupPolicy_qdrantCollectionScheduledRunIsVerifiable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	coll := fmt.Sprintf("bp_memories_%s", strings.TrimPrefix(e.name, "nightly-"))
	e.seedQdrant(coll, 60)
	cfg := e.qdrantProvider() + withCollections(e.policy("0 3 * * *", 7, ""), coll)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg, Check: e.checkQdrantEnv},
			{
				PreConfig: func() {
					ex := e.forceRun()
					if ex.GetSucceededCount() != 1 {
						t.Fatalf("execution: %v", ex.GetConditions())
					}
					sets := e.sets("alfred/")
					if len(sets) != 1 || len(sets[0].Manifest.Qdrant) != 1 || sets[0].Manifest.Qdrant[0].Name != coll {
						t.Fatalf("sets after one run: %+v", sets)
					}
					e.cliEnv = []string{"ALFRED_QDRANT_URL=" + e.sb["ALFRED_QDRANT_URL"], "ALFRED_QDRANT_REST_URL=" + e.sb["ALFRED_QDRANT_REST_URL"],
						"QDRANT_API_KEY=" + e.sb["QDRANT_API_KEY"], "ALFRED_SANDBOX_DEBUG_URL=" + e.sb["ALFRED_SANDBOX_DEBUG_URL"]}
					out, err := e.alfredctl("backup", "verify", sets[0].ID, "--prefix", "alfred/")
					if err != nil {
						t.Fatalf("alfredctl backup verify %s: %v\n%s", sets[0].ID, err, out)
					}
					if !regexp.MustCompile(`(?m)^qdrant\s+`+regexp.QuoteMeta(coll)+`\s+60\s+60\s+match$`).MatchString(out) ||
						!regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(e.db)+`\s+`).MatchString(out) {
						t.Fatalf("verify does not list the collection (60 points) and the database:\n%s", out)
					}
				},
				Config: cfg,
				Check:  resource.TestMatchResourceAttr("alfred_backup_policy.p", "last_success", regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
			},
			{
				// The connection edited outside Terraform (the key removed from the job) is shown and repaired.
				PreConfig: func() {
					ctx := context.Background()
					j := e.job()
					c := j.GetTemplate().GetTemplate().GetContainers()[0]
					c.Env = slices.DeleteFunc(c.Env, func(v *runpb.EnvVar) bool { return v.GetName() == "QDRANT_API_KEY" })
					op, err := e.jobs.UpdateJob(ctx, &runpb.UpdateJobRequest{Job: j})
					if err == nil {
						_, err = op.Wait(ctx)
					}
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: cfg,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionUpdate),
				}},
				Check: e.checkQdrantEnv,
			},
		},
	})
}

// Collections without the provider's qdrant block, or with one that lacks the gRPC or REST address, fail
// the plan, naming the block and its variables.
func TestAccBackupPolicy_qdrantCollectionsNeedProviderQdrantBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:      e.provider() + withCollections(e.policy("0 3 * * *", 7, ""), "memories"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Provider block "qdrant" is not configured.*collections = \["memories"\].*ALFRED_QDRANT_REST_URL,\s+ALFRED_QDRANT_TLS,\s+ALFRED_QDRANT_URL`),
		}, {
			Config:      e.providerWith(`qdrant { url = "127.0.0.1:6334" }`) + withCollections(e.policy("0 3 * * *", 7, ""), "memories"),
			PlanOnly:    true,
			ExpectError: regexp.MustCompile(`(?s)Incomplete provider qdrant block.*collections = \["memories"\].*qdrant.rest_url\s+\(ALFRED_QDRANT_REST_URL\)`),
		}},
	})
}

// alfred_backup of a policy with a collection runs the policy's job, so it backs up the collection too.
func TestAccBackup_qdrantPolicyBacksUpCollectionAtApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	coll := fmt.Sprintf("bp_premigration_%s", strings.TrimPrefix(e.name, "nightly-"))
	e.seedQdrant(coll, 25)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: e.qdrantProvider() + withCollections(e.policy("0 3 * * *", 7, ""), coll) + `
resource "alfred_backup" "pre" {
  policy = alfred_backup_policy.p.id
}
`,
			Check: func(s *terraform.State) error {
				set, err := e.set(s, "alfred_backup.pre")
				if err != nil {
					return err
				}
				if q := set.Manifest.Qdrant; len(q) != 1 || q[0].Name != coll || q[0].Points != 25 {
					return fmt.Errorf("the backup's Qdrant collections: %+v, want %s with 25 points", q, coll)
				}
				return nil
			},
		}},
	})
}
