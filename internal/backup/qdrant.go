package backup

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Qdrant says how to reach a Qdrant cluster (the provider's qdrant block: ALFRED_QDRANT_URL,
// ALFRED_QDRANT_REST_URL, QDRANT_API_KEY, ALFRED_QDRANT_TLS, ALFRED_QDRANT_CA_CERT).
//
// Qdrant's snapshots are per node and hold only that node's shards, so the engine talks to each peer's
// own REST API: PeerRESTURLs maps peer ids to REST base URLs; a peer missing there is reached at the
// host of its cluster URI (GET /cluster) with the scheme and port of RESTURL, and the peer answering
// RESTURL at RESTURL.
type Qdrant struct {
	shared.QdrantConfig // URL (gRPC host:port), RESTURL (REST base URL of one peer), APIKey, TLS, CACert
	PeerRESTURLs        map[uint64]string
}

// QdrantCollection is what a backup set records of a collection: its configuration (to recreate it),
// payload indexes, point count and content checksum (for verify), and where each shard's object is.
type QdrantCollection struct {
	Name string `json:"name"`
	// Config is the collection's CollectionConfig (protojson) as GetCollectionInfo returned it.
	Config json.RawMessage `json:"config"`
	// PayloadIndexes are the collection's payload_schema entries (protojson PayloadSchemaInfo) by field.
	PayloadIndexes map[string]json.RawMessage `json:"payload_indexes,omitempty"`
	Points         uint64                     `json:"points"`
	// Checksum is sha256 over every point (id, vectors, payload; deterministic protobuf) in id order,
	// read by a scroll before and again after the shard snapshots were taken.
	Checksum string `json:"checksum"`
	// Unstable is true when the two scrolls differ: the collection was written during the run, so the
	// shard snapshots (taken one by one) match no single recorded state; Points and Checksum are then
	// empty, restore cannot compare the count, and verify refuses the collection.
	Unstable bool          `json:"unstable,omitempty"`
	Shards   []QdrantShard `json:"shards"`
}

// QdrantShard is one shard's snapshot in a set.
type QdrantShard struct {
	ID     uint32 `json:"id"`
	Object string `json:"object"` // the Object's Name: "<collection>/<shard id>"
	// Peer is the peer the snapshot was taken on (it held an Active replica).
	Peer uint64 `json:"peer"`
	// SnapshotSHA256 is Qdrant's checksum of the snapshot file, passed back on recovery.
	SnapshotSHA256 string `json:"snapshot_sha256"`
}

// qdrantConn is a connection to one cluster: the gRPC client and each peer's REST URL.
type qdrantConn struct {
	cfg    Qdrant
	client *pb.Client
	http   *http.Client
	peers  map[uint64]string // peer id -> REST base URL
}

// connect opens the gRPC client and learns the peers from GET /cluster; an unreachable cluster fails
// here, before any data moves.
func (q *Qdrant) connect(ctx context.Context) (*qdrantConn, error) {
	if q == nil || q.URL == "" || q.RESTURL == "" {
		return nil, errors.New("no Qdrant cluster configured: set ALFRED_QDRANT_URL (gRPC host:port) and ALFRED_QDRANT_REST_URL (REST, for snapshots)")
	}
	host, portStr, err := net.SplitHostPort(q.URL)
	if err != nil {
		return nil, fmt.Errorf("ALFRED_QDRANT_URL %q is not host:port: %w", q.URL, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("ALFRED_QDRANT_URL %q: bad port", q.URL)
	}
	tlsCfg, err := q.TLSConfig()
	if err != nil {
		return nil, err
	}
	client, err := pb.NewClient(&pb.Config{Host: host, Port: port, APIKey: q.APIKey, UseTLS: tlsCfg != nil, TLSConfig: tlsCfg,
		PoolSize: 1, SkipCompatibilityCheck: true})
	if err != nil {
		return nil, fmt.Errorf("connecting to Qdrant at %s: %w", q.URL, err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if tlsCfg != nil {
		tr.TLSClientConfig = tlsCfg
	}
	c := &qdrantConn{cfg: *q, client: client, http: &http.Client{Transport: tr}, peers: map[uint64]string{}}
	if err := c.learnPeers(ctx); err != nil {
		_ = client.Close()
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := client.HealthCheck(hctx); err != nil {
		_ = client.Close()
		return nil, fmt.Errorf("the Qdrant gRPC API at %s is unreachable (%v): check ALFRED_QDRANT_URL", q.URL, err)
	}
	return c, nil
}

func (c *qdrantConn) close() { _ = c.client.Close() }

// learnPeers reads GET /cluster: the answering peer is at RESTURL, the others at PeerRESTURLs or at
// their cluster URI's host with RESTURL's scheme and port.
func (c *qdrantConn) learnPeers(ctx context.Context) error {
	base := strings.TrimRight(c.cfg.RESTURL, "/")
	var cl struct {
		Result struct {
			PeerID uint64 `json:"peer_id"`
			Peers  map[string]struct {
				URI string `json:"uri"`
			} `json:"peers"`
		} `json:"result"`
	}
	if err := c.restJSON(ctx, "GET", base+"/cluster", &cl); err != nil {
		return fmt.Errorf("the Qdrant REST API at %s is unreachable or refused (%v): check ALFRED_QDRANT_REST_URL and QDRANT_API_KEY", base, err)
	}
	ru, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("ALFRED_QDRANT_REST_URL %q: %w", base, err)
	}
	for idStr, p := range cl.Result.Peers {
		id, err := strconv.ParseUint(idStr, 10, 64)
		if err != nil {
			continue
		}
		switch {
		case c.cfg.PeerRESTURLs[id] != "":
			c.peers[id] = strings.TrimRight(c.cfg.PeerRESTURLs[id], "/")
		case id == cl.Result.PeerID:
			c.peers[id] = base
		default:
			if pu, err := url.Parse(p.URI); err == nil && pu.Hostname() != "" {
				c.peers[id] = ru.Scheme + "://" + net.JoinHostPort(pu.Hostname(), ru.Port())
			}
		}
	}
	if len(cl.Result.Peers) == 0 { // a single node without cluster mode
		c.peers[cl.Result.PeerID] = base
	}
	return nil
}

func (c *qdrantConn) request(ctx context.Context, method, u string, body io.Reader, contentType string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if c.cfg.APIKey != "" {
		req.Header.Set("api-key", c.cfg.APIKey)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		var env struct {
			Status struct {
				Error string `json:"error"`
			} `json:"status"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &env) == nil && env.Status.Error != "" {
			msg = env.Status.Error
		}
		return nil, fmt.Errorf("%s %s: HTTP %d: %s", method, u, resp.StatusCode, msg)
	}
	return resp, nil
}

// restJSON sends a request without a body and decodes Qdrant's envelope into out.
func (c *qdrantConn) restJSON(ctx context.Context, method, u string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	resp, err := c.request(ctx, method, u, nil, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (c *qdrantConn) peerURL(id uint64) (string, error) {
	if u, ok := c.peers[id]; ok {
		return u, nil
	}
	return "", fmt.Errorf("no REST URL for Qdrant peer %d (not in GET /cluster)", id)
}

// replicas returns, per shard id, the peers holding a replica and their states.
func (c *qdrantConn) replicas(ctx context.Context, name string) (map[uint32]map[uint64]pb.ReplicaState, error) {
	ci, err := c.client.GetCollectionClusterInfo(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("reading the shards of collection %q: %w", name, err)
	}
	out := map[uint32]map[uint64]pb.ReplicaState{}
	add := func(shard uint32, peer uint64, st pb.ReplicaState) {
		if out[shard] == nil {
			out[shard] = map[uint64]pb.ReplicaState{}
		}
		out[shard][peer] = st
	}
	for _, l := range ci.GetLocalShards() {
		add(l.GetShardId(), ci.GetPeerId(), l.GetState())
	}
	for _, r := range ci.GetRemoteShards() {
		add(r.GetShardId(), r.GetPeerId(), r.GetState())
	}
	return out, nil
}

func sortedShards(m map[uint32]map[uint64]pb.ReplicaState) []uint32 {
	ids := make([]uint32, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	return ids
}

// collectionPlan is what a backup of one collection will do: its info and, per shard, the peer (holding
// an Active replica) to snapshot it on.
type collectionPlan struct {
	name   string
	info   *pb.CollectionInfo
	source map[uint32]uint64
}

// planCollection checks that a collection exists, is not custom-sharded, and that every shard has an
// Active replica on a peer whose REST API is known.
func (c *qdrantConn) planCollection(ctx context.Context, name string) (*collectionPlan, error) {
	info, err := c.client.GetCollectionInfo(ctx, name)
	if status.Code(errors.Unwrap(err)) == codes.NotFound || status.Code(err) == codes.NotFound {
		return nil, fmt.Errorf("Qdrant collection %q does not exist in the cluster at %s: check --qdrant-collection", name, c.cfg.URL)
	}
	if err != nil {
		return nil, fmt.Errorf("reading Qdrant collection %q: %w", name, err)
	}
	if info.GetConfig().GetParams().GetShardingMethod() == pb.ShardingMethod_Custom {
		return nil, fmt.Errorf("Qdrant collection %q uses custom sharding (shard keys), which the backup does not support", name)
	}
	reps, err := c.replicas(ctx, name)
	if err != nil {
		return nil, err
	}
	p := &collectionPlan{name: name, info: info, source: map[uint32]uint64{}}
	for _, shard := range sortedShards(reps) {
		var peers []uint64
		for peer, st := range reps[shard] {
			if st == pb.ReplicaState_Active {
				peers = append(peers, peer)
			}
		}
		sort.Slice(peers, func(i, j int) bool { return peers[i] < peers[j] })
		if len(peers) == 0 {
			return nil, fmt.Errorf("shard %d of Qdrant collection %q has no Active replica (%v): wait for the cluster to recover it", shard, name, reps[shard])
		}
		// The peer must answer on its REST API for this shard (reachable, key accepted, shard local):
		// listing the shard's snapshots proves it without writing anything.
		var lastErr error
		for _, peer := range peers {
			base, err := c.peerURL(peer)
			if err == nil {
				err = c.restJSON(ctx, "GET", fmt.Sprintf("%s/collections/%s/shards/%d/snapshots", base, url.PathEscape(name), shard), nil)
			}
			if lastErr = err; err == nil {
				p.source[shard] = peer
				break
			}
		}
		if lastErr != nil {
			return nil, fmt.Errorf("no peer holding an Active replica of shard %d of Qdrant collection %q answers on its REST API (%v): name the peers' REST URLs with --qdrant-peer-url ID=URL or %s",
				shard, name, lastErr, "ALFRED_QDRANT_PEER_REST_URLS")
		}
	}
	return p, nil
}

// preflightQdrant connects and plans every collection, before any data moves.
func (e *Engine) preflightQdrant(ctx context.Context, names []string) (*qdrantConn, []*collectionPlan, error) {
	if len(names) == 0 {
		return nil, nil, nil
	}
	c, err := e.Qdrant.connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	var plans []*collectionPlan
	for _, n := range names {
		p, err := c.planCollection(ctx, n)
		if err != nil {
			c.close()
			return nil, nil, err
		}
		plans = append(plans, p)
	}
	return c, plans, nil
}

func shardObjectName(collection string, shard uint32) string {
	return collection + "/" + strconv.FormatUint(uint64(shard), 10)
}

// backupCollection snapshots every shard on a peer holding an Active replica of it, streams each
// snapshot into its own object and deletes the snapshot from the peer; the point count and content
// checksum are recorded when they are the same before and after the snapshots.
func (e *Engine) backupCollection(ctx context.Context, c *qdrantConn, setID string, p *collectionPlan) ([]Object, *QdrantCollection, error) {
	cfg, err := protojson.Marshal(p.info.GetConfig())
	if err != nil {
		return nil, nil, err
	}
	meta := &QdrantCollection{Name: p.name, Config: cfg, PayloadIndexes: map[string]json.RawMessage{}}
	for f, s := range p.info.GetPayloadSchema() {
		if meta.PayloadIndexes[f], err = protojson.Marshal(s); err != nil {
			return nil, nil, err
		}
	}
	points, sum, err := c.contentChecksum(ctx, p.name)
	if err != nil {
		return nil, nil, err
	}
	var objs []Object
	shards := make([]uint32, 0, len(p.source))
	for s := range p.source {
		shards = append(shards, s)
	}
	sort.Slice(shards, func(i, j int) bool { return shards[i] < shards[j] })
	for _, shard := range shards {
		obj, sh, err := e.backupShard(ctx, c, setID, p.name, shard, p.source[shard])
		if err != nil {
			return nil, nil, fmt.Errorf("shard %d (from peer %d): %w", shard, p.source[shard], err)
		}
		objs = append(objs, *obj)
		meta.Shards = append(meta.Shards, *sh)
	}
	after, sumAfter, err := c.contentChecksum(ctx, p.name)
	if err != nil {
		return nil, nil, err
	}
	if after == points && sumAfter == sum {
		meta.Points, meta.Checksum = points, sum
	} else {
		meta.Unstable = true
	}
	return objs, meta, nil
}

func (e *Engine) backupShard(ctx context.Context, c *qdrantConn, setID, col string, shard uint32, peer uint64) (*Object, *QdrantShard, error) {
	base, err := c.peerURL(peer)
	if err != nil {
		return nil, nil, err
	}
	snapURL := fmt.Sprintf("%s/collections/%s/shards/%d/snapshots", base, url.PathEscape(col), shard)
	var created struct {
		Result struct {
			Name     string `json:"name"`
			Size     int64  `json:"size"`
			Checksum string `json:"checksum"`
		} `json:"result"`
	}
	if err := c.restJSON(ctx, "POST", snapURL, &created); err != nil {
		return nil, nil, fmt.Errorf("creating the shard snapshot: %w", err)
	}
	fileURL := snapURL + "/" + url.PathEscape(created.Result.Name)
	// The snapshot is not left on the node: the set holds it.
	defer func() { _ = c.restJSON(context.WithoutCancel(ctx), "DELETE", fileURL, nil) }()
	resp, err := c.request(ctx, "GET", fileURL, nil, "")
	if err != nil {
		return nil, nil, fmt.Errorf("downloading the shard snapshot: %w", err)
	}
	defer resp.Body.Close()
	name := shardObjectName(col, shard)
	obj := &Object{Kind: "qdrant", Name: name, Key: e.Store.setPrefix(setID) + "qdrant/" + col + "/shard-" + strconv.FormatUint(uint64(shard), 10) + ".snapshot.zst.tink"}
	h := sha256.New()
	if err := e.sealAndUpload(ctx, setID, obj, io.TeeReader(resp.Body, h), "backup qdrant "+name); err != nil {
		return nil, nil, err
	}
	got := hex.EncodeToString(h.Sum(nil))
	if created.Result.Checksum != "" && !strings.EqualFold(got, created.Result.Checksum) {
		return nil, nil, fmt.Errorf("the downloaded snapshot %s has sha256 %s, Qdrant reported %s", created.Result.Name, got, created.Result.Checksum)
	}
	return obj, &QdrantShard{ID: shard, Object: name, Peer: peer, SnapshotSHA256: got}, nil
}

// contentChecksum scrolls every point (ids ascending, with vectors and payload) and hashes each one's
// deterministic protobuf encoding, length-prefixed.
func (c *qdrantConn) contentChecksum(ctx context.Context, name string) (uint64, string, error) {
	h := sha256.New()
	var n uint64
	var offset *pb.PointId
	for {
		pts, next, err := c.client.ScrollAndOffset(ctx, &pb.ScrollPoints{CollectionName: name, Offset: offset, Limit: proto.Uint32(256),
			WithPayload: pb.NewWithPayload(true), WithVectors: pb.NewWithVectors(true)})
		if err != nil {
			return 0, "", fmt.Errorf("reading the points of collection %q: %w", name, err)
		}
		for _, p := range pts {
			if err := hashPoint(h, p); err != nil {
				return 0, "", err
			}
			n++
		}
		if next == nil || len(pts) == 0 {
			return n, hex.EncodeToString(h.Sum(nil)), nil
		}
		offset = next
	}
}

func hashPoint(h hash.Hash, p *pb.RetrievedPoint) error {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.RetrievedPoint{Id: p.GetId(), Payload: p.GetPayload(), Vectors: p.GetVectors()})
	if err != nil {
		return err
	}
	var l [8]byte
	binary.BigEndian.PutUint64(l[:], uint64(len(b)))
	h.Write(l[:])
	h.Write(b)
	return nil
}

// backupQdrant backs up the planned collections into set m.
func (e *Engine) backupQdrant(ctx context.Context, c *qdrantConn, plans []*collectionPlan, m *Manifest) error {
	for _, p := range plans {
		objs, meta, err := e.backupCollection(ctx, c, m.ID, p)
		if err != nil {
			return fmt.Errorf("backing up Qdrant collection %q: %w", p.name, err)
		}
		m.Objects = append(m.Objects, objs...)
		m.Qdrant = append(m.Qdrant, *meta)
	}
	if len(plans) > 0 {
		m.ToolVersions["qdrant-go-client"] = "github.com/qdrant/go-client " + modVersion("github.com/qdrant/go-client")
		if hc, err := c.client.HealthCheck(ctx); err == nil {
			m.ToolVersions["qdrant"] = hc.GetVersion()
		}
	}
	return nil
}
