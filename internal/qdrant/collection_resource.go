// Package qdrant owns the Qdrant resources of the provider: alfred_qdrant_collection and the
// alfred_qdrant_cluster data source, over the gRPC API of github.com/qdrant/go-client.
package qdrant

import (
	"cmp"
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	pb "github.com/qdrant/go-client/qdrant"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const collectionType = "alfred_qdrant_collection"

var (
	_ resource.ResourceWithImportState    = (*collectionResource)(nil)
	_ resource.ResourceWithValidateConfig = (*collectionResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*collectionResource)(nil)
	_ resource.ResourceWithConfigure      = (*collectionResource)(nil)
)

// Resources lists the resources of this area.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &collectionResource{} }}
}

// DataSources lists the data sources of this area.
func DataSources() []func() datasource.DataSource {
	return []func() datasource.DataSource{func() datasource.DataSource { return &clusterDataSource{} }}
}

type collectionResource struct{ data *shared.ProviderData }

func (r *collectionResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_qdrant_collection"
}

func (r *collectionResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = collectionSchema(ctx)
}

func (r *collectionResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *collectionResource) client(diags *diag.Diagnostics) *api {
	if !shared.Require(r.data, collectionType, shared.BlockQdrant, diags) {
		if r.data == nil {
			diags.AddError("Provider not configured", "The provider was not configured before "+collectionType+" was used.")
		}
		return nil
	}
	a, err := clientFor(r.data)
	if err != nil {
		diags.AddError("Cannot connect to Qdrant", err.Error())
		return nil
	}
	return a
}

func errText(err error) string {
	if st, ok := status.FromError(err); ok {
		return st.Message() + " (" + st.Code().String() + ")"
	}
	return err.Error()
}

func describe(action, name string, err error) string {
	if _, ok := status.FromError(err); ok {
		return shared.DescribeGRPC(action, fmt.Sprintf("Qdrant collection %q", name), err)
	}
	return fmt.Sprintf("Could not %s Qdrant collection %q: %v", action, name, err)
}

// ---- plan-time checks ----

func (r *collectionResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m collectionModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	rf, wcf := m.ReplicationFactor, m.WriteConsistencyFactor
	if !rf.IsNull() && !rf.IsUnknown() && !wcf.IsNull() && !wcf.IsUnknown() && wcf.ValueInt64() > rf.ValueInt64() {
		resp.Diagnostics.AddAttributeError(path.Root("write_consistency_factor"), "write_consistency_factor exceeds replication_factor",
			fmt.Sprintf("write_consistency_factor is %d but replication_factor is %d: a write cannot be acknowledged by more "+
				"replicas than a shard has. Lower write_consistency_factor or raise replication_factor.", wcf.ValueInt64(), rf.ValueInt64()))
	} else if rf.IsNull() && !wcf.IsNull() && !wcf.IsUnknown() && wcf.ValueInt64() > 1 {
		resp.Diagnostics.AddAttributeError(path.Root("write_consistency_factor"), "write_consistency_factor exceeds replication_factor",
			fmt.Sprintf("write_consistency_factor is %d but replication_factor defaults to 1. Set replication_factor too.", wcf.ValueInt64()))
	}
	if !m.Vectors.IsNull() && !m.Vectors.IsUnknown() {
		if _, ok := m.Vectors.Elements()[""]; ok && len(m.Vectors.Elements()) > 1 {
			resp.Diagnostics.AddAttributeError(path.Root("vectors"), "Default vector mixed with named vectors",
				"The key \"\" is the unnamed default vector and must then be the only key of vectors; name every vector instead.")
		}
	}
	if !m.Quantization.IsNull() && !m.Quantization.IsUnknown() {
		var q quantizationModel
		resp.Diagnostics.Append(m.Quantization.As(ctx, &q, objectAs())...)
		p := path.Root("quantization")
		if !q.Type.IsUnknown() {
			t := q.Type.ValueString()
			if t == "product" && q.Compression.IsNull() {
				resp.Diagnostics.AddAttributeError(p.AtName("compression"), "Missing compression",
					"Product quantization needs compression: one of x4, x8, x16, x32, x64.")
			}
			if t != "product" && !q.Compression.IsNull() {
				resp.Diagnostics.AddAttributeError(p.AtName("compression"), "compression applies to product quantization only",
					fmt.Sprintf("quantization.type is %q: remove compression, or use type = \"product\".", t))
			}
			if t != "scalar" && !q.Quantile.IsNull() {
				resp.Diagnostics.AddAttributeError(p.AtName("quantile"), "quantile applies to scalar quantization only",
					fmt.Sprintf("quantization.type is %q: remove quantile, or use type = \"scalar\".", t))
			}
		}
	}
	if !m.Aliases.IsNull() && !m.Aliases.IsUnknown() && !m.Name.IsUnknown() {
		for _, e := range m.Aliases.Elements() {
			if s, ok := e.(types.String); ok && s.ValueString() == m.Name.ValueString() {
				resp.Diagnostics.AddAttributeError(path.Root("aliases"), "Alias equal to the collection name",
					fmt.Sprintf("%q is the collection's own name; Qdrant refuses an alias that names a collection.", s.ValueString()))
			}
		}
	}
}

