// Package backuppolicy manages alfred_backup_policy (scheduled backups: a Cloud Run job running `alfredctl
// backup run`, a Cloud Scheduler job that runs it with an OAuth token of the runner's service account, and
// the grant that lets that account run it) and alfred_backup (a backup taken at apply, e.g. before a
// migration), on the engine of internal/backup.
package backuppolicy

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/run/apiv2/runpb"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const policyType = "alfred_backup_policy"

var (
	_ resource.ResourceWithImportState    = (*policyResource)(nil)
	_ resource.ResourceWithConfigure      = (*policyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*policyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*policyResource)(nil)
)

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{NewPolicyResource, NewBackupResource}
}

// NewPolicyResource returns alfred_backup_policy.
func NewPolicyResource() resource.Resource { return &policyResource{} }

type policyResource struct{ data *shared.ProviderData }

// applyTimeout is the default bound of one apply of a policy (bucket check, job rollout, grant, scheduler
// job) and of its deletion; `timeouts` overrides it.
const applyTimeout = 20 * time.Minute

// maxKeepLast bounds retention.keep_last: daily sets for over 27 years. A larger number is a typo, and
// each run lists every kept set of the prefix.
const maxKeepLast = 10000

var (
	nameRE  = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$`)
	emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

func (r *policyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup_policy"
}

func (r *policyResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = policySchema(ctx)
}

func policySchema(ctx context.Context) schema.Schema {
	str := func(desc string, v ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{Required: true, MarkdownDescription: desc, Validators: v}
	}
	return schema.Schema{
		MarkdownDescription: "Scheduled, encrypted, verified backups of PostgreSQL databases (and Qdrant collections) into S3, " +
			"run without anyone's laptop: a Cloud Run job running `alfredctl backup run` with the policy, a Cloud Scheduler job " +
			"that runs it with an OAuth token of `runner.service_account`, and a grant of `runner.grant_role` on the job to " +
			"that account (without it every scheduled run would be refused, so the apply fails instead). Apply first checks " +
			"that the bucket is reachable and writable with the provider's `s3` credentials.\n\n" +
			"Each run writes the metric `custom.googleapis.com/alfred_backup_last_success_timestamp_seconds` (label " +
			"`service` = `name`) that the `backup_staleness` alert preset reads.\n\n" +
			"**Secrets.** `encryption_key`, `postgres.dsn`, the `s3` credentials and the provider's Qdrant `api_key` reach the runner as environment " +
			"variables of the Cloud Run job (`" + envKeyset + "`, `" + envDSN + "`, `AWS_*`, `" + envQdrantKey + "`), never as arguments or in " +
			"logs. They are readable by anyone who may read the job's spec (`run.jobs.get`). In production, put them in " +
			"Secret Manager and grant the runner `roles/secretmanager.secretAccessor`; referencing secrets from this " +
			"resource is not implemented yet (the sandbox does not emulate Secret Manager).\n\n" +
			"Destroying the policy deletes both jobs and keeps every backup in the bucket.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The Cloud Run job, `projects/P/locations/L/jobs/NAME`; the import id.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"scheduler_job": schema.StringAttribute{Computed: true, MarkdownDescription: "The Cloud Scheduler job (same path under the Cloud Scheduler API).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the Cloud Run job and the scheduler job, and the `service` label of the metric: lowercase letters, digits and hyphens, starting with a letter, at most 63 characters.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.RegexMatches(nameRE, "must be lowercase letters, digits and hyphens, start with a letter, not end with a hyphen, at most 63 characters")}},
			"schedule": str("When to run: five unix-cron fields (`minute hour day-of-month month day-of-week`, as Cloud Scheduler takes them), validated with robfig/cron; the zone may be given as a `CRON_TZ=Zone/Name ` prefix or in `time_zone`, not both.", scheduleValidator),
			"time_zone": schema.StringAttribute{Optional: true, MarkdownDescription: "tz database zone of `schedule` (default UTC).",
				Validators: []validator.String{zoneValidator}},
			"encryption_key": schema.StringAttribute{Required: true, Sensitive: true,
				MarkdownDescription: "The Tink keyset (JSON) the backups are encrypted with (AES-256 streaming AEAD, `AES256_GCM_HKDF_1MB`), e.g. `file(\"backup.keyset.json\")` after `alfredctl backup keygen`. Keep a copy apart from the backups: without it they cannot be read.",
				Validators:          []validator.String{keysetValidator}},
			"timeouts":     shared.TimeoutsAttributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
			"last_success": schema.StringAttribute{Computed: true, MarkdownDescription: "Finish time (RFC 3339) of the newest complete backup set in the destination, read from the backup catalogue (the sets' manifests); null when there is none."},
		},
		Blocks: map[string]schema.Block{
			"retention": schema.SingleNestedBlock{
				MarkdownDescription: "Which sets each run keeps; the newest good set is never deleted. Required.",
				Validators:          []validator.Object{objectvalidator.IsRequired()},
				Attributes: map[string]schema.Attribute{
					"keep_last": schema.Int64Attribute{Optional: true, MarkdownDescription: "Keep this many newest good sets, from 1 to " + strconv.Itoa(maxKeepLast) + ". Required.",
						Validators: []validator.Int64{int64validator.Between(1, maxKeepLast)}},
					"max_age": schema.StringAttribute{Optional: true, MarkdownDescription: "Also delete good sets older than this duration (at least `1h`, e.g. `720h`).",
						Validators: []validator.String{durationValidator}},
				},
			},
			"postgres": schema.SingleNestedBlock{
				MarkdownDescription: "The PostgreSQL databases to back up.",
				Attributes: map[string]schema.Attribute{
					"dsn": schema.StringAttribute{Optional: true, Sensitive: true, MarkdownDescription: "DSN of the cluster (its database name is replaced per database); the role must read every row (superuser or BYPASSRLS). Required in the block.",
						Validators: []validator.String{dsnValidator}},
					"databases": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Databases to back up, at least one. Required in the block.",
						Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 63), shared.PostgresNoNUL)}},
				},
			},
			"qdrant": schema.SingleNestedBlock{
				MarkdownDescription: "Qdrant collections to snapshot into the same set (rendered as `--qdrant-collection`). The runner reaches them " +
					"with the provider's `qdrant` block (its `url` and `rest_url` are required), given to the job as `" + strings.Join(qdrantEnvNames, "`, `") + "`; " +
					"the other peers are reached at the host of their cluster URI with the port of `rest_url`.",
				Attributes: map[string]schema.Attribute{
					"collections": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Collection names (letters, digits, `_`, `-`, `.`; at most 255 each), at least one.",
						Validators: []validator.List{listvalidator.SizeAtLeast(1), listvalidator.UniqueValues(), listvalidator.ValueStringsAre(shared.QdrantCollectionName())}},
				},
			},
			"destination": schema.SingleNestedBlock{
				MarkdownDescription: "Where the sets go. Required.",
				Validators:          []validator.Object{objectvalidator.IsRequired()},
				Attributes: map[string]schema.Attribute{
					"bucket": schema.StringAttribute{Optional: true, MarkdownDescription: "S3 bucket (must exist; the apply checks it can be written). Required.",
						Validators: []validator.String{bucketValidator}},
					"prefix": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("alfred/"),
						MarkdownDescription: "Key prefix of the sets, ending in `/` (default `alfred/`). alfred_backup keeps its sets under the sibling prefix `PREFIX-pinned/`, which the policy's retention never touches.",
						Validators:          []validator.String{prefixValidator}},
					"sse": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Server-side encryption the store applies at rest, on top of the client-side encryption with `encryption_key`: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS). Unset: the bucket's default.",
						Validators:          []validator.String{stringvalidator.OneOf("AES256", "aws:kms")}},
					"kms_key_id": schema.StringAttribute{Optional: true,
						MarkdownDescription: "KMS key (id or ARN) of `sse = \"aws:kms\"`; unset: the account's default key.",
						Validators:          []validator.String{stringvalidator.LengthAtLeast(1)}},
				},
			},
			"runner": schema.SingleNestedBlock{
				MarkdownDescription: "The Cloud Run job that runs the backups. Required.",
				Validators:          []validator.Object{objectvalidator.IsRequired()},
				Attributes: map[string]schema.Attribute{
					"project": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project of the jobs (default: the provider's `gcp.project`).",
						Validators: []validator.String{shared.ProjectID()}},
					"region": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Region of the jobs (default: the provider's `gcp.region`).",
						Validators: []validator.String{shared.Region()}},
					"image": schema.StringAttribute{Optional: true, MarkdownDescription: "Container image of alfredctl (`[registry/]path[:tag][@digest]`). Required.",
						Validators: []validator.String{shared.ImageReference()}},
					"service_account": schema.StringAttribute{Optional: true, MarkdownDescription: "Email of the service account the job runs as and whose OAuth token the scheduler uses to run it. Required.",
						Validators: []validator.String{stringvalidator.RegexMatches(emailRE, "must be a service account email")}},
					"grant_role": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("roles/run.invoker"),
						MarkdownDescription: "Role granted to `service_account` on the job so that the scheduler may run it: one that holds `run.jobs.run` (" + strings.Join(jobsRunRoles, ", ") + "); default `roles/run.invoker`. " +
							"`none` when the account holds such a role already (e.g. on the project): the provider cannot read project grants, so the apply then proves the schedule by running it once through Cloud Scheduler (a real backup) and fails, deleting the scheduler job again, when Cloud Run refuses it.",
						Validators: []validator.String{stringvalidator.OneOf(append(slices.Clone(jobsRunRoles), noGrant)...)}},
				},
			},
		},
	}
}

