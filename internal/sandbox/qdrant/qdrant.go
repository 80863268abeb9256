// Package qdrant emulates a Qdrant cluster of several peers: the gRPC API of github.com/qdrant/go-client
// (Qdrant health, Collections, Points enough to upsert/scroll/count/get/delete, Snapshots) and the REST
// endpoints the provider and the backup engine use (snapshot download, upload and recover, /cluster,
// /collections, /healthz). See FIDELITY.md.
package qdrant

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Version is the Qdrant version the emulator reports (HealthCheck, GET /): the go-client checks that its
// own major.minor is within one minor of it.
const Version = "1.17.1"

// firstPeerID is the id of the first emulated peer; the others follow. Real peer ids are random u64.
const firstPeerID uint64 = 381894127136001

// Options configure the emulator.
type Options struct {
	Dir string   // state directory (state file and snapshots/); "" = memory only (snapshots in a temp dir)
	Kit *kit.Kit // shared faults and call counts; nil: a private kit without faults

	APIKey string // when set, every call but health checks needs it (gRPC metadata or REST header `api-key`)
	Peers  int    // emulated peers (default 3)
	// ReplicaSyncDelay is how long a shard transfer (replicate, move, recovery of a dead replica) takes
	// before the new replica is Active (default 1s).
	ReplicaSyncDelay time.Duration
	// ReplicaInitDelay is how long the replicas of a new collection stay Initializing before the
	// consensus activates them (default 50ms). Create answers once they are Active, as Qdrant's
	// dispatcher waits for every replica's activation before answering a create.
	ReplicaInitDelay time.Duration
	// AutoRecoveryDelay is how long a Dead replica on a peer that is up stays Dead before that peer's
	// periodic local-state sync (Qdrant's Collection::sync_local_state) requests a recovery transfer
	// from an active replica (default 1s).
	AutoRecoveryDelay time.Duration

	Now func() time.Time // clock (default time.Now)
}

// Server is the emulator.
type Server struct {
	opts     Options
	kit      *kit.Kit
	store    *kit.Store
	snapDir  string
	tempSnap bool

	mu    sync.Mutex
	peers []*peer
	cols  map[string]*collection
	alias map[string]string // alias -> collection
	opID  uint64
}

type peer struct {
	ID   uint64 `json:"id"`
	Down bool   `json:"down"`
	// Partitioned: the other peers cannot reach it, and the consensus has not noticed yet: its replicas
	// keep their state until a write fails on them (SetPeerPartitioned).
	Partitioned bool `json:"partitioned,omitempty"`
}

type replica struct {
	Peer  uint64          `json:"peer"`
	State pb.ReplicaState `json:"state"`
	Since time.Time       `json:"since"` // when its state began: a transfer into it started, it died, its peer came back
}

type shard struct {
	ID       uint32     `json:"id"`
	Replicas []*replica `json:"replicas"`
}

type transfer struct {
	Shard uint32 `json:"shard"`
	From  uint64 `json:"from"`
	To    uint64 `json:"to"`
	Move  bool   `json:"move"` // a move drops the source replica when done
	// Method is the requested ShardTransferMethod: snapshot and wal_delta transfers put the target
	// replica in Recovery first, stream_records (the default) in Partial.
	Method  pb.ShardTransferMethod `json:"method,omitempty"`
	Started time.Time              `json:"started"`
}

type collection struct {
	name      string
	config    *pb.CollectionConfig
	shards    []*shard
	transfers []*transfer
	schema    map[string]*pb.PayloadSchemaInfo
	points    map[string]*pb.PointStruct
}

