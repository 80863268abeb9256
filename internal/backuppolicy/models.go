package backuppolicy

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

type policyModel struct {
	ID            types.String      `tfsdk:"id"`
	Name          types.String      `tfsdk:"name"`
	Schedule      types.String      `tfsdk:"schedule"`
	TimeZone      types.String      `tfsdk:"time_zone"`
	EncryptionKey types.String      `tfsdk:"encryption_key"`
	LastSuccess   types.String      `tfsdk:"last_success"`
	SchedulerJob  types.String      `tfsdk:"scheduler_job"`
	Retention     *retentionModel   `tfsdk:"retention"`
	Postgres      *postgresModel    `tfsdk:"postgres"`
	Qdrant        *qdrantModel      `tfsdk:"qdrant"`
	Destination   *destinationModel `tfsdk:"destination"`
	Runner        *runnerModel      `tfsdk:"runner"`
	Timeouts      timeouts.Value    `tfsdk:"timeouts"`
}

type retentionModel struct {
	KeepLast types.Int64  `tfsdk:"keep_last"`
	MaxAge   types.String `tfsdk:"max_age"`
}

type postgresModel struct {
	DSN       types.String `tfsdk:"dsn"`
	Databases types.List   `tfsdk:"databases"`
}

type qdrantModel struct {
	Collections types.List `tfsdk:"collections"`
}

type destinationModel struct {
	Bucket   types.String `tfsdk:"bucket"`
	Prefix   types.String `tfsdk:"prefix"`
	SSE      types.String `tfsdk:"sse"`
	KMSKeyID types.String `tfsdk:"kms_key_id"`
}

type runnerModel struct {
	Project        types.String `tfsdk:"project"`
	Region         types.String `tfsdk:"region"`
	Image          types.String `tfsdk:"image"`
	ServiceAccount types.String `tfsdk:"service_account"`
	GrantRole      types.String `tfsdk:"grant_role"`
}

type backupModel struct {
	ID              types.String   `tfsdk:"id"`
	Policy          types.String   `tfsdk:"policy"`
	Triggers        types.Map      `tfsdk:"triggers"`
	RetainOnDestroy types.Bool     `tfsdk:"retain_on_destroy"`
	BackupID        types.String   `tfsdk:"backup_id"`
	Prefix          types.String   `tfsdk:"prefix"`
	Bucket          types.String   `tfsdk:"bucket"`
	SizeBytes       types.Int64    `tfsdk:"size_bytes"`
	SHA256          types.String   `tfsdk:"sha256"`
	CreatedAt       types.String   `tfsdk:"created_at"`
	Timeouts        timeouts.Value `tfsdk:"timeouts"`
}
