package qdrant_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

const apiKey = "test-api-key"

type env struct {
	t      *testing.T
	srv    *sandbox.Server
	client *qdrant.Client
	rest   string
	host   string
	port   int
	stop   func()
}

func start(t *testing.T, opts sandbox.Options) *env {
	t.Helper()
	if opts.APIKey == "" {
		opts.APIKey = apiKey
	}
	if opts.ReplicaSyncDelay == 0 {
		opts.ReplicaSyncDelay = 300 * time.Millisecond
	}
	k := kit.New(0, 0, 1)
	opts.Kit = k
	s, err := sandbox.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(k.ServerOptions()...)
	s.Register(g)
	go func() { _ = g.Serve(lis) }()
	hs := httptest.NewServer(s.RESTHandler())
	addr := lis.Addr().(*net.TCPAddr)
	c, err := qdrant.NewClient(&qdrant.Config{Host: "127.0.0.1", Port: addr.Port, APIKey: opts.APIKey, UseTLS: false})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, srv: s, client: c, rest: hs.URL, host: "127.0.0.1", port: addr.Port}
	stopped := false
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		c.Close()
		hs.Close()
		g.Stop()
		_ = s.Close()
	}
	t.Cleanup(e.stop)
	return e
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func (e *env) create(name string, size uint64, shards, rf uint32) {
	e.t.Helper()
	err := e.client.CreateCollection(ctx(e.t), &qdrant.CreateCollection{
		CollectionName:    name,
		VectorsConfig:     qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: size, Distance: qdrant.Distance_Cosine}),
		ShardNumber:       qdrant.PtrOf(shards),
		ReplicationFactor: qdrant.PtrOf(rf),
	})
	if err != nil {
		e.t.Fatalf("create %s: %v", name, err)
	}
}

func (e *env) upsert(name string, n int, dim int) {
	e.t.Helper()
	var pts []*qdrant.PointStruct
	for i := 1; i <= n; i++ {
		v := make([]float32, dim)
		v[0] = float32(i)
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectors(v...),
			Payload: qdrant.NewValueMap(map[string]any{"n": i, "agent": "alfred-bot"})})
	}
	if _, err := e.client.Upsert(ctx(e.t), &qdrant.UpsertPoints{CollectionName: name, Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
		e.t.Fatalf("upsert: %v", err)
	}
}

func (e *env) count(name string) uint64 {
	e.t.Helper()
	n, err := e.client.Count(ctx(e.t), &qdrant.CountPoints{CollectionName: name, Exact: qdrant.PtrOf(true)})
	if err != nil {
		e.t.Fatalf("count: %v", err)
	}
	return n
}

// states returns peer -> state for each shard.
func (e *env) states(name string) map[uint32]map[uint64]qdrant.ReplicaState {
	e.t.Helper()
	info, err := e.client.GetCollectionClusterInfo(ctx(e.t), name)
	if err != nil {
		e.t.Fatalf("cluster info: %v", err)
	}
	out := map[uint32]map[uint64]qdrant.ReplicaState{}
	add := func(shard uint32, peer uint64, st qdrant.ReplicaState) {
		if out[shard] == nil {
			out[shard] = map[uint64]qdrant.ReplicaState{}
		}
		out[shard][peer] = st
	}
	for _, l := range info.GetLocalShards() {
		add(l.GetShardId(), info.GetPeerId(), l.GetState())
	}
	for _, r := range info.GetRemoteShards() {
		add(r.GetShardId(), r.GetPeerId(), r.GetState())
	}
	return out
}

func code(err error) codes.Code { return status.Code(err) }