func (r *policyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics)
}

// ValidateConfig checks what spans attributes: required attributes inside blocks (a block's attributes
// cannot be Required when the block is absent), something to back up, and one zone.
func (r *policyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m policyModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	need := func(v interface{ IsNull() bool }, p path.Path, what string) {
		if v.IsNull() {
			resp.Diagnostics.AddAttributeError(p, "Missing "+p.String(), what)
		}
	}
	if m.Retention != nil {
		need(m.Retention.KeepLast, path.Root("retention").AtName("keep_last"), "Set retention.keep_last to how many newest good sets to keep (at least 1): a policy that keeps nothing is not a backup.")
	}
	if m.Destination != nil {
		need(m.Destination.Bucket, path.Root("destination").AtName("bucket"), "Set destination.bucket to the S3 bucket of the backups.")
		if !m.Destination.KMSKeyID.IsNull() && !m.Destination.SSE.IsUnknown() && m.Destination.SSE.ValueString() != "aws:kms" {
			resp.Diagnostics.AddAttributeError(path.Root("destination").AtName("kms_key_id"), "KMS key without SSE-KMS",
				"destination.kms_key_id needs destination.sse = \"aws:kms\".")
		}
	}
	if m.Runner != nil {
		need(m.Runner.Image, path.Root("runner").AtName("image"), "Set runner.image to the alfredctl container image.")
		need(m.Runner.ServiceAccount, path.Root("runner").AtName("service_account"), "Set runner.service_account to the account the job runs as.")
	}
	if m.Postgres != nil {
		need(m.Postgres.DSN, path.Root("postgres").AtName("dsn"), "Set postgres.dsn to the DSN of the cluster.")
		need(m.Postgres.Databases, path.Root("postgres").AtName("databases"), "Set postgres.databases to the databases to back up.")
	}
	if m.Qdrant != nil {
		need(m.Qdrant.Collections, path.Root("qdrant").AtName("collections"), "Set qdrant.collections to the collections to back up.")
	}
	if m.Postgres == nil && m.Qdrant == nil {
		resp.Diagnostics.AddAttributeError(path.Root("postgres"), "Nothing to back up", "Add a postgres { dsn, databases } block, a qdrant { collections } block, or both.")
	}
	if z, _ := splitSchedule(m.Schedule.ValueString()); z != "" && !m.TimeZone.IsNull() {
		resp.Diagnostics.AddAttributeError(path.Root("time_zone"), "Two time zones",
			fmt.Sprintf("schedule already names its zone (CRON_TZ=%s); remove time_zone or the prefix.", z))
	}
}