// New starts the emulator, loading any saved state.
func New(opts Options) (*Server, error) {
	if opts.Peers <= 0 {
		opts.Peers = 3
	}
	if opts.ReplicaSyncDelay <= 0 {
		opts.ReplicaSyncDelay = time.Second
	}
	if opts.ReplicaInitDelay <= 0 {
		opts.ReplicaInitDelay = 50 * time.Millisecond
	}
	if opts.AutoRecoveryDelay <= 0 {
		opts.AutoRecoveryDelay = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Kit == nil {
		opts.Kit = kit.New(0, 0, 1)
	}
	s := &Server{opts: opts, kit: opts.Kit, store: kit.NewStore(opts.Dir, "qdrant.json"),
		cols: map[string]*collection{}, alias: map[string]string{}}
	if opts.Dir != "" {
		s.snapDir = filepath.Join(opts.Dir, "qdrant-snapshots")
	} else {
		d, err := os.MkdirTemp("", "qdrant-sandbox-snapshots-")
		if err != nil {
			return nil, err
		}
		s.snapDir, s.tempSnap = d, true
	}
	if err := os.MkdirAll(s.snapDir, 0o755); err != nil {
		return nil, err
	}
	if err := s.load(); err != nil {
		return nil, fmt.Errorf("qdrant sandbox: load state: %w", err)
	}
	for i := len(s.peers); i < opts.Peers; i++ {
		s.peers = append(s.peers, &peer{ID: firstPeerID + uint64(i)})
	}
	return s, s.save()
}

// Close flushes the state (and removes the temporary snapshot directory of a memory-only server).
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.save()
	if s.tempSnap {
		_ = os.RemoveAll(s.snapDir)
	}
	return err
}

// Register adds the Qdrant, Collections, Points and Snapshots services to g.
func (s *Server) Register(g *grpc.Server) {
	pb.RegisterQdrantServer(g, &healthAPI{s: s})
	pb.RegisterCollectionsServer(g, &collectionsAPI{s: s})
	pb.RegisterPointsServer(g, &pointsAPI{s: s})
	pb.RegisterSnapshotsServer(g, &snapshotsAPI{s: s})
}

// PeerIDs returns the emulated peers' ids, the first being the peer that answers (and the raft leader
// while it is up).
func (s *Server) PeerIDs() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint64, len(s.peers))
	for i, p := range s.peers {
		ids[i] = p.ID
	}
	return ids
}

// SetPeerDown marks a peer down (its replicas become Dead, transfers touching it are aborted) or up again
// (its dead replicas are then recovered as Qdrant recovers them: after AutoRecoveryDelay the peer requests
// a wal_delta transfer from an active replica, Recovery, then Partial, then Active).
func (s *Server) SetPeerDown(peerID uint64, down bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peer(peerID)
	if p == nil {
		return fmt.Errorf("no peer %d", peerID)
	}
	s.advance()
	if p.Down == down {
		return nil
	}
	p.Down = down
	now := s.opts.Now()
	for _, c := range s.cols {
		if down {
			for _, t := range append([]*transfer(nil), c.transfers...) {
				if t.From == peerID || t.To == peerID {
					c.abortTransfer(t, now)
				}
			}
		}
		for _, sh := range c.shards {
			for _, r := range sh.Replicas {
				if r.Peer != peerID {
					continue
				}
				if down {
					r.State, r.Since = pb.ReplicaState_Dead, now
				} else if r.State == pb.ReplicaState_Dead {
					r.Since = now // the returning peer's sync finds it Dead and recovers it (advance)
				}
			}
		}
	}
	return s.save()
}

func (s *Server) peer(id uint64) *peer {
	for _, p := range s.peers {
		if p.ID == id {
			return p
		}
	}
	return nil
}

func (s *Server) upPeers() []uint64 {
	var ids []uint64
	for _, p := range s.peers {
		if !p.Down {
			ids = append(ids, p.ID)
		}
	}
	return ids
}

func (s *Server) leader() uint64 {
	if up := s.upPeers(); len(up) > 0 {
		return up[0]
	}
	return 0
}

