package agentservice

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// agentServiceModel is the Terraform shape of alfred_agent_service.
type agentServiceModel struct {
	ID                  types.String   `tfsdk:"id"`
	Name                types.String   `tfsdk:"name"`
	Project             types.String   `tfsdk:"project"`
	Region              types.String   `tfsdk:"region"`
	Image               types.String   `tfsdk:"image"`
	Command             types.List     `tfsdk:"command"`
	Args                types.List     `tfsdk:"args"`
	Port                types.Int64    `tfsdk:"port"`
	Env                 types.Map      `tfsdk:"env"`
	SecretEnv           types.Map      `tfsdk:"secret_env"`
	CPU                 quantityValue  `tfsdk:"cpu"`
	Memory              quantityValue  `tfsdk:"memory"`
	MinInstances        types.Int64    `tfsdk:"min_instances"`
	MaxInstances        types.Int64    `tfsdk:"max_instances"`
	Concurrency         types.Int64    `tfsdk:"concurrency"`
	Timeout             durationValue  `tfsdk:"timeout"`
	ServiceAccount      types.String   `tfsdk:"service_account"`
	Ingress             types.String   `tfsdk:"ingress"`
	Invokers            types.Set      `tfsdk:"invokers"`
	Labels              types.Map      `tfsdk:"labels"`
	Metrics             types.Object   `tfsdk:"metrics"`
	CPUIdle             types.Bool     `tfsdk:"cpu_idle"`
	StartupCPUBoost     types.Bool     `tfsdk:"startup_cpu_boost"`
	StartupProbe        types.Object   `tfsdk:"startup_probe"`
	LivenessProbe       types.Object   `tfsdk:"liveness_probe"`
	VPCAccess           types.Object   `tfsdk:"vpc_access"`
	ExecutionEnv        types.String   `tfsdk:"execution_environment"`
	SecretVolumes       types.Map      `tfsdk:"secret_volumes"`
	Tracing             types.Object   `tfsdk:"tracing"`
	URI                 types.String   `tfsdk:"uri"`
	LatestReadyRevision types.String   `tfsdk:"latest_ready_revision"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
	// Rollout truth and deletion protection (rollout.go).
	LatestCreatedRevision types.String `tfsdk:"latest_created_revision"`
	TerminalCondition     types.Object `tfsdk:"terminal_condition"`
	DeletionProtection    types.Bool   `tfsdk:"deletion_protection"`
}

type secretRefModel struct {
	Secret  types.String `tfsdk:"secret"`
	Version types.String `tfsdk:"version"`
}

type metricsModel struct {
	Port         types.Int64  `tfsdk:"port"`
	Path         types.String `tfsdk:"path"`
	SidecarImage types.String `tfsdk:"sidecar_image"`
	ConfigSecret types.String `tfsdk:"config_secret"`
}

var secretRefType = types.ObjectType{AttrTypes: map[string]attr.Type{"secret": types.StringType, "version": types.StringType}}

var metricsAttrTypes = map[string]attr.Type{"port": types.Int64Type, "path": types.StringType,
	"sidecar_image": types.StringType, "config_secret": types.StringType}
