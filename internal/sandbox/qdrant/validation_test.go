package qdrant_test

import (
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"

	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// wantValidation fails unless err is Qdrant's request validation error (src/tonic/api/mod.rs `validate`:
// INVALID_ARGUMENT "Validation error in body: [...]") naming field.
func wantValidation(t *testing.T, what string, err error, field string) {
	t.Helper()
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Validation error in body: [") ||
		!strings.Contains(err.Error(), field) {
		t.Errorf("%s: got %v, want INVALID_ARGUMENT \"Validation error in body\" naming %s", what, err, field)
	}
}

func vectors(size uint64) *qdrant.VectorsConfig {
	return qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: size, Distance: qdrant.Distance_Cosine})
}

// CreateCollection is refused, and nothing is created, for every bound of lib/api/build.rs that the
// request breaks; the bounds themselves are accepted.
func TestCreateCollectionOutOfBoundsIsRefused(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Options{})
	cases := []struct {
		field string
		req   *qdrant.CreateCollection
	}{
		{"hnsw_config.ef_construct", &qdrant.CreateCollection{HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(3))}}},
		{"wal_config.wal_capacity_mb", &qdrant.CreateCollection{WalConfig: &qdrant.WalConfigDiff{WalCapacityMb: qdrant.PtrOf(uint64(0))}}},
		{"optimizers_config.deleted_threshold", &qdrant.CreateCollection{OptimizersConfig: &qdrant.OptimizersConfigDiff{DeletedThreshold: qdrant.PtrOf(1.5)}}},
		{"optimizers_config.vacuum_min_vector_number", &qdrant.CreateCollection{OptimizersConfig: &qdrant.OptimizersConfigDiff{VacuumMinVectorNumber: qdrant.PtrOf(uint64(99))}}},
		{"optimizers_config.max_segment_size", &qdrant.CreateCollection{OptimizersConfig: &qdrant.OptimizersConfigDiff{MaxSegmentSize: qdrant.PtrOf(uint64(0))}}},
		{"quantization_config.quantization.quantile", &qdrant.CreateCollection{QuantizationConfig: qdrant.NewQuantizationScalar(
			&qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8, Quantile: qdrant.PtrOf(float32(0.4))})}},
		{"shard_number", &qdrant.CreateCollection{ShardNumber: qdrant.PtrOf(uint32(0))}},
		{"replication_factor", &qdrant.CreateCollection{ReplicationFactor: qdrant.PtrOf(uint32(0))}},
		{"write_consistency_factor", &qdrant.CreateCollection{WriteConsistencyFactor: qdrant.PtrOf(uint32(0))}},
		{"strict_mode_config.max_query_limit", &qdrant.CreateCollection{StrictModeConfig: &qdrant.StrictModeConfig{MaxQueryLimit: qdrant.PtrOf(uint32(0))}}},
		{"size", &qdrant.CreateCollection{VectorsConfig: vectors(0)}},
		{"size", &qdrant.CreateCollection{VectorsConfig: vectors(65537)}},
		{"hnsw_config.ef_construct", &qdrant.CreateCollection{VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"text": {Size: 4, Distance: qdrant.Distance_Dot, HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(1))}}})}},
	}
	for i, c := range cases {
		c.req.CollectionName = "bad" + itoa(uint64(i))
		if c.req.VectorsConfig == nil {
			c.req.VectorsConfig = vectors(4)
		}
		wantValidation(t, c.req.CollectionName+" "+c.field, e.client.CreateCollection(ctx(t), c.req), c.field)
		if ok, err := e.client.CollectionExists(ctx(t), c.req.CollectionName); err != nil || ok {
			t.Errorf("%s: refused create left a collection (exists=%v, %v)", c.field, ok, err)
		}
	}
	// Qdrant's names: 1 to 255 bytes without < > : " / \ | ? * NUL 0x1F; other control characters pass.
	for _, name := range []string{"", "a/b", "a*b", "x\x1fy", strings.Repeat("n", 256)} {
		wantValidation(t, "name "+name, e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: name, VectorsConfig: vectors(4)}), "collection_name")
	}
	// The bounds are inclusive.
	err := e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "edge\x01" + strings.Repeat("n", 250),
		VectorsConfig:    vectors(65536),
		HnswConfig:       &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(4))},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{DeletedThreshold: qdrant.PtrOf(1.0), VacuumMinVectorNumber: qdrant.PtrOf(uint64(100))},
		QuantizationConfig: qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8,
			Quantile: qdrant.PtrOf(float32(0.5))}),
	})
	if err != nil {
		t.Fatalf("create at the bounds: %v", err)
	}
	// A vector without a distance: Qdrant's conversion of the gRPC enum.
	err = e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "nodist",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4})})
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Malformed distance parameter: UnknownDistance") {
		t.Errorf("no distance: %v", err)
	}
}