// advance completes the transfers and recoveries whose time has come. Called under s.mu before each
// request, so that states progress with time and across restarts without background goroutines.
func (s *Server) advance() {
	now := s.opts.Now()
	changed := false
	for _, c := range s.cols {
		var keep []*transfer
		for _, t := range c.transfers {
			if now.Sub(t.Started) < s.opts.ReplicaSyncDelay {
				// A snapshot or WAL-delta transfer recovers the target (Recovery), then streams the
				// rest (Partial): the sandbox switches half-way.
				if r := c.replica(t.Shard, t.To); r != nil && r.State == pb.ReplicaState_Recovery &&
					now.Sub(t.Started) >= s.opts.ReplicaSyncDelay/2 {
					r.State = pb.ReplicaState_Partial
					changed = true
				}
				keep = append(keep, t)
				continue
			}
			if r := c.replica(t.Shard, t.To); r != nil {
				r.State = pb.ReplicaState_Active
			}
			if t.Move {
				c.dropReplica(t.Shard, t.From)
			}
			changed = true
		}
		c.transfers = keep
		for _, sh := range c.shards {
			for _, r := range sh.Replicas {
				if r.State == pb.ReplicaState_Partial && !c.transferTo(sh.ID, r.Peer) && now.Sub(r.Since) >= s.opts.ReplicaSyncDelay {
					r.State = pb.ReplicaState_Active // recovery of a replica whose peer came back
					changed = true
				}
				// A new collection's replicas are Initializing until the consensus activates them
				// (replica_set's state machine: "Collection Created" -> Initializing -> Active). A
				// replica on a down peer stays Initializing until the peer is back.
				if r.State == pb.ReplicaState_Initializing && now.Sub(r.Since) >= s.opts.ReplicaInitDelay {
					if p := s.peer(r.Peer); p != nil && !p.Down {
						r.State = pb.ReplicaState_Active
						changed = true
					}
				}
			}
		}
		if s.autoRecover(c, now) {
			changed = true
		}
	}
	if changed {
		_ = s.save()
	}
}

func (c *collection) shard(id uint32) *shard {
	for _, sh := range c.shards {
		if sh.ID == id {
			return sh
		}
	}
	return nil
}

func (c *collection) replica(shardID uint32, peerID uint64) *replica {
	if sh := c.shard(shardID); sh != nil {
		for _, r := range sh.Replicas {
			if r.Peer == peerID {
				return r
			}
		}
	}
	return nil
}

func (c *collection) dropReplica(shardID uint32, peerID uint64) {
	if sh := c.shard(shardID); sh != nil {
		for i, r := range sh.Replicas {
			if r.Peer == peerID {
				sh.Replicas = append(sh.Replicas[:i], sh.Replicas[i+1:]...)
				return
			}
		}
	}
}

// autoRecover starts the recovery of Dead replicas on peers that are up, as each peer's periodic
// Collection::sync_local_state does: for a replica of its own that is Dead (for AutoRecoveryDelay here),
// it requests a sync transfer (method wal_delta, as every peer is 1.8+) from an Active replica on a
// reachable peer, skipping sources for which the transfer would conflict with any running transfer of the
// collection that shares a peer (check_transfer_conflicts_strict). It reports whether it started one.
func (s *Server) autoRecover(c *collection, now time.Time) bool {
	started := false
	for _, sh := range c.shards {
		for _, r := range sh.Replicas {
			if r.State != pb.ReplicaState_Dead || now.Sub(r.Since) < s.opts.AutoRecoveryDelay {
				continue
			}
			if p := s.peer(r.Peer); p == nil || p.Down {
				continue
			}
			for _, src := range sh.Replicas {
				if src.State != pb.ReplicaState_Active || src.Peer == r.Peer {
					continue
				}
				if p := s.peer(src.Peer); p == nil || p.Down {
					continue
				}
				conflict := false
				for _, t := range c.transfers {
					if t.From == src.Peer || t.To == src.Peer || t.From == r.Peer || t.To == r.Peer {
						conflict = true
					}
				}
				if conflict {
					continue
				}
				r.State, r.Since = pb.ReplicaState_Recovery, now
				c.transfers = append(c.transfers, &transfer{Shard: sh.ID, From: src.Peer, To: r.Peer,
					Method: pb.ShardTransferMethod_WalDelta, Started: now})
				started = true
				break
			}
		}
	}
	return started
}