// ModifyPlan needs the gcp and s3 blocks, fills runner.project and runner.region from the provider, and
// replaces the policy when they change (the jobs live in one project and region).
func (r *policyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if !shared.Require(r.data, policyType, shared.BlockGCP, &resp.Diagnostics) || !shared.Require(r.data, policyType, shared.BlockS3, &resp.Diagnostics) {
		return
	}
	fill := func(attr, def string, unknown bool) {
		p := path.Root("runner").AtName(attr)
		var v types.String
		resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, p, &v)...)
		if v.IsUnknown() {
			if unknown {
				return
			}
			if def == "" {
				resp.Diagnostics.AddAttributeError(p, "No "+attr, fmt.Sprintf("Set runner.%s, or the provider's gcp.%s.", attr, attr))
				return
			}
			v = types.StringValue(def)
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, p, v)...)
		}
		if !req.State.Raw.IsNull() {
			var prior types.String
			resp.Diagnostics.Append(req.State.GetAttribute(ctx, p, &prior)...)
			if !prior.IsNull() && prior.ValueString() != v.ValueString() {
				resp.RequiresReplace = append(resp.RequiresReplace, p)
			}
		}
	}
	requireQdrant(ctx, resp.Plan, r.data, &resp.Diagnostics)
	fill("project", r.data.GCP.Project, r.data.GCP.ProjectUnknown)
	fill("region", r.data.GCP.Region, r.data.GCP.RegionUnknown)
	if !req.State.Raw.IsNull() {
		r.planQdrantEnv(ctx, req, resp)
	}
}