// UpdateCollection's bounds refuse the whole update: nothing of it is applied.
func TestUpdateCollectionOutOfBoundsChangesNothing(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Options{})
	e.create("u", 4, 1, 1)
	cases := []struct {
		field string
		req   *qdrant.UpdateCollection
	}{
		{"hnsw_config.ef_construct", &qdrant.UpdateCollection{HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(2))}}},
		{"optimizers_config.deleted_threshold", &qdrant.UpdateCollection{OptimizersConfig: &qdrant.OptimizersConfigDiff{DeletedThreshold: qdrant.PtrOf(-0.1)}}},
		{"params.replication_factor", &qdrant.UpdateCollection{Params: &qdrant.CollectionParamsDiff{ReplicationFactor: qdrant.PtrOf(uint32(0))}}},
		{"params.write_consistency_factor", &qdrant.UpdateCollection{Params: &qdrant.CollectionParamsDiff{WriteConsistencyFactor: qdrant.PtrOf(uint32(0))}}},
		{"timeout", &qdrant.UpdateCollection{Timeout: qdrant.PtrOf(uint64(0))}},
		{"hnsw_config.ef_construct", &qdrant.UpdateCollection{VectorsConfig: qdrant.NewVectorsConfigDiff(
			&qdrant.VectorParamsDiff{HnswConfig: &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(1))}})}},
	}
	for _, c := range cases {
		c.req.CollectionName = "u"
		// Each bad field rides with a valid change that must not be applied either.
		c.req.Params = mergeParams(c.req.Params)
		wantValidation(t, c.field, e.client.UpdateCollection(ctx(t), c.req), c.field)
	}
	info, err := e.client.GetCollectionInfo(ctx(t), "u")
	if err != nil {
		t.Fatal(err)
	}
	if p := info.GetConfig().GetParams(); p.GetOnDiskPayload() != true || p.GetReplicationFactor() != 1 ||
		info.GetConfig().GetHnswConfig().GetEfConstruct() != 100 {
		t.Fatalf("a refused update changed the config: %v", info.GetConfig())
	}
}

func mergeParams(p *qdrant.CollectionParamsDiff) *qdrant.CollectionParamsDiff {
	if p == nil {
		p = &qdrant.CollectionParamsDiff{}
	}
	p.OnDiskPayload = qdrant.PtrOf(false)
	return p
}

// The other requests' bounds: delete and alias timeouts, scroll limit, field names, and the index
// params that must match the field type (convert_field_type).
func TestOtherRequestBoundsAreRefused(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Options{})
	e.create("o", 4, 1, 1)
	e.upsert("o", 2, 4)
	cc := e.client.GetCollectionsClient()
	_, err := cc.Delete(ctx(t), &qdrant.DeleteCollection{CollectionName: "o", Timeout: qdrant.PtrOf(uint64(0))})
	wantValidation(t, "delete timeout 0", err, "timeout")
	if ok, _ := e.client.CollectionExists(ctx(t), "o"); !ok {
		t.Fatal("a refused delete removed the collection")
	}
	_, err = cc.UpdateAliases(ctx(t), &qdrant.ChangeAliases{Timeout: qdrant.PtrOf(uint64(0)),
		Actions: []*qdrant.AliasOperations{qdrant.NewAliasCreate("oa", "o")}})
	wantValidation(t, "aliases timeout 0", err, "timeout")
	if al, _ := e.client.ListAliases(ctx(t)); len(al) != 0 {
		t.Fatalf("a refused alias change applied: %v", al)
	}
	_, err = e.client.Scroll(ctx(t), &qdrant.ScrollPoints{CollectionName: "o", Limit: qdrant.PtrOf(uint32(0))})
	wantValidation(t, "scroll limit 0", err, "limit")
	_, err = e.client.CreateFieldIndex(ctx(t), &qdrant.CreateFieldIndexCollection{CollectionName: "o", FieldName: "",
		FieldType: qdrant.FieldType_FieldTypeKeyword.Enum()})
	wantValidation(t, "index on an empty field name", err, "field_name")
	_, err = e.client.DeleteFieldIndex(ctx(t), &qdrant.DeleteFieldIndexCollection{CollectionName: "o", FieldName: ""})
	wantValidation(t, "delete index of an empty field name", err, "field_name")
	_, err = e.client.CreateFieldIndex(ctx(t), &qdrant.CreateFieldIndexCollection{CollectionName: "o", FieldName: "agent",
		FieldType:        qdrant.FieldType_FieldTypeKeyword.Enum(),
		FieldIndexParams: qdrant.NewPayloadIndexParamsText(&qdrant.TextIndexParams{Tokenizer: qdrant.TokenizerType_Word})})
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "field_type and field_index_params do not match") {
		t.Errorf("text params on a keyword index: %v", err)
	}
	info, _ := e.client.GetCollectionInfo(ctx(t), "o")
	if len(info.GetPayloadSchema()) != 0 {
		t.Fatalf("a refused index was created: %v", info.GetPayloadSchema())
	}
}