func TestHealthCheck(t *testing.T) {
	e := start(t, sandbox.Options{})
	h, err := e.client.HealthCheck(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.GetTitle() == "" || h.GetVersion() != sandbox.Version {
		t.Fatalf("health = %v", h)
	}
	resp, err := http.Get(e.rest + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/healthz: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestAPIKeyRequired(t *testing.T) {
	e := start(t, sandbox.Options{})
	for _, key := range []string{"", "wrong"} {
		c, err := qdrant.NewClient(&qdrant.Config{Host: e.host, Port: e.port, APIKey: key, SkipCompatibilityCheck: true})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ListCollections(ctx(t))
		c.Close()
		if code(err) != codes.Unauthenticated {
			t.Fatalf("key %q: got %v, want UNAUTHENTICATED", key, err)
		}
	}
	req, _ := http.NewRequest("GET", e.rest+"/collections", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("REST without api-key: %d", resp.StatusCode)
	}
	req.Header.Set("api-key", apiKey)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("REST with api-key: %d", resp.StatusCode)
	}
}

func TestCollectionCreateGetListDelete(t *testing.T) {
	e := start(t, sandbox.Options{})
	err := e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{
		CollectionName: "memories",
		VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
			"text":  {Size: 384, Distance: qdrant.Distance_Cosine, OnDisk: qdrant.PtrOf(true)},
			"image": {Size: 512, Distance: qdrant.Distance_Dot},
		}),
		ShardNumber:            qdrant.PtrOf(uint32(2)),
		ReplicationFactor:      qdrant.PtrOf(uint32(2)),
		WriteConsistencyFactor: qdrant.PtrOf(uint32(1)),
		OnDiskPayload:          qdrant.PtrOf(false),
		HnswConfig:             &qdrant.HnswConfigDiff{M: qdrant.PtrOf(uint64(32))},
		QuantizationConfig:     qdrant.NewQuantizationScalar(&qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8}),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "memories",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine})}); code(err) != codes.AlreadyExists {
		t.Fatalf("second create: %v", err)
	}
	info, err := e.client.GetCollectionInfo(ctx(t), "memories")
	if err != nil {
		t.Fatal(err)
	}
	p := info.GetConfig().GetParams()
	if info.GetStatus() != qdrant.CollectionStatus_Green || p.GetShardNumber() != 2 || p.GetReplicationFactor() != 2 || p.GetOnDiskPayload() {
		t.Fatalf("info = %v", info)
	}
	if m := p.GetVectorsConfig().GetParamsMap().GetMap(); m["text"].GetSize() != 384 || !m["text"].GetOnDisk() || m["image"].GetDistance() != qdrant.Distance_Dot {
		t.Fatalf("vectors = %v", m)
	}
	h := info.GetConfig().GetHnswConfig()
	if h.GetM() != 32 || h.GetEfConstruct() != 100 { // sent value kept, default filled
		t.Fatalf("hnsw = %v", h)
	}
	if info.GetConfig().GetOptimizerConfig().GetDeletedThreshold() != 0.2 || info.GetConfig().GetQuantizationConfig().GetScalar() == nil {
		t.Fatalf("config = %v", info.GetConfig())
	}
	if info.GetPointsCount() != 0 {
		t.Fatalf("points_count = %d", info.GetPointsCount())
	}
	e.create("tasks", 4, 1, 1)
	names, err := e.client.ListCollections(ctx(t))
	if err != nil || strings.Join(names, ",") != "memories,tasks" {
		t.Fatalf("list = %v %v", names, err)
	}
	if ok, _ := e.client.CollectionExists(ctx(t), "tasks"); !ok {
		t.Fatal("tasks does not exist")
	}
	if err := e.client.DeleteCollection(ctx(t), "tasks"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := e.client.CollectionExists(ctx(t), "tasks"); ok {
		t.Fatal("tasks still exists")
	}
	if _, err := e.client.GetCollectionInfo(ctx(t), "tasks"); code(err) != codes.NotFound {
		t.Fatalf("get deleted: %v", err)
	}
}

func TestDefaultsShardPerPeer(t *testing.T) {
	e := start(t, sandbox.Options{})
	if err := e.client.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "d",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Euclid})}); err != nil {
		t.Fatal(err)
	}
	info, err := e.client.GetCollectionInfo(ctx(t), "d")
	if err != nil {
		t.Fatal(err)
	}
	p := info.GetConfig().GetParams()
	if p.GetShardNumber() != 3 || p.GetReplicationFactor() != 1 || p.GetWriteConsistencyFactor() != 1 || !p.GetOnDiskPayload() {
		t.Fatalf("defaults = %v", p)
	}
}

func TestUpdateMutableParamsAndImmutableShardsAndSize(t *testing.T) {
	e := start(t, sandbox.Options{})
	e.create("c", 8, 2, 1)
	err := e.client.UpdateCollection(ctx(t), &qdrant.UpdateCollection{
		CollectionName: "c",
		Params: &qdrant.CollectionParamsDiff{ReplicationFactor: qdrant.PtrOf(uint32(2)),
			WriteConsistencyFactor: qdrant.PtrOf(uint32(2)), OnDiskPayload: qdrant.PtrOf(false)},
		HnswConfig:       &qdrant.HnswConfigDiff{EfConstruct: qdrant.PtrOf(uint64(200))},
		OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf(uint64(0))},
		VectorsConfig:    qdrant.NewVectorsConfigDiff(&qdrant.VectorParamsDiff{OnDisk: qdrant.PtrOf(true)}),
	})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := e.client.GetCollectionInfo(ctx(t), "c")
	p := info.GetConfig().GetParams()
	if p.GetReplicationFactor() != 2 || p.GetWriteConsistencyFactor() != 2 || p.GetOnDiskPayload() ||
		info.GetConfig().GetHnswConfig().GetEfConstruct() != 200 || info.GetConfig().GetHnswConfig().GetM() != 16 ||
		info.GetConfig().GetOptimizerConfig().GetIndexingThreshold() != 0 || !p.GetVectorsConfig().GetParams().GetOnDisk() {
		t.Fatalf("after update: %v", info.GetConfig())
	}
	// shard_number and vector size cannot be changed: UpdateCollection has no field for them, they stay.
	if p.GetShardNumber() != 2 || p.GetVectorsConfig().GetParams().GetSize() != 8 {
		t.Fatalf("immutable values changed: %v", p)
	}
	// Raising replication_factor does not add replicas by itself (self-hosted Qdrant does not).
	for sh, reps := range e.states("c") {
		if len(reps) != 1 {
			t.Fatalf("shard %d has %d replicas after update", sh, len(reps))
		}
	}
	// A vector that does not exist cannot be configured.
	err = e.client.UpdateCollection(ctx(t), &qdrant.UpdateCollection{CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfigDiffMap(map[string]*qdrant.VectorParamsDiff{"other": {OnDisk: qdrant.PtrOf(true)}})})
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "Not existing vector name") {
		t.Fatalf("unknown vector: %v", err)
	}
	if err := e.client.UpdateCollection(ctx(t), &qdrant.UpdateCollection{CollectionName: "nope"}); code(err) != codes.NotFound {
		t.Fatalf("update unknown: %v", err)
	}
}