func objectAs() basetypes.ObjectAsOptions { return basetypes.ObjectAsOptions{} }

// ModifyPlan refuses a replication factor above the cluster's peer count (when the REST URL makes it
// known; a plan only reads) and says why a replacement is planned.
func (r *collectionResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if r.data == nil || r.data.Qdrant == nil {
		if r.data != nil {
			shared.Require(r.data, collectionType, shared.BlockQdrant, &resp.Diagnostics)
		}
		return
	}
	var plan collectionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if w := transportWarning(r.data.Qdrant); w != "" {
		resp.Diagnostics.AddWarning("Qdrant connection is not protected", w)
	}
	if rf := plan.ReplicationFactor; !rf.IsUnknown() && !rf.IsNull() && r.data.Qdrant.RESTURL != "" {
		if a, err := clientFor(r.data); err == nil {
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			st, ok, err := a.cluster(cctx)
			cancel()
			if err == nil && ok && len(st.Peers) > 0 && rf.ValueInt64() > int64(len(st.Peers)) {
				resp.Diagnostics.AddAttributeError(path.Root("replication_factor"), "replication_factor exceeds the cluster's peers",
					fmt.Sprintf("replication_factor is %d but the Qdrant cluster has %d peers: each replica of a shard needs its own "+
						"peer. Lower replication_factor or add peers.", rf.ValueInt64(), len(st.Peers)))
			}
		}
	}
	if req.State.Raw.IsNull() {
		return
	}
	var state collectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	why := replacementReasons(ctx, state, plan)
	if len(why) == 0 {
		return
	}
	resp.Diagnostics.AddWarning("Qdrant collection "+state.Name.ValueString()+" will be replaced",
		fmt.Sprintf("Qdrant cannot change this in place: %s. The collection is deleted and created again empty: its points "+
			"are lost unless re-indexed or restored from a snapshot. To switch without downtime, create a new collection "+
			"and move an alias to it instead.", strings.Join(why, "; ")))
}

// replacementReasons lists, in words, the changes that force a new collection.
func replacementReasons(ctx context.Context, state, plan collectionModel) []string {
	var why []string
	if !plan.Name.IsUnknown() && plan.Name.ValueString() != state.Name.ValueString() {
		why = append(why, fmt.Sprintf("name %q -> %q", state.Name.ValueString(), plan.Name.ValueString()))
	}
	if !plan.ShardNumber.IsUnknown() && !plan.ShardNumber.IsNull() && plan.ShardNumber.ValueInt64() != state.ShardNumber.ValueInt64() {
		why = append(why, fmt.Sprintf("shard_number %d -> %d (self-hosted Qdrant does not reshard)", state.ShardNumber.ValueInt64(), plan.ShardNumber.ValueInt64()))
	}
	if !plan.ShardingMethod.IsUnknown() && plan.ShardingMethod.ValueString() != state.ShardingMethod.ValueString() {
		why = append(why, fmt.Sprintf("sharding_method %q -> %q", state.ShardingMethod.ValueString(), plan.ShardingMethod.ValueString()))
	}
	var was, now map[string]vectorModel
	if plan.Vectors.IsUnknown() || state.Vectors.ElementsAs(ctx, &was, false).HasError() || plan.Vectors.ElementsAs(ctx, &now, false).HasError() {
		return why
	}
	for _, k := range sortedKeys(was) {
		n, ok := now[k]
		switch {
		case !ok:
			why = append(why, fmt.Sprintf("vector %q removed", k))
		case n.Size.ValueInt64() != was[k].Size.ValueInt64():
			why = append(why, fmt.Sprintf("vectors[%q].size %d -> %d", k, was[k].Size.ValueInt64(), n.Size.ValueInt64()))
		case n.Distance.ValueString() != was[k].Distance.ValueString():
			why = append(why, fmt.Sprintf("vectors[%q].distance %s -> %s", k, was[k].Distance.ValueString(), n.Distance.ValueString()))
		}
	}
	for _, k := range sortedKeys(now) {
		if _, ok := was[k]; !ok {
			why = append(why, fmt.Sprintf("vector %q added (Qdrant adds no named vector to an existing collection)", k))
		}
	}
	return why
}

