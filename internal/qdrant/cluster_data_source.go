package qdrant

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const clusterType = "alfred_qdrant_cluster"

var _ datasource.DataSourceWithConfigure = (*clusterDataSource)(nil)

type clusterDataSource struct{ data *shared.ProviderData }

func (d *clusterDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_qdrant_cluster"
}

func (d *clusterDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.data = shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics)
}

func clusterSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "The Qdrant cluster the provider talks to: its peers (from the REST `GET /cluster`, so the " +
			"provider's `qdrant.rest_url` is required), the raft leader, the version (gRPC health check) and the status. " +
			"`tls` and `api_key_required` report what the provider checked: whether it reached the cluster over TLS, and " +
			"whether the cluster refuses calls without an API key.",
		Attributes: map[string]schema.Attribute{
			"id":          schema.StringAttribute{Computed: true, MarkdownDescription: "The answering peer's id."},
			"peer_id":     schema.StringAttribute{Computed: true, MarkdownDescription: "Id of the peer that answered."},
			"version":     schema.StringAttribute{Computed: true, MarkdownDescription: "Qdrant version."},
			"status":      schema.StringAttribute{Computed: true, MarkdownDescription: "Cluster mode status (`enabled` or `disabled`)."},
			"raft_leader": schema.StringAttribute{Computed: true, MarkdownDescription: "Peer id of the raft leader; empty during an election."},
			"raft_term":   schema.Int64Attribute{Computed: true, MarkdownDescription: "Raft term."},
			"peers_down":  schema.Int64Attribute{Computed: true, MarkdownDescription: "Peers the answering peer fails to reach."},
			"tls":         schema.BoolAttribute{Computed: true, MarkdownDescription: "True when the provider talks to the cluster over TLS."},
			"api_key_required": schema.BoolAttribute{Computed: true,
				MarkdownDescription: "True when the cluster refused a REST call made without the API key (so the key is enforced)."},
			"peers": schema.ListNestedAttribute{Computed: true, MarkdownDescription: "Every peer, by id.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"id":         schema.StringAttribute{Computed: true, MarkdownDescription: "Peer id."},
					"uri":        schema.StringAttribute{Computed: true, MarkdownDescription: "Peer URI (internal p2p address)."},
					"up":         schema.BoolAttribute{Computed: true, MarkdownDescription: "False when the answering peer fails to reach it."},
					"last_error": schema.StringAttribute{Computed: true, MarkdownDescription: "Latest message-send error to it, if any."},
				}}},
		},
	}
}

func (d *clusterDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = clusterSchema()
}

func (d *clusterDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	if !shared.Require(d.data, clusterType, shared.BlockQdrant, &resp.Diagnostics) {
		return
	}
	if d.data.Qdrant.RESTURL == "" {
		resp.Diagnostics.AddError("Qdrant REST URL not configured", clusterType+" reads the cluster's peers from Qdrant's REST "+
			"API (GET /cluster): set the provider's qdrant.rest_url or ALFRED_QDRANT_REST_URL.")
		return
	}
	if w := transportWarning(d.data.Qdrant); w != "" {
		resp.Diagnostics.AddWarning("Qdrant connection is not protected", w)
	}
	a, err := clientFor(d.data)
	if err != nil {
		resp.Diagnostics.AddError("Cannot connect to Qdrant", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var version string
	if err := retry(ctx, func(ctx context.Context) error {
		h, err := a.client.HealthCheck(ctx)
		version = h.GetVersion()
		return err
	}); err != nil {
		resp.Diagnostics.AddError("Cannot reach Qdrant", shared.DescribeGRPC("check the health of", "the Qdrant cluster", err))
		return
	}
	st, _, err := a.cluster(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the Qdrant cluster", fmt.Sprintf("Could not read GET /cluster: %v", err))
		return
	}
	keyRequired, err := a.keyRequired(ctx)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the Qdrant cluster", err.Error())
		return
	}
	var peers []attr.Value
	down := int64(0)
	for _, p := range st.Peers {
		if p.Down {
			down++
		}
		peers = append(peers, types.ObjectValueMust(peerAttrTypes, map[string]attr.Value{"id": types.StringValue(p.ID),
			"uri": types.StringValue(p.URI), "up": types.BoolValue(!p.Down), "last_error": types.StringValue(st.Failures[p.URI])}))
	}
	m := clusterModel{ID: types.StringValue(st.PeerID), PeerID: types.StringValue(st.PeerID), Version: types.StringValue(version),
		Status: types.StringValue(st.Status), Leader: types.StringValue(st.Leader), Term: types.Int64Value(st.Term),
		Peers: types.ListValueMust(types.ObjectType{AttrTypes: peerAttrTypes}, peers), TLS: types.BoolValue(d.data.Qdrant.TLS || d.data.Qdrant.CACert != ""),
		APIKey: types.BoolValue(keyRequired), PeerDown: types.Int64Value(down)}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}
