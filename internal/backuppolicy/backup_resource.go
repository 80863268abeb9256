package backuppolicy

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const backupType = "alfred_backup"

var (
	_ resource.ResourceWithConfigure  = (*backupResource)(nil)
	_ resource.ResourceWithModifyPlan = (*backupResource)(nil)
)

// NewBackupResource returns alfred_backup.
func NewBackupResource() resource.Resource { return &backupResource{} }

type backupResource struct{ data *shared.ProviderData }

// backupTimeout is the default bound of one backup at apply (the runner's own task timeout); `timeouts`
// overrides it.
const backupTimeout = 3 * time.Hour

func (r *backupResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_backup"
}

func (r *backupResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A backup taken at apply, e.g. before a migration: the apply runs the policy's Cloud Run job once " +
			"(so the key, the DSN and the tools stay with the runner, and the backup is taken where the scheduled ones are) and " +
			"waits for it; a failed run fails the apply, and resources that `depends_on` this one are not applied. A change of " +
			"`triggers` takes a new backup. The set is written under its own prefix, `PREFIX-pinned/ID/` beside the policy's " +
			"prefix, so the policy's retention never deletes it; `terraform destroy` keeps it unless `retain_on_destroy = false`. " +
			"Restore it with `alfredctl backup restore BACKUP_ID --bucket BUCKET --prefix PREFIX --database DB --target DB_RESTORED` " +
			"(see the rollback guide). The run overrides the job's arguments (another prefix, no retention, no metric), which " +
			"Cloud Run allows to callers holding `run.jobs.runWithOverrides` (e.g. `roles/run.developer`, or " +
			"`roles/run.jobsExecutorWithOverrides` on the job).",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Random id of this backup; part of `prefix`."},
			"policy": schema.StringAttribute{Required: true, MarkdownDescription: "`id` of the alfred_backup_policy whose runner takes the backup.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.RegexMatches(importRE, "must be an alfred_backup_policy id, projects/P/locations/L/jobs/NAME")}},
			"triggers": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Arbitrary values (e.g. the migration's version); a change takes a new backup.",
				PlanModifiers:       []planmodifier.Map{mapplanmodifier.RequiresReplace()}},
			"retain_on_destroy": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Keep the backup's objects when the resource is destroyed or replaced (default true)."},
			"backup_id":  schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "The backup set's id, as `alfredctl backup list` shows it."},
			"bucket":     schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Bucket of the set (the policy's)."},
			"prefix":     schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "Key prefix the set lives under, for `alfredctl backup --prefix`."},
			"size_bytes": schema.Int64Attribute{Computed: true, PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()}, MarkdownDescription: "Bytes stored (encrypted, compressed) over the set's objects."},
			"sha256":     schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "SHA-256 of the set's manifest as stored; the manifest holds each object's own SHA-256."},
			"created_at": schema.StringAttribute{Computed: true, PlanModifiers: keep, MarkdownDescription: "When the set was complete (RFC 3339)."},
			"timeouts":   shared.TimeoutsAttributes(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *backupResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *backupResource) ModifyPlan(_ context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if shared.Require(r.data, backupType, shared.BlockGCP, &resp.Diagnostics) {
		shared.Require(r.data, backupType, shared.BlockS3, &resp.Diagnostics)
	}
}

// pinnedArgs turns the policy job's arguments into those of a one-off run into prefix: no retention (a
// pinned prefix holds one set) and no metric (the staleness alert is about the schedule).
func pinnedArgs(args []string, prefix string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; a {
		case "--record-metric":
		case "--metric-project", "--metric-location", "--metric-service", "--metric-endpoint", "--max-age":
			i++
		case "--prefix":
			out = append(out, a, prefix)
			i++
		case "--keep-last":
			out = append(out, a, "0")
			i++
		default:
			out = append(out, a)
		}
	}
	return out
}

