package qdrant_test

import (
	"archive/tar"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

func dial(t *testing.T, addr string) *qdrant.Client {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: apiKey, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func restGet(t *testing.T, url string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("api-key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode
}

// snapshotPoints downloads a snapshot from a peer's REST endpoint and counts the points in it.
func snapshotPoints(t *testing.T, restURL, col, name string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", restURL+"/collections/"+col+"/snapshots/"+name, nil)
	req.Header.Set("api-key", apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("download %s from %s: %v %v", name, restURL, err, resp)
	}
	defer resp.Body.Close()
	tr := tar.NewReader(resp.Body)
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(tr)
	var content struct {
		Data struct {
			Points []json.RawMessage `json:"points"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &content); err != nil {
		t.Fatal(err)
	}
	return len(content.Data.Points)
}

// Every peer answers on its own gRPC and REST ports: cluster info (local shards, peer_id, role) and
// snapshots are per node, a node's snapshot holds only its shards, and a down peer refuses calls; the
// first peer's original address keeps working.
func TestEveryPeerIsAddressableOnItsOwnPorts(t *testing.T) {
	ts := sandbox.StartTestServer(t, sandbox.Options{APIKey: apiKey, ReplicaSyncDelay: 200 * time.Millisecond})
	if len(ts.Peers) != 3 {
		t.Fatalf("%d peer endpoints", len(ts.Peers))
	}
	first := dial(t, ts.Addr)
	if err := first.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
		ShardNumber:   qdrant.PtrOf(uint32(3)), ReplicationFactor: qdrant.PtrOf(uint32(1))}); err != nil {
		t.Fatal(err)
	}
	var pts []*qdrant.PointStruct
	for i := 1; i <= 30; i++ {
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectors(1, float32(i))})
	}
	if _, err := first.Upsert(ctx(t), &qdrant.UpsertPoints{CollectionName: "c", Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, pe := range ts.Peers {
		c := dial(t, pe.Addr)
		info, err := c.GetCollectionClusterInfo(ctx(t), "c")
		if err != nil {
			t.Fatalf("peer %d: %v", pe.ID, err)
		}
		if info.GetPeerId() != pe.ID || len(info.GetLocalShards()) != 1 || len(info.GetRemoteShards()) != 2 {
			t.Fatalf("peer %d answers %v", pe.ID, info)
		}
		local := info.GetLocalShards()[0].GetPointsCount()
		var cl struct {
			Result struct {
				PeerID   uint64 `json:"peer_id"`
				RaftInfo struct {
					Role string `json:"role"`
				} `json:"raft_info"`
			} `json:"result"`
		}
		if code := restGet(t, pe.RESTURL+"/cluster", &cl); code != 200 || cl.Result.PeerID != pe.ID {
			t.Fatalf("GET /cluster on peer %d: %d %+v", pe.ID, code, cl)
		}
		if want := map[bool]string{true: "Leader", false: "Follower"}[i == 0]; cl.Result.RaftInfo.Role != want {
			t.Fatalf("peer %d role %s, want %s", pe.ID, cl.Result.RaftInfo.Role, want)
		}
		snap, err := c.CreateSnapshot(ctx(t), "c")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(snap.GetName(), "c-"+strconv.FormatUint(pe.ID, 10)+"-") {
			t.Fatalf("snapshot of peer %d named %s", pe.ID, snap.GetName())
		}
		if n := snapshotPoints(t, pe.RESTURL, "c", snap.GetName()); uint64(n) != local || n == 0 {
			t.Fatalf("peer %d snapshot holds %d points, its local shard %d", pe.ID, n, local)
		}
		total += int(local)
		list, err := c.ListSnapshots(ctx(t), "c")
		if err != nil || len(list) != 1 || list[0].GetName() != snap.GetName() {
			t.Fatalf("peer %d lists %v %v: only its own snapshot expected", pe.ID, list, err)
		}
	}
	if total != 30 {
		t.Fatalf("local shards hold %d points, want 30", total)
	}
	// the original address is the first peer, and sees the first peer's snapshots
	if list, err := first.ListSnapshots(ctx(t), "c"); err != nil || len(list) != 1 ||
		!strings.Contains(list[0].GetName(), strconv.FormatUint(ts.Peers[0].ID, 10)) {
		t.Fatalf("first address lists %v %v", list, err)
	}
	// a down peer refuses on its own ports
	if err := ts.Server.SetPeerDown(ts.Peers[2].ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, ts.Peers[2].Addr).GetCollectionClusterInfo(ctx(t), "c"); status.Code(err) != codes.Unavailable {
		t.Fatalf("down peer's gRPC answered %v", err)
	}
	if code := restGet(t, ts.Peers[2].RESTURL+"/cluster", nil); code != http.StatusServiceUnavailable {
		t.Fatalf("down peer's REST answered %d", code)
	}
	if _, err := dial(t, ts.Peers[1].Addr).GetCollectionClusterInfo(ctx(t), "c"); err != nil {
		t.Fatalf("an up peer refused: %v", err)
	}
}

func upsertOne(c *qdrant.Client, t *testing.T, col string, id uint64) error {
	_, err := c.Upsert(ctx(t), &qdrant.UpsertPoints{CollectionName: col, Wait: qdrant.PtrOf(true),
		Points: []*qdrant.PointStruct{{Id: qdrant.NewIDNum(id), Vectors: qdrant.NewVectors(1, 2)}}})
	return err
}

// An update whose shard has no replica left to take it fails, as Qdrant's replica set refuses it.
func TestUpdateThatReachesNoActiveReplicaFails(t *testing.T) {
	ts := sandbox.StartTestServer(t, sandbox.Options{APIKey: apiKey, AutoRecoveryDelay: time.Hour})
	c := dial(t, ts.Addr)
	if err := c.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "one",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
		ShardNumber:   qdrant.PtrOf(uint32(1)), ReplicationFactor: qdrant.PtrOf(uint32(1))}); err != nil {
		t.Fatal(err)
	}
	if err := upsertOne(c, t, "one", 1); err != nil {
		t.Fatal(err)
	}
	info, _ := c.GetCollectionClusterInfo(ctx(t), "one")
	holder := info.GetPeerId()
	if len(info.GetRemoteShards()) == 1 {
		holder = info.GetRemoteShards()[0].GetPeerId()
	}
	if err := ts.Server.SetPeerDown(holder, true); err != nil {
		t.Fatal(err)
	}
	err := upsertOne(c, t, "one", 2)
	if status.Code(err) != codes.Internal || !strings.Contains(err.Error(), "The replica set for shard 0 on peer") ||
		!strings.Contains(err.Error(), "has no active replica") {
		t.Fatalf("upsert with every replica Dead: %v", err)
	}
	if n, _ := c.Count(ctx(t), &qdrant.CountPoints{CollectionName: "one", Exact: qdrant.PtrOf(true)}); n != 1 {
		t.Fatalf("the refused write was applied: %d points", n)
	}
	if _, err := c.Delete(ctx(t), &qdrant.DeletePoints{CollectionName: "one", Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}); status.Code(err) != codes.Internal {
		t.Fatalf("delete with every replica Dead: %v", err)
	}
}

// write_consistency_factor: a write needs that many replicas of the shard to take it. With one of two
// replicas unreachable, wcf 2 fails the write (and keeps the replica Active); wcf 1 succeeds and
// deactivates the unreachable replica (Dead), as Qdrant's handle_failed_replicas does.
func TestWriteConsistencyFactorIsHonoured(t *testing.T) {
	ts := sandbox.StartTestServer(t, sandbox.Options{APIKey: apiKey, AutoRecoveryDelay: time.Hour})
	c := dial(t, ts.Addr)
	if err := c.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "w",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
		ShardNumber:   qdrant.PtrOf(uint32(1)), ReplicationFactor: qdrant.PtrOf(uint32(2)), WriteConsistencyFactor: qdrant.PtrOf(uint32(2))}); err != nil {
		t.Fatal(err)
	}
	info, _ := c.GetCollectionClusterInfo(ctx(t), "w")
	var victim uint64
	for _, r := range info.GetRemoteShards() {
		victim = r.GetPeerId()
	}
	if victim == 0 {
		t.Fatalf("no remote replica: %v", info)
	}
	if err := upsertOne(c, t, "w", 1); err != nil {
		t.Fatalf("all replicas reachable: %v", err)
	}
	if err := ts.Server.SetPeerPartitioned(victim, true); err != nil {
		t.Fatal(err)
	}
	err := upsertOne(c, t, "w", 2)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), strconv.FormatUint(victim, 10)) {
		t.Fatalf("wcf 2 with one replica unreachable: %v", err)
	}
	state := func() qdrant.ReplicaState {
		info, _ := c.GetCollectionClusterInfo(ctx(t), "w")
		for _, r := range info.GetRemoteShards() {
			if r.GetPeerId() == victim {
				return r.GetState()
			}
		}
		for _, l := range info.GetLocalShards() {
			if info.GetPeerId() == victim {
				return l.GetState()
			}
		}
		return -1
	}
	if s := state(); s != qdrant.ReplicaState_Active {
		t.Fatalf("after a failed write the unreachable replica is %s, want still Active", s)
	}
	if err := c.UpdateCollection(ctx(t), &qdrant.UpdateCollection{CollectionName: "w",
		Params: &qdrant.CollectionParamsDiff{WriteConsistencyFactor: qdrant.PtrOf(uint32(1))}}); err != nil {
		t.Fatal(err)
	}
	if err := upsertOne(c, t, "w", 3); err != nil {
		t.Fatalf("wcf 1 with one replica unreachable: %v", err)
	}
	if s := state(); s != qdrant.ReplicaState_Dead {
		t.Fatalf("after a write it missed, the unreachable replica is %s, want Dead", s)
	}
}
