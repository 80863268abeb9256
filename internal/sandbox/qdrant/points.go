package qdrant

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"time"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

type pointsAPI struct {
	pb.UnimplementedPointsServer
	s *Server
}

// pointKey orders numeric ids before UUIDs, numbers by value (zero-padded), as Qdrant's scroll does.
func pointKey(id *pb.PointId) string {
	if u := id.GetUuid(); u != "" {
		return "u:" + u
	}
	return "n:" + leftPad(strconv.FormatUint(id.GetNum(), 10))
}

func leftPad(s string) string {
	for len(s) < 20 {
		s = "0" + s
	}
	return s
}

func countWithField(c *collection, field string) uint64 {
	var n uint64
	for _, p := range c.points {
		if _, ok := p.Payload[field]; ok {
			n++
		}
	}
	return n
}

func denseData(v *pb.Vector) ([]float32, bool) {
	if v == nil {
		return nil, false
	}
	if d := v.GetDense(); d != nil {
		return d.GetData(), true
	}
	if v.GetVector() == nil && len(v.GetData()) > 0 { //nolint:staticcheck // clients before 1.10 send the deprecated field
		return v.GetData(), true //nolint:staticcheck
	}
	return nil, false
}

// checkVectors enforces the collection's vector names and dimensions, with Qdrant's messages.
func checkVectors(c *collection, p *pb.PointStruct) (map[string][]float32, error) {
	vc := c.config.GetParams().GetVectorsConfig()
	out := map[string][]float32{}
	dim := func(name string, size uint64, v *pb.Vector) error {
		data, ok := denseData(v)
		if !ok {
			return badInput("sandbox: only dense vectors are emulated (vector %q)", name)
		}
		if uint64(len(data)) != size {
			return badInput("Vector dimension error: expected dim: %d, got %d", size, len(data))
		}
		out[name] = data
		return nil
	}
	switch vs := p.GetVectors().GetVectorsOptions().(type) {
	case *pb.Vectors_Vector:
		if vc.GetParams() == nil {
			return nil, badInput("Not existing vector name error: ")
		}
		if err := dim("", vc.GetParams().GetSize(), vs.Vector); err != nil {
			return nil, err
		}
	case *pb.Vectors_Vectors:
		for name, v := range vs.Vectors.GetVectors() {
			var size uint64
			if name == "" && vc.GetParams() != nil {
				size = vc.GetParams().GetSize()
			} else if pm := vc.GetParamsMap().GetMap()[name]; pm != nil {
				size = pm.GetSize()
			} else {
				return nil, badInput("Not existing vector name error: %s", name)
			}
			if err := dim(name, size, v); err != nil {
				return nil, err
			}
		}
	case nil:
		if vc.GetParams() != nil {
			return nil, badInput("Vector dimension error: expected dim: %d, got 0", vc.GetParams().GetSize())
		}
	}
	return out, nil
}

// savedUpdate saves the state and answers a completed points operation begun at start.
func (s *Server) savedUpdate(start time.Time) (*pb.PointsOperationResponse, error) {
	if err := s.save(); err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	s.opID++
	return &pb.PointsOperationResponse{Result: &pb.UpdateResult{OperationId: u64(s.opID), Status: pb.UpdateStatus_Completed}, Time: elapsed(start)}, nil
}

func (a *pointsAPI) Upsert(ctx context.Context, req *pb.UpsertPoints) (*pb.PointsOperationResponse, error) {
	s := a.s
	c, start, err := s.open(ctx, req.GetCollectionName(), true, nil)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if req.UpdateFilter != nil {
		return nil, status.Error(codes.Unimplemented, "sandbox: conditional upsert (update_filter) is not emulated")
	}
	// Validate every point before changing anything: Qdrant rejects the whole batch.
	for _, p := range req.GetPoints() {
		if p.GetId() == nil {
			return nil, badInput("point id is required")
		}
		if _, err := checkVectors(c, p); err != nil {
			return nil, err
		}
	}
	keys := make([]string, 0, len(req.GetPoints()))
	for _, p := range req.GetPoints() {
		keys = append(keys, pointKey(p.GetId()))
	}
	applied, werr := s.replicateWrite(ctx, c, keys)
	for _, p := range req.GetPoints() {
		if k := pointKey(p.GetId()); applied[k] {
			c.points[k] = proto.Clone(p).(*pb.PointStruct)
		}
	}
	if werr != nil {
		_ = s.save()
		return nil, werr
	}
	return s.savedUpdate(start)
}

