package qdrant

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/encoding/protojson"
)

// Shard snapshots (Qdrant's REST /collections/{c}/shards/{id}/snapshots...) are per node: only a peer
// holding a replica of the shard can snapshot it, list, download or delete its snapshots, and a recovery
// replaces the called peer's replica of the shard. See FIDELITY.md [SRC-SHARD-SNAP].

// shardSnapshotEntry is the archive member of a shard snapshot: the shard's points.
const shardSnapshotEntry = "shard.json"

const shardSnapshotFormat = "alfred-sandbox-qdrant-shard/1"

type shardSnapshotContent struct {
	Format     string            `json:"format"`
	Collection string            `json:"collection"`
	Shard      uint32            `json:"shard"`
	Points     []json.RawMessage `json:"points"`
}

// sortedShardIDs are the collection's shard ids in ascending order (the domain of shardOfKey).
func sortedShardIDs(c *collection) []uint32 {
	ids := make([]uint32, len(c.shards))
	for i, sh := range c.shards {
		ids[i] = sh.ID
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// shardKeys are the keys of the points that fall in shard id.
func shardKeys(c *collection, id uint32) []string {
	ids := sortedShardIDs(c)
	var out []string
	for _, k := range sortedKeys(c.points) {
		if len(ids) > 0 && shardOfKey(ids, k) == id {
			out = append(out, k)
		}
	}
	return out
}

// shardSnapDir is the directory of a shard's snapshots on the answering peer (Qdrant:
// <collection snapshots>/shards/<id>/, ShardHolder::snapshots_path_for_shard_unchecked).
func (s *Server) shardSnapDir(ctx context.Context, col string, id uint32) string {
	return filepath.Join(s.collectionSnapDir(ctx, col), "shards", strconv.FormatUint(uint64(id), 10))
}

// shardCall resolves the collection and shard of a shard-snapshot request and checks that the answering
// peer holds a replica of it. It locks s.mu on success (the caller unlocks) and answers the request
// itself on failure. notLocal is Qdrant's refusal text for the endpoint.
func (s *Server) shardCall(c *restCtx, notLocal string) (*collection, uint32, bool) {
	name := c.r.PathValue("name")
	id64, err := strconv.ParseUint(c.r.PathValue("shard"), 10, 32)
	if err != nil {
		c.fail(http.StatusBadRequest, "Wrong input: shard_id must be an unsigned integer: "+c.r.PathValue("shard"))
		return nil, 0, false
	}
	id := uint32(id64)
	s.mu.Lock()
	s.advance()
	col, ok := s.cols[name]
	if !ok {
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", name))
		return nil, 0, false
	}
	if col.shard(id) == nil {
		s.mu.Unlock()
		c.fail(http.StatusNotFound, fmt.Sprintf("Not found: shard %d", id))
		return nil, 0, false
	}
	if notLocal != "" && col.replica(id, s.self(c.r.Context())) == nil {
		s.mu.Unlock()
		c.fail(http.StatusBadRequest, fmt.Sprintf("Wrong input: Shard %d %s", id, notLocal))
		return nil, 0, false
	}
	return col, id, true
}

const (
	notLocalOrQueueProxy = "is not a local or queue proxy shard"
	notLocalShard        = "is not a local shard"
)

func snapshotJSONOf(d *pb.SnapshotDescription) map[string]any {
	return map[string]any{"name": d.Name, "creation_time": d.CreationTime.AsTime().UTC().Format("2006-01-02T15:04:05"),
		"size": d.Size, "checksum": d.GetChecksum()}
}

// POST /collections/{name}/shards/{shard}/snapshots: <collection>-shard-<id>-<YYYY-MM-DD-HH-MM-SS>.snapshot.
func (s *Server) restCreateShardSnapshot(c *restCtx) {
	col, id, ok := s.shardCall(c, notLocalOrQueueProxy)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	content := shardSnapshotContent{Format: shardSnapshotFormat, Collection: col.name, Shard: id, Points: []json.RawMessage{}}
	for _, k := range shardKeys(col, id) {
		content.Points = append(content.Points, marshal(col.points[k]))
	}
	body, err := json.Marshal(content)
	if err == nil {
		d, werr := s.writeShardSnapshot(c.r.Context(), col.name, id, body)
		if werr == nil {
			c.ok(snapshotJSONOf(d))
			return
		}
		err = werr
	}
	c.fail(http.StatusInternalServerError, "Service internal error: "+err.Error())
}

func (s *Server) writeShardSnapshot(ctx context.Context, col string, id uint32, body []byte) (*pb.SnapshotDescription, error) {
	dir := s.shardSnapDir(ctx, col, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return writeArchive(dir, col+"-shard-"+strconv.FormatUint(uint64(id), 10), shardSnapshotEntry, body, s.opts.Now().UTC())
}

// GET /collections/{name}/shards/{shard}/snapshots.
func (s *Server) restListShardSnapshots(c *restCtx) {
	col, id, ok := s.shardCall(c, notLocalShard)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	dir := s.shardSnapDir(c.r.Context(), col.name, id)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		c.fail(http.StatusInternalServerError, "Service internal error: "+err.Error())
		return
	}
	out := []map[string]any{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".snapshot") {
			continue
		}
		d, err := describe(filepath.Join(dir, e.Name()))
		if err != nil {
			c.fail(http.StatusInternalServerError, "Service internal error: "+err.Error())
			return
		}
		out = append(out, snapshotJSONOf(d))
	}
	c.ok(out)
}

// shardSnapshotPath is the file of a shard snapshot on the answering peer; a name that is not a plain
// file name is NotFound (ShardHolder::shard_snapshot_path_unchecked). Called under s.mu.
func (s *Server) shardSnapshotPath(c *restCtx, col string, id uint32, name string) (string, bool) {
	if !validSnapshotName(name) {
		c.fail(http.StatusNotFound, "Not found: Snapshot "+name+" not found")
		return "", false
	}
	return filepath.Join(s.shardSnapDir(c.r.Context(), col, id), name), true
}

// GET /collections/{name}/shards/{shard}/snapshots/{snapshot}: the snapshot file.
func (s *Server) restDownloadShardSnapshot(c *restCtx) {
	col, id, ok := s.shardCall(c, notLocalOrQueueProxy)
	if !ok {
		return
	}
	path, ok := s.shardSnapshotPath(c, col.name, id, c.r.PathValue("snapshot"))
	s.mu.Unlock()
	if !ok {
		return
	}
	serveFile(c, path)
}

// DELETE /collections/{name}/shards/{shard}/snapshots/{snapshot}.
func (s *Server) restDeleteShardSnapshot(c *restCtx) {
	col, id, ok := s.shardCall(c, notLocalOrQueueProxy)
	if !ok {
		return
	}
	defer s.mu.Unlock()
	path, ok := s.shardSnapshotPath(c, col.name, id, c.r.PathValue("snapshot"))
	if !ok {
		return
	}
	if err := os.Remove(path); err != nil {
		c.fail(http.StatusNotFound, "Not found: Snapshot "+c.r.PathValue("snapshot")+" not found")
		return
	}
	c.ok(true)
}

// PUT /collections/{name}/shards/{shard}/snapshots/recover {"location", "priority", "checksum"}: location
// is an http(s) URL or the name of a snapshot of this shard on this peer (ShardSnapshotLocation::Url |
// Path); any other URL scheme is refused.
func (s *Server) restRecoverShardSnapshot(c *restCtx) {
	req, ok := recoverRequest(c, `"http(s)://..." or the name of a snapshot of this shard`)
	if !ok {
		return
	}
	col, id, ok := s.shardCall(c, "")
	if !ok {
		return
	}
	u, err := url.Parse(req.Location)
	var body []byte
	switch {
	case err == nil && u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https":
		s.mu.Unlock()
		c.fail(http.StatusBadRequest, fmt.Sprintf("Wrong input: Invalid snapshot URL %s: URLs with %s scheme are not supported", req.Location, u.Scheme))
		return
	case err == nil && u.Scheme != "":
		s.mu.Unlock()
		body, err = download(req.Location)
		if err != nil {
			c.fail(http.StatusBadRequest, "Wrong input: "+err.Error())
			return
		}
	default:
		// A snapshot of this shard on this node: the peer must hold the shard.
		if col.replica(id, s.self(c.r.Context())) == nil {
			s.mu.Unlock()
			c.fail(http.StatusBadRequest, fmt.Sprintf("Wrong input: Shard %d %s", id, notLocalOrQueueProxy))
			return
		}
		path, ok := s.shardSnapshotPath(c, col.name, id, req.Location)
		s.mu.Unlock()
		if !ok {
			return
		}
		if body, err = os.ReadFile(path); err != nil {
			c.fail(http.StatusNotFound, "Not found: Snapshot "+req.Location+" not found")
			return
		}
	}
	s.recoverShardBody(c, col.name, id, body, req.Checksum, req.Priority)
}

func download(location string) ([]byte, error) {
	resp, err := http.Get(location)
	if err != nil {
		return nil, fmt.Errorf("cannot download snapshot: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("downloading snapshot from %s: HTTP %d", location, resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxSnapshotBytes))
}

// POST /collections/{name}/shards/{shard}/snapshots/upload?priority=&checksum=: multipart field `snapshot`.
func (s *Server) restUploadShardSnapshot(c *restCtx) {
	q := c.r.URL.Query()
	if !validPriority(q.Get("priority")) {
		c.fail(http.StatusBadRequest, "Wrong input: priority must be one of replica, snapshot, no_sync")
		return
	}
	col, id, ok := s.shardCall(c, "")
	if !ok {
		return
	}
	s.mu.Unlock()
	body, ok := multipartSnapshot(c)
	if !ok {
		return
	}
	s.recoverShardBody(c, col.name, id, body, q.Get("checksum"), q.Get("priority"))
}

// multipartSnapshot reads the `snapshot` field of a multipart upload, answering the request on failure.
func multipartSnapshot(c *restCtx) ([]byte, bool) {
	c.r.Body = http.MaxBytesReader(c.w, c.r.Body, maxSnapshotBytes)
	mr, err := c.r.MultipartReader()
	if err != nil {
		c.fail(http.StatusBadRequest, "Wrong input: body must be multipart/form-data with a `snapshot` file: "+err.Error())
		return nil, false
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			c.fail(http.StatusBadRequest, "Wrong input: multipart form has no `snapshot` field")
			return nil, false
		}
		if err != nil {
			c.fail(http.StatusBadRequest, "Wrong input: "+err.Error())
			return nil, false
		}
		if part.FormName() != "snapshot" {
			continue
		}
		body, err := io.ReadAll(part)
		if err != nil {
			c.fail(http.StatusBadRequest, "Wrong input: "+err.Error())
			return nil, false
		}
		return body, true
	}
}

func readShardSnapshot(body []byte) (*shardSnapshotContent, error) {
	r, err := archiveEntry(bytes.NewReader(body), shardSnapshotEntry)
	if err != nil {
		return nil, err
	}
	var sc shardSnapshotContent
	if err := json.NewDecoder(r).Decode(&sc); err != nil || sc.Format != shardSnapshotFormat {
		return nil, fmt.Errorf("%s is malformed (format %q): %v", shardSnapshotEntry, sc.Format, err)
	}
	return &sc, nil
}

// recoverShardBody checks the optional checksum, then replaces the answering peer's replica of shard id
// with the snapshot's points and sets the replica states as Qdrant's recover_shard_snapshot_impl does:
// with no other Active replica, or priority no_sync, the recovered replica is activated; with priority
// snapshot it is activated and the other Active replicas are marked Dead (their peers then recover them
// from it); with priority replica (the default) the recovered replica is marked Dead, to be recovered
// from the others. The sandbox keeps one copy of a shard's points, so with priority replica and another
// Active replica the snapshot's points are not applied (the recovery from the others would overwrite
// them).
func (s *Server) recoverShardBody(c *restCtx, col string, id uint32, body []byte, checksum, priority string) {
	if checksum != "" {
		sum := sha256.Sum256(body)
		if got := hex.EncodeToString(sum[:]); !strings.EqualFold(got, checksum) {
			c.fail(http.StatusBadRequest, "Wrong input: Snapshot checksum mismatch: expected "+checksum+", got "+got)
			return
		}
	}
	sc, err := readShardSnapshot(body)
	if err != nil {
		c.fail(http.StatusBadRequest, "Bad request: Invalid snapshot: "+err.Error())
		return
	}
	points := make([]*pb.PointStruct, 0, len(sc.Points))
	for _, raw := range sc.Points {
		p := &pb.PointStruct{}
		if err := protojson.Unmarshal(raw, p); err != nil {
			c.fail(http.StatusBadRequest, "Bad request: Invalid snapshot: "+err.Error())
			return
		}
		points = append(points, p)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	cl, ok := s.cols[col]
	if !ok || cl.shard(id) == nil {
		c.fail(http.StatusNotFound, fmt.Sprintf("Not found: Collection `%s` doesn't exist!", col))
		return
	}
	self := s.self(c.r.Context())
	mine := cl.replica(id, self)
	if mine == nil {
		// Unverified: Qdrant would build a local replica here; the sandbox refuses (FIDELITY.md).
		c.fail(http.StatusBadRequest, fmt.Sprintf("Wrong input: Shard %d %s", id, notLocalShard))
		return
	}
	var others []*replica
	for _, r := range cl.shard(id).Replicas {
		if r.Peer != self && r.State == pb.ReplicaState_Active {
			others = append(others, r)
		}
	}
	now := s.opts.Now()
	apply := true
	switch {
	case len(others) == 0 || priority == "no_sync":
		mine.State, mine.Since = pb.ReplicaState_Active, now
	case priority == "snapshot":
		mine.State, mine.Since = pb.ReplicaState_Active, now
		for _, r := range others {
			r.State, r.Since = pb.ReplicaState_Dead, now
		}
	default: // "replica"
		mine.State, mine.Since = pb.ReplicaState_Dead, now
		apply = false
	}
	if apply {
		for _, k := range shardKeys(cl, id) {
			delete(cl.points, k)
		}
		for _, p := range points {
			cl.points[pointKey(p.Id)] = p
		}
	}
	if err := s.save(); err != nil {
		c.fail(http.StatusInternalServerError, "Service internal error: "+err.Error())
		return
	}
	c.ok(true)
}
