package supabase

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type readReplicaModel struct {
	ID         types.String `tfsdk:"id"`
	ProjectRef types.String `tfsdk:"project_ref"`
	Region     types.String `tfsdk:"region"`
	Identifier types.String `tfsdk:"identifier"`
	Status     types.String `tfsdk:"status"`
	DBHost     types.String `tfsdk:"db_host"`
	DBPort     types.Int64  `tfsdk:"db_port"`
	// AllowOthersInRegion lets create set up a replica in a region that already has one.
	AllowOthersInRegion types.Bool     `tfsdk:"allow_other_replicas_in_region"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

type networkSecurityModel struct {
	ID             types.String `tfsdk:"id"`
	ProjectRef     types.String `tfsdk:"project_ref"`
	SSLEnforcement types.Bool   `tfsdk:"ssl_enforcement"`
	AllowedCIDRs   types.Set    `tfsdk:"allowed_cidrs"`
	AllowedCIDRsV6 types.Set    `tfsdk:"allowed_cidrs_v6"`
}
