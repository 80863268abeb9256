package qdrant_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	pb "github.com/qdrant/go-client/qdrant"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

func TestMain(m *testing.M) { acctest.Main(m) }

const testKey = "qdrant-test-key"

// cluster is one Qdrant emulator (3 peers unless told) on loopback and an official client to inspect or
// change it "outside Terraform".
type cluster struct {
	*sandbox.TestServer
	client *pb.Client
}

func newCluster(t testing.TB, opts sandbox.Options) *cluster {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = testKey
	}
	if opts.ReplicaSyncDelay == 0 {
		opts.ReplicaSyncDelay = 200 * time.Millisecond
	}
	ts := sandbox.StartTestServer(t, opts)
	host, port, _ := net.SplitHostPort(ts.Addr)
	p, _ := strconv.Atoi(port)
	c, err := pb.NewClient(&pb.Config{Host: host, Port: p, APIKey: opts.APIKey, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &cluster{TestServer: ts, client: c}
}

func (c *cluster) provider() string {
	return fmt.Sprintf(`
provider "alfred" {
  qdrant {
    url      = %q
    rest_url = %q
    api_key  = %q
  }
}
`, c.Addr, c.RESTURL, c.APIKey)
}

func tctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func (c *cluster) info(t *testing.T, name string) *pb.CollectionInfo {
	t.Helper()
	i, err := c.client.GetCollectionInfo(tctx(t), name)
	if err != nil {
		t.Fatalf("GetCollectionInfo %s: %v", name, err)
	}
	return i
}

// replicas returns, per shard, the states of its replicas by peer.
func (c *cluster) replicas(name string) (map[uint32]map[uint64]pb.ReplicaState, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ci, err := c.client.GetCollectionClusterInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	out := map[uint32]map[uint64]pb.ReplicaState{}
	add := func(s uint32, p uint64, st pb.ReplicaState) {
		if out[s] == nil {
			out[s] = map[uint64]pb.ReplicaState{}
		}
		if _, dup := out[s][p]; dup {
			panic("two replicas of a shard on one peer")
		}
		out[s][p] = st
	}
	for _, l := range ci.GetLocalShards() {
		add(l.GetShardId(), ci.GetPeerId(), l.GetState())
	}
	for _, r := range ci.GetRemoteShards() {
		add(r.GetShardId(), r.GetPeerId(), r.GetState())
	}
	return out, nil
}

// exactlyActive checks that every shard has exactly n replicas, all Active (so on n distinct peers).
func (c *cluster) exactlyActive(name string, shards, n int) error {
	reps, err := c.replicas(name)
	if err != nil {
		return err
	}
	if len(reps) != shards {
		return fmt.Errorf("collection %s has %d shards, want %d", name, len(reps), shards)
	}
	for s, byPeer := range reps {
		active := 0
		for _, st := range byPeer {
			if st == pb.ReplicaState_Active {
				active++
			}
		}
		if active != n || len(byPeer) != n {
			return fmt.Errorf("shard %d of %s: replicas %v, want exactly %d Active", s, name, byPeer, n)
		}
	}
	return nil
}

func (c *cluster) aliasesOf(t *testing.T, name string) []string {
	t.Helper()
	a, err := c.client.ListCollectionAliases(tctx(t), name)
	if err != nil {
		t.Fatalf("ListCollectionAliases %s: %v", name, err)
	}
	return a
}

func (c *cluster) gone(name string) error {
	ok, err := c.client.CollectionExists(context.Background(), name)
	if err != nil {
		return err
	}
	if ok {
		return fmt.Errorf("collection %s still exists", name)
	}
	return nil
}