// A move, a replication or an abort from a peer to itself fails Qdrant's validate_shard_different_peers
// before anything is looked up (an abort is not a NOT_FOUND of an unknown transfer).
func TestShardOperationOntoItsOwnPeerIsAValidationError(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Options{})
	e.create("p", 4, 1, 1)
	from, _ := e.holderAndOther("p")
	for name, op := range map[string]*qdrant.UpdateCollectionClusterSetupRequest{
		"replicate": qdrant.NewUpdateCollectionClusterReplicateShard("p", &qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: from}),
		"move":      qdrant.NewUpdateCollectionClusterMoveShard("p", &qdrant.MoveShard{ShardId: 0, FromPeerId: from, ToPeerId: from}),
		"abort":     qdrant.NewUpdateCollectionClusterAbortTransfer("p", &qdrant.AbortShardTransfer{ShardId: 0, FromPeerId: from, ToPeerId: from}),
	} {
		wantValidation(t, name, e.setup("p", op), "cannot transfer shard to itself")
	}
	if st := e.states("p")[0]; len(st) != 1 || st[from] != qdrant.ReplicaState_Active {
		t.Fatalf("replicas after refused operations: %v", st)
	}
}

// Aliases as Qdrant's update_aliases and AliasPersistence: an alias named as a collection is
// ALREADY_EXISTS, deleting an alias that does not exist succeeds, renaming one is NOT_FOUND; a collection
// named as an alias is refused.
func TestAliasRulesFollowQdrant(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Options{})
	e.create("c1", 4, 1, 1)
	e.create("c2", 4, 1, 1)
	if err := e.client.CreateAlias(ctx(t), "c2", "c1"); code(err) != codes.AlreadyExists ||
		!strings.Contains(err.Error(), "Collection `c2` already exists!") {
		t.Errorf("alias named as a collection: %v", err)
	}
	if err := e.client.DeleteAlias(ctx(t), "never-made"); err != nil {
		t.Errorf("delete of an unknown alias: %v, want success", err)
	}
	if err := e.client.RenameAlias(ctx(t), "never-made", "other"); code(err) != codes.NotFound ||
		!strings.Contains(err.Error(), "Alias never-made does not exists!") {
		t.Errorf("rename of an unknown alias: %v", err)
	}
	if err := e.client.CreateAlias(ctx(t), "live", "c1"); err != nil {
		t.Fatal(err)
	}
	err := e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "live", VectorsConfig: vectors(4)})
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Can't create collection with name live. Alias with the same name already exists") {
		t.Errorf("collection named as an alias: %v", err)
	}
}

// Cluster operations on an unknown shard or peer: Qdrant's do_update_collection_cluster answers
// StorageError::BadRequest ("Bad request: Shard S of C does not exist", "Bad request: Peer P does not
// exist"), INVALID_ARGUMENT; a replica on a peer that is down can still be dropped.
func TestClusterOperationsOnUnknownShardOrPeer(t *testing.T) {
	t.Parallel()
	e := start(t, sandbox.Options{})
	e.create("k", 4, 1, 2)
	st := e.states("k")[0]
	var holders []uint64
	for p := range st {
		holders = append(holders, p)
	}
	other := otherPeers(e, holders...)[0]
	const nobody = 42
	for name, c := range map[string]struct {
		op   *qdrant.UpdateCollectionClusterSetupRequest
		text string
	}{
		"replicate unknown shard": {qdrant.NewUpdateCollectionClusterReplicateShard("k", &qdrant.ReplicateShard{ShardId: 7, FromPeerId: holders[0], ToPeerId: other}), "Bad request: Shard 7 of k does not exist"},
		"move to unknown peer":    {qdrant.NewUpdateCollectionClusterMoveShard("k", &qdrant.MoveShard{ShardId: 0, FromPeerId: holders[0], ToPeerId: nobody}), "Bad request: Peer 42 does not exist"},
		"move from unknown peer":  {qdrant.NewUpdateCollectionClusterMoveShard("k", &qdrant.MoveShard{ShardId: 0, FromPeerId: nobody, ToPeerId: other}), "Bad request: Peer 42 does not exist"},
		"drop unknown shard":      {qdrant.NewUpdateCollectionClusterDropReplica("k", &qdrant.Replica{ShardId: 7, PeerId: holders[0]}), "Bad request: Shard 7 of k does not exist"},
		"drop on unknown peer":    {qdrant.NewUpdateCollectionClusterDropReplica("k", &qdrant.Replica{ShardId: 0, PeerId: nobody}), "Bad request: Peer 42 does not exist"},
	} {
		if err := e.setup("k", c.op); code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: %v, want INVALID_ARGUMENT %q", name, err, c.text)
		}
	}
	// A down peer exists: its replica can be dropped (the other one is Active).
	if err := e.srv.SetPeerDown(holders[1], true); err != nil {
		t.Fatal(err)
	}
	if err := e.setup("k", qdrant.NewUpdateCollectionClusterDropReplica("k", &qdrant.Replica{ShardId: 0, PeerId: holders[1]})); err != nil {
		t.Fatalf("drop the replica of a down peer: %v", err)
	}
}