// planQdrantEnv plans the update of the job's Qdrant environment when the provider's qdrant block is no
// longer what was written into the job (a rotated api_key, another url), or is not known yet: the job is
// updated in place (last_success, re-read by the apply, is unknown) and a warning says why; nothing is
// shown as changed outside Terraform (Read compares the job with what was written).
func (r *policyResource) planQdrantEnv(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	raw, d := req.Private.GetKey(ctx, privQdrantEnv)
	resp.Diagnostics.Append(d...)
	var applied map[string]string
	if len(raw) == 0 || json.Unmarshal(raw, &applied) != nil || len(applied) == 0 || r.data.Qdrant == nil {
		return // no Qdrant connection written (or an imported policy: Read compares with the provider then)
	}
	var q *qdrantModel
	var id types.String
	resp.Diagnostics.Append(resp.Plan.GetAttribute(ctx, path.Root("qdrant"), &q)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("id"), &id)...)
	if q == nil || q.Collections.IsNull() || q.Collections.IsUnknown() || resp.Diagnostics.HasError() {
		return // the job changes with the configuration anyway
	}
	var why string
	if qdrantUnknown(r.data) {
		why = "the provider's qdrant block is not known until apply"
	} else {
		want := envDigest(id.ValueString(), qdrantEnv(r.data, policySpec{collections: strList(ctx, q.Collections, &resp.Diagnostics)}))
		changed := changedQdrantAttrs(applied, want)
		if len(changed) == 0 {
			return
		}
		why = "the provider's " + strings.Join(changed, ", ") + " changed since the job was written"
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("last_success"), types.StringUnknown())...)
	resp.Diagnostics.AddWarning("The backup runner's Qdrant connection will be updated",
		fmt.Sprintf("%s %s: %s, so the apply updates the Cloud Run job %s in place with the provider's Qdrant connection (%s). "+
			"This is not a change made outside Terraform.", policyType, id.ValueString(), why, id.ValueString(), strings.Join(qdrantEnvNames, ", ")))
}

