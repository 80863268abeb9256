package qdrant

import (
	"context"
	"regexp"
	"sort"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

type collectionsAPI struct {
	pb.UnimplementedCollectionsServer
	s *Server
}

// namePattern is what Qdrant accepts as a new collection's name (see collectionName in validate.go).
var namePattern = regexp.MustCompile(`^[^/\\<>:"|?*\x00\x1f]{1,255}$`)

func u64(v uint64) *uint64        { return &v }
func u32(v uint32) *uint32        { return &v }
func f64(v float64) *float64      { return &v }
func boolp(v bool) *bool          { return &v }
func elapsed(t time.Time) float64 { return time.Since(t).Seconds() }

// Defaults Qdrant fills in a collection's config (config/config.yaml of Qdrant: storage.hnsw_index,
// storage.optimizers, storage.wal).
func defaultHnsw() *pb.HnswConfigDiff {
	return &pb.HnswConfigDiff{M: u64(16), EfConstruct: u64(100), FullScanThreshold: u64(10000),
		MaxIndexingThreads: u64(0), OnDisk: boolp(false)}
}

func defaultOptimizers() *pb.OptimizersConfigDiff {
	return &pb.OptimizersConfigDiff{DeletedThreshold: f64(0.2), VacuumMinVectorNumber: u64(1000),
		DefaultSegmentNumber: u64(0), IndexingThreshold: u64(10000), FlushIntervalSec: u64(5)}
}

func defaultWal() *pb.WalConfigDiff {
	return &pb.WalConfigDiff{WalCapacityMb: u64(32), WalSegmentsAhead: u64(0)}
}

// mergeInto copies the set fields of diff over base (both are *Diff messages whose fields are optional).
func mergeInto[T proto.Message](base, diff T) T {
	out := proto.Clone(base).(T)
	if proto.Message(diff) != nil {
		proto.Merge(out, diff)
	}
	return out
}

// validateDistance refuses a vector without a distance, as Qdrant's conversion of the gRPC Distance
// (`TryFrom<Distance> for segment::types::Distance`: INVALID_ARGUMENT, a plain tonic status).
func validateDistance(name string, p *pb.VectorParams) error {
	if p == nil {
		return badInput("vector params of %q are missing", name)
	}
	if p.Distance == pb.Distance_UnknownDistance {
		return status.Error(codes.InvalidArgument, "Malformed distance parameter: UnknownDistance")
	}
	return nil
}

// Create registers the collection with its replicas Initializing, then waits, as Qdrant's dispatcher
// does for a create in a cluster, until the consensus has activated every replica or the request's
// `timeout` has passed; it answers true either way (Qdrant only logs "Awaiting for expected operations
// timed out"). Readers see the Initializing replicas meanwhile.
func (a *collectionsAPI) Create(ctx context.Context, req *pb.CreateCollection) (*pb.CollectionOperationResponse, error) {
	start := time.Now()
	s := a.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	if err := s.createLocked(req); err != nil {
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	wait := s.opts.ReplicaInitDelay
	if req.Timeout != nil && time.Duration(req.GetTimeout())*time.Second < wait {
		wait = time.Duration(req.GetTimeout()) * time.Second
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return nil, status.FromContextError(ctx.Err()).Err()
	case <-t.C:
	}
	s.mu.Lock()
	s.advance()
	s.mu.Unlock()
	return &pb.CollectionOperationResponse{Result: true, Time: elapsed(start)}, nil
}

func (s *Server) createLocked(req *pb.CreateCollection) error {
	name := req.GetCollectionName()
	if err := validateCreate(req); err != nil {
		return err
	}
	if _, ok := s.cols[name]; ok {
		return status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", name)
	}
	if _, ok := s.alias[name]; ok {
		// TableOfContent::create_collection (lib/storage/src/content_manager/toc/create_collection.rs)
		return badInput("Can't create collection with name %s. Alias with the same name already exists", name)
	}
	vc := req.GetVectorsConfig()
	switch {
	case vc.GetParams() != nil:
		if err := validateDistance("", vc.GetParams()); err != nil {
			return err
		}
	case vc.GetParamsMap() != nil:
		for n, p := range vc.GetParamsMap().GetMap() {
			if err := validateDistance(n, p); err != nil {
				return err
			}
		}
	}
	shardNumber := uint32(len(s.peers)) // Qdrant's default in a cluster: one shard per peer
	if req.ShardNumber != nil {
		shardNumber = req.GetShardNumber()
	}
	rf, wcf := uint32(1), uint32(1)
	if req.ReplicationFactor != nil {
		rf = req.GetReplicationFactor()
	}
	if req.WriteConsistencyFactor != nil {
		wcf = req.GetWriteConsistencyFactor()
	}
	onDisk := true
	if req.OnDiskPayload != nil {
		onDisk = req.GetOnDiskPayload()
	}
	cfg := &pb.CollectionConfig{
		Params: &pb.CollectionParams{
			ShardNumber: shardNumber, OnDiskPayload: onDisk, VectorsConfig: vc,
			ReplicationFactor: u32(rf), WriteConsistencyFactor: u32(wcf),
			ShardingMethod: req.ShardingMethod, SparseVectorsConfig: req.SparseVectorsConfig,
		},
		HnswConfig:         mergeInto(defaultHnsw(), req.GetHnswConfig()),
		OptimizerConfig:    mergeInto(defaultOptimizers(), req.GetOptimizersConfig()),
		WalConfig:          mergeInto(defaultWal(), req.GetWalConfig()),
		QuantizationConfig: req.GetQuantizationConfig(),
		StrictModeConfig:   req.GetStrictModeConfig(),
		Metadata:           req.GetMetadata(),
	}
	s.cols[name] = &collection{name: name, config: cfg, shards: s.place(shardNumber, rf),
		schema: map[string]*pb.PayloadSchemaInfo{}, points: map[string]*pb.PointStruct{}}
	if err := s.save(); err != nil {
		delete(s.cols, name)
		return status.Error(codes.Internal, "Service internal error: "+err.Error())
	}
	return nil
}

func (s *Server) info(c *collection) *pb.CollectionInfo {
	n := uint64(len(c.points))
	schema := map[string]*pb.PayloadSchemaInfo{}
	for f, info := range c.schema {
		cp := proto.Clone(info).(*pb.PayloadSchemaInfo)
		cp.Points = u64(countWithField(c, f))
		schema[f] = cp
	}
	return &pb.CollectionInfo{
		Status:              pb.CollectionStatus_Green,
		OptimizerStatus:     &pb.OptimizerStatus{Ok: true},
		SegmentsCount:       uint64(len(c.shards)) * 2,
		Config:              proto.Clone(c.config).(*pb.CollectionConfig),
		PayloadSchema:       schema,
		PointsCount:         u64(n),
		IndexedVectorsCount: u64(0),
	}
}

func (a *collectionsAPI) Get(ctx context.Context, req *pb.GetCollectionInfoRequest) (*pb.GetCollectionInfoResponse, error) {
	s := a.s
	c, start, err := s.open(ctx, req.GetCollectionName(), true, nil)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return &pb.GetCollectionInfoResponse{Result: s.info(c), Time: elapsed(start)}, nil
}

func (a *collectionsAPI) List(ctx context.Context, _ *pb.ListCollectionsRequest) (*pb.ListCollectionsResponse, error) {
	start := time.Now()
	s := a.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := &pb.ListCollectionsResponse{}
	for _, n := range sortedKeys(s.cols) {
		out.Collections = append(out.Collections, &pb.CollectionDescription{Name: n})
	}
	out.Time = elapsed(start)
	return out, nil
}

func (a *collectionsAPI) CollectionExists(ctx context.Context, req *pb.CollectionExistsRequest) (*pb.CollectionExistsResponse, error) {
	start := time.Now()
	s := a.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	_, err := s.collection(req.GetCollectionName())
	return &pb.CollectionExistsResponse{Result: &pb.CollectionExists{Exists: err == nil}, Time: elapsed(start)}, nil
}

func (a *collectionsAPI) Delete(ctx context.Context, req *pb.DeleteCollection) (*pb.CollectionOperationResponse, error) {
	start := time.Now()
	s := a.s
	if err := s.validated(ctx, validateTimeout(req.Timeout)); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	name := req.GetCollectionName()
	if _, ok := s.cols[name]; !ok {
		// Qdrant answers result=false for a collection that does not exist.
		return &pb.CollectionOperationResponse{Result: false, Time: elapsed(start)}, nil
	}
	delete(s.cols, name)
	for al, target := range s.alias {
		if target == name {
			delete(s.alias, al)
		}
	}
	if err := s.save(); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pb.CollectionOperationResponse{Result: true, Time: elapsed(start)}, nil
}

func quantFromDiff(d *pb.QuantizationConfigDiff) *pb.QuantizationConfig {
	switch q := d.GetQuantization().(type) {
	case *pb.QuantizationConfigDiff_Scalar:
		return &pb.QuantizationConfig{Quantization: &pb.QuantizationConfig_Scalar{Scalar: q.Scalar}}
	case *pb.QuantizationConfigDiff_Product:
		return &pb.QuantizationConfig{Quantization: &pb.QuantizationConfig_Product{Product: q.Product}}
	case *pb.QuantizationConfigDiff_Binary:
		return &pb.QuantizationConfig{Quantization: &pb.QuantizationConfig_Binary{Binary: q.Binary}}
	}
	return nil // Disabled
}

func applyVectorDiff(p *pb.VectorParams, d *pb.VectorParamsDiff) {
	if d.HnswConfig != nil {
		p.HnswConfig = mergeInto(orEmpty(p.HnswConfig), d.HnswConfig)
	}
	if d.QuantizationConfig != nil {
		p.QuantizationConfig = quantFromDiff(d.QuantizationConfig)
	}
	if d.OnDisk != nil {
		p.OnDisk = boolp(d.GetOnDisk())
	}
}

func orEmpty(h *pb.HnswConfigDiff) *pb.HnswConfigDiff {
	if h == nil {
		return &pb.HnswConfigDiff{}
	}
	return h
}

// Update changes the mutable parameters. shard_number and vector sizes cannot be sent at all (the
// UpdateCollection message has no field for them); a vector that does not exist is refused.
func (a *collectionsAPI) Update(ctx context.Context, req *pb.UpdateCollection) (*pb.CollectionOperationResponse, error) {
	s := a.s
	c, start, err := s.open(ctx, req.GetCollectionName(), false, validateUpdate(req))
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	cfg := proto.Clone(c.config).(*pb.CollectionConfig)
	if p := req.GetParams(); p != nil {
		if p.ReplicationFactor != nil {
			cfg.Params.ReplicationFactor = u32(p.GetReplicationFactor())
		}
		if p.WriteConsistencyFactor != nil {
			cfg.Params.WriteConsistencyFactor = u32(p.GetWriteConsistencyFactor())
		}
		if p.OnDiskPayload != nil {
			cfg.Params.OnDiskPayload = p.GetOnDiskPayload()
		}
		if p.ReadFanOutFactor != nil {
			cfg.Params.ReadFanOutFactor = u32(p.GetReadFanOutFactor())
		}
	}
	if req.HnswConfig != nil {
		cfg.HnswConfig = mergeInto(cfg.HnswConfig, req.HnswConfig)
	}
	if req.OptimizersConfig != nil {
		cfg.OptimizerConfig = mergeInto(cfg.OptimizerConfig, req.OptimizersConfig)
	}
	if req.QuantizationConfig != nil {
		cfg.QuantizationConfig = quantFromDiff(req.QuantizationConfig)
	}
	if vd := req.GetVectorsConfig(); vd != nil {
		vc := cfg.Params.GetVectorsConfig()
		switch d := vd.GetConfig().(type) {
		case *pb.VectorsConfigDiff_Params:
			if vc.GetParams() == nil {
				return nil, badInput("Not existing vector name error: ")
			}
			applyVectorDiff(vc.GetParams(), d.Params)
		case *pb.VectorsConfigDiff_ParamsMap:
			for n, diff := range d.ParamsMap.GetMap() {
				p := vc.GetParamsMap().GetMap()[n]
				if p == nil {
					return nil, badInput("Not existing vector name error: %s", n)
				}
				applyVectorDiff(p, diff)
			}
		}
	}
	if req.StrictModeConfig != nil {
		cfg.StrictModeConfig = mergeInto(orEmptyStrict(cfg.StrictModeConfig), req.StrictModeConfig)
	}
	for k, v := range req.GetMetadata() {
		if cfg.Metadata == nil {
			cfg.Metadata = map[string]*pb.Value{}
		}
		cfg.Metadata[k] = v
	}
	old := c.config
	c.config = cfg
	if err := s.save(); err != nil {
		c.config = old
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pb.CollectionOperationResponse{Result: true, Time: elapsed(start)}, nil
}

func orEmptyStrict(m *pb.StrictModeConfig) *pb.StrictModeConfig {
	if m == nil {
		return &pb.StrictModeConfig{}
	}
	return m
}

// UpdateAliases applies the actions atomically: all or none.
func (a *collectionsAPI) UpdateAliases(ctx context.Context, req *pb.ChangeAliases) (*pb.CollectionOperationResponse, error) {
	start := time.Now()
	s := a.s
	if err := s.validated(ctx, validateTimeout(req.Timeout)); err != nil {
		return nil, err
	}
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	next := map[string]string{}
	for k, v := range s.alias {
		next[k] = v
	}
	for _, act := range req.GetActions() {
		switch op := act.GetAction().(type) {
		case *pb.AliasOperations_CreateAlias:
			al, col := op.CreateAlias.GetAliasName(), op.CreateAlias.GetCollectionName()
			if _, ok := s.cols[col]; !ok {
				return nil, notFound(col)
			}
			if _, ok := s.cols[al]; ok {
				// validate_collection_not_exists: StorageError::AlreadyExists
				return nil, status.Errorf(codes.AlreadyExists, "Wrong input: Collection `%s` already exists!", al)
			}
			next[al] = col // Qdrant's create_alias re-points an existing alias
		case *pb.AliasOperations_RenameAlias:
			from, to := op.RenameAlias.GetOldAliasName(), op.RenameAlias.GetNewAliasName()
			col, ok := next[from]
			if !ok {
				// AliasPersistence::rename_alias
				return nil, status.Errorf(codes.NotFound, "Not found: Alias %s does not exists!", from)
			}
			delete(next, from)
			next[to] = col
		case *pb.AliasOperations_DeleteAlias:
			// AliasPersistence::remove: deleting an alias that does not exist succeeds.
			delete(next, op.DeleteAlias.GetAliasName())
		default:
			return nil, badInput("alias action is empty")
		}
	}
	old := s.alias
	s.alias = next
	if err := s.save(); err != nil {
		s.alias = old
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pb.CollectionOperationResponse{Result: true, Time: elapsed(start)}, nil
}

func (s *Server) aliases(col string) []*pb.AliasDescription {
	var out []*pb.AliasDescription
	for _, al := range sortedKeys(s.alias) {
		if col == "" || s.alias[al] == col {
			out = append(out, &pb.AliasDescription{AliasName: al, CollectionName: s.alias[al]})
		}
	}
	return out
}

func (a *collectionsAPI) ListCollectionAliases(ctx context.Context, req *pb.ListCollectionAliasesRequest) (*pb.ListAliasesResponse, error) {
	start := time.Now()
	s := a.s
	if _, err := s.lockCollection(ctx, req.GetCollectionName(), false); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return &pb.ListAliasesResponse{Aliases: s.aliases(req.GetCollectionName()), Time: elapsed(start)}, nil
}

func (a *collectionsAPI) ListAliases(ctx context.Context, _ *pb.ListAliasesRequest) (*pb.ListAliasesResponse, error) {
	start := time.Now()
	s := a.s
	if err := s.begin(ctx); err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	return &pb.ListAliasesResponse{Aliases: s.aliases(""), Time: elapsed(start)}, nil
}

// CollectionClusterInfo answers as the first peer: its replicas are local shards, the others remote.
func (a *collectionsAPI) CollectionClusterInfo(ctx context.Context, req *pb.CollectionClusterInfoRequest) (*pb.CollectionClusterInfoResponse, error) {
	s := a.s
	c, err := s.lockCollection(ctx, req.GetCollectionName(), true)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	self := s.self(ctx)
	perShard := shardPointCounts(c)
	out := &pb.CollectionClusterInfoResponse{PeerId: self, ShardCount: uint64(len(c.shards))}
	for _, sh := range c.shards {
		for _, r := range sh.Replicas {
			if r.Peer == self {
				out.LocalShards = append(out.LocalShards, &pb.LocalShardInfo{ShardId: sh.ID, PointsCount: perShard[sh.ID], State: r.State})
			} else {
				out.RemoteShards = append(out.RemoteShards, &pb.RemoteShardInfo{ShardId: sh.ID, PeerId: r.Peer, State: r.State})
			}
		}
	}
	for _, t := range c.transfers {
		out.ShardTransfers = append(out.ShardTransfers, &pb.ShardTransferInfo{ShardId: t.Shard, From: t.From, To: t.To, Sync: !t.Move})
	}
	return out, nil
}

func (s *Server) checkPeer(id uint64) error {
	p := s.peer(id)
	if p == nil {
		return badRequest("Peer %d does not exist", id)
	}
	if p.Down || p.Partitioned {
		return status.Errorf(codes.Unavailable, "Service internal error: peer %d is not reachable", id)
	}
	return nil
}

func (a *collectionsAPI) UpdateCollectionClusterSetup(ctx context.Context, req *pb.UpdateCollectionClusterSetupRequest) (*pb.UpdateCollectionClusterSetupResponse, error) {
	s := a.s
	c, _, err := s.open(ctx, req.GetCollectionName(), false, validateClusterSetup(req))
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	startTransfer := func(shardID uint32, from, to uint64, move bool, method *pb.ShardTransferMethod) error {
		// Target's initial state as in Qdrant's start_shard_transfer: Partial for stream_records (the
		// default), Recovery for snapshot and wal_delta.
		m := pb.ShardTransferMethod_StreamRecords
		if method != nil {
			m = *method
		}
		initial := pb.ReplicaState_Partial
		switch m {
		case pb.ShardTransferMethod_Snapshot, pb.ShardTransferMethod_WalDelta:
			initial = pb.ReplicaState_Recovery
		case pb.ShardTransferMethod_ReshardingStreamRecords:
			return status.Error(codes.Unimplemented, "sandbox: resharding transfers are not emulated")
		}
		// do_update_collection_cluster (src/common/collections.rs): the shard, then the target and
		// source peers; then the consensus's validate_transfer: the source replica and conflicts.
		sh := c.shard(shardID)
		if sh == nil {
			return badRequest("Shard %d of %s does not exist", shardID, c.name)
		}
		for _, id := range []uint64{to, from} {
			if err := s.checkPeer(id); err != nil {
				return err
			}
		}
		src := c.replica(shardID, from)
		if src == nil {
			return badInput("Shard %d does not exist on peer %d", shardID, from)
		}
		if src.State != pb.ReplicaState_Active {
			return badInput("Shard %d on peer %d is not active (%s), it cannot be the source of a transfer", shardID, from, src.State)
		}
		// Qdrant's check_transfer_conflicts: a transfer conflicts with another of the same shard only
		// when they share a peer (as source or target).
		for _, t := range c.transfers {
			if t.Shard == shardID && (t.From == from || t.To == from || t.From == to || t.To == to) {
				return badInput("Shard %d is already involved in transfer %d -> %d", shardID, t.From, t.To)
			}
		}
		now := s.opts.Now()
		// Qdrant's start_shard_transfer creates the receiver's replica, "or simply set replica state
		// otherwise": a replica already on the target (a Dead one, say) goes back through the transfer's
		// initial state and is Active when the transfer finishes, which is how a dead replica is repaired.
		if r := c.replica(shardID, to); r != nil {
			r.State, r.Since = initial, now
		} else {
			sh.Replicas = append(sh.Replicas, &replica{Peer: to, State: initial, Since: now})
		}
		c.transfers = append(c.transfers, &transfer{Shard: shardID, From: from, To: to, Move: move, Started: now, Method: m})
		return nil
	}
	switch op := req.GetOperation().(type) {
	case *pb.UpdateCollectionClusterSetupRequest_ReplicateShard:
		r := op.ReplicateShard
		err = startTransfer(r.GetShardId(), r.GetFromPeerId(), r.GetToPeerId(), false, r.Method)
	case *pb.UpdateCollectionClusterSetupRequest_MoveShard:
		m := op.MoveShard
		err = startTransfer(m.GetShardId(), m.GetFromPeerId(), m.GetToPeerId(), true, m.Method)
	case *pb.UpdateCollectionClusterSetupRequest_AbortTransfer:
		// Qdrant's abort (Collection::abort_shard_transfer): a replication's target replica becomes Dead
		// (it is kept), a move's target is removed; the source is untouched.
		ab := op.AbortTransfer
		var found *transfer
		for _, t := range c.transfers {
			if t.Shard == ab.GetShardId() && t.From == ab.GetFromPeerId() && t.To == ab.GetToPeerId() {
				found = t
			}
		}
		if found == nil {
			err = status.Errorf(codes.NotFound, "Not found: Shard transfer %d -> %d for collection %s:%d does not exist",
				ab.GetFromPeerId(), ab.GetToPeerId(), c.name, ab.GetShardId())
			break
		}
		c.abortTransfer(found, s.opts.Now())
	case *pb.UpdateCollectionClusterSetupRequest_DropReplica:
		d := op.DropReplica
		sh := c.shard(d.GetShardId())
		if sh == nil {
			err = badRequest("Shard %d of %s does not exist", d.GetShardId(), c.name)
			break
		}
		if s.peer(d.GetPeerId()) == nil { // validate_peer_exists: a peer that is down may lose its replicas
			err = badRequest("Peer %d does not exist", d.GetPeerId())
			break
		}
		r := c.replica(d.GetShardId(), d.GetPeerId())
		if r == nil {
			err = badInput("Shard %d does not exist on peer %d", d.GetShardId(), d.GetPeerId())
			break
		}
		active := 0
		for _, o := range sh.Replicas {
			if o.State == pb.ReplicaState_Active && o != r {
				active++
			}
		}
		if active == 0 {
			err = badInput("Shard %d must have at least one active replica after removing peer %d", d.GetShardId(), d.GetPeerId())
			break
		}
		// Transfers of this shard to or from the peer are aborted first (get_related_transfers), as
		// any abort: a replication's target becomes Dead, a move's target is removed.
		for _, t := range append([]*transfer(nil), c.transfers...) {
			if t.Shard == d.GetShardId() && (t.To == d.GetPeerId() || t.From == d.GetPeerId()) {
				c.abortTransfer(t, s.opts.Now())
			}
		}
		c.dropReplica(d.GetShardId(), d.GetPeerId())
	case nil:
		err = badInput("operation is required")
	default:
		err = status.Errorf(codes.Unimplemented, "sandbox: this cluster operation (%T) is not emulated", op)
	}
	if err != nil {
		return nil, err
	}
	if err := s.save(); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	return &pb.UpdateCollectionClusterSetupResponse{Result: true}, nil
}

// shardPointCounts assigns each point to a shard by its id (Qdrant hashes the id; any stable function
// keeps counts consistent).
func shardPointCounts(c *collection) map[uint32]uint64 {
	out := map[uint32]uint64{}
	if len(c.shards) == 0 {
		return out
	}
	ids := make([]uint32, len(c.shards))
	for i, sh := range c.shards {
		ids[i] = sh.ID
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for k := range c.points {
		out[shardOfKey(ids, k)]++
	}
	return out
}

// shardOfKey is the shard a point key belongs to, among the sorted shard ids.
func shardOfKey(ids []uint32, k string) uint32 {
	h := uint32(0)
	for i := 0; i < len(k); i++ {
		h = h*31 + uint32(k[i])
	}
	return ids[h%uint32(len(ids))]
}
