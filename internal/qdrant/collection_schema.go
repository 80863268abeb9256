package qdrant

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/float64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

var (
	distances    = []string{"Cosine", "Euclid", "Dot", "Manhattan"}
	indexTypes   = []string{"keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid"}
	quantTypes   = []string{"scalar", "product", "binary"}
	compressions = []string{"x4", "x8", "x16", "x32", "x64"}
)

func collectionSchema(ctx context.Context) schema.Schema {
	hnswDefault, _ := types.ObjectValueFrom(ctx, hnswAttrTypes, defaultHNSW)
	return schema.Schema{
		MarkdownDescription: "A Qdrant collection: vectors, sharding, replication, indexes and aliases. Changing " +
			"`replication_factor` adds or drops real shard replicas across the cluster's peers and waits until every " +
			"shard has exactly that many `Active` replicas on distinct peers (self-hosted Qdrant stores a new " +
			"replication factor but moves no replica by itself). A `Dead` replica, an extra replica, or one left by an " +
			"aborted transfer shows in the next plan as a `replication_factor` change and is repaired by the apply.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The collection's name.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true,
				MarkdownDescription: "Collection name (letters, digits, `_`, `-`, `.`; at most 255). Changing it replaces the collection.",
				Validators:          []validator.String{shared.QdrantCollectionName()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"vectors": schema.MapNestedAttribute{Required: true,
				MarkdownDescription: "Dense vectors by name; the unnamed default vector is the key `\"\"` (then the only key). " +
					"A change of a vector's `size` or `distance`, or of the set of names, replaces the collection " +
					"(Qdrant cannot change them in place); `on_disk` changes in place.",
				Validators: []validator.Map{mapvalidator.SizeAtLeast(1), mapvalidator.KeysAre(
					stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9_.-]{0,255}$`),
						"must be \"\" (the default vector) or up to 255 letters, digits, '_', '-' or '.'"))},
				PlanModifiers: []planmodifier.Map{vectorsRequireReplace()},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"size": schema.Int64Attribute{Required: true, MarkdownDescription: "Dimensions, 1 to 65536.",
						Validators: []validator.Int64{int64validator.Between(1, 65536)}},
					"distance": schema.StringAttribute{Required: true,
						MarkdownDescription: "`Cosine`, `Euclid`, `Dot` or `Manhattan`.",
						Validators:          []validator.String{stringvalidator.OneOf(distances...)}},
					"on_disk": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
						MarkdownDescription: "Keep the vectors on disk (memmap). Default false."},
				}}},
			"shard_number": schema.Int64Attribute{Optional: true, Computed: true,
				MarkdownDescription: "Number of shards (default: one per peer, as Qdrant chooses). Changing it replaces the collection: " +
					"self-hosted Qdrant reshards only through a re-index.",
				Validators: []validator.Int64{int64validator.Between(1, 65536)},
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown(),
					int64planmodifier.RequiresReplaceIfConfigured()}},
			"sharding_method": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("auto"),
				MarkdownDescription: "`auto` (Qdrant routes points to shards). Custom sharding (shard keys) is not supported by this resource. Changing it replaces the collection.",
				Validators:          []validator.String{stringvalidator.OneOf("auto")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"replication_factor": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
				MarkdownDescription: "Active replicas of every shard, each on a distinct peer (default 1). Changed in place: " +
					"the apply replicates or drops shard replicas and waits (up to the create/update timeout) until every " +
					"shard has exactly this many `Active` replicas. Must not exceed the number of peers.",
				Validators: []validator.Int64{int64validator.Between(1, 64)}},
			"write_consistency_factor": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1),
				MarkdownDescription: "Replicas that must acknowledge a write (default 1); at most `replication_factor`. Changed in place.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)}},
			"on_disk_payload": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Keep payloads on disk (default true, as Qdrant). Changed in place."},
			"hnsw": schema.SingleNestedAttribute{Optional: true, Computed: true, Default: objectdefault.StaticValue(hnswDefault),
				MarkdownDescription: "HNSW index parameters (Qdrant's defaults when absent). Changed in place.",
				Attributes: map[string]schema.Attribute{
					"m": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(16),
						MarkdownDescription: "Edges per node (default 16; 0 disables the index).",
						Validators:          []validator.Int64{int64validator.Between(0, 512)}},
					"ef_construct": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(100),
						MarkdownDescription: "Neighbours considered while building (default 100, at least 4).",
						Validators:          []validator.Int64{int64validator.Between(4, 4096)}},
					"full_scan_threshold": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(10000),
						MarkdownDescription: "Below this size (KB) a search scans instead of using the index (default 10000).",
						Validators:          []validator.Int64{int64validator.AtLeast(0)}},
					"on_disk": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
						MarkdownDescription: "Keep the index on disk (default false)."},
				}},
			"optimizers": schema.SingleNestedAttribute{Optional: true, Computed: true,
				// no object Default: deleted_threshold is a float, and a float default never equals the value read
				// back from state (JSON decimal vs float64), which would make every plan non-empty
				PlanModifiers: []planmodifier.Object{objectplanmodifier.UseStateForUnknown()},
				MarkdownDescription: "Optimizer parameters (Qdrant's defaults on create when absent; removing the block keeps " +
					"the cluster's values). Changed in place.",
				Attributes: map[string]schema.Attribute{
					"deleted_threshold": schema.Float64Attribute{Optional: true, Computed: true,
						PlanModifiers:       []planmodifier.Float64{float64planmodifier.UseStateForUnknown()},
						MarkdownDescription: "Share of deleted points that triggers a vacuum (0 to 1, default 0.2).",
						Validators:          []validator.Float64{float64validator.Between(0, 1)}},
					"vacuum_min_vector_number": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(1000),
						MarkdownDescription: "Minimal vectors in a segment to vacuum (default 1000, at least 100).",
						Validators:          []validator.Int64{int64validator.AtLeast(100)}},
					"default_segment_number": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
						MarkdownDescription: "Target segments (default 0: chosen from the CPU count).",
						Validators:          []validator.Int64{int64validator.AtLeast(0)}},
					"indexing_threshold": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(10000),
						MarkdownDescription: "Segment size (KB) above which vectors are indexed (default 10000; 0 disables indexing).",
						Validators:          []validator.Int64{int64validator.AtLeast(0)}},
					"flush_interval_sec": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(5),
						MarkdownDescription: "Seconds between flushes (default 5).",
						Validators:          []validator.Int64{int64validator.AtLeast(1)}},
				}},
			"quantization": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Vector quantization; absent means none (removing it disables quantization in place).",
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{Required: true, MarkdownDescription: "`scalar` (int8), `product` or `binary`.",
						Validators: []validator.String{stringvalidator.OneOf(quantTypes...)}},
					"quantile": schema.Float64Attribute{Optional: true,
						MarkdownDescription: "Scalar only: quantile for the value range, 0.5 to 1.",
						Validators:          []validator.Float64{float64validator.Between(0.5, 1)}},
					"compression": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Product only (required there): `x4`, `x8`, `x16`, `x32` or `x64`.",
						Validators:          []validator.String{stringvalidator.OneOf(compressions...)}},
					"always_ram": schema.BoolAttribute{Optional: true,
						MarkdownDescription: "Keep the quantized vectors in RAM."},
				}},
			"payload_indexes": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Payload field indexes: field -> `keyword`, `integer`, `float`, `geo`, `text`, `bool`, " +
					"`datetime` or `uuid`. The resource owns the collection's whole set: an index made outside Terraform is dropped. " +
					"A changed type re-creates that index in place.",
				Validators: []validator.Map{mapvalidator.ValueStringsAre(stringvalidator.OneOf(indexTypes...)),
					mapvalidator.KeysAre(stringvalidator.LengthBetween(1, 256))}},
			"aliases": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Aliases pointing to this collection. An alias that points elsewhere is re-pointed " +
					"atomically (one `UpdateAliases` call), so a blue/green re-index is one apply: move the alias from " +
					"the old collection's `aliases` to the new one's, with the old collection `depends_on` the new one so that the " +
					"re-point runs first.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(shared.QdrantCollectionName())}},
			"status": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Collection status (`green`, `yellow`, `grey`, `red`)."},
			"shards": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "Every shard with its replicas: the peer holding each and its state (`Active`, `Dead`, `Partial`, `Initializing`, ...).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id": schema.Int64Attribute{Computed: true, MarkdownDescription: "Shard id."},
					"replicas": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Replicas, by peer id.",
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"peer_id": schema.StringAttribute{Computed: true, MarkdownDescription: "Peer id."},
							"state":   schema.StringAttribute{Computed: true, MarkdownDescription: "Replica state."},
						}}},
				}}},
		},
		Blocks: map[string]schema.Block{
			"timeouts": shared.TimeoutsBlock(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