// vectorsRequireReplace replaces the collection when a vector's size or distance, or the set of vector
// names, changes; on_disk changes in place.
func vectorsRequireReplace() planmodifier.Map { return vectorsReplace{} }

type vectorsReplace struct{}

func (vectorsReplace) Description(context.Context) string {
	return "Replaces the collection when a vector's size or distance, or the set of vector names, changes."
}
func (v vectorsReplace) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (vectorsReplace) PlanModifyMap(ctx context.Context, req planmodifier.MapRequest, resp *planmodifier.MapResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() || req.StateValue.IsNull() || req.PlanValue.IsUnknown() {
		return
	}
	var was, now map[string]vectorModel
	if req.StateValue.ElementsAs(ctx, &was, false).HasError() || req.PlanValue.ElementsAs(ctx, &now, false).HasError() {
		return
	}
	if len(was) != len(now) {
		resp.RequiresReplace = true
		return
	}
	for k, w := range was {
		n, ok := now[k]
		if !ok || n.Size.IsUnknown() || n.Distance.IsUnknown() ||
			n.Size.ValueInt64() != w.Size.ValueInt64() || n.Distance.ValueString() != w.Distance.ValueString() {
			resp.RequiresReplace = true
			return
		}
	}
}

// ---- conversions ----

var (
	distanceToPB = map[string]pb.Distance{"Cosine": pb.Distance_Cosine, "Euclid": pb.Distance_Euclid,
		"Dot": pb.Distance_Dot, "Manhattan": pb.Distance_Manhattan}
	fieldTypeToPB = map[string]pb.FieldType{"keyword": pb.FieldType_FieldTypeKeyword, "integer": pb.FieldType_FieldTypeInteger,
		"float": pb.FieldType_FieldTypeFloat, "geo": pb.FieldType_FieldTypeGeo, "text": pb.FieldType_FieldTypeText,
		"bool": pb.FieldType_FieldTypeBool, "datetime": pb.FieldType_FieldTypeDatetime, "uuid": pb.FieldType_FieldTypeUuid}
	schemaTypeName = map[pb.PayloadSchemaType]string{pb.PayloadSchemaType_Keyword: "keyword", pb.PayloadSchemaType_Integer: "integer",
		pb.PayloadSchemaType_Float: "float", pb.PayloadSchemaType_Geo: "geo", pb.PayloadSchemaType_Text: "text",
		pb.PayloadSchemaType_Bool: "bool", pb.PayloadSchemaType_Datetime: "datetime", pb.PayloadSchemaType_Uuid: "uuid"}
	compressionToPB = map[string]pb.CompressionRatio{"x4": pb.CompressionRatio_x4, "x8": pb.CompressionRatio_x8,
		"x16": pb.CompressionRatio_x16, "x32": pb.CompressionRatio_x32, "x64": pb.CompressionRatio_x64}
)

func u64(v types.Int64) *uint64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	x := uint64(v.ValueInt64())
	return &x
}

func u32(v types.Int64) *uint32 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	x := uint32(v.ValueInt64())
	return &x
}

func boolp(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	x := v.ValueBool()
	return &x
}

type spec struct {
	vectors    map[string]vectorModel
	hnsw       hnswModel
	optimizers optimizersModel
	quant      *quantizationModel
	indexes    map[string]string
	aliases    []string
}