func (a *pointsAPI) Delete(ctx context.Context, req *pb.DeletePoints) (*pb.PointsOperationResponse, error) {
	s := a.s
	c, start, err := s.open(ctx, req.GetCollectionName(), true, nil)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	ids := req.GetPoints().GetPoints()
	if ids == nil {
		return nil, status.Error(codes.Unimplemented, "sandbox: deleting points by filter is not emulated; select them by id")
	}
	keys := make([]string, 0, len(ids.GetIds()))
	for _, id := range ids.GetIds() {
		keys = append(keys, pointKey(id))
	}
	applied, werr := s.replicateWrite(ctx, c, keys)
	for _, k := range keys {
		if applied[k] {
			delete(c.points, k)
		}
	}
	if werr != nil {
		_ = s.save()
		return nil, werr
	}
	return s.savedUpdate(start)
}

// withPayload: nil means true for scroll and get (Qdrant's default), false when disabled.
func retrieved(p *pb.PointStruct, wp *pb.WithPayloadSelector, wv *pb.WithVectorsSelector) *pb.RetrievedPoint {
	out := &pb.RetrievedPoint{Id: p.GetId()}
	if wp == nil || wp.GetEnable() || wp.GetInclude() != nil || wp.GetExclude() != nil {
		out.Payload = map[string]*pb.Value{}
		for k, v := range p.GetPayload() {
			if inc := wp.GetInclude(); inc != nil && !contains(inc.GetFields(), k) {
				continue
			}
			if exc := wp.GetExclude(); exc != nil && contains(exc.GetFields(), k) {
				continue
			}
			out.Payload[k] = v
		}
	}
	if wv.GetEnable() || wv.GetInclude() != nil {
		switch vs := p.GetVectors().GetVectorsOptions().(type) {
		case *pb.Vectors_Vector:
			d, _ := denseData(vs.Vector)
			out.Vectors = &pb.VectorsOutput{VectorsOptions: &pb.VectorsOutput_Vector{Vector: &pb.VectorOutput{Vector: &pb.VectorOutput_Dense{Dense: &pb.DenseVector{Data: d}}}}}
		case *pb.Vectors_Vectors:
			named := map[string]*pb.VectorOutput{}
			for n, v := range vs.Vectors.GetVectors() {
				if inc := wv.GetInclude(); inc != nil && !contains(inc.GetNames(), n) {
					continue
				}
				d, _ := denseData(v)
				named[n] = &pb.VectorOutput{Vector: &pb.VectorOutput_Dense{Dense: &pb.DenseVector{Data: d}}}
			}
			out.Vectors = &pb.VectorsOutput{VectorsOptions: &pb.VectorsOutput_Vectors{Vectors: &pb.NamedVectorsOutput{Vectors: named}}}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func emptyFilter(f *pb.Filter) bool {
	return f == nil || (len(f.GetMust()) == 0 && len(f.GetShould()) == 0 && len(f.GetMustNot()) == 0 && f.GetMinShould() == nil)
}

func (a *pointsAPI) Scroll(ctx context.Context, req *pb.ScrollPoints) (*pb.ScrollResponse, error) {
	s := a.s
	var v checks
	atLeast(&v, "limit", req.Limit, 1)
	c, start, err := s.open(ctx, req.GetCollectionName(), true, v.err())
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if !emptyFilter(req.GetFilter()) || req.OrderBy != nil {
		return nil, status.Error(codes.Unimplemented, "sandbox: scroll with a filter or order_by is not emulated")
	}
	limit := 10
	if req.Limit != nil {
		limit = int(req.GetLimit())
	}
	keys := sortedKeys(c.points)
	if req.Offset != nil {
		from := pointKey(req.GetOffset())
		keys = keys[sort.SearchStrings(keys, from):]
	}
	out := &pb.ScrollResponse{}
	for i, k := range keys {
		if i == limit {
			out.NextPageOffset = c.points[k].GetId()
			break
		}
		out.Result = append(out.Result, retrieved(c.points[k], req.GetWithPayload(), req.GetWithVectors()))
	}
	out.Time = elapsed(start)
	return out, nil
}

func (a *pointsAPI) Count(ctx context.Context, req *pb.CountPoints) (*pb.CountResponse, error) {
	s := a.s
	c, start, err := s.open(ctx, req.GetCollectionName(), true, nil)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if !emptyFilter(req.GetFilter()) {
		return nil, status.Error(codes.Unimplemented, "sandbox: count with a filter is not emulated")
	}
	return &pb.CountResponse{Result: &pb.CountResult{Count: uint64(len(c.points))}, Time: elapsed(start)}, nil
}

func (a *pointsAPI) Get(ctx context.Context, req *pb.GetPoints) (*pb.GetResponse, error) {
	s := a.s
	c, start, err := s.open(ctx, req.GetCollectionName(), true, nil)
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	out := &pb.GetResponse{}
	for _, id := range req.GetIds() {
		if p, ok := c.points[pointKey(id)]; ok {
			out.Result = append(out.Result, retrieved(p, req.GetWithPayload(), req.GetWithVectors()))
		}
	}
	out.Time = elapsed(start)
	return out, nil
}

// FieldType -> PayloadSchemaType (the enums are offset by one).
func schemaType(ft pb.FieldType) pb.PayloadSchemaType {
	return pb.PayloadSchemaType(int32(ft) + 1)
}

func (a *pointsAPI) CreateFieldIndex(ctx context.Context, req *pb.CreateFieldIndexCollection) (*pb.PointsOperationResponse, error) {
	s := a.s
	var v checks
	minLength(&v, "field_name", req.GetFieldName())
	c, start, err := s.open(ctx, req.GetCollectionName(), true, v.err())
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	if req.FieldType == nil {
		return nil, status.Error(codes.InvalidArgument, "cannot convert field_type")
	}
	if !paramsMatch(req.GetFieldType(), req.GetFieldIndexParams()) {
		return nil, status.Error(codes.InvalidArgument, "field_type and field_index_params do not match")
	}
	c.schema[req.GetFieldName()] = &pb.PayloadSchemaInfo{DataType: schemaType(req.GetFieldType()), Params: req.GetFieldIndexParams()}
	return s.savedUpdate(start)
}

func (a *pointsAPI) DeleteFieldIndex(ctx context.Context, req *pb.DeleteFieldIndexCollection) (*pb.PointsOperationResponse, error) {
	s := a.s
	var v checks
	minLength(&v, "field_name", req.GetFieldName())
	c, start, err := s.open(ctx, req.GetCollectionName(), true, v.err())
	if err != nil {
		return nil, err
	}
	defer s.mu.Unlock()
	delete(c.schema, req.GetFieldName()) // deleting an index that does not exist succeeds, as in Qdrant
	return s.savedUpdate(start)
}

// replicateWrite applies Qdrant's update rule of a shard's replica set (ShardReplicaSet::update_impl,
// lib/collection/src/shards/replica_set/update.rs) to every shard the points fall in, and returns the
// keys whose shard took the write:
//   - the write goes to every replica that is not Dead; none: "The replica set for shard S on peer P has
//     no active replica" (a service error, nothing applied);
//   - a replica on a peer that cannot be reached (partitioned, see SetPeerPartitioned) fails;
//   - with failures, at least min(write_consistency_factor, replicas of the shard) successes are needed:
//     then the failed replicas are deactivated (Dead, handle_failed_replicas); else the write fails with
//     the first failure's error (the successful replicas keep it, as in Qdrant);
//   - the successes must include an Active replica, else "Failed to apply operation to at least one
//     `Active` replica. Consistency of this update is not guaranteed. Please retry."
//
// Called under s.mu.
func (s *Server) replicateWrite(ctx context.Context, c *collection, keys []string) (map[string]bool, error) {
	applied := map[string]bool{}
	if len(c.shards) == 0 {
		return applied, nil
	}
	ids := make([]uint32, len(c.shards))
	for i, sh := range c.shards {
		ids[i] = sh.ID
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	byShard := map[uint32][]string{}
	for _, k := range keys {
		sid := shardOfKey(ids, k)
		byShard[sid] = append(byShard[sid], k)
	}
	wcf := int(c.config.GetParams().GetWriteConsistencyFactor())
	if wcf < 1 {
		wcf = 1
	}
	self := s.self(ctx)
	now := s.opts.Now()
	var firstErr error
	for _, sid := range ids {
		ks := byShard[sid]
		if len(ks) == 0 {
			continue
		}
		sh := c.shard(sid)
		var successes, failures []*replica
		for _, r := range sh.Replicas {
			if r.State == pb.ReplicaState_Dead {
				continue
			}
			if p := s.peer(r.Peer); p != nil && (p.Down || p.Partitioned) {
				failures = append(failures, r)
			} else {
				successes = append(successes, r)
			}
		}
		if len(successes) == 0 && len(failures) == 0 {
			if firstErr == nil {
				firstErr = status.Errorf(codes.Internal, "Service internal error: The replica set for shard %d on peer %d has no active replica", sid, self)
			}
			continue
		}
		failure := ""
		if len(failures) > 0 {
			failure = fmt.Sprintf("Failed peer: %d, error: Service internal error: peer %d is not reachable", failures[0].Peer, failures[0].Peer)
		}
		if len(successes) > 0 {
			for _, k := range ks {
				applied[k] = true
			}
		}
		if len(failures) > 0 {
			if len(successes) >= min(wcf, len(sh.Replicas)) {
				for _, r := range failures {
					r.State, r.Since = pb.ReplicaState_Dead, now
				}
			} else {
				if firstErr == nil {
					firstErr = status.Errorf(codes.Unavailable, "Service internal error: peer %d is not reachable", failures[0].Peer)
				}
				continue
			}
		}
		active := false
		for _, r := range successes {
			active = active || r.State == pb.ReplicaState_Active
		}
		if !active && firstErr == nil {
			firstErr = status.Errorf(codes.Internal, "Service internal error: Failed to apply operation to at least one `Active` replica. "+
				"Consistency of this update is not guaranteed. Please retry. %s", failure)
		}
	}
	return applied, firstErr
}

// paramsMatch tells whether index params fit the field type: Qdrant's convert_field_type
// (src/tonic/api/points_common.rs) refuses params of another type with INVALID_ARGUMENT "field_type and
// field_index_params do not match". No params fit every type.
func paramsMatch(ft pb.FieldType, p *pb.PayloadIndexParams) bool {
	want, ok := paramsField[reflect.TypeOf(p.GetIndexParams())]
	return !ok || want == ft
}

// paramsField is the field type each kind of index params is for.
var paramsField = map[reflect.Type]pb.FieldType{
	reflect.TypeOf(&pb.PayloadIndexParams_KeywordIndexParams{}):  pb.FieldType_FieldTypeKeyword,
	reflect.TypeOf(&pb.PayloadIndexParams_IntegerIndexParams{}):  pb.FieldType_FieldTypeInteger,
	reflect.TypeOf(&pb.PayloadIndexParams_FloatIndexParams{}):    pb.FieldType_FieldTypeFloat,
	reflect.TypeOf(&pb.PayloadIndexParams_GeoIndexParams{}):      pb.FieldType_FieldTypeGeo,
	reflect.TypeOf(&pb.PayloadIndexParams_TextIndexParams{}):     pb.FieldType_FieldTypeText,
	reflect.TypeOf(&pb.PayloadIndexParams_BoolIndexParams{}):     pb.FieldType_FieldTypeBool,
	reflect.TypeOf(&pb.PayloadIndexParams_DatetimeIndexParams{}): pb.FieldType_FieldTypeDatetime,
	reflect.TypeOf(&pb.PayloadIndexParams_UuidIndexParams{}):     pb.FieldType_FieldTypeUuid,
}