// abortTransfer ends a transfer as Qdrant's Collection::abort_shard_transfer does: the target replica of
// a replication (sync transfer) is marked Dead, the target of a move is removed.
func (c *collection) abortTransfer(t *transfer, now time.Time) {
	if t.Move {
		c.dropReplica(t.Shard, t.To)
	} else if r := c.replica(t.Shard, t.To); r != nil {
		r.State, r.Since = pb.ReplicaState_Dead, now
	}
	for i, o := range c.transfers {
		if o == t {
			c.transfers = append(c.transfers[:i], c.transfers[i+1:]...)
			return
		}
	}
}

func (c *collection) transferTo(shardID uint32, peerID uint64) bool {
	for _, t := range c.transfers {
		if t.Shard == shardID && t.To == peerID {
			return true
		}
	}
	return false
}

// place spreads shardNumber shards of replicationFactor replicas over the peers, least loaded peer first,
// at most one replica of a shard per peer (Qdrant's ShardDistributionProposal: replicas =
// min(replication_factor, peers)). The replicas start Initializing (ShardReplicaSet::build).
func (s *Server) place(shardNumber, replicationFactor uint32) []*shard {
	load := map[uint64]int{}
	peers := s.upPeers()
	if len(peers) == 0 {
		for _, p := range s.peers {
			peers = append(peers, p.ID)
		}
	}
	for _, c := range s.cols {
		for _, sh := range c.shards {
			for _, r := range sh.Replicas {
				load[r.Peer]++
			}
		}
	}
	n := min(int(replicationFactor), len(peers))
	var out []*shard
	now := s.opts.Now()
	for id := range shardNumber {
		sh := &shard{ID: id}
		cand := append([]uint64(nil), peers...)
		sort.SliceStable(cand, func(i, j int) bool { return load[cand[i]] < load[cand[j]] })
		for _, p := range cand[:n] {
			sh.Replicas = append(sh.Replicas, &replica{Peer: p, State: pb.ReplicaState_Initializing, Since: now})
			load[p]++
		}
		out = append(out, sh)
	}
	return out
}

// auth checks the api-key metadata (or `authorization: Bearer <key>`).
func (s *Server) auth(ctx context.Context) error {
	if s.opts.APIKey == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	key := ""
	if v := md.Get("api-key"); len(v) > 0 {
		key = v[0]
	} else if v := md.Get("authorization"); len(v) > 0 && len(v[0]) > 7 && v[0][:7] == "Bearer " {
		key = v[0][7:]
	}
	if key == "" {
		return status.Error(codes.Unauthenticated, "Must provide an API key or an Authorization bearer token")
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(s.opts.APIKey)) != 1 {
		return status.Error(codes.Unauthenticated, "Invalid API key or JWT")
	}
	return nil
}

// begin authenticates, locks and advances time; the caller must s.mu.Unlock().
func (s *Server) begin(ctx context.Context) error {
	if err := s.auth(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	s.advance()
	return nil
}

func notFound(name string) error {
	return status.Errorf(codes.NotFound, "Not found: Collection `%s` doesn't exist!", name)
}

func badInput(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, "Wrong input: "+format, a...)
}

// badRequest is StorageError::BadRequest ("Bad request: ..."), INVALID_ARGUMENT over gRPC.
func badRequest(format string, a ...any) error {
	return status.Errorf(codes.InvalidArgument, "Bad request: "+format, a...)
}

