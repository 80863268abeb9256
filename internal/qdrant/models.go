package qdrant

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type collectionModel struct {
	ID                     types.String   `tfsdk:"id"`
	Name                   types.String   `tfsdk:"name"`
	Vectors                types.Map      `tfsdk:"vectors"`
	ShardNumber            types.Int64    `tfsdk:"shard_number"`
	ShardingMethod         types.String   `tfsdk:"sharding_method"`
	ReplicationFactor      types.Int64    `tfsdk:"replication_factor"`
	WriteConsistencyFactor types.Int64    `tfsdk:"write_consistency_factor"`
	OnDiskPayload          types.Bool     `tfsdk:"on_disk_payload"`
	HNSW                   types.Object   `tfsdk:"hnsw"`
	Optimizers             types.Object   `tfsdk:"optimizers"`
	Quantization           types.Object   `tfsdk:"quantization"`
	PayloadIndexes         types.Map      `tfsdk:"payload_indexes"`
	Aliases                types.Set      `tfsdk:"aliases"`
	Status                 types.String   `tfsdk:"status"`
	Shards                 types.List     `tfsdk:"shards"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`
}

type vectorModel struct {
	Size     types.Int64  `tfsdk:"size"`
	Distance types.String `tfsdk:"distance"`
	OnDisk   types.Bool   `tfsdk:"on_disk"`
}

type hnswModel struct {
	M                 types.Int64 `tfsdk:"m"`
	EfConstruct       types.Int64 `tfsdk:"ef_construct"`
	FullScanThreshold types.Int64 `tfsdk:"full_scan_threshold"`
	OnDisk            types.Bool  `tfsdk:"on_disk"`
}

type optimizersModel struct {
	DeletedThreshold      types.Float64 `tfsdk:"deleted_threshold"`
	VacuumMinVectorNumber types.Int64   `tfsdk:"vacuum_min_vector_number"`
	DefaultSegmentNumber  types.Int64   `tfsdk:"default_segment_number"`
	IndexingThreshold     types.Int64   `tfsdk:"indexing_threshold"`
	FlushIntervalSec      types.Int64   `tfsdk:"flush_interval_sec"`
}

type quantizationModel struct {
	Type        types.String  `tfsdk:"type"`
	Quantile    types.Float64 `tfsdk:"quantile"`
	Compression types.String  `tfsdk:"compression"`
	AlwaysRAM   types.Bool    `tfsdk:"always_ram"`
}

var (
	vectorAttrTypes = map[string]attr.Type{"size": types.Int64Type, "distance": types.StringType, "on_disk": types.BoolType}
	hnswAttrTypes   = map[string]attr.Type{"m": types.Int64Type, "ef_construct": types.Int64Type,
		"full_scan_threshold": types.Int64Type, "on_disk": types.BoolType}
	optimizersAttrTypes = map[string]attr.Type{"deleted_threshold": types.Float64Type,
		"vacuum_min_vector_number": types.Int64Type, "default_segment_number": types.Int64Type,
		"indexing_threshold": types.Int64Type, "flush_interval_sec": types.Int64Type}
	quantizationAttrTypes = map[string]attr.Type{"type": types.StringType, "quantile": types.Float64Type,
		"compression": types.StringType, "always_ram": types.BoolType}
	replicaAttrTypes = map[string]attr.Type{"peer_id": types.StringType, "state": types.StringType}
	shardAttrTypes   = map[string]attr.Type{"id": types.Int64Type,
		"replicas": types.ListType{ElemType: types.ObjectType{AttrTypes: replicaAttrTypes}}}
)

// Qdrant's defaults (config/config.yaml of Qdrant: storage.hnsw_index, storage.optimizers).
var (
	defaultHNSW = hnswModel{M: types.Int64Value(16), EfConstruct: types.Int64Value(100),
		FullScanThreshold: types.Int64Value(10000), OnDisk: types.BoolValue(false)}
)

type clusterModel struct {
	ID       types.String `tfsdk:"id"`
	PeerID   types.String `tfsdk:"peer_id"`
	Version  types.String `tfsdk:"version"`
	Status   types.String `tfsdk:"status"`
	Leader   types.String `tfsdk:"raft_leader"`
	Term     types.Int64  `tfsdk:"raft_term"`
	Peers    types.List   `tfsdk:"peers"`
	TLS      types.Bool   `tfsdk:"tls"`
	APIKey   types.Bool   `tfsdk:"api_key_required"`
	PeerDown types.Int64  `tfsdk:"peers_down"`
}

var peerAttrTypes = map[string]attr.Type{"id": types.StringType, "uri": types.StringType, "up": types.BoolType,
	"last_error": types.StringType}