func TestPlacementAcrossPeers(t *testing.T) {
	e := start(t, sandbox.Options{})
	peers := e.srv.PeerIDs()
	if len(peers) != 3 {
		t.Fatalf("peers = %v", peers)
	}
	e.create("p", 4, 3, 2)
	perPeer := map[uint64]int{}
	st := e.states("p")
	if len(st) != 3 {
		t.Fatalf("shards = %v", st)
	}
	for sh, reps := range st {
		if len(reps) != 2 {
			t.Fatalf("shard %d: %v", sh, reps)
		}
		for p, s := range reps {
			if s != qdrant.ReplicaState_Active {
				t.Fatalf("shard %d on %d is %s", sh, p, s)
			}
			perPeer[p]++
		}
	}
	for _, p := range peers {
		if perPeer[p] != 2 { // 3 shards x 2 replicas spread evenly over 3 peers
			t.Fatalf("placement per peer = %v", perPeer)
		}
	}
	// replication_factor above the number of peers: one replica per peer, as Qdrant does.
	e.create("big", 4, 1, 5)
	if reps := e.states("big")[0]; len(reps) != 3 {
		t.Fatalf("rf 5 on 3 peers: %v", reps)
	}
	info, _ := e.client.GetCollectionInfo(ctx(t), "big")
	if info.GetConfig().GetParams().GetReplicationFactor() != 5 {
		t.Fatal("replication_factor as sent is not kept")
	}
}

func TestReplicateShardBecomesActive(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaSyncDelay: 400 * time.Millisecond})
	e.create("r", 4, 1, 1)
	from, to := e.holderAndOther("r")
	err := e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterReplicateShard("r",
		&qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to}))
	if err != nil {
		t.Fatal(err)
	}
	// stream_records (the default method) starts the receiver in Partial (start_shard_transfer).
	st := e.states("r")[0]
	if st[from] != qdrant.ReplicaState_Active || st[to] != qdrant.ReplicaState_Partial {
		t.Fatalf("right after replicate: %v", st)
	}
	info, _ := e.client.GetCollectionClusterInfo(ctx(t), "r")
	if len(info.GetShardTransfers()) != 1 {
		t.Fatalf("transfers = %v", info.GetShardTransfers())
	}
	// A second transfer of the same shard is refused while the first runs.
	err = e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterReplicateShard("r",
		&qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to}))
	if code(err) != codes.InvalidArgument {
		t.Fatalf("duplicate transfer: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.states("r")[0][to] != qdrant.ReplicaState_Active {
		if time.Now().After(deadline) {
			t.Fatalf("replica still %v", e.states("r")[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st := e.states("r")[0]; len(st) != 2 || st[from] != qdrant.ReplicaState_Active {
		t.Fatalf("after transfer: %v", st)
	}
}

func TestDropReplicaRefusesLast(t *testing.T) {
	e := start(t, sandbox.Options{})
	e.create("d", 4, 1, 2)
	var peers []uint64
	for p := range e.states("d")[0] {
		peers = append(peers, p)
	}
	drop := func(p uint64) error {
		return e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterDropReplica("d",
			&qdrant.Replica{ShardId: 0, PeerId: p}))
	}
	if err := drop(peers[0]); err != nil {
		t.Fatal(err)
	}
	if err := drop(peers[1]); code(err) != codes.InvalidArgument {
		t.Fatalf("dropping the last replica: %v", err)
	}
	if st := e.states("d")[0]; len(st) != 1 {
		t.Fatalf("replicas = %v", st)
	}
}

func TestMoveShardAndAbort(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaSyncDelay: 200 * time.Millisecond})
	e.create("m", 4, 1, 1)
	from, _ := e.holderAndOther("m")
	others := otherPeers(e, from)
	// Abort a move: the move's target replica is removed (abort_shard_transfer: not sync -> remove_peer).
	if err := e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterMoveShard("m",
		&qdrant.MoveShard{ShardId: 0, FromPeerId: from, ToPeerId: others[0]})); err != nil {
		t.Fatal(err)
	}
	if err := e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterAbortTransfer("m",
		&qdrant.AbortShardTransfer{ShardId: 0, FromPeerId: from, ToPeerId: others[0]})); err != nil {
		t.Fatal(err)
	}
	if st := e.states("m")[0]; len(st) != 1 || st[from] != qdrant.ReplicaState_Active {
		t.Fatalf("after aborting a move: %v", st)
	}
	// Aborting a transfer that does not exist is NOT_FOUND.
	err := e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterAbortTransfer("m",
		&qdrant.AbortShardTransfer{ShardId: 0, FromPeerId: from, ToPeerId: others[0]}))
	if code(err) != codes.NotFound {
		t.Fatalf("abort of no transfer: %v", err)
	}
	// Move: when done, only the target holds the shard.
	if err := e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterMoveShard("m",
		&qdrant.MoveShard{ShardId: 0, FromPeerId: from, ToPeerId: others[1]})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	st := e.states("m")[0]
	if len(st) != 1 || st[others[1]] != qdrant.ReplicaState_Active {
		t.Fatalf("after move: %v", st)
	}
}