// lockCollection is begin followed by the lookup of collection name, also through an alias when
// viaAlias. On success s.mu is held and the caller unlocks it; on failure it is not held.
func (s *Server) lockCollection(ctx context.Context, name string, viaAlias bool) (*collection, error) {
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	var c *collection
	var err error
	if viaAlias {
		c, err = s.collection(name)
	} else if c = s.cols[name]; c == nil {
		err = notFound(name)
	}
	if err != nil {
		s.mu.Unlock()
		return nil, err
	}
	return c, nil
}

// collection resolves a collection name or alias.
func (s *Server) collection(name string) (*collection, error) {
	if c, ok := s.cols[name]; ok {
		return c, nil
	}
	if target, ok := s.alias[name]; ok {
		if c, ok := s.cols[target]; ok {
			return c, nil
		}
	}
	return nil, notFound(name)
}

// --- persistence ---

type persisted struct {
	Peers       []*peer                        `json:"peers"`
	Collections map[string]persistedCollection `json:"collections"`
	Aliases     map[string]string              `json:"aliases"`
	OpID        uint64                         `json:"op_id"`
}

type persistedCollection struct {
	Config    json.RawMessage            `json:"config"`
	Shards    []*shard                   `json:"shards"`
	Transfers []*transfer                `json:"transfers"`
	Schema    map[string]json.RawMessage `json:"payload_schema"`
	Points    []json.RawMessage          `json:"points"`
}

func marshal(m proto.Message) json.RawMessage {
	b, err := protojson.Marshal(m)
	if err != nil {
		panic(err) // protojson marshals every valid message
	}
	return b
}

func (c *collection) persist() persistedCollection {
	pc := persistedCollection{Config: marshal(c.config), Shards: c.shards, Transfers: c.transfers,
		Schema: map[string]json.RawMessage{}}
	for f, info := range c.schema {
		pc.Schema[f] = marshal(info)
	}
	for _, k := range sortedKeys(c.points) {
		pc.Points = append(pc.Points, marshal(c.points[k]))
	}
	return pc
}

func restore(name string, pc persistedCollection) (*collection, error) {
	c := &collection{name: name, config: &pb.CollectionConfig{}, shards: pc.Shards, transfers: pc.Transfers,
		schema: map[string]*pb.PayloadSchemaInfo{}, points: map[string]*pb.PointStruct{}}
	if err := protojson.Unmarshal(pc.Config, c.config); err != nil {
		return nil, err
	}
	for f, raw := range pc.Schema {
		info := &pb.PayloadSchemaInfo{}
		if err := protojson.Unmarshal(raw, info); err != nil {
			return nil, err
		}
		c.schema[f] = info
	}
	for _, raw := range pc.Points {
		p := &pb.PointStruct{}
		if err := protojson.Unmarshal(raw, p); err != nil {
			return nil, err
		}
		c.points[pointKey(p.Id)] = p
	}
	return c, nil
}

func (s *Server) save() error {
	if s.opts.Dir == "" {
		return nil // memory only: the store writes nothing, so skip marshalling every point
	}
	st := persisted{Peers: s.peers, Collections: map[string]persistedCollection{}, Aliases: s.alias, OpID: s.opID}
	for n, c := range s.cols {
		st.Collections[n] = c.persist()
	}
	return s.store.Save(&st)
}

func (s *Server) load() error {
	var st persisted
	if err := s.store.Load(&st); err != nil {
		return err
	}
	s.peers, s.opID = st.Peers, st.OpID
	if st.Aliases != nil {
		s.alias = st.Aliases
	}
	for n, pc := range st.Collections {
		c, err := restore(n, pc)
		if err != nil {
			return fmt.Errorf("collection %s: %w", n, err)
		}
		s.cols[n] = c
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// --- Qdrant service ---

type healthAPI struct {
	pb.UnimplementedQdrantServer
	s *Server
}

// HealthCheck answers without an api-key, as Qdrant does for its health endpoints.
func (h *healthAPI) HealthCheck(context.Context, *pb.HealthCheckRequest) (*pb.HealthCheckReply, error) {
	return &pb.HealthCheckReply{Title: "qdrant - vector search engine", Version: Version}, nil
}
