package backup_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const qdrantKey = "backup-test-key"

// qdrantCluster is a sandbox Qdrant of n peers on loopback and an official client to it.
type qdrantCluster struct {
	*sandbox.TestServer
	client *pb.Client
}

func newQdrant(t testing.TB, peers int) *qdrantCluster {
	t.Helper()
	ts := sandbox.StartTestServer(t, sandbox.Options{APIKey: qdrantKey, Peers: peers, ReplicaSyncDelay: 100 * time.Millisecond})
	c, err := pb.NewClient(&pb.Config{Host: "127.0.0.1", Port: portOf(t, ts.Addr), APIKey: qdrantKey, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &qdrantCluster{TestServer: ts, client: c}
}

func portOf(t testing.TB, hostPort string) int {
	var p int
	if _, err := fmt.Sscanf(hostPort[strings.LastIndex(hostPort, ":")+1:], "%d", &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func qctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// seedCollection creates a collection of 3 shards x 2 replicas with named vectors, a payload index and
// points with nested payloads, numeric and UUID ids.
func (q *qdrantCluster) seedCollection(t *testing.T, name string) {
	t.Helper()
	ctx := qctx(t)
	err := q.client.CreateCollection(ctx, &pb.CreateCollection{CollectionName: name,
		VectorsConfig: pb.NewVectorsConfigMap(map[string]*pb.VectorParams{
			"text":  {Size: 4, Distance: pb.Distance_Cosine},
			"image": {Size: 3, Distance: pb.Distance_Dot},
		}),
		ShardNumber: proto.Uint32(3), ReplicationFactor: proto.Uint32(2), OnDiskPayload: proto.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.client.CreateFieldIndex(ctx, &pb.CreateFieldIndexCollection{CollectionName: name, FieldName: "agent",
		FieldType: pb.FieldType_FieldTypeKeyword.Enum(), Wait: proto.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	var pts []*pb.PointStruct
	for i := 1; i <= 150; i++ {
		id := pb.NewIDNum(uint64(i))
		if i%10 == 0 {
			id = pb.NewID(fmt.Sprintf("6f1c2d4e-0000-4000-8000-%012d", i))
		}
		pts = append(pts, &pb.PointStruct{Id: id,
			Vectors: pb.NewVectorsMap(map[string]*pb.Vector{
				"text":  pb.NewVector(float32(i), 0.5, -1, float32(i%7)),
				"image": pb.NewVector(1, float32(i)/3, 2),
			}),
			Payload: pb.NewValueMap(map[string]any{"agent": []string{"alfred-bot", "social-intel"}[i%2], "n": i,
				"meta": map[string]any{"tags": []any{"a", i}, "score": float64(i) / 8}})})
	}
	if _, err := q.client.Upsert(ctx, &pb.UpsertPoints{CollectionName: name, Points: pts, Wait: proto.Bool(true)}); err != nil {
		t.Fatal(err)
	}
}

// points reads every point (vectors and payload) independently of the engine: id -> encoded point.
func (q *qdrantCluster) points(t *testing.T, name string) map[string]string {
	t.Helper()
	pts, err := q.client.Scroll(qctx(t), &pb.ScrollPoints{CollectionName: name, Limit: proto.Uint32(1000),
		WithPayload: pb.NewWithPayload(true), WithVectors: pb.NewWithVectors(true)})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, p := range pts {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.RetrievedPoint{Payload: p.GetPayload(), Vectors: p.GetVectors()})
		if err != nil {
			t.Fatal(err)
		}
		out[p.GetId().String()] = string(b)
	}
	return out
}

func samePoints(t *testing.T, want, got map[string]string) {
	t.Helper()
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("%d points restored, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			t.Fatalf("point %s differs after restore", id)
		}
	}
}

// placement returns, per shard, the peers holding a replica and their states.
func (q *qdrantCluster) placement(t *testing.T, name string) map[uint32]map[uint64]pb.ReplicaState {
	t.Helper()
	ci, err := q.client.GetCollectionClusterInfo(qctx(t), name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint32]map[uint64]pb.ReplicaState{}
	add := func(s uint32, p uint64, st pb.ReplicaState) {
		if out[s] == nil {
			out[s] = map[uint64]pb.ReplicaState{}
		}
		out[s][p] = st
	}
	for _, l := range ci.GetLocalShards() {
		add(l.GetShardId(), ci.GetPeerId(), l.GetState())
	}
	for _, r := range ci.GetRemoteShards() {
		add(r.GetShardId(), r.GetPeerId(), r.GetState())
	}
	return out
}

func qdrantEngine(t testing.TB, cfg backup.StoreConfig, keyPath string, q *qdrantCluster) *backup.Engine {
	t.Helper()
	e := storeEngine(t, cfg, keyPath) // no PostgreSQL: a run of collections only needs none
	e.Qdrant = &backup.Qdrant{QdrantConfig: shared.QdrantConfig{URL: q.Addr, RESTURL: q.RESTURL, APIKey: q.APIKey}, PeerRESTURLs: map[uint64]string{}}
	for _, p := range q.Peers {
		e.Qdrant.PeerRESTURLs[p.ID] = p.RESTURL
	}
	return e
}

// onShardStart is a Progress that calls fn, once, when the object named label starts streaming: a
// write or an interruption in the middle of a run.
type onShardStart struct {
	label string
	fn    func()
}

func (o *onShardStart) Start(label string, _ int64) {
	if label == o.label && o.fn != nil {
		o.fn()
		o.fn = nil
	}
}
func (o *onShardStart) Add(int64) {}
func (o *onShardStart) Done()     {}

// seeded is a 3-peer sandbox Qdrant with collection "docs" and an engine on a fresh bucket.
func seeded(t *testing.T) (backup.StoreConfig, *qdrantCluster, *backup.Engine) {
	t.Helper()
	cfg := storeConfig(t)
	q := newQdrant(t, 3)
	q.seedCollection(t, "docs")
	return cfg, q, qdrantEngine(t, cfg, keyFile(t), q)
}

// backedUp seeds collection "docs" on a 3-peer sandbox Qdrant and backs it up into a fresh bucket.
func backedUp(t *testing.T) (backup.StoreConfig, *qdrantCluster, *backup.Engine, *backup.Manifest) {
	t.Helper()
	cfg, q, e := seeded(t)
	m, err := e.Run(qctx(t), backup.RunOptions{QdrantCollections: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg, q, e, m
}

// A collection of 3 shards x 2 replicas over 3 peers, with named vectors and payloads: backed up shard
// by shard from peers holding an Active replica, deleted, restored with every point, vector and payload,
// each shard again on 2 Active replicas.
func TestAccBackupQdrant_roundTripOverThreePeers(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	q := newQdrant(t, 3)
	q.seedCollection(t, "docs")
	want := q.points(t, "docs")
	before := q.placement(t, "docs")
	e := qdrantEngine(t, storeConfig(t), keyFile(t), q)
	m, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Objects) != 3 || len(m.Qdrant) != 1 || len(m.Qdrant[0].Shards) != 3 || m.Qdrant[0].Points != 150 {
		t.Fatalf("manifest: %d objects, %+v", len(m.Objects), m.Qdrant)
	}
	for _, sh := range m.Qdrant[0].Shards {
		if before[sh.ID][sh.Peer] != pb.ReplicaState_Active {
			t.Fatalf("shard %d was taken from peer %d, which holds no Active replica of it (%v)", sh.ID, sh.Peer, before[sh.ID])
		}
	}
	if err := q.client.DeleteCollection(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs"}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("restore over the original name without --force: %v", err)
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Force: true}); err != nil {
		t.Fatal(err)
	}
	samePoints(t, want, q.points(t, "docs"))
	after := q.placement(t, "docs")
	for s := uint32(0); s < 3; s++ {
		active := 0
		for _, st := range after[s] {
			if st == pb.ReplicaState_Active {
				active++
			}
		}
		if active != 2 || len(after[s]) != 2 {
			t.Fatalf("shard %d after restore: %v, want 2 Active replicas", s, after[s])
		}
	}
	info, err := q.client.GetCollectionInfo(ctx, "docs")
	if err != nil {
		t.Fatal(err)
	}
	if p := info.GetConfig().GetParams(); p.GetShardNumber() != 3 || p.GetReplicationFactor() != 2 || len(p.GetVectorsConfig().GetParamsMap().GetMap()) != 2 {
		t.Fatalf("restored config: %v", p)
	}
	if info.GetPayloadSchema()["agent"].GetDataType() != pb.PayloadSchemaType_Keyword {
		t.Fatalf("payload index not restored: %v", info.GetPayloadSchema())
	}
}

// The same set restores, under another name, onto a cluster of 2 peers: each shard's replicas land on
// the peers the new cluster chose.
func TestAccBackupQdrant_restoreOntoClusterWithOtherPeers(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	cfg, key := storeConfig(t), keyFile(t)
	src := newQdrant(t, 3)
	src.seedCollection(t, "docs")
	want := src.points(t, "docs")
	m, err := qdrantEngine(t, cfg, key, src).Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	dst := newQdrant(t, 2)
	if err := qdrantEngine(t, cfg, key, dst).Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Target: "docs_copy"}); err != nil {
		t.Fatal(err)
	}
	samePoints(t, want, dst.points(t, "docs_copy"))
	for s, reps := range dst.placement(t, "docs_copy") {
		if len(reps) != 2 {
			t.Fatalf("shard %d on the 2-peer cluster: %v", s, reps)
		}
		for p, st := range reps {
			if st != pb.ReplicaState_Active {
				t.Fatalf("shard %d replica on peer %d is %v", s, p, st)
			}
		}
	}
}

// One flipped byte in a shard object: restore fails with an integrity error before the collection is
// created.
func TestAccBackupQdrant_flippedByteFailsBeforeCollectionIsCreated(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	cfg, q, e, m := backedUp(t)
	obj := m.Objects[len(m.Objects)-1] // the last shard: the earlier ones check out first
	c := rawS3(cfg)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(obj.Key)})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(out.Body)
	out.Body.Close()
	b[len(b)/2] ^= 0x01
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(obj.Key), Body: bytes.NewReader(b)}); err != nil {
		t.Fatal(err)
	}
	err = e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Target: "docs_tampered"})
	if !errors.Is(err, backup.ErrIntegrity) {
		t.Fatalf("restore of a tampered shard object: %v, want an integrity error", err)
	}
	if ok, err := q.client.CollectionExists(ctx, "docs_tampered"); err != nil || ok {
		t.Fatalf("the target collection exists (%v, %v) after the integrity check failed", ok, err)
	}
}