func (r *policyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, timeouts.Value.Create, &resp.State, resp.Private, &resp.Diagnostics)
}

func (r *policyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, timeouts.Value.Update, &resp.State, resp.Private, &resp.Diagnostics)
}

// apply writes the whole policy of plan within its create or update timeout; create, update and the
// repair of drift are the same idempotent writes: bucket check, Cloud Run job (UpdateJob with
// allow_missing), grant, scheduler job.
func (r *policyResource) apply(ctx context.Context, plan tfsdk.Plan, timeout func(timeouts.Value, context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	st stateSetter, priv privateSetter, diags *diag.Diagnostics) {
	m := &policyModel{}
	diags.Append(plan.Get(ctx, m)...)
	if diags.HasError() {
		return
	}
	to, d := timeout(m.Timeouts, ctx, applyTimeout)
	diags.Append(d...)
	ctx, cancel, c := within(ctx, r.data, to, diags)
	defer cancel()
	if c == nil {
		return
	}
	spec := specOf(ctx, m, diags)
	if diags.HasError() {
		return
	}
	store, err := storeFor(r.data, spec.bucket, spec.prefix, spec.sse, spec.kmsKeyID)
	if err == nil {
		err = store.CheckWritable(ctx)
	}
	if err != nil {
		diags.AddAttributeError(path.Root("destination").AtName("bucket"), "The backup bucket cannot be written",
			fmt.Sprintf("Checked before deploying the schedule, with the provider's s3 settings: %v", err))
		return
	}
	job := jobOf(r.data, m, spec)
	if _, err := c.putJob(ctx, job); err != nil {
		diags.AddError("Cannot deploy the backup runner", shared.DescribeGRPC("create or update the Cloud Run job", job.GetName(), err))
		return
	}
	// The job exists: record it, so that a failure below leaves no orphan the next apply would not know.
	m.ID = types.StringValue(job.GetName())
	diags.Append(st.SetAttribute(ctx, path.Root("id"), m.ID)...)
	diags.Append(setQdrantEnvDigest(ctx, priv, envDigest(job.GetName(), job.GetTemplate().GetTemplate().GetContainers()[0].GetEnv()))...)

	member := "serviceAccount:" + m.Runner.ServiceAccount.ValueString()
	role := m.Runner.GrantRole.ValueString()
	if role == noGrant {
		r.applyProven(ctx, c, m, spec, st, diags)
		return
	}
	if err := c.grant(ctx, job.GetName(), role, member); err != nil {
		diags.AddAttributeError(path.Root("runner").AtName("service_account"), "The runner's account cannot be allowed to run the job",
			shared.DescribeGRPC(fmt.Sprintf("grant %s to %s on", m.Runner.GrantRole.ValueString(), member), job.GetName(), err)+
				" Without this grant Cloud Scheduler's runs would be refused (run.jobs.run), so the schedule is not deployed.")
		return
	}
	zone, cron := scheduleParts(m)
	sj, err := c.putSchedulerJob(ctx, schedulerJobOf(m, cron, zone))
	if err != nil {
		diags.AddError("Cannot deploy the schedule", shared.DescribeGRPC("create or update the Cloud Scheduler job", job.GetName(), err))
		return
	}
	m.SchedulerJob = types.StringValue(sj.GetName())
	m.LastSuccess = r.lastSuccess(ctx, spec, diags)
	diags.Append(st.Set(ctx, m)...)
}

// applyProven deploys the schedule of a policy whose grant is made elsewhere (grant_role = "none"), then
// proves that Cloud Run lets the runner's account run the job by a run forced through Cloud Scheduler. A
// refusal deletes the scheduler job again, so that no schedule is left that would never run, and fails the
// apply.
func (r *policyResource) applyProven(ctx context.Context, c *clients, m *policyModel, spec policySpec, st stateSetter, diags *diag.Diagnostics) {
	zone, cron := scheduleParts(m)
	sj, err := c.putSchedulerJob(ctx, schedulerJobOf(m, cron, zone))
	if err != nil {
		diags.AddError("Cannot deploy the schedule", shared.DescribeGRPC("create or update the Cloud Scheduler job", m.ID.ValueString(), err))
		return
	}
	if err := c.proveScheduledRun(ctx, sj.GetName()); err != nil {
		_ = c.deleteSchedulerJob(context.WithoutCancel(ctx), sj.GetName())
		diags.AddAttributeError(path.Root("runner").AtName("grant_role"), "The schedule could not run the backup job",
			fmt.Sprintf("With grant_role = %q the runner's account %s must already hold run.jobs.run on %s or its project (e.g. roles/run.invoker). "+
				"A run forced through Cloud Scheduler was refused: %v. The scheduler job was deleted again, so that no schedule is left that never runs; "+
				"grant the role, or set grant_role to a role for the provider to grant on the job.", noGrant, m.Runner.ServiceAccount.ValueString(), m.ID.ValueString(), err))
		return
	}
	m.SchedulerJob = types.StringValue(sj.GetName())
	m.LastSuccess = r.lastSuccess(ctx, spec, diags)
	diags.Append(st.Set(ctx, m)...)
}

type privateSetter interface {
	SetKey(context.Context, string, []byte) diag.Diagnostics
}

func setQdrantEnvDigest(ctx context.Context, priv privateSetter, digest map[string]string) diag.Diagnostics {
	b, _ := json.Marshal(digest)
	return priv.SetKey(ctx, privQdrantEnv, b)
}

type stateSetter interface {
	Set(context.Context, any) diag.Diagnostics
	SetAttribute(context.Context, path.Path, any) diag.Diagnostics
}

// scheduleParts returns the zone and the cron fields the scheduler job gets.
func scheduleParts(m *policyModel) (zone, cron string) {
	zone, cron = splitSchedule(m.Schedule.ValueString())
	if zone == "" {
		zone = m.TimeZone.ValueString()
	}
	if zone == "" {
		zone = "Etc/UTC"
	}
	return zone, cron
}

// lastSuccess reads the catalogue: the finish time of the newest set that has a manifest.
func (r *policyResource) lastSuccess(ctx context.Context, spec policySpec, diags *diag.Diagnostics) types.String {
	store, err := storeFor(r.data, spec.bucket, spec.prefix, "", "")
	if err != nil {
		diags.AddWarning("Cannot read the backup catalogue", err.Error())
		return types.StringNull()
	}
	sets, err := store.Sets(ctx)
	if err != nil {
		diags.AddWarning("Cannot read the backup catalogue", "last_success is unknown: "+err.Error())
		return types.StringNull()
	}
	var last time.Time
	for _, s := range sets {
		if s.Manifest != nil && s.Manifest.FinishedAt.After(last) {
			last = s.Manifest.FinishedAt
		}
	}
	if last.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(last.UTC().Format(time.RFC3339))
}

func (r *policyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.data == nil || r.data.GCP == nil || r.data.S3 == nil {
		shared.Require(r.data, policyType, shared.BlockGCP, &resp.Diagnostics)
		shared.Require(r.data, policyType, shared.BlockS3, &resp.Diagnostics)
		return
	}
	c, err := clientsFor(ctx, r.data)
	if err != nil {
		resp.Diagnostics.AddError("Cannot build the Cloud Run and Cloud Scheduler clients", err.Error())
		return
	}
	name := prior.ID.ValueString()
	job, err := c.getJob(ctx, name)
	if shared.IsNotFound(err) {
		resp.State.RemoveResource(ctx) // the next apply deploys it again
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the backup runner", shared.DescribeGRPC("read the Cloud Run job", name, err))
		return
	}
	sj, err := c.getSchedulerJob(ctx, name)
	if shared.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the schedule", shared.DescribeGRPC("read the Cloud Scheduler job", name, err))
		return
	}
	pol, err := c.jobPolicy(ctx, name)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the runner's grant", shared.DescribeGRPC("read the IAM policy of", name, err))
		return
	}
	raw, d := req.Private.GetKey(ctx, privQdrantEnv)
	resp.Diagnostics.Append(d...)
	var applied map[string]string
	if len(raw) == 0 || json.Unmarshal(raw, &applied) != nil {
		applied = nil
	}
	m := r.fromAPI(job, sj, pol, &prior, applied)
	if m == nil {
		resp.Diagnostics.AddError("Not a backup policy", fmt.Sprintf("%s is not a Cloud Run job with one container: it was not written by %s.", name, policyType))
		return
	}
	m.LastSuccess = r.lastSuccess(ctx, specOf(ctx, m, &resp.Diagnostics), &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
	ctr := job.GetTemplate().GetTemplate().GetContainers()[0]
	if spec, ok := parseArgs(ctr.GetArgs()); applied == nil && ok && !qdrantUnknown(r.data) && qdrantEnvMatches(r.data, spec, ctr) {
		// Imported, or written before the digest was kept: the job holds what the provider writes.
		resp.Diagnostics.Append(setQdrantEnvDigest(ctx, resp.Private, envDigest(name, ctr.GetEnv()))...)
	}
}

