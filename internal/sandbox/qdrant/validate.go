package qdrant

import (
	"context"
	"fmt"
	"strings"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Request validation as Qdrant's gRPC layer does it before any operation: the `#[validate(...)]`
// attributes lib/api/build.rs attaches to the generated request types, checked by `validate` in
// src/tonic/api/mod.rs, which answers INVALID_ARGUMENT with
// `label_errors("Validation error in body", errs)` (lib/collection/src/operations/validation.rs):
// "Validation error in body: [field: message; field: message]", each message in that file's words
// ("value V invalid, must be N or larger", "must be from A to B", ...). Nothing is changed by a request
// that fails here.

// checks collects the failed fields of one request, in the order they are checked.
type checks []string

func (c *checks) add(field, msg string) { *c = append(*c, field+": "+msg) }

// err is the request's INVALID_ARGUMENT, or nil when every field passed.
func (c checks) err() error {
	if len(c) == 0 {
		return nil
	}
	return status.Error(codes.InvalidArgument, "Validation error in body: ["+strings.Join(c, "; ")+"]")
}

type number interface {
	~uint32 | ~uint64 | ~float32 | ~float64
}

// atLeast checks an optional field against `range(min = lo)`.
func atLeast[N number](c *checks, field string, v *N, lo N) {
	if v != nil && *v < lo {
		c.add(field, fmt.Sprintf("value %v invalid, must be %v or larger", *v, lo))
	}
}

// within checks an optional field against `range(min = lo, max = hi)`.
func within[N number](c *checks, field string, v *N, lo, hi N) {
	if v != nil && (*v < lo || *v > hi) {
		c.add(field, fmt.Sprintf("value %v invalid, must be from %v to %v", *v, lo, hi))
	}
}

// minLength checks a string against `length(min = 1)`.
func minLength(c *checks, field, v string) {
	if v == "" {
		c.add(field, "must be at least 1 characters")
	}
}

// collectionName checks a new collection's name: `length(min = 1, max = 255)` and
// common::validation::validate_collection_name (none of < > : " / \ | ? * NUL 0x1F).
func collectionName(c *checks, name string) {
	if n := len(name); n < 1 || n > 255 {
		c.add("collection_name", fmt.Sprintf("value %q invalid, must be from 1 to 255 characters", name))
	}
	if i := strings.IndexAny(name, "<>:\"/\\|?*\x00\x1f"); i >= 0 {
		c.add("collection_name", fmt.Sprintf("collection name cannot contain %q char", name[i]))
	}
}

func hnswChecks(c *checks, prefix string, h *pb.HnswConfigDiff) {
	if h != nil {
		atLeast(c, prefix+"ef_construct", h.EfConstruct, 4)
	}
}

func walChecks(c *checks, w *pb.WalConfigDiff) {
	if w != nil {
		atLeast(c, "wal_config.wal_capacity_mb", w.WalCapacityMb, 1)
		atLeast(c, "wal_config.wal_retain_closed", w.WalRetainClosed, 1)
	}
}

func optimizerChecks(c *checks, o *pb.OptimizersConfigDiff) {
	if o != nil {
		within(c, "optimizers_config.deleted_threshold", o.DeletedThreshold, 0.0, 1.0)
		atLeast(c, "optimizers_config.vacuum_min_vector_number", o.VacuumMinVectorNumber, 100)
		atLeast(c, "optimizers_config.max_segment_size", o.MaxSegmentSize, 1)
	}
}

func scalarChecks(c *checks, prefix string, s *pb.ScalarQuantization) {
	if s != nil {
		within(c, prefix+"quantization.quantile", s.Quantile, 0.5, 1.0)
	}
}

func strictChecks(c *checks, s *pb.StrictModeConfig) {
	if s == nil {
		return
	}
	for _, f := range []struct {
		name string
		v    *uint32
	}{{"max_query_limit", s.MaxQueryLimit}, {"max_timeout", s.MaxTimeout}, {"read_rate_limit", s.ReadRateLimit}, {"write_rate_limit", s.WriteRateLimit}} {
		atLeast(c, "strict_mode_config."+f.name, f.v, 1)
	}
	atLeast(c, "strict_mode_config.max_points_count", s.MaxPointsCount, 1)
}

func vectorParamsChecks(c *checks, prefix string, p *pb.VectorParams) {
	if p == nil {
		return
	}
	size := p.Size
	within(c, prefix+"size", &size, 1, 65536)
	hnswChecks(c, prefix+"hnsw_config.", p.HnswConfig)
	scalarChecks(c, prefix+"quantization_config.", p.GetQuantizationConfig().GetScalar())
}

// validateCreate is CreateCollection's validation (before the distance and the existence checks).
func validateCreate(req *pb.CreateCollection) error {
	var c checks
	collectionName(&c, req.GetCollectionName())
	hnswChecks(&c, "hnsw_config.", req.GetHnswConfig())
	walChecks(&c, req.GetWalConfig())
	optimizerChecks(&c, req.GetOptimizersConfig())
	vc := req.GetVectorsConfig()
	vectorParamsChecks(&c, "vectors_config.config.", vc.GetParams())
	for _, n := range sortedKeys(vc.GetParamsMap().GetMap()) {
		vectorParamsChecks(&c, "vectors_config.config.map["+n+"].", vc.GetParamsMap().GetMap()[n])
	}
	scalarChecks(&c, "quantization_config.", req.GetQuantizationConfig().GetScalar())
	atLeast(&c, "shard_number", req.ShardNumber, 1)
	atLeast(&c, "replication_factor", req.ReplicationFactor, 1)
	atLeast(&c, "write_consistency_factor", req.WriteConsistencyFactor, 1)
	strictChecks(&c, req.GetStrictModeConfig())
	return c.err()
}

// validateUpdate is UpdateCollection's validation.
func validateUpdate(req *pb.UpdateCollection) error {
	var c checks
	minLength(&c, "collection_name", req.GetCollectionName())
	optimizerChecks(&c, req.GetOptimizersConfig())
	if p := req.GetParams(); p != nil {
		atLeast(&c, "params.replication_factor", p.ReplicationFactor, 1)
		atLeast(&c, "params.write_consistency_factor", p.WriteConsistencyFactor, 1)
	}
	atLeast(&c, "timeout", req.Timeout, 1)
	hnswChecks(&c, "hnsw_config.", req.GetHnswConfig())
	vd := req.GetVectorsConfig()
	if p := vd.GetParams(); p != nil {
		hnswChecks(&c, "vectors_config.config.hnsw_config.", p.HnswConfig)
		scalarChecks(&c, "vectors_config.config.quantization_config.", p.GetQuantizationConfig().GetScalar())
	}
	for _, n := range sortedKeys(vd.GetParamsMap().GetMap()) {
		p := vd.GetParamsMap().GetMap()[n]
		hnswChecks(&c, "vectors_config.config.map["+n+"].hnsw_config.", p.GetHnswConfig())
		scalarChecks(&c, "vectors_config.config.map["+n+"].quantization_config.", p.GetQuantizationConfig().GetScalar())
	}
	scalarChecks(&c, "quantization_config.", req.GetQuantizationConfig().GetScalar())
	strictChecks(&c, req.GetStrictModeConfig())
	return c.err()
}

// validateTimeout is the `timeout: range(min = 1)` of DeleteCollection, ChangeAliases and
// UpdateCollectionClusterSetupRequest.
func validateTimeout(timeout *uint64) error {
	var c checks
	atLeast(&c, "timeout", timeout, 1)
	return c.err()
}

// validateClusterSetup is UpdateCollectionClusterSetupRequest's validation: the timeout, and
// common::validation::validate_shard_different_peers on a move, a replication and an abort.
func validateClusterSetup(req *pb.UpdateCollectionClusterSetupRequest) error {
	var c checks
	atLeast(&c, "timeout", req.Timeout, 1)
	var from, to uint64
	switch op := req.GetOperation().(type) {
	case *pb.UpdateCollectionClusterSetupRequest_MoveShard:
		from, to = op.MoveShard.GetFromPeerId(), op.MoveShard.GetToPeerId()
	case *pb.UpdateCollectionClusterSetupRequest_ReplicateShard:
		from, to = op.ReplicateShard.GetFromPeerId(), op.ReplicateShard.GetToPeerId()
	case *pb.UpdateCollectionClusterSetupRequest_AbortTransfer:
		from, to = op.AbortTransfer.GetFromPeerId(), op.AbortTransfer.GetToPeerId()
	default:
		return c.err()
	}
	if from == to {
		c.add("operation.to_peer_id", fmt.Sprintf("cannot transfer shard to itself, \"to_peer_id\" must be different than %d in \"from_peer_id\"", from))
	}
	return c.err()
}

// validated answers a request's validation error after its authentication, as Qdrant's auth layer
// runs before the handler validates the body.
func (s *Server) validated(ctx context.Context, verr error) error {
	if err := s.auth(ctx); err != nil {
		return err
	}
	return verr
}

// open begins a request on a collection: its validation error verr (nil when the request is valid),
// answered after authentication, then lockCollection (on success s.mu is held and the caller unlocks
// it). It returns when the request began, for the reply's `time`.
func (s *Server) open(ctx context.Context, name string, viaAlias bool, verr error) (*collection, time.Time, error) {
	start := time.Now()
	if err := s.validated(ctx, verr); err != nil {
		return nil, start, err
	}
	c, err := s.lockCollection(ctx, name, viaAlias)
	return c, start, err
}
