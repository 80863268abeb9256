package qdrant_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

func uploadShard(t *testing.T, url string, snapshot []byte) (int, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("snapshot", "s.snapshot")
	_, _ = fw.Write(snapshot)
	_ = mw.Close()
	return restDo(t, "POST", url, mw.FormDataContentType(), &buf)
}

// Shard snapshots are per node: only a peer holding a replica of the shard creates, lists, downloads and
// deletes them; a snapshot holds that shard's points; recovery replaces the peer's replica and sets
// replica states by priority (Qdrant's recover_shard_snapshot_impl).
func TestShardSnapshotsArePerPeerAndRecoverByPriority(t *testing.T) {
	ts := sandbox.StartTestServer(t, sandbox.Options{APIKey: apiKey, ReplicaSyncDelay: 200 * time.Millisecond, AutoRecoveryDelay: time.Hour})
	cl := dial(t, ts.Addr)
	if err := cl.CreateCollection(ctx(t), &qdrant.CreateCollection{CollectionName: "c",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
		ShardNumber:   qdrant.PtrOf(uint32(3)), ReplicationFactor: qdrant.PtrOf(uint32(2))}); err != nil {
		t.Fatal(err)
	}
	var pts []*qdrant.PointStruct
	for i := 1; i <= 60; i++ {
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectors(float32(i), 1),
			Payload: qdrant.NewValueMap(map[string]any{"n": i})})
	}
	if _, err := cl.Upsert(ctx(t), &qdrant.UpsertPoints{CollectionName: "c", Points: pts, Wait: qdrant.PtrOf(true)}); err != nil {
		t.Fatal(err)
	}
	rest := map[uint64]string{}
	for _, p := range ts.Peers {
		rest[p.ID] = p.RESTURL
	}
	states := func() map[uint32]map[uint64]qdrant.ReplicaState {
		info, err := cl.GetCollectionClusterInfo(ctx(t), "c")
		if err != nil {
			t.Fatal(err)
		}
		out := map[uint32]map[uint64]qdrant.ReplicaState{0: {}, 1: {}, 2: {}}
		for _, l := range info.GetLocalShards() {
			out[l.GetShardId()][info.GetPeerId()] = l.GetState()
		}
		for _, r := range info.GetRemoteShards() {
			out[r.GetShardId()][r.GetPeerId()] = r.GetState()
		}
		return out
	}
	placement := states()
	type snap struct {
		Result struct {
			Name     string `json:"name"`
			Checksum string `json:"checksum"`
		} `json:"result"`
	}
	total := 0
	snaps := map[uint32][]byte{}
	for shard := uint32(0); shard < 3; shard++ {
		var holders []uint64
		var other uint64
		for id := range rest {
			if _, ok := placement[shard][id]; ok {
				holders = append(holders, id)
			} else {
				other = id
			}
		}
		if len(holders) != 2 || other == 0 {
			t.Fatalf("shard %d placed on %v", shard, placement[shard])
		}
		base := fmt.Sprintf("/collections/c/shards/%d/snapshots", shard)
		// A peer without a replica refuses, with Qdrant's texts.
		if code, body := restDo(t, "POST", rest[other]+base, "", nil); code != 400 || !strings.Contains(string(body), fmt.Sprintf("Shard %d is not a local or queue proxy shard", shard)) {
			t.Fatalf("create on a peer without the shard: %d %s", code, body)
		}
		if code, body := restDo(t, "GET", rest[other]+base, "", nil); code != 400 || !strings.Contains(string(body), fmt.Sprintf("Shard %d is not a local shard", shard)) {
			t.Fatalf("list on a peer without the shard: %d %s", code, body)
		}
		code, body := restDo(t, "POST", rest[holders[0]]+base, "", nil)
		var s snap
		if code != 200 || json.Unmarshal(body, &s) != nil || !regexp.MustCompile(fmt.Sprintf(`^c-shard-%d-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot$`, shard)).MatchString(s.Result.Name) {
			t.Fatalf("create on a holder: %d %s", code, body)
		}
		if code, body := restDo(t, "GET", rest[holders[0]]+base, "", nil); code != 200 || !strings.Contains(string(body), s.Result.Name) {
			t.Fatalf("list on the holder: %d %s", code, body)
		}
		// Snapshots are on the node that made them.
		if code, _ := restDo(t, "GET", rest[holders[1]]+base+"/"+s.Result.Name, "", nil); code != 404 {
			t.Fatalf("download from the other holder: %d, want 404", code)
		}
		code, file := restDo(t, "GET", rest[holders[0]]+base+"/"+s.Result.Name, "", nil)
		if code != 200 {
			t.Fatalf("download: %d", code)
		}
		snaps[shard] = file
		n := shardSnapshotPoints(t, file)
		total += n
		info, _ := dial(t, peerAddr(ts, holders[0])).GetCollectionClusterInfo(ctx(t), "c")
		for _, l := range info.GetLocalShards() {
			if l.GetShardId() == shard && int(l.GetPointsCount()) != n {
				t.Fatalf("shard %d snapshot holds %d points, the shard %d", shard, n, l.GetPointsCount())
			}
		}
		if code, _ := restDo(t, "DELETE", rest[holders[0]]+base+"/"+s.Result.Name, "", nil); code != 200 {
			t.Fatalf("delete: %d", code)
		}
		if code, _ := restDo(t, "DELETE", rest[holders[0]]+base+"/"+s.Result.Name, "", nil); code != 404 {
			t.Fatalf("second delete: %d, want 404", code)
		}
	}
	if total != 60 {
		t.Fatalf("the shard snapshots hold %d points, want 60", total)
	}
	if code, body := restDo(t, "POST", rest[ts.Peers[0].ID]+"/collections/c/shards/9/snapshots", "", nil); code != 404 || !strings.Contains(string(body), "Not found: shard 9") {
		t.Fatalf("unknown shard: %d %s", code, body)
	}

	// Recovery: wipe the points, then recover shard 0 onto one holder.
	var ids []*qdrant.PointId
	for i := 1; i <= 60; i++ {
		ids = append(ids, qdrant.NewIDNum(uint64(i)))
	}
	if _, err := cl.Delete(ctx(t), &qdrant.DeletePoints{CollectionName: "c", Points: qdrant.NewPointsSelector(ids...), Wait: qdrant.PtrOf(true)}); err != nil {
		t.Fatal(err)
	}
	var h0, h1 uint64
	for id := range placement[0] {
		if h0 == 0 {
			h0 = id
		} else {
			h1 = id
		}
	}
	up := rest[h0] + "/collections/c/shards/0/snapshots/upload"
	if code, body := uploadShard(t, up+"?checksum=00", snaps[0]); code != 400 || !strings.Contains(string(body), "Snapshot checksum mismatch: expected 00, got ") {
		t.Fatalf("wrong checksum: %d %s", code, body)
	}
	if code, body := restDo(t, "PUT", rest[h0]+"/collections/c/shards/0/snapshots/recover", "application/json",
		strings.NewReader(`{"location":"file:///etc/passwd"}`)); code != 400 || !strings.Contains(string(body), "URLs with file scheme are not supported") {
		t.Fatalf("file location: %d %s", code, body)
	}
	// Priority replica (the default) with another Active replica: this one is marked Dead, data untouched.
	if code, body := uploadShard(t, up, snaps[0]); code != 200 {
		t.Fatalf("upload: %d %s", code, body)
	}
	if st := states()[0]; st[h0] != qdrant.ReplicaState_Dead || st[h1] != qdrant.ReplicaState_Active {
		t.Fatalf("after a replica-priority recovery: %v", st)
	}
	if n := count(t, cl); n != 0 {
		t.Fatalf("%d points after a replica-priority recovery, want 0 (the other replica wins)", n)
	}
	// Priority snapshot: this replica is Active with the snapshot's points, the other one Dead.
	if code, body := uploadShard(t, up+"?priority=snapshot", snaps[0]); code != 200 {
		t.Fatalf("upload: %d %s", code, body)
	}
	if st := states()[0]; st[h0] != qdrant.ReplicaState_Active || st[h1] != qdrant.ReplicaState_Dead {
		t.Fatalf("after a snapshot-priority recovery: %v", st)
	}
	if n := count(t, cl); n != uint64(shardSnapshotPoints(t, snaps[0])) {
		t.Fatalf("%d points after recovering shard 0", n)
	}
	// A peer without the shard cannot recover it.
	for id := range rest {
		if _, ok := placement[0][id]; !ok {
			if code, body := uploadShard(t, rest[id]+"/collections/c/shards/0/snapshots/upload?priority=no_sync", snaps[0]); code != 400 || !strings.Contains(string(body), "not a local shard") {
				t.Fatalf("upload onto a peer without the shard: %d %s", code, body)
			}
		}
	}
}

func count(t *testing.T, cl *qdrant.Client) uint64 {
	t.Helper()
	n, err := cl.Count(ctx(t), &qdrant.CountPoints{CollectionName: "c", Exact: qdrant.PtrOf(true)})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func peerAddr(ts *sandbox.TestServer, id uint64) string {
	for _, p := range ts.Peers {
		if p.ID == id {
			return p.Addr
		}
	}
	return ""
}

func shardSnapshotPoints(t *testing.T, file []byte) int {
	t.Helper()
	var content struct {
		Points []json.RawMessage `json:"points"`
	}
	tr := tar.NewReader(bytes.NewReader(file))
	if _, err := tr.Next(); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(tr)
	if err := json.Unmarshal(body, &content); err != nil {
		t.Fatal(err)
	}
	return len(content.Points)
}