// verify restores into a scratch collection, compares point count and content checksum, and drops the
// scratch collection; a set whose recorded checksum differs from the content fails.
func TestAccBackupQdrant_verifyComparesContentAndDropsScratch(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	cfg, q, e, m := backedUp(t)
	checks, err := e.Verify(ctx, m.ID)
	if err != nil || len(checks) != 1 || !checks[0].OK() || checks[0].GotRows != 150 {
		t.Fatalf("verify: %v %+v", err, checks)
	}
	cols, err := q.client.ListCollections(ctx)
	if err != nil || len(cols) != 1 || cols[0] != "docs" {
		t.Fatalf("collections after verify: %v %v (the scratch collection must be gone)", cols, err)
	}
	// A manifest whose checksum does not match the content (as if a point had changed) fails verify.
	m.Qdrant[0].Checksum = strings.Repeat("0", 64)
	body, _ := json.Marshal(m)
	if _, err := rawS3(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(cfg.Bucket), Key: aws.String(cfg.Prefix + m.ID + "/manifest.json"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	checks, err = e.Verify(ctx, m.ID)
	if !errors.Is(err, backup.ErrIntegrity) || len(checks) != 1 || checks[0].OK() {
		t.Fatalf("verify of a differing collection: %v %+v", err, checks)
	}
}

// An unknown collection or an unreachable cluster fails before any data moves.
func TestAccBackupQdrant_badInputFailsBeforeDataMoves(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	cfg, _, e := seeded(t)
	if _, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs", "nope"}}); err == nil || !strings.Contains(err.Error(), `"nope" does not exist`) {
		t.Fatalf("unknown collection: %v", err)
	}
	// Without the peers' REST URLs, the others are looked for at their cluster URIs' hosts, which do not
	// resolve here: the plan fails before the first snapshot.
	e.Qdrant.PeerRESTURLs = nil
	if _, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}}); err == nil || !strings.Contains(err.Error(), "answers on its REST API") {
		t.Fatalf("peers without a reachable REST API: %v", err)
	}
	e.Qdrant = &backup.Qdrant{QdrantConfig: shared.QdrantConfig{URL: "127.0.0.1:1", RESTURL: "http://127.0.0.1:1", APIKey: qdrantKey}}
	if _, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}}); err == nil || !strings.Contains(err.Error(), "ALFRED_QDRANT_REST_URL") {
		t.Fatalf("unreachable Qdrant: %v", err)
	}
	list, err := rawS3(cfg).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(cfg.Bucket)})
	if err != nil || len(list.Contents) != 0 {
		t.Fatalf("objects in the bucket after refused runs: %v %v", list.Contents, err)
	}
}