// fromAPI rebuilds the policy from its jobs. What the policy does not describe but would write
// differently (arguments it does not produce, another scheduler target, a removed grant) is shown on the
// attribute whose apply repairs it, with a note, so that the plan names the drift.
//
// applied is the digest of the Qdrant environment last written (private state); nil when unknown (an
// import), and the job is then compared with the provider's qdrant block.
func (r *policyResource) fromAPI(job *runpb.Job, sj *schedulerpb.Job, pol *iampb.Policy, prior *policyModel, applied map[string]string) *policyModel {
	cs := job.GetTemplate().GetTemplate().GetContainers()
	if len(cs) != 1 {
		return nil
	}
	ctr := cs[0]
	parts := strings.Split(job.GetName(), "/")
	m := &policyModel{ID: types.StringValue(job.GetName()), Name: types.StringValue(parts[5]), SchedulerJob: types.StringValue(sj.GetName()),
		Timeouts: prior.Timeouts}
	project, region := parts[1], parts[3]
	sa := job.GetTemplate().GetTemplate().GetServiceAccount()
	m.Runner = &runnerModel{Project: types.StringValue(project), Region: types.StringValue(region),
		Image: types.StringValue(ctr.GetImage()), ServiceAccount: types.StringValue(sa), GrantRole: types.StringValue("roles/run.invoker")}
	if prior.Runner != nil && !prior.Runner.GrantRole.IsNull() {
		m.Runner.GrantRole = prior.Runner.GrantRole
	}
	if prior.Runner != nil && strings.EqualFold(prior.Runner.ServiceAccount.ValueString(), sa) {
		m.Runner.ServiceAccount = prior.Runner.ServiceAccount // IAM and Cloud Run lower-case emails
	}
	if m.Runner.GrantRole.ValueString() != noGrant && !holdsRunAs(pol, m.Runner.GrantRole.ValueString(), "serviceAccount:"+sa) {
		m.Runner.GrantRole = types.StringValue(describeDrift(m.Runner.GrantRole.ValueString() + " of the runner on the job"))
	}

	spec, ok := parseArgs(ctr.GetArgs())
	if ok && !equalArgs(spec.args(r.data, project, region), ctr.GetArgs()) {
		ok = false
	}
	switch {
	case !ok:
		m.Runner.Image = types.StringValue(ctr.GetImage() + " " + describeDrift("job arguments"))
	case applied != nil && !maps.Equal(applied, envDigest(job.GetName(), ctr.GetEnv())),
		applied == nil && !qdrantUnknown(r.data) && !qdrantEnvMatches(r.data, spec, ctr):
		m.Runner.Image = types.StringValue(ctr.GetImage() + " " + describeDrift("Qdrant connection in the job's environment"))
	}
	m.Retention = &retentionModel{KeepLast: types.Int64Value(spec.keepLast), MaxAge: types.StringNull()}
	if spec.maxAge != "" {
		m.Retention.MaxAge = types.StringValue(spec.maxAge)
	}
	m.Destination = &destinationModel{Bucket: types.StringValue(spec.bucket), Prefix: types.StringValue(spec.prefix),
		SSE: types.StringNull(), KMSKeyID: types.StringNull()}
	if spec.sse != "" {
		m.Destination.SSE = types.StringValue(spec.sse)
	}
	if spec.kmsKeyID != "" {
		m.Destination.KMSKeyID = types.StringValue(spec.kmsKeyID)
	}
	if dsn, has := envValue(ctr, envDSN); has || len(spec.databases) > 0 {
		m.Postgres = &postgresModel{DSN: types.StringValue(dsn), Databases: listValue(spec.databases)}
	}
	if len(spec.collections) > 0 {
		m.Qdrant = &qdrantModel{Collections: listValue(spec.collections)}
	}
	key, _ := envValue(ctr, envKeyset)
	m.EncryptionKey = types.StringValue(key)

	// The schedule: kept in the configuration's spelling when it means what the scheduler job holds.
	m.Schedule, m.TimeZone = types.StringValue(sj.GetSchedule()), types.StringValue(sj.GetTimeZone())
	pz, pcron := splitSchedule(prior.Schedule.ValueString())
	switch {
	case pz != "" && pz == sj.GetTimeZone() && pcron == sj.GetSchedule():
		m.Schedule, m.TimeZone = prior.Schedule, types.StringNull()
	case prior.TimeZone.IsNull() && (sj.GetTimeZone() == "Etc/UTC" || sj.GetTimeZone() == "UTC" || sj.GetTimeZone() == ""):
		m.TimeZone = types.StringNull()
	}
	if !targetMatches(sj, job.GetName(), sa) {
		m.Schedule = types.StringValue(m.Schedule.ValueString() + " " + describeDrift("scheduler target or token"))
	}
	return m
}

