package backup

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"sort"
	"strings"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// QdrantReadyTimeout bounds the wait for a restored collection's replicas to be Active.
var QdrantReadyTimeout = 2 * time.Minute

func findCollection(m *Manifest, name string) (*QdrantCollection, error) {
	var names []string
	for i := range m.Qdrant {
		if m.Qdrant[i].Name == name {
			return &m.Qdrant[i], nil
		}
		names = append(names, m.Qdrant[i].Name)
	}
	return nil, fmt.Errorf("set %s holds no Qdrant collection %q (it holds: %s)", m.ID, name, strings.Join(names, ", "))
}

// restoreQdrant proves every shard object of the collection intact, then recreates the collection on the
// configured cluster (whatever its peers) and recovers each shard onto every peer holding a replica.
func (e *Engine) restoreQdrant(ctx context.Context, o RestoreOptions) error {
	m, err := e.Store.Manifest(ctx, o.SetID)
	if err != nil {
		return err
	}
	meta, err := findCollection(m, o.QdrantCollection)
	if err != nil {
		return err
	}
	target, err := o.targetOf("collection", meta.Name)
	if err != nil {
		return err
	}
	c, err := e.Qdrant.connect(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	exists, err := c.client.CollectionExists(ctx, target)
	if err != nil {
		return fmt.Errorf("checking Qdrant collection %q: %w", target, err)
	}
	if exists && !o.Force {
		return fmt.Errorf("Qdrant collection %q already exists: pass --force to replace it, or name another --target", target)
	}
	// Integrity first: nothing is written to the cluster before every shard object checks out.
	objs, err := shardObjects(m, meta)
	if err != nil {
		return err
	}
	for _, obj := range objs {
		if err := e.CheckObject(ctx, o.SetID, obj); err != nil {
			return err
		}
	}
	if !exists {
		return e.recreateCollection(ctx, c, o.SetID, meta, objs, target)
	}
	return e.replaceCollection(ctx, c, o.SetID, meta, objs, target)
}

// replaceCollection replaces the live collection target with the backup, without ever leaving the data
// nowhere: the backup is first restored into a scratch collection and checked as verify does (point count
// and content checksum against the manifest); only then is target deleted and restored again from the
// same objects, and checked in turn. A failure before the delete leaves target untouched (and no scratch
// collection); a failure after it keeps the checked scratch collection and names it.
func (e *Engine) replaceCollection(ctx context.Context, c *qdrantConn, setID string, meta *QdrantCollection, objs map[uint32]Object, target string) error {
	scratch := scratchName("alfred_restore_")
	check, err := e.restoreChecked(ctx, c, setID, meta, objs, scratch)
	if err == nil && !check.OK() {
		err = fmt.Errorf("%w: the restored copy has %d points (checksum %s), the backup %d (checksum %s)",
			ErrIntegrity, check.GotRows, check.GotChecksum, check.WantRows, check.WantChecksum)
	}
	if err != nil {
		_ = c.client.DeleteCollection(context.WithoutCancel(ctx), scratch)
		return fmt.Errorf("restoring set %s into the scratch collection %q failed, so Qdrant collection %q was not touched (the scratch collection was deleted): %w",
			setID, scratch, target, err)
	}
	if err := c.client.DeleteCollection(ctx, target); err != nil {
		_ = c.client.DeleteCollection(context.WithoutCancel(ctx), scratch)
		return fmt.Errorf("deleting Qdrant collection %q to replace it (it was not replaced; the checked scratch collection %q was deleted): %w", target, scratch, err)
	}
	check, err = e.restoreChecked(ctx, c, setID, meta, objs, target)
	if err == nil && !check.OK() {
		err = fmt.Errorf("%w: %q has %d points, the backup %d", ErrIntegrity, target, check.GotRows, check.WantRows)
	}
	if err != nil {
		return fmt.Errorf("Qdrant collection %q was deleted to be replaced, and restoring it failed: %w. The backup's data, checked (%d points), is in the collection %q: "+
			"run the restore again, or restore with --target, or read from %q (e.g. through an alias); delete it when done", target, err, meta.Points, scratch, scratch)
	}
	if err := c.client.DeleteCollection(ctx, scratch); err != nil {
		return fmt.Errorf("Qdrant collection %q was replaced and checked, but the scratch collection %q is left: %w", target, scratch, err)
	}
	return nil
}

// restoreChecked restores the collection into name and compares its point count and content checksum
// with the manifest's, as verify does; for a collection recorded unstable there is nothing to compare and
// the check is the wanted values (OK).
func (e *Engine) restoreChecked(ctx context.Context, c *qdrantConn, setID string, meta *QdrantCollection, objs map[uint32]Object, name string) (TableCheck, error) {
	check := TableCheck{Database: "qdrant", Table: meta.Name, WantRows: int64(meta.Points), WantChecksum: meta.Checksum, GotRows: -1}
	if err := e.recreateCollection(ctx, c, setID, meta, objs, name); err != nil {
		return check, err
	}
	if meta.Unstable {
		check.GotRows, check.GotChecksum = check.WantRows, check.WantChecksum
		return check, nil
	}
	n, sum, err := c.contentChecksum(ctx, name)
	check.GotRows, check.GotChecksum = int64(n), sum
	return check, err
}

// scratchName is prefix and 8 random hex digits.
func scratchName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func shardObjects(m *Manifest, meta *QdrantCollection) (map[uint32]Object, error) {
	out := map[uint32]Object{}
	for _, sh := range meta.Shards {
		obj, err := findObject(m, "qdrant", sh.Object)
		if err != nil {
			return nil, err
		}
		out[sh.ID] = *obj
	}
	return out, nil
}

func (e *Engine) recreateCollection(ctx context.Context, c *qdrantConn, setID string, meta *QdrantCollection, objs map[uint32]Object, target string) error {
	cfg := &pb.CollectionConfig{}
	if err := protojson.Unmarshal(meta.Config, cfg); err != nil {
		return fmt.Errorf("%w: the configuration of collection %q in the manifest is malformed: %v", ErrIntegrity, meta.Name, err)
	}
	p := cfg.GetParams()
	req := &pb.CreateCollection{CollectionName: target, VectorsConfig: p.GetVectorsConfig(), ShardNumber: proto.Uint32(p.GetShardNumber()),
		ReplicationFactor: p.ReplicationFactor, WriteConsistencyFactor: p.WriteConsistencyFactor, OnDiskPayload: proto.Bool(p.GetOnDiskPayload()),
		HnswConfig: cfg.GetHnswConfig(), WalConfig: cfg.GetWalConfig(), OptimizersConfig: cfg.GetOptimizerConfig(),
		QuantizationConfig: cfg.GetQuantizationConfig(), SparseVectorsConfig: p.SparseVectorsConfig, StrictModeConfig: cfg.GetStrictModeConfig(),
		Metadata: cfg.GetMetadata(), Timeout: proto.Uint64(60)}
	if err := c.client.CreateCollection(ctx, req); err != nil {
		return fmt.Errorf("creating Qdrant collection %q: %w", target, err)
	}
	fields := make([]string, 0, len(meta.PayloadIndexes))
	for f := range meta.PayloadIndexes {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		info := &pb.PayloadSchemaInfo{}
		if err := protojson.Unmarshal(meta.PayloadIndexes[f], info); err != nil || info.GetDataType() == pb.PayloadSchemaType_UnknownType {
			return fmt.Errorf("%w: payload index %q of collection %q in the manifest is malformed", ErrIntegrity, f, meta.Name)
		}
		ft := pb.FieldType(info.GetDataType() - 1) // PayloadSchemaType counts from UnknownType = 0, FieldType from Keyword = 0
		if _, err := c.client.CreateFieldIndex(ctx, &pb.CreateFieldIndexCollection{CollectionName: target, FieldName: f, FieldType: &ft,
			FieldIndexParams: info.GetParams(), Wait: proto.Bool(true)}); err != nil {
			return fmt.Errorf("creating payload index %q on %q: %w", f, target, err)
		}
	}
	reps, err := c.waitActive(ctx, target)
	if err != nil {
		return err
	}
	for _, sh := range meta.Shards {
		holders := reps[sh.ID]
		if len(holders) == 0 {
			return fmt.Errorf("shard %d of the restored collection %q has no replica (its shard_number differs?)", sh.ID, target)
		}
		peers := make([]uint64, 0, len(holders))
		for peer := range holders {
			peers = append(peers, peer)
		}
		sort.Slice(peers, func(i, j int) bool { return peers[i] < peers[j] })
		for _, peer := range peers {
			if err := e.recoverShard(ctx, c, setID, objs[sh.ID], sh, target, peer); err != nil {
				return fmt.Errorf("recovering shard %d of %q onto peer %d: %w", sh.ID, target, peer, err)
			}
		}
	}
	if _, err := c.waitActive(ctx, target); err != nil {
		return err
	}
	n, err := c.client.Count(ctx, &pb.CountPoints{CollectionName: target, Exact: proto.Bool(true)})
	if err != nil {
		return fmt.Errorf("counting the points of %q: %w", target, err)
	}
	if !meta.Unstable && n != meta.Points {
		return fmt.Errorf("%w: the restored collection %q has %d points, the backup %d", ErrIntegrity, target, n, meta.Points)
	}
	return nil
}

// recoverShard streams the shard's object (decrypted, decompressed) as a multipart upload to the peer's
// shard recovery endpoint. Every replica receives the same snapshot, so priority no_sync (activate the
// replica, no synchronisation) leaves them all Active and equal without shard transfers.
func (e *Engine) recoverShard(ctx context.Context, c *qdrantConn, setID string, obj Object, sh QdrantShard, target string, peer uint64) error {
	base, err := c.peerURL(peer)
	if err != nil {
		return err
	}
	r, finish, closeFn, err := e.plainReader(ctx, setID, obj)
	if err != nil {
		return err
	}
	defer closeFn()
	prog := e.progress()
	prog.Start(fmt.Sprintf("restore qdrant %s -> %s (peer %d)", obj.Name, target, peer), obj.PlainBytes)
	defer prog.Done()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		part, err := mw.CreateFormFile("snapshot", fmt.Sprintf("%s-shard-%d.snapshot", target, sh.ID))
		if err == nil {
			_, err = io.Copy(part, io.TeeReader(r, &countingWriter{w: io.Discard, p: prog}))
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	u := fmt.Sprintf("%s/collections/%s/shards/%d/snapshots/upload?priority=no_sync&wait=true&checksum=%s",
		base, url.PathEscape(target), sh.ID, url.QueryEscape(sh.SnapshotSHA256))
	resp, err := c.request(ctx, "POST", u, pr, mw.FormDataContentType())
	pr.CloseWithError(errors.New("upload finished"))
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return finish()
}

// waitActive waits until every replica of every shard is Active and returns the placement.
func (c *qdrantConn) waitActive(ctx context.Context, name string) (map[uint32]map[uint64]pb.ReplicaState, error) {
	deadline := time.Now().Add(QdrantReadyTimeout)
	for {
		reps, err := c.replicas(ctx, name)
		if err != nil {
			return nil, err
		}
		ready := len(reps) > 0
		for _, peers := range reps {
			for _, st := range peers {
				ready = ready && st == pb.ReplicaState_Active
			}
		}
		if ready {
			return reps, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the replicas of Qdrant collection %q are not all Active after %s: %v", name, QdrantReadyTimeout, reps)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// verifyQdrant restores every collection of set m into a scratch collection, compares its point count
// and content checksum with those recorded at backup, and deletes the scratch collection.
func (e *Engine) verifyQdrant(ctx context.Context, m *Manifest) ([]TableCheck, error) {
	if len(m.Qdrant) == 0 {
		return nil, nil
	}
	c, err := e.Qdrant.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer c.close()
	var out []TableCheck
	for i := range m.Qdrant {
		meta := &m.Qdrant[i]
		if meta.Unstable {
			return out, fmt.Errorf("set %s: Qdrant collection %q was written during the backup, so its content has no recorded state to compare: it cannot be verified", m.ID, meta.Name)
		}
		objs, err := shardObjects(m, meta)
		if err != nil {
			return out, err
		}
		for _, obj := range objs {
			if err := e.CheckObject(ctx, m.ID, obj); err != nil {
				return out, err
			}
		}
		scratch := scratchName("alfred_verify_")
		check, err := e.restoreChecked(ctx, c, m.ID, meta, objs, scratch)
		_ = c.client.DeleteCollection(context.WithoutCancel(ctx), scratch)
		if err != nil && !errors.Is(err, ErrIntegrity) {
			return out, err
		}
		out = append(out, check)
	}
	return out, nil
}