// With a peer down (its replicas Dead), every shard is taken from a live peer holding an Active replica.
func TestAccBackupQdrant_peerDownShardsFromLiveReplicas(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	q := newQdrant(t, 3)
	q.seedCollection(t, "docs")
	down := q.Peers[0].ID // the peer answering ALFRED_QDRANT_REST_URL's address keeps answering (sandbox)
	if err := q.Server.SetPeerDown(down, true); err != nil {
		t.Fatal(err)
	}
	e := qdrantEngine(t, storeConfig(t), keyFile(t), q)
	m, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sh := range m.Qdrant[0].Shards {
		if sh.Peer == down {
			t.Fatalf("shard %d taken from the peer that is down", sh.ID)
		}
	}
	if m.Qdrant[0].Points != 150 {
		t.Fatalf("%d points recorded", m.Qdrant[0].Points)
	}
}

// A collection written during the run has no single state the shard snapshots match: the set records it
// as unstable (no count or checksum), still restores, and verify refuses it instead of reporting a
// difference that is not one.
func TestAccBackupQdrant_writeDuringRunIsRecordedUnstable(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	_, q, e := seeded(t)
	e.Progress = &onShardStart{label: "backup qdrant docs/0", fn: func() {
		if _, err := q.client.Upsert(ctx, &pb.UpsertPoints{CollectionName: "docs", Wait: proto.Bool(true),
			Points: []*pb.PointStruct{{Id: pb.NewIDNum(9999), Vectors: pb.NewVectorsMap(map[string]*pb.Vector{
				"text": pb.NewVector(1, 2, 3, 4), "image": pb.NewVector(1, 2, 3)})}}}); err != nil {
			t.Error(err)
		}
	}}
	m, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Qdrant[0].Unstable || m.Qdrant[0].Checksum != "" {
		t.Fatalf("a collection written during the run: %+v", m.Qdrant[0])
	}
	if _, err := e.Verify(ctx, m.ID); err == nil || !strings.Contains(err.Error(), "written during the backup") {
		t.Fatalf("verify of an unstable collection: %v", err)
	}
	e.Progress = nil
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "docs", Target: "docs_copy"}); err != nil {
		t.Fatal(err)
	}
	if n, err := q.client.Count(ctx, &pb.CountPoints{CollectionName: "docs_copy", Exact: proto.Bool(true)}); err != nil || n < 150 {
		t.Fatalf("restored %d points, %v", n, err)
	}
}