func specOf(ctx context.Context, m collectionModel, diags *diag.Diagnostics) spec {
	var s spec
	diags.Append(m.Vectors.ElementsAs(ctx, &s.vectors, false)...)
	if !m.HNSW.IsNull() && !m.HNSW.IsUnknown() {
		diags.Append(m.HNSW.As(ctx, &s.hnsw, objectAs())...)
	}
	if !m.Optimizers.IsNull() && !m.Optimizers.IsUnknown() {
		diags.Append(m.Optimizers.As(ctx, &s.optimizers, objectAs())...)
	}
	if !m.Quantization.IsNull() && !m.Quantization.IsUnknown() {
		s.quant = &quantizationModel{}
		diags.Append(m.Quantization.As(ctx, s.quant, objectAs())...)
	}
	s.indexes = map[string]string{}
	if !m.PayloadIndexes.IsNull() {
		diags.Append(m.PayloadIndexes.ElementsAs(ctx, &s.indexes, false)...)
	}
	if !m.Aliases.IsNull() {
		diags.Append(m.Aliases.ElementsAs(ctx, &s.aliases, false)...)
	}
	return s
}

func (s spec) hnswDiff() *pb.HnswConfigDiff {
	return &pb.HnswConfigDiff{M: u64(s.hnsw.M), EfConstruct: u64(s.hnsw.EfConstruct),
		FullScanThreshold: u64(s.hnsw.FullScanThreshold), OnDisk: boolp(s.hnsw.OnDisk)}
}

func (s spec) optimizersDiff() *pb.OptimizersConfigDiff {
	d := &pb.OptimizersConfigDiff{VacuumMinVectorNumber: u64(s.optimizers.VacuumMinVectorNumber),
		DefaultSegmentNumber: u64(s.optimizers.DefaultSegmentNumber), IndexingThreshold: u64(s.optimizers.IndexingThreshold),
		FlushIntervalSec: u64(s.optimizers.FlushIntervalSec)}
	if v := s.optimizers.DeletedThreshold; !v.IsNull() && !v.IsUnknown() {
		x := v.ValueFloat64()
		d.DeletedThreshold = &x
	}
	return d
}

func (s spec) quantConfig() *pb.QuantizationConfig {
	q := s.quant
	if q == nil {
		return nil
	}
	switch q.Type.ValueString() {
	case "scalar":
		sq := &pb.ScalarQuantization{Type: pb.QuantizationType_Int8, AlwaysRam: boolp(q.AlwaysRAM)}
		if !q.Quantile.IsNull() {
			x := float32(q.Quantile.ValueFloat64())
			sq.Quantile = &x
		}
		return pb.NewQuantizationScalar(sq)
	case "product":
		return pb.NewQuantizationProduct(&pb.ProductQuantization{Compression: compressionToPB[q.Compression.ValueString()],
			AlwaysRam: boolp(q.AlwaysRAM)})
	default:
		return pb.NewQuantizationBinary(&pb.BinaryQuantization{AlwaysRam: boolp(q.AlwaysRAM)})
	}
}

func (s spec) quantDiff() *pb.QuantizationConfigDiff {
	c := s.quantConfig()
	if c == nil {
		return pb.NewQuantizationDiffDisabled()
	}
	switch q := c.GetQuantization().(type) {
	case *pb.QuantizationConfig_Scalar:
		return pb.NewQuantizationDiffScalar(q.Scalar)
	case *pb.QuantizationConfig_Product:
		return pb.NewQuantizationDiffProduct(q.Product)
	case *pb.QuantizationConfig_Binary:
		return pb.NewQuantizationDiffBinary(q.Binary)
	}
	return nil
}

func (s spec) vectorsConfig() *pb.VectorsConfig {
	if v, ok := s.vectors[""]; ok && len(s.vectors) == 1 {
		return pb.NewVectorsConfig(&pb.VectorParams{Size: uint64(v.Size.ValueInt64()),
			Distance: distanceToPB[v.Distance.ValueString()], OnDisk: boolp(v.OnDisk)})
	}
	m := map[string]*pb.VectorParams{}
	for k, v := range s.vectors {
		m[k] = &pb.VectorParams{Size: uint64(v.Size.ValueInt64()), Distance: distanceToPB[v.Distance.ValueString()], OnDisk: boolp(v.OnDisk)}
	}
	return pb.NewVectorsConfigMap(m)
}