// holdsRunAs reports whether member holds role on the job, or another role that grants run.jobs.run.
func holdsRunAs(p *iampb.Policy, role, member string) bool {
	return holdsRun(p, member) && slices.ContainsFunc(p.GetBindings(), func(b *iampb.Binding) bool {
		return b.GetRole() == role && slices.ContainsFunc(b.GetMembers(), func(m string) bool { return strings.EqualFold(m, member) })
	})
}

func (r *policyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m policyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	to, d := m.Timeouts.Delete(ctx, applyTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel, c := within(ctx, r.data, to, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	name := m.ID.ValueString()
	// The schedule first, so that nothing runs a job that is going away. The backups stay in the bucket.
	if err := c.deleteSchedulerJob(ctx, name); err != nil {
		resp.Diagnostics.AddError("Cannot delete the schedule", shared.DescribeGRPC("delete the Cloud Scheduler job", name, err))
		return
	}
	if err := c.deleteJob(ctx, name); err != nil {
		resp.Diagnostics.AddError("Cannot delete the backup runner", shared.DescribeGRPC("delete the Cloud Run job", name, err))
	}
}

var importRE = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/jobs/[^/]+$`)

func (r *policyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !importRE.MatchString(req.ID) {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q: import a backup policy by its Cloud Run job, projects/PROJECT/locations/REGION/jobs/NAME.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