// A run stopped after a shard object was stored leaves no good set and no snapshot on the nodes; the
// next run removes the incomplete set.
func TestAccBackupQdrant_interruptedRunLeavesNoGoodSet(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	_, q, e := seeded(t)
	runCtx, cancel := context.WithCancel(ctx)
	e.Progress = &onShardStart{label: "backup qdrant docs/2", fn: cancel}
	if _, err := e.Run(runCtx, backup.RunOptions{QdrantCollections: []string{"docs"}}); err == nil {
		t.Fatal("the interrupted run succeeded")
	}
	sets, err := e.Store.Sets(ctx)
	if err != nil || len(sets) != 1 || sets[0].Manifest != nil || len(sets[0].Keys) == 0 {
		t.Fatalf("after the interrupted run: %+v %v (want one incomplete set holding the first shards)", sets, err)
	}
	for _, p := range q.Peers {
		for s := 0; s < 3; s++ {
			code, body := restGetRaw(t, fmt.Sprintf("%s/collections/docs/shards/%d/snapshots", p.RESTURL, s))
			if code == 200 && strings.Contains(body, ".snapshot") {
				t.Fatalf("peer %d keeps a shard snapshot of the interrupted run: %s", p.ID, body)
			}
		}
	}
	e.Progress = nil
	m, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"docs"}})
	if err != nil {
		t.Fatal(err)
	}
	if sets, err = e.Store.Sets(ctx); err != nil || len(sets) != 1 || sets[0].ID != m.ID {
		t.Fatalf("after the next run: %+v %v", sets, err)
	}
	if n, err := e.Store.PendingUploads(ctx); err != nil || n != 0 {
		t.Fatalf("%d multipart uploads left (%v)", n, err)
	}
}