func TestPeerDownMakesReplicasDead(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaSyncDelay: 200 * time.Millisecond, AutoRecoveryDelay: 300 * time.Millisecond})
	e.create("x", 4, 3, 2)
	victim := e.srv.PeerIDs()[1]
	if err := e.srv.SetPeerDown(victim, true); err != nil {
		t.Fatal(err)
	}
	dead := 0
	for _, reps := range e.states("x") {
		for p, s := range reps {
			if p == victim {
				if s != qdrant.ReplicaState_Dead {
					t.Fatalf("replica on down peer is %s", s)
				}
				dead++
			} else if s != qdrant.ReplicaState_Active {
				t.Fatalf("replica on peer %d is %s", p, s)
			}
		}
	}
	if dead != 2 {
		t.Fatalf("%d dead replicas, want 2", dead)
	}
	// /cluster reports the failure; the peer comes back and its replicas recover.
	req, _ := http.NewRequest("GET", e.rest+"/cluster", nil)
	req.Header.Set("api-key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var cl struct {
		Result struct {
			Status   string                    `json:"status"`
			PeerID   uint64                    `json:"peer_id"`
			Peers    map[string]map[string]any `json:"peers"`
			RaftInfo struct {
				Leader *uint64 `json:"leader"`
				Role   string  `json:"role"`
			} `json:"raft_info"`
			Failures map[string]any `json:"message_send_failures"`
		} `json:"result"`
		Status string `json:"status"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cl); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cl.Status != "ok" || cl.Result.Status != "enabled" || len(cl.Result.Peers) != 3 || cl.Result.RaftInfo.Leader == nil ||
		*cl.Result.RaftInfo.Leader != e.srv.PeerIDs()[0] || cl.Result.RaftInfo.Role != "Leader" || len(cl.Result.Failures) != 1 {
		t.Fatalf("cluster = %+v", cl)
	}
	if err := e.srv.SetPeerDown(victim, false); err != nil {
		t.Fatal(err)
	}
	// Back up, its replicas are still Dead until its local-state sync requests their recovery: a
	// wal_delta transfer from an active replica (Recovery first), one at a time (strict conflict check),
	// then Active.
	for _, reps := range e.states("x") {
		if s, ok := reps[victim]; ok && s != qdrant.ReplicaState_Dead {
			t.Fatalf("right after the peer is back its replica is %s", s)
		}
	}
	sawRecovery := false
	deadline := time.Now().Add(5 * time.Second)
	for {
		info, err := e.client.GetCollectionClusterInfo(ctx(t), "x")
		if err != nil {
			t.Fatal(err)
		}
		if len(info.GetShardTransfers()) > 1 {
			t.Fatalf("recoveries into one peer ran side by side: %v", info.GetShardTransfers())
		}
		for _, tr := range info.GetShardTransfers() {
			if tr.GetTo() != victim || !tr.GetSync() {
				t.Fatalf("unexpected transfer %v", tr)
			}
			sawRecovery = true
		}
		active := 0
		for _, reps := range e.states("x") {
			for p, s := range reps {
				if p == victim && s == qdrant.ReplicaState_Recovery {
					sawRecovery = true
				}
				if s == qdrant.ReplicaState_Active {
					active++
				}
			}
		}
		if active == 6 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("replicas not recovered: %v", e.states("x"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sawRecovery {
		t.Fatal("the dead replicas became Active without a recovery transfer")
	}
}

func TestUpsertScrollCountGetDelete(t *testing.T) {
	e := start(t, sandbox.Options{})
	e.create("pts", 4, 2, 1)
	e.upsert("pts", 25, 4)
	if n := e.count("pts"); n != 25 {
		t.Fatalf("count = %d", n)
	}
	var all []uint64
	var offset *qdrant.PointId
	for {
		page, next, err := e.client.ScrollAndOffset(ctx(t), &qdrant.ScrollPoints{CollectionName: "pts", Limit: qdrant.PtrOf(uint32(10)),
			Offset: offset, WithPayload: qdrant.NewWithPayload(true)})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page {
			all = append(all, p.GetId().GetNum())
			if p.GetPayload()["agent"].GetStringValue() != "alfred-bot" {
				t.Fatalf("payload = %v", p.GetPayload())
			}
		}
		if next == nil {
			break
		}
		offset = next
	}
	if len(all) != 25 || all[0] != 1 || all[24] != 25 {
		t.Fatalf("scrolled ids = %v", all)
	}
	got, err := e.client.Get(ctx(t), &qdrant.GetPoints{CollectionName: "pts", Ids: []*qdrant.PointId{qdrant.NewIDNum(3)},
		WithVectors: qdrant.NewWithVectors(true)})
	if err != nil || len(got) != 1 || got[0].GetVectors().GetVector().GetDense().GetData()[0] != 3 {
		t.Fatalf("get = %v %v", got, err)
	}
	if _, err := e.client.Delete(ctx(t), &qdrant.DeletePoints{CollectionName: "pts",
		Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(2))}); err != nil {
		t.Fatal(err)
	}
	if n := e.count("pts"); n != 23 {
		t.Fatalf("count after delete = %d", n)
	}
	info, _ := e.client.GetCollectionInfo(ctx(t), "pts")
	if info.GetPointsCount() != 23 {
		t.Fatalf("points_count = %d", info.GetPointsCount())
	}
	cl, _ := e.client.GetCollectionClusterInfo(ctx(t), "pts")
	var sum uint64
	for _, l := range cl.GetLocalShards() {
		sum += l.GetPointsCount()
	}
	if sum == 0 {
		t.Fatal("local shards report no points")
	}
}

func TestVectorDimensionMismatch(t *testing.T) {
	e := start(t, sandbox.Options{})
	e.create("dim", 4, 1, 1)
	_, err := e.client.Upsert(ctx(t), &qdrant.UpsertPoints{CollectionName: "dim", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 2, 3, 4)},
		{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectors(1, 2, 3)},
	}})
	if code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "expected dim: 4, got 3") {
		t.Fatalf("got %v", err)
	}
	if n := e.count("dim"); n != 0 {
		t.Fatalf("a refused batch stored %d points", n)
	}
	_, err = e.client.Upsert(ctx(t), &qdrant.UpsertPoints{CollectionName: "dim", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"nope": qdrant.NewVector(1, 2, 3, 4)})}}})
	if code(err) != codes.InvalidArgument {
		t.Fatalf("unknown vector name: %v", err)
	}
}

func TestAliases(t *testing.T) {
	e := start(t, sandbox.Options{})
	e.create("v1", 4, 1, 1)
	e.create("v2", 4, 1, 1)
	if err := e.client.CreateAlias(ctx(t), "live", "v1"); err != nil {
		t.Fatal(err)
	}
	e.upsert("live", 2, 4) // an alias resolves for points
	if n := e.count("v1"); n != 2 {
		t.Fatalf("points through alias: %d", n)
	}
	// Switch the alias atomically.
	err := e.client.UpdateAliases(ctx(t), []*qdrant.AliasOperations{
		qdrant.NewAliasDelete("live"), qdrant.NewAliasCreate("live", "v2")})
	if err != nil {
		t.Fatal(err)
	}
	al, err := e.client.ListAliases(ctx(t))
	if err != nil || len(al) != 1 || al[0].GetCollectionName() != "v2" {
		t.Fatalf("aliases = %v %v", al, err)
	}
	names, _ := e.client.ListCollectionAliases(ctx(t), "v1")
	if len(names) != 0 {
		t.Fatalf("v1 aliases = %v", names)
	}
	if err := e.client.CreateAlias(ctx(t), "x", "missing"); code(err) != codes.NotFound {
		t.Fatalf("alias to missing collection: %v", err)
	}
	// Deleting a missing alias succeeds in Qdrant (AliasPersistence::remove); see TestAliasRulesFollowQdrant.
}

func TestPayloadIndex(t *testing.T) {
	e := start(t, sandbox.Options{})
	e.create("idx", 4, 1, 1)
	e.upsert("idx", 3, 4)
	if _, err := e.client.CreateFieldIndex(ctx(t), &qdrant.CreateFieldIndexCollection{CollectionName: "idx",
		FieldName: "agent", FieldType: qdrant.FieldType_FieldTypeKeyword.Enum()}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateFieldIndex(ctx(t), &qdrant.CreateFieldIndexCollection{CollectionName: "idx",
		FieldName: "n", FieldType: qdrant.FieldType_FieldTypeInteger.Enum()}); err != nil {
		t.Fatal(err)
	}
	info, _ := e.client.GetCollectionInfo(ctx(t), "idx")
	ps := info.GetPayloadSchema()
	if ps["agent"].GetDataType() != qdrant.PayloadSchemaType_Keyword || ps["n"].GetDataType() != qdrant.PayloadSchemaType_Integer || ps["agent"].GetPoints() != 3 {
		t.Fatalf("payload_schema = %v", ps)
	}
	if _, err := e.client.DeleteFieldIndex(ctx(t), &qdrant.DeleteFieldIndexCollection{CollectionName: "idx", FieldName: "n"}); err != nil {
		t.Fatal(err)
	}
	info, _ = e.client.GetCollectionInfo(ctx(t), "idx")
	if _, ok := info.GetPayloadSchema()["n"]; ok || len(info.GetPayloadSchema()) != 1 {
		t.Fatalf("after delete: %v", info.GetPayloadSchema())
	}
}

func restDo(t *testing.T, method, url, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("api-key", apiKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestSnapshotRoundtrip(t *testing.T) {
	dir := t.TempDir()
	e := start(t, sandbox.Options{Dir: dir})
	// every peer holds every shard, so the first peer's snapshot has all the points (a node's snapshot
	// holds only its own shards: TestEveryPeerIsAddressableOnItsOwnPorts)
	e.create("snap", 4, 2, 3)
	e.upsert("snap", 7, 4)
	d, err := e.client.CreateSnapshot(ctx(t), "snap")
	if err != nil {
		t.Fatal(err)
	}
	peer := e.srv.PeerIDs()[0]
	if !strings.HasPrefix(d.GetName(), "snap-") || !strings.Contains(d.GetName(), "-"+itoa(peer)+"-") || !strings.HasSuffix(d.GetName(), ".snapshot") ||
		d.GetSize() <= 0 || len(d.GetChecksum()) != 64 {
		t.Fatalf("snapshot = %v", d)
	}
	list, err := e.client.ListSnapshots(ctx(t), "snap")
	if err != nil || len(list) != 1 || list[0].GetName() != d.GetName() {
		t.Fatalf("list = %v %v", list, err)
	}
	// Download over REST: the bytes match size and checksum.
	codeDL, file := restDo(t, "GET", e.rest+"/collections/snap/snapshots/"+d.GetName(), "", nil)
	if codeDL != 200 || int64(len(file)) != d.GetSize() {
		t.Fatalf("download: %d, %d bytes", codeDL, len(file))
	}
	// Upload into a new collection (multipart field `snapshot`): points are restored.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("snapshot", d.GetName())
	fw.Write(file)
	mw.Close()
	c, b := restDo(t, "POST", e.rest+"/collections/restored/snapshots/upload?priority=snapshot&checksum="+d.GetChecksum(), mw.FormDataContentType(), &buf)
	var env struct {
		Result any     `json:"result"`
		Status any     `json:"status"`
		Time   float64 `json:"time"`
	}
	if c != 200 || json.Unmarshal(b, &env) != nil || env.Result != true || env.Status != "ok" {
		t.Fatalf("upload: %d %s", c, b)
	}
	if n := e.count("restored"); n != 7 {
		t.Fatalf("restored points = %d", n)
	}
	info, _ := e.client.GetCollectionInfo(ctx(t), "restored")
	if info.GetConfig().GetParams().GetShardNumber() != 2 || info.GetConfig().GetParams().GetVectorsConfig().GetParams().GetSize() != 4 {
		t.Fatalf("restored config = %v", info.GetConfig())
	}
	// A wrong checksum is refused.
	var buf2 bytes.Buffer
	mw2 := multipart.NewWriter(&buf2)
	fw2, _ := mw2.CreateFormFile("snapshot", "x.snapshot")
	fw2.Write(file)
	mw2.Close()
	if c, _ := restDo(t, "POST", e.rest+"/collections/other/snapshots/upload?checksum="+strings.Repeat("0", 64), mw2.FormDataContentType(), &buf2); c != 400 {
		t.Fatalf("bad checksum: %d", c)
	}
	// Recover the original collection in place from its file after deleting points.
	if _, err := e.client.Delete(ctx(t), &qdrant.DeletePoints{CollectionName: "snap", Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}); err != nil {
		t.Fatal(err)
	}
	loc := "file://" + filepath.Join(dir, "qdrant-snapshots", "snap", d.GetName())
	c, b = restDo(t, "PUT", e.rest+"/collections/snap/snapshots/recover", "application/json", strings.NewReader(`{"location":"`+loc+`","priority":"snapshot"}`))
	if c != 200 {
		t.Fatalf("recover file: %d %s", c, b)
	}
	if n := e.count("snap"); n != 7 {
		t.Fatalf("after recover: %d points", n)
	}
	// Recover from an http location (here the emulator's own download URL, without auth it would 401,
	// so serve the bytes from a plain server).
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(file) }))
	defer hs.Close()
	c, b = restDo(t, "PUT", e.rest+"/collections/fromhttp/snapshots/recover", "application/json", strings.NewReader(`{"location":"`+hs.URL+`/s.snapshot"}`))
	if c != 200 || e.count("fromhttp") != 7 {
		t.Fatalf("recover http: %d %s", c, b)
	}
	// file:// outside the snapshots directory is refused.
	if c, _ := restDo(t, "PUT", e.rest+"/collections/snap/snapshots/recover", "application/json", strings.NewReader(`{"location":"file:///etc/passwd"}`)); c != 400 {
		t.Fatalf("recover outside snapshots dir: %d", c)
	}
	// Delete the snapshot.
	if err := e.client.DeleteSnapshot(ctx(t), "snap", d.GetName()); err != nil {
		t.Fatal(err)
	}
	if err := e.client.DeleteSnapshot(ctx(t), "snap", d.GetName()); code(err) != codes.NotFound {
		t.Fatalf("delete twice: %v", err)
	}
	if c, _ := restDo(t, "GET", e.rest+"/collections/snap/snapshots/"+d.GetName(), "", nil); c != 404 {
		t.Fatalf("download deleted: %d", c)
	}
}

func itoa(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := start(t, sandbox.Options{Dir: dir})
	e.create("keep", 4, 2, 2)
	e.upsert("keep", 5, 4)
	if err := e.client.CreateAlias(ctx(t), "kept", "keep"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.CreateFieldIndex(ctx(t), &qdrant.CreateFieldIndexCollection{CollectionName: "keep",
		FieldName: "agent", FieldType: qdrant.FieldType_FieldTypeKeyword.Enum()}); err != nil {
		t.Fatal(err)
	}
	victim := e.srv.PeerIDs()[2]
	if err := e.srv.SetPeerDown(victim, true); err != nil {
		t.Fatal(err)
	}
	before := e.states("keep")
	e.stop()

	e2 := start(t, sandbox.Options{Dir: dir})
	if n := e2.count("kept"); n != 5 {
		t.Fatalf("points after restart: %d", n)
	}
	info, err := e2.client.GetCollectionInfo(ctx(t), "keep")
	if err != nil || info.GetConfig().GetParams().GetReplicationFactor() != 2 || info.GetPayloadSchema()["agent"] == nil {
		t.Fatalf("info after restart: %v %v", info, err)
	}
	after := e2.states("keep")
	for sh, reps := range before {
		for p, s := range reps {
			if after[sh][p] != s {
				t.Fatalf("shard %d peer %d: %s before, %s after", sh, p, s, after[sh][p])
			}
		}
	}
}

// "/" is on Qdrant's api-key whitelist (with /healthz, /readyz, /livez): it answers without a key.
func TestRootWithoutAPIKey(t *testing.T) {
	e := start(t, sandbox.Options{})
	resp, err := http.Get(e.rest + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var root struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&root) != nil || root.Version != sandbox.Version {
		t.Fatalf("GET / without api-key: %d %+v", resp.StatusCode, root)
	}
}

// A snapshot (or WAL-delta) shard transfer puts the target replica in Recovery, not Partial (Qdrant's
// start_shard_transfer), and it ends Active.
func TestSnapshotTransferStartsInRecovery(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaSyncDelay: 600 * time.Millisecond})
	e.create("rec", 4, 1, 1)
	from, to := e.holderAndOther("rec")
	err := e.client.UpdateClusterCollectionSetup(ctx(t), qdrant.NewUpdateCollectionClusterReplicateShard("rec",
		&qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to, Method: qdrant.ShardTransferMethod_Snapshot.Enum()}))
	if err != nil {
		t.Fatal(err)
	}
	if st := e.states("rec")[0]; st[to] != qdrant.ReplicaState_Recovery || st[from] != qdrant.ReplicaState_Active {
		t.Fatalf("right after a snapshot transfer starts: %v", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.states("rec")[0][to] != qdrant.ReplicaState_Active {
		if time.Now().After(deadline) {
			t.Fatalf("replica still %v", e.states("rec")[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A wrong upload checksum is Qdrant's ChecksumMismatch: HTTP 400, "Checksum mismatch: expected
// <file's sha256>, actual <requested>".
func TestSnapshotChecksumMismatchMessage(t *testing.T) {
	e := start(t, sandbox.Options{Dir: t.TempDir()})
	e.create("ck", 4, 1, 1)
	d, err := e.client.CreateSnapshot(ctx(t), "ck")
	if err != nil {
		t.Fatal(err)
	}
	_, file := restDo(t, "GET", e.rest+"/collections/ck/snapshots/"+d.GetName(), "", nil)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("snapshot", "x.snapshot")
	fw.Write(file)
	mw.Close()
	wrong := strings.Repeat("0", 64)
	c, b := restDo(t, "POST", e.rest+"/collections/other/snapshots/upload?checksum="+wrong, mw.FormDataContentType(), &buf)
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	want := "Checksum mismatch: expected " + d.GetChecksum() + ", actual " + wrong
	if c != 400 || json.Unmarshal(b, &env) != nil || env.Status.Error != want {
		t.Fatalf("wrong checksum: %d %s, want error %q", c, b, want)
	}
}

func otherPeers(e *env, not ...uint64) []uint64 {
	var out []uint64
	for _, p := range e.srv.PeerIDs() {
		skip := false
		for _, n := range not {
			skip = skip || p == n
		}
		if !skip {
			out = append(out, p)
		}
	}
	return out
}

// holderAndOther returns the peer holding shard 0 of a collection made with one shard and one replica,
// and another peer.
func (e *env) holderAndOther(col string) (from, to uint64) {
	e.t.Helper()
	for p := range e.states(col)[0] {
		from = p
	}
	return from, otherPeers(e, from)[0]
}

func (e *env) setup(col string, op *qdrant.UpdateCollectionClusterSetupRequest) error {
	e.t.Helper()
	return e.client.UpdateClusterCollectionSetup(ctx(e.t), op)
}

func (e *env) waitState(col string, shard uint32, peer uint64, want qdrant.ReplicaState) {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.states(col)[shard][peer] != want {
		if time.Now().After(deadline) {
			e.t.Fatalf("replica of shard %d on %d is %v, want %v", shard, peer, e.states(col)[shard], want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Qdrant's Collection::abort_shard_transfer marks the target of an aborted replication (a sync transfer)
// Dead and keeps it; replicating onto that peer again (start_shard_transfer sets the existing replica's
// state) repairs it: Partial, then Active.
func TestAbortReplicationLeavesTargetDeadAndReplicatingAgainRepairsIt(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaSyncDelay: 400 * time.Millisecond, AutoRecoveryDelay: time.Hour})
	e.create("a", 4, 1, 1)
	from, to := e.holderAndOther("a")
	replicate := qdrant.NewUpdateCollectionClusterReplicateShard("a", &qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to})
	if err := e.setup("a", replicate); err != nil {
		t.Fatal(err)
	}
	if err := e.setup("a", qdrant.NewUpdateCollectionClusterAbortTransfer("a",
		&qdrant.AbortShardTransfer{ShardId: 0, FromPeerId: from, ToPeerId: to})); err != nil {
		t.Fatal(err)
	}
	st := e.states("a")[0]
	if len(st) != 2 || st[from] != qdrant.ReplicaState_Active || st[to] != qdrant.ReplicaState_Dead {
		t.Fatalf("after aborting a replication: %v (want source Active, target Dead)", st)
	}
	info, err := e.client.GetCollectionClusterInfo(ctx(t), "a")
	if err != nil || len(info.GetShardTransfers()) != 0 {
		t.Fatalf("transfers after abort: %v %v", info.GetShardTransfers(), err)
	}
	// Replicating onto the peer that holds the dead replica repairs it.
	if err := e.setup("a", replicate); err != nil {
		t.Fatalf("replicate onto the dead replica: %v", err)
	}
	if st := e.states("a")[0]; st[to] != qdrant.ReplicaState_Partial {
		t.Fatalf("right after the repairing transfer: %v", st)
	}
	e.waitState("a", 0, to, qdrant.ReplicaState_Active)
	if st := e.states("a")[0]; len(st) != 2 || st[from] != qdrant.ReplicaState_Active {
		t.Fatalf("after repair: %v", st)
	}
}

// Qdrant's check_transfer_conflicts: transfers of the same shard conflict only when they share a peer.
func TestTransfersOfOneShardConflictOnlyWhenTheyShareAPeer(t *testing.T) {
	e := start(t, sandbox.Options{Peers: 4, ReplicaSyncDelay: 2 * time.Second})
	e.create("c", 4, 1, 2)
	var holders []uint64
	for p := range e.states("c")[0] {
		holders = append(holders, p)
	}
	free := otherPeers(e, holders...)
	if len(holders) != 2 || len(free) != 2 {
		t.Fatalf("placement: %v, free %v", holders, free)
	}
	rep := func(from, to uint64) error {
		return e.setup("c", qdrant.NewUpdateCollectionClusterReplicateShard("c",
			&qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to}))
	}
	if err := rep(holders[0], free[0]); err != nil {
		t.Fatal(err)
	}
	// Disjoint peers: accepted while the first runs.
	if err := rep(holders[1], free[1]); err != nil {
		t.Fatalf("a transfer of the same shard between other peers: %v", err)
	}
	info, err := e.client.GetCollectionClusterInfo(ctx(t), "c")
	if err != nil || len(info.GetShardTransfers()) != 2 {
		t.Fatalf("transfers: %v %v", info.GetShardTransfers(), err)
	}
	// Sharing a peer (the source of the first): refused.
	if err := rep(holders[0], free[1]); code(err) != codes.InvalidArgument {
		t.Fatalf("a transfer sharing a peer with a running one: %v", err)
	}
}

// A new collection's replicas are Initializing (ShardReplicaSet::build) until the consensus activates
// them; Create answers once they are Active (the dispatcher awaits every initialize_replica operation).
func TestNewCollectionReplicasPassThroughInitializing(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaInitDelay: 800 * time.Millisecond})
	began := time.Now()
	done := make(chan error, 1)
	go func() {
		done <- e.client.CreateCollection(context.Background(), &qdrant.CreateCollection{
			CollectionName: "init", ShardNumber: qdrant.PtrOf(uint32(2)), ReplicationFactor: qdrant.PtrOf(uint32(2)),
			VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		})
	}()
	seen := false
	for !seen && time.Since(began) < 700*time.Millisecond {
		if ok, err := e.client.CollectionExists(ctx(t), "init"); err == nil && ok {
			for _, reps := range e.states("init") {
				for _, st := range reps {
					if st != qdrant.ReplicaState_Initializing {
						t.Fatalf("replica of a collection being created is %v, want Initializing", st)
					}
					seen = true
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !seen {
		t.Fatal("the collection being created was never seen with Initializing replicas")
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 800*time.Millisecond {
		t.Fatalf("create answered after %v, before its replicas were activated", d)
	}
	for sh, reps := range e.states("init") {
		if len(reps) != 2 {
			t.Fatalf("shard %d replicas %v", sh, reps)
		}
		for p, st := range reps {
			if st != qdrant.ReplicaState_Active {
				t.Fatalf("after create, replica of shard %d on %d is %v", sh, p, st)
			}
		}
	}
	info, err := e.client.GetCollectionInfo(ctx(t), "init")
	if err != nil || info.GetStatus() != qdrant.CollectionStatus_Green {
		t.Fatalf("info after create: %v %v", info.GetStatus(), err)
	}
}

// Qdrant's Collection::sync_local_state: a peer that is up and finds a replica of its own Dead requests its
// recovery, a sync transfer (wal_delta) from an active replica. So the Dead target of an aborted
// replication does not stay Dead: a client that did not want that replica must drop it.
func TestDeadReplicaOnALivePeerIsRecoveredAutomatically(t *testing.T) {
	e := start(t, sandbox.Options{ReplicaSyncDelay: 400 * time.Millisecond, AutoRecoveryDelay: 300 * time.Millisecond})
	e.create("r", 4, 1, 1)
	from, to := e.holderAndOther("r")
	if err := e.setup("r", qdrant.NewUpdateCollectionClusterReplicateShard("r", &qdrant.ReplicateShard{ShardId: 0, FromPeerId: from, ToPeerId: to})); err != nil {
		t.Fatal(err)
	}
	if err := e.setup("r", qdrant.NewUpdateCollectionClusterAbortTransfer("r", &qdrant.AbortShardTransfer{ShardId: 0, FromPeerId: from, ToPeerId: to})); err != nil {
		t.Fatal(err)
	}
	if st := e.states("r")[0]; st[to] != qdrant.ReplicaState_Dead {
		t.Fatalf("after abort: %v", st)
	}
	e.waitState("r", 0, to, qdrant.ReplicaState_Recovery)
	info, err := e.client.GetCollectionClusterInfo(ctx(t), "r")
	if err != nil || len(info.GetShardTransfers()) != 1 || info.GetShardTransfers()[0].GetFrom() != from ||
		info.GetShardTransfers()[0].GetTo() != to || !info.GetShardTransfers()[0].GetSync() {
		t.Fatalf("automatic recovery transfer: %v %v", info.GetShardTransfers(), err)
	}
	e.waitState("r", 0, to, qdrant.ReplicaState_Active)

	// A client that did not want the replica drops it.
	if err := e.setup("r", qdrant.NewUpdateCollectionClusterDropReplica("r", &qdrant.Replica{ShardId: 0, PeerId: to})); err != nil {
		t.Fatal(err)
	}
	if st := e.states("r")[0]; len(st) != 1 {
		t.Fatalf("after drop: %v", st)
	}
}