func (s spec) vectorsDiff() *pb.VectorsConfigDiff {
	if v, ok := s.vectors[""]; ok && len(s.vectors) == 1 {
		return pb.NewVectorsConfigDiff(&pb.VectorParamsDiff{OnDisk: boolp(v.OnDisk)})
	}
	m := map[string]*pb.VectorParamsDiff{}
	for k, v := range s.vectors {
		m[k] = &pb.VectorParamsDiff{OnDisk: boolp(v.OnDisk)}
	}
	return pb.NewVectorsConfigDiffMap(m)
}

// ---- CRUD ----

// begin is how Create and Update start: the plan read into plan, the client, ctx bounded by the
// operation's timeout (10 minutes unless set) and the plan's spec. a is nil when they must stop; cancel
// is always to be called.
func (r *collectionResource) begin(ctx context.Context, planned tfsdk.Plan, update bool, plan *collectionModel,
	diags *diag.Diagnostics) (_ context.Context, cancel context.CancelFunc, a *api, s spec) {
	diags.Append(planned.Get(ctx, plan)...)
	a = r.client(diags)
	if diags.HasError() || a == nil {
		return ctx, func() {}, nil, s
	}
	timeout, d := plan.Timeouts.Create(ctx, 10*time.Minute)
	if update {
		timeout, d = plan.Timeouts.Update(ctx, 10*time.Minute)
	}
	diags.Append(d...)
	ctx, cancel = context.WithTimeout(ctx, timeout)
	if s = specOf(ctx, *plan, diags); diags.HasError() {
		return ctx, cancel, nil, s
	}
	return ctx, cancel, a, s
}