func restGetRaw(t *testing.T, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("api-key", qdrantKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Over TLS the engine verifies the cluster's certificate against ALFRED_QDRANT_CA_CERT (gRPC and REST):
// with the CA a backup and a restore work; with only the system roots the run fails before data moves.
func TestAccBackupQdrant_tlsWithCACert(t *testing.T) {
	needAcc(t)
	t.Parallel()
	ctx := qctx(t)
	ts := sandbox.StartTLSTestServer(t, sandbox.Options{APIKey: qdrantKey, Peers: 1})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(ts.CACert))
	client, err := pb.NewClient(&pb.Config{Host: "127.0.0.1", Port: portOf(t, ts.Addr), APIKey: qdrantKey, UseTLS: true,
		TLSConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	if err := client.CreateCollection(ctx, &pb.CreateCollection{CollectionName: "secure", ShardNumber: proto.Uint32(2),
		VectorsConfig: pb.NewVectorsConfig(&pb.VectorParams{Size: 2, Distance: pb.Distance_Dot})}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Upsert(ctx, &pb.UpsertPoints{CollectionName: "secure", Wait: proto.Bool(true), Points: []*pb.PointStruct{
		{Id: pb.NewIDNum(1), Vectors: pb.NewVectors(1, 2)}, {Id: pb.NewIDNum(2), Vectors: pb.NewVectors(3, 4)}}}); err != nil {
		t.Fatal(err)
	}
	cfg := storeConfig(t)
	e := storeEngine(t, cfg, keyFile(t))
	e.Qdrant = &backup.Qdrant{QdrantConfig: shared.QdrantConfig{URL: ts.Addr, RESTURL: ts.RESTURL, APIKey: qdrantKey, TLS: true}}
	if _, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"secure"}}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("TLS without the CA: %v, want a certificate error", err)
	}
	e.Qdrant.CACert = ts.CACert
	m, err := e.Run(ctx, backup.RunOptions{QdrantCollections: []string{"secure"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Restore(ctx, backup.RestoreOptions{SetID: m.ID, QdrantCollection: "secure", Target: "secure_copy"}); err != nil {
		t.Fatal(err)
	}
	if n, err := client.Count(ctx, &pb.CountPoints{CollectionName: "secure_copy", Exact: proto.Bool(true)}); err != nil || n != 2 {
		t.Fatalf("restored %d points over TLS, %v", n, err)
	}
}
