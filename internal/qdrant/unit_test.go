package qdrant

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	pb "github.com/qdrant/go-client/qdrant"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

func rs(states ...pb.ReplicaState) []replicaInfo {
	var out []replicaInfo
	for i, s := range states {
		out = append(out, replicaInfo{Peer: uint64(i + 1), State: s})
	}
	return out
}

// What Read reports as replication_factor: the configured value only when the replicas really are that.
func TestEffectiveReplication(t *testing.T) {
	A, D, P := pb.ReplicaState_Active, pb.ReplicaState_Dead, pb.ReplicaState_Partial
	cases := []struct {
		name   string
		rf     int64
		shards []shardInfo
		want   int64
	}{
		{"exact", 2, []shardInfo{{ID: 0, Replicas: rs(A, A)}, {ID: 1, Replicas: rs(A, A)}}, 2},
		{"one shard short", 3, []shardInfo{{ID: 0, Replicas: rs(A, A, A)}, {ID: 1, Replicas: rs(A, A)}}, 2},
		{"a dead replica counts as missing", 2, []shardInfo{{ID: 0, Replicas: rs(A, D)}}, 1},
		{"an extra dead replica beside enough active ones", 2, []shardInfo{{ID: 0, Replicas: rs(A, A, D)}}, 3},
		{"an extra active replica", 1, []shardInfo{{ID: 0, Replicas: rs(A, A)}}, 2},
		{"a running transfer", 2, []shardInfo{{ID: 0, Replicas: rs(A, A), Busy: true}}, 3},
		{"a partial target", 2, []shardInfo{{ID: 0, Replicas: rs(A, P)}}, 1},
		{"no shards known", 3, nil, 3},
	}
	for _, c := range cases {
		if got := effectiveReplication(c.rf, c.shards); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}

// A new replica goes first onto a peer holding a Dead replica of the shard (that repairs it), then onto
// the least loaded peer without one; peers reported down come last.
func TestTargetOrder(t *testing.T) {
	have := map[uint64]replicaInfo{1: {Peer: 1, State: pb.ReplicaState_Active}, 4: {Peer: 4, State: pb.ReplicaState_Dead}}
	got := targetOrder([]uint64{1, 2, 3, 4, 5}, have, map[uint64]string{2: "unreachable"}, map[uint64]int{3: 5, 5: 1})
	want := []uint64{4, 5, 3, 2}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func vecs(t *testing.T, m map[string][2]any) types.Map {
	t.Helper()
	el := map[string]attr.Value{}
	for k, v := range m {
		el[k] = types.ObjectValueMust(vectorAttrTypes, map[string]attr.Value{"size": types.Int64Value(int64(v[0].(int))),
			"distance": types.StringValue(v[1].(string)), "on_disk": types.BoolValue(false)})
	}
	return types.MapValueMust(types.ObjectType{AttrTypes: vectorAttrTypes}, el)
}

// The replacement warning names each change Qdrant cannot make in place, and nothing else.
func TestReplacementReasons(t *testing.T) {
	ctx := context.Background()
	base := collectionModel{Name: types.StringValue("c"), ShardNumber: types.Int64Value(3), ShardingMethod: types.StringValue("auto"),
		Vectors: vecs(t, map[string][2]any{"text": {4, "Cosine"}, "img": {8, "Dot"}})}
	same := base
	same.Vectors = vecs(t, map[string][2]any{"text": {4, "Cosine"}, "img": {8, "Dot"}})
	if got := replacementReasons(ctx, base, same); len(got) != 0 {
		t.Fatalf("no change, reasons %v", got)
	}
	changed := base
	changed.ShardNumber = types.Int64Value(6)
	changed.Vectors = vecs(t, map[string][2]any{"text": {4, "Euclid"}, "audio": {16, "Dot"}})
	got := strings.Join(replacementReasons(ctx, base, changed), "; ")
	for _, want := range []string{"shard_number 3 -> 6", `vectors["text"].distance Cosine -> Euclid`, `vector "img" removed`, `vector "audio" added`} {
		if !strings.Contains(got, want) {
			t.Errorf("reasons %q lack %q", got, want)
		}
	}
	unknownShards := base
	unknownShards.ShardNumber = types.Int64Unknown()
	if got := replacementReasons(ctx, base, unknownShards); len(got) != 0 {
		t.Errorf("an unknown shard_number is no reason: %v", got)
	}
}

// The provider warns when the API key would travel in clear text beyond loopback, or when a remote
// cluster has no key; loopback (the sandbox) and TLS are quiet.
func TestTransportWarning(t *testing.T) {
	cases := []struct {
		cfg  shared.QdrantConfig
		want string
	}{
		{shared.QdrantConfig{URL: "127.0.0.1:6334", APIKey: "k"}, ""},
		{shared.QdrantConfig{URL: "localhost:6334"}, ""},
		{shared.QdrantConfig{URL: "qdrant.internal:6334", APIKey: "k", TLS: true}, ""},
		{shared.QdrantConfig{URL: "qdrant.internal:6334", APIKey: "k", CACert: "pem"}, ""},
		{shared.QdrantConfig{URL: "qdrant.internal:6334", APIKey: "k"}, "sent in clear text"},
		{shared.QdrantConfig{URL: "10.0.0.5:6334", TLS: true}, "No API key"},
	}
	for _, c := range cases {
		got := transportWarning(&c.cfg)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%+v: got %q, want %q", c.cfg, got, c.want)
		}
		if strings.Contains(got, "k\"") || (c.cfg.APIKey != "" && strings.Contains(got, " "+c.cfg.APIKey+" ")) {
			t.Errorf("the warning shows the key: %q", got)
		}
	}
}