func (r *collectionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan collectionModel
	ctx, cancel, a, s := r.begin(ctx, req.Plan, false, &plan, &resp.Diagnostics)
	defer cancel()
	if a == nil {
		return
	}
	name := plan.Name.ValueString()
	req2 := &pb.CreateCollection{
		CollectionName:         name,
		VectorsConfig:          s.vectorsConfig(),
		ShardNumber:            u32(plan.ShardNumber),
		ReplicationFactor:      u32(plan.ReplicationFactor),
		WriteConsistencyFactor: u32(plan.WriteConsistencyFactor),
		OnDiskPayload:          boolp(plan.OnDiskPayload),
		HnswConfig:             s.hnswDiff(),
		OptimizersConfig:       s.optimizersDiff(),
		QuantizationConfig:     s.quantConfig(),
	}
	// A collection already there is taken over, as before. The look and the create are retried each on
	// its own: as one attempt, both had to pass together, and at a high fault rate that ran out of
	// attempts. A repeated create that finds the collection there had its earlier reply lost.
	var exists bool
	err := retry(ctx, func(ctx context.Context) (err error) {
		exists, err = a.client.CollectionExists(ctx, name)
		return err
	})
	if err == nil && !exists {
		attempt := 0
		err = retry(ctx, func(ctx context.Context) error {
			attempt++
			err := a.client.CreateCollection(ctx, req2)
			if attempt > 1 && status.Code(err) == codes.AlreadyExists {
				return nil
			}
			return err
		})
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot create Qdrant collection", describe("create", name, err))
		return
	}
	// The collection exists: record it before waiting, so a timeout never leaves an orphan.
	plan.ID = types.StringValue(name)
	partial := plan
	partial.Status = types.StringValue("")
	partial.Shards = types.ListNull(types.ObjectType{AttrTypes: shardAttrTypes})
	shared.NullUnknowns(ctx, &partial) // computed values not read yet
	resp.Diagnostics.Append(resp.State.Set(ctx, partial)...)
	r.converge(ctx, a, plan, s, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.readInto(ctx, a, &plan, &resp.Diagnostics) {
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
	}
}

// converge brings indexes, aliases and replicas to the plan (the collection itself exists).
func (r *collectionResource) converge(ctx context.Context, a *api, plan collectionModel, s spec, diags *diag.Diagnostics) {
	name := plan.Name.ValueString()
	// payload indexes: the resource owns the whole set; read what is there now
	var info *pb.CollectionInfo
	if err := retry(ctx, func(ctx context.Context) error {
		var err error
		info, err = a.client.GetCollectionInfo(ctx, name)
		return err
	}); err != nil {
		diags.AddError("Cannot read Qdrant collection", describe("read", name, err))
		return
	}
	for field, ps := range info.GetPayloadSchema() {
		want, ok := s.indexes[field]
		if ok && want == schemaTypeName[ps.GetDataType()] {
			continue
		}
		f := field
		if err := retry(ctx, func(ctx context.Context) error {
			_, err := a.client.DeleteFieldIndex(ctx, &pb.DeleteFieldIndexCollection{CollectionName: name, FieldName: f, Wait: ptr(true)})
			return err
		}); err != nil {
			diags.AddAttributeError(path.Root("payload_indexes").AtMapKey(field), "Cannot drop payload index",
				describe("drop payload index "+strconv.Quote(field)+" of", name, err))
			return
		}
	}
	for _, field := range sortedKeys(s.indexes) {
		want := s.indexes[field]
		if ps, ok := info.GetPayloadSchema()[field]; ok && schemaTypeName[ps.GetDataType()] == want {
			continue
		}
		ft := fieldTypeToPB[want]
		if err := retry(ctx, func(ctx context.Context) error {
			_, err := a.client.CreateFieldIndex(ctx, &pb.CreateFieldIndexCollection{CollectionName: name, FieldName: field,
				FieldType: &ft, Wait: ptr(true)})
			return err
		}); err != nil {
			diags.AddAttributeError(path.Root("payload_indexes").AtMapKey(field), "Cannot create payload index",
				describe("create payload index "+strconv.Quote(field)+" ("+want+") of", name, err))
			return
		}
	}
	// aliases: one UpdateAliases call, so re-pointing an alias from another collection is atomic. Each
	// attempt lists the aliases again, so a retry after a lost reply sends only what is still missing.
	want := map[string]bool{}
	for _, al := range s.aliases {
		want[al] = true
	}
	err := retry(ctx, func(ctx context.Context) error {
		current, err := a.client.ListCollectionAliases(ctx, name)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		var ops []*pb.AliasOperations
		for _, al := range current {
			have[al] = true
			if !want[al] {
				ops = append(ops, pb.NewAliasDelete(al))
			}
		}
		for _, al := range s.aliases {
			if !have[al] {
				ops = append(ops, pb.NewAliasCreate(al, name))
			}
		}
		if len(ops) == 0 {
			return nil
		}
		return a.client.UpdateAliases(ctx, ops)
	})
	if err != nil {
		diags.AddAttributeError(path.Root("aliases"), "Cannot update aliases", describe("update the aliases of", name, err))
		return
	}
	if err := a.reconcileReplicas(ctx, name, int(plan.ReplicationFactor.ValueInt64())); err != nil {
		diags.AddAttributeError(path.Root("replication_factor"), "Replicas not reconciled", err.Error())
	}
}

func ptr[T any](v T) *T { return &v }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (r *collectionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state collectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	if found := r.readInto(ctx, a, &state, &resp.Diagnostics); !found {
		if !resp.Diagnostics.HasError() {
			resp.State.RemoveResource(ctx)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// readInto fills m from the API; it reports false when the collection does not exist.
func (r *collectionResource) readInto(ctx context.Context, a *api, m *collectionModel, diags *diag.Diagnostics) bool {
	name := m.Name.ValueString()
	if name == "" {
		name = m.ID.ValueString()
	}
	// The three reads do not depend on each other: they run at once, each retried on its own (two calls
	// in one retry budget fail together far more often), so a refresh waits for the slowest, not the sum.
	var (
		info                    *pb.CollectionInfo
		cinfo                   *pb.CollectionClusterInfoResponse
		aliases                 []string
		infoErr, cinfoErr, aErr error
		g                       errgroup.Group
	)
	g.Go(func() error {
		infoErr = retry(ctx, func(ctx context.Context) (err error) { info, err = a.client.GetCollectionInfo(ctx, name); return err })
		return nil
	})
	g.Go(func() error {
		cinfoErr = retry(ctx, func(ctx context.Context) (err error) {
			cinfo, err = a.client.GetCollectionClusterInfo(ctx, name)
			return err
		})
		return nil
	})
	g.Go(func() error {
		aErr = retry(ctx, func(ctx context.Context) (err error) {
			aliases, err = a.client.ListCollectionAliases(ctx, name)
			return err
		})
		return nil
	})
	_ = g.Wait()
	if shared.IsNotFound(infoErr) {
		return false
	}
	if infoErr != nil {
		diags.AddError("Cannot read Qdrant collection", describe("read", name, infoErr))
		return false
	}
	if err := cmp.Or(cinfoErr, aErr); err != nil {
		diags.AddError("Cannot read Qdrant collection", describe("read the shards and aliases of", name, err))
		return false
	}
	cfg := info.GetConfig()
	p := cfg.GetParams()
	m.ID = types.StringValue(name)
	m.Name = types.StringValue(name)
	vec := map[string]attr.Value{}
	addVec := func(k string, v *pb.VectorParams) {
		vec[k] = types.ObjectValueMust(vectorAttrTypes, map[string]attr.Value{"size": types.Int64Value(int64(v.GetSize())),
			"distance": types.StringValue(v.GetDistance().String()), "on_disk": types.BoolValue(v.GetOnDisk())})
	}
	if single := p.GetVectorsConfig().GetParams(); single != nil {
		addVec("", single)
	}
	for k, v := range p.GetVectorsConfig().GetParamsMap().GetMap() {
		addVec(k, v)
	}
	m.Vectors = types.MapValueMust(types.ObjectType{AttrTypes: vectorAttrTypes}, vec)
	m.ShardNumber = types.Int64Value(int64(p.GetShardNumber()))
	m.ShardingMethod = types.StringValue(strings.ToLower(p.GetShardingMethod().String()))
	configured := int64(1)
	if p.ReplicationFactor != nil {
		configured = int64(p.GetReplicationFactor())
	}
	shards := shardsOf(cinfo)
	m.ReplicationFactor = types.Int64Value(effectiveReplication(configured, shards))
	wcf := int64(1)
	if p.WriteConsistencyFactor != nil {
		wcf = int64(p.GetWriteConsistencyFactor())
	}
	m.WriteConsistencyFactor = types.Int64Value(wcf)
	m.OnDiskPayload = types.BoolValue(p.GetOnDiskPayload())
	h := cfg.GetHnswConfig()
	m.HNSW = types.ObjectValueMust(hnswAttrTypes, map[string]attr.Value{"m": types.Int64Value(int64(h.GetM())),
		"ef_construct": types.Int64Value(int64(h.GetEfConstruct())), "full_scan_threshold": types.Int64Value(int64(h.GetFullScanThreshold())),
		"on_disk": types.BoolValue(h.GetOnDisk())})
	o := cfg.GetOptimizerConfig()
	m.Optimizers = types.ObjectValueMust(optimizersAttrTypes, map[string]attr.Value{
		"deleted_threshold":        types.Float64Value(o.GetDeletedThreshold()),
		"vacuum_min_vector_number": types.Int64Value(int64(o.GetVacuumMinVectorNumber())),
		"default_segment_number":   types.Int64Value(int64(o.GetDefaultSegmentNumber())),
		"indexing_threshold":       types.Int64Value(int64(o.GetIndexingThreshold())),
		"flush_interval_sec":       types.Int64Value(int64(o.GetFlushIntervalSec()))})
	m.Quantization = quantValue(cfg.GetQuantizationConfig())
	idx := map[string]attr.Value{}
	for f, ps := range info.GetPayloadSchema() {
		idx[f] = types.StringValue(schemaTypeName[ps.GetDataType()])
	}
	if len(idx) == 0 && m.PayloadIndexes.IsNull() {
		m.PayloadIndexes = types.MapNull(types.StringType)
	} else {
		m.PayloadIndexes = types.MapValueMust(types.StringType, idx)
	}
	if len(aliases) == 0 && m.Aliases.IsNull() {
		m.Aliases = types.SetNull(types.StringType)
	} else {
		vals := make([]attr.Value, 0, len(aliases))
		for _, al := range aliases {
			vals = append(vals, types.StringValue(al))
		}
		m.Aliases = types.SetValueMust(types.StringType, vals)
	}
	m.Status = types.StringValue(strings.ToLower(info.GetStatus().String()))
	var shardVals []attr.Value
	for _, s := range shards {
		var reps []attr.Value
		for _, rp := range s.Replicas {
			reps = append(reps, types.ObjectValueMust(replicaAttrTypes, map[string]attr.Value{
				"peer_id": types.StringValue(strconv.FormatUint(rp.Peer, 10)), "state": types.StringValue(rp.State.String())}))
		}
		shardVals = append(shardVals, types.ObjectValueMust(shardAttrTypes, map[string]attr.Value{
			"id": types.Int64Value(int64(s.ID)), "replicas": types.ListValueMust(types.ObjectType{AttrTypes: replicaAttrTypes}, reps)}))
	}
	m.Shards = types.ListValueMust(types.ObjectType{AttrTypes: shardAttrTypes}, shardVals)
	return true
}

func quantValue(q *pb.QuantizationConfig) types.Object {
	if q == nil {
		return types.ObjectNull(quantizationAttrTypes)
	}
	v := map[string]attr.Value{"type": types.StringNull(), "quantile": types.Float64Null(),
		"compression": types.StringNull(), "always_ram": types.BoolNull()}
	var ar *bool
	switch x := q.GetQuantization().(type) {
	case *pb.QuantizationConfig_Scalar:
		v["type"] = types.StringValue("scalar")
		if x.Scalar.Quantile != nil {
			// float32 on the wire: round to what a user writes
			f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x.Scalar.GetQuantile()), 'g', 6, 32), 64)
			v["quantile"] = types.Float64Value(f)
		}
		ar = x.Scalar.AlwaysRam
	case *pb.QuantizationConfig_Product:
		v["type"] = types.StringValue("product")
		v["compression"] = types.StringValue(x.Product.GetCompression().String())
		ar = x.Product.AlwaysRam
	case *pb.QuantizationConfig_Binary:
		v["type"] = types.StringValue("binary")
		ar = x.Binary.AlwaysRam
	default:
		return types.ObjectNull(quantizationAttrTypes)
	}
	if ar != nil {
		v["always_ram"] = types.BoolValue(*ar)
	}
	return types.ObjectValueMust(quantizationAttrTypes, v)
}

func (r *collectionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state collectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	ctx, cancel, a, s := r.begin(ctx, req.Plan, true, &plan, &resp.Diagnostics)
	defer cancel()
	if a == nil {
		return
	}
	name := plan.Name.ValueString()
	up := &pb.UpdateCollection{
		CollectionName: name,
		Params: &pb.CollectionParamsDiff{ReplicationFactor: u32(plan.ReplicationFactor),
			WriteConsistencyFactor: u32(plan.WriteConsistencyFactor), OnDiskPayload: boolp(plan.OnDiskPayload)},
		HnswConfig:         s.hnswDiff(),
		OptimizersConfig:   s.optimizersDiff(),
		VectorsConfig:      s.vectorsDiff(),
		QuantizationConfig: s.quantDiff(),
	}
	// The update sets values, so repeating it after a lost reply is harmless.
	if err := retry(ctx, func(ctx context.Context) error { return a.client.UpdateCollection(ctx, up) }); err != nil {
		resp.Diagnostics.AddError("Cannot update Qdrant collection", describe("update", name, err))
		return
	}
	r.converge(ctx, a, plan, s, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		// leave in state what the cluster has, so the next plan shows what is still not true
		if r.readInto(context.WithoutCancel(ctx), a, &state, &diag.Diagnostics{}) {
			resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
		}
		return
	}
	if !r.readInto(ctx, a, &plan, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.Diagnostics.AddError("Qdrant collection vanished", fmt.Sprintf("Collection %q disappeared during the update.", name))
		}
		// The update was made but not read back: record the plan with what is unknown left null, so the
		// next refresh reads the truth (Terraform refuses unknown values in state).
		shared.NullUnknowns(ctx, &plan)
		resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *collectionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state collectionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(&resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	timeout, d := state.Timeouts.Delete(ctx, 5*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	name := state.Name.ValueString()
	// Qdrant answers result=false for a collection that does not exist (go-client's DeleteCollection
	// makes that an error): gone already is success, also when a retried delete follows a lost reply.
	err := retry(ctx, func(ctx context.Context) error {
		_, err := a.client.GetCollectionsClient().Delete(ctx, &pb.DeleteCollection{CollectionName: name})
		return err
	})
	if err != nil && !shared.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete Qdrant collection", describe("delete", name, err))
	}
}

// ImportState accepts the collection name, or `collections/<name>` (the REST path).
func (r *collectionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := strings.TrimPrefix(req.ID, "collections/")
	if name == "" || !shared.QdrantCollectionNameRE.MatchString(name) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not a collection name nor collections/<name>.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name)...)
}