func (r *backupResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	to, d := m.Timeouts.Create(ctx, backupTimeout)
	resp.Diagnostics.Append(d...)
	ctx, cancel, c := within(ctx, r.data, to, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	policy := m.Policy.ValueString()
	job, err := c.getJob(ctx, policy)
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("policy"), "Cannot read the backup policy's runner", shared.DescribeGRPC("read the Cloud Run job", policy, err))
		return
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ctrs := job.GetTemplate().GetTemplate().GetContainers()
	if len(ctrs) != 1 {
		resp.Diagnostics.AddAttributeError(path.Root("policy"), "Not a backup policy", policy+" is not a Cloud Run job with one container.")
		return
	}
	spec, ok := parseArgs(ctrs[0].GetArgs())
	if !ok {
		resp.Diagnostics.AddAttributeError(path.Root("policy"), "Cannot take a backup with this policy",
			policy+": its arguments were not written by "+policyType+" (changed outside Terraform?): apply the policy first.")
		return
	}
	bucket, prefix := spec.bucket, strings.TrimSuffix(spec.prefix, "/")+"-pinned/"+id+"/"
	args := pinnedArgs(ctrs[0].GetArgs(), prefix)
	// In state before the run: a run that fails after it may have written the set (a lost reply, a
	// timeout while it still runs) leaves the backup in state, tainted, with the prefix it writes to, not
	// an orphan in the bucket; a refresh fills in the set once it is complete.
	m.ID, m.Bucket, m.Prefix = types.StringValue(id), types.StringValue(bucket), types.StringValue(prefix)
	m.BackupID, m.SizeBytes, m.SHA256, m.CreatedAt = types.StringNull(), types.Int64Null(), types.StringNull(), types.StringNull()
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	if _, err := c.runOnce(ctx, policy, args, prefix); err != nil {
		resp.Diagnostics.AddError("The backup failed",
			fmt.Sprintf("The run of %s into s3://%s/%s failed: %v. Nothing that depends on this backup was applied.", policy, bucket, prefix, err))
		return
	}
	if !r.readSet(ctx, &m, resp.Diagnostics.AddError) {
		resp.Diagnostics.AddError("The backup left no complete set", fmt.Sprintf("The run of %s succeeded but s3://%s/%s holds no set with a manifest.", policy, bucket, prefix))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// readSet finds the one set under the backup's prefix and fills the computed attributes; false when
// there is none with a manifest.
func (r *backupResource) readSet(ctx context.Context, m *backupModel, fail func(string, string)) bool {
	store, err := storeFor(r.data, m.Bucket.ValueString(), m.Prefix.ValueString(), "", "")
	if err != nil {
		fail("Cannot read the backup", err.Error())
		return false
	}
	sets, err := store.Sets(ctx)
	if err != nil {
		fail("Cannot read the backup", err.Error())
		return false
	}
	for _, s := range sets {
		if s.Manifest == nil || (!m.BackupID.IsNull() && !m.BackupID.IsUnknown() && s.ID != m.BackupID.ValueString()) {
			continue
		}
		raw, man, err := store.ManifestBytes(ctx, s.ID)
		if err != nil {
			fail("Cannot read the backup's manifest", err.Error())
			return false
		}
		var size int64
		for _, o := range man.Objects {
			size += o.Size
		}
		sum := sha256.Sum256(raw)
		m.BackupID, m.SizeBytes = types.StringValue(s.ID), types.Int64Value(size)
		m.SHA256, m.CreatedAt = types.StringValue(hex.EncodeToString(sum[:])), types.StringValue(man.FinishedAt.UTC().Format(time.RFC3339))
		return true
	}
	return false
}

func (r *backupResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || r.data == nil || r.data.S3 == nil {
		return
	}
	failed := false
	if !r.readSet(ctx, &m, func(s, d string) { failed = true; resp.Diagnostics.AddError(s, d) }) {
		if !failed && !m.BackupID.IsNull() {
			resp.State.RemoveResource(ctx) // the set was deleted: the next apply takes a new one
		}
		// Without a backup_id the create failed (the resource is tainted): its run may still be writing
		// the set, so the state stays, and the replacement deletes what the run wrote (retain_on_destroy = false).
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *backupResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	// Only retain_on_destroy can change in place; everything else replaces.
	var m backupModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *backupResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m backupModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.RetainOnDestroy.ValueBool() {
		return
	}
	to, d := m.Timeouts.Delete(ctx, 5*time.Minute)
	resp.Diagnostics.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, to)
	defer cancel()
	store, err := storeFor(r.data, m.Bucket.ValueString(), m.Prefix.ValueString(), "", "")
	switch {
	case err != nil:
	case m.BackupID.IsNull():
		err = deleteAllSets(ctx, store) // a failed create's: the prefix is this backup's alone
	default:
		err = store.DeleteSet(ctx, m.BackupID.ValueString())
	}
	if err != nil {
		resp.Diagnostics.AddError("Cannot delete the backup", fmt.Sprintf("Deleting set %s under s3://%s/%s (retain_on_destroy = false): %v",
			m.BackupID.ValueString(), m.Bucket.ValueString(), m.Prefix.ValueString(), err))
	}
}

// deleteAllSets deletes every set under the store's prefix, complete or not.
func deleteAllSets(ctx context.Context, store *backup.Store) error {
	sets, err := store.Sets(ctx)
	if err != nil {
		return err
	}
	for _, si := range sets {
		if err := store.DeleteSet(ctx, si.ID); err != nil {
			return err
		}
	}
	return nil
}
