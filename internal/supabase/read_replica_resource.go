package supabase

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const readReplicaType = "alfred_supabase_read_replica"

var (
	_ resource.ResourceWithConfigure   = (*readReplicaResource)(nil)
	_ resource.ResourceWithImportState = (*readReplicaResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*readReplicaResource)(nil)
)

// NewReadReplicaResource is alfred_supabase_read_replica.
func NewReadReplicaResource() resource.Resource { return &readReplicaResource{} }

type readReplicaResource struct{ data *shared.ProviderData }

func (r *readReplicaResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_supabase_read_replica"
}

func readReplicaSchema(ctx context.Context) schema.Schema {
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	return schema.Schema{
		MarkdownDescription: "A read replica of a Supabase project's database, through the Management API. Create asks for the " +
			"replica (`POST /v1/projects/{ref}/read-replicas/setup`) and waits until it is `ACTIVE_HEALTHY`; a replica that " +
			"ends in `INIT_READ_REPLICA_FAILED` is an error, and the next plan replaces it. Destroy removes it and waits until " +
			"it is gone. A replica removed outside Terraform is created again by the next apply. The project must meet " +
			"Supabase's prerequisites for read replicas (Pro plan or above, Small compute or larger, Postgres 15+, physical " +
			"backups); projects on compute smaller than XL may have 2 replicas, from XL 5. Import with `<project_ref>/<identifier>`, " +
			"or with the identifier alone.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "`<project_ref>/<identifier>`."},
			"project_ref": schema.StringAttribute{Required: true,
				MarkdownDescription: "Ref of the project (20 lowercase letters). Changing it replaces the replica.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{projectRefValidator()}},
			"region": schema.StringAttribute{Required: true,
				MarkdownDescription: "Region of the replica, one of Supabase's regions: `" + strings.Join(Regions, "`, `") +
					"`. Changing it replaces the replica.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.OneOf(Regions...)}},
			"identifier": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "The replica's database identifier, as the API gives it (opaque)."},
			"status": schema.StringAttribute{Computed: true, PlanModifiers: keep, // read anew by every refresh
				MarkdownDescription: "The database's status as the API reports it (`ACTIVE_HEALTHY`, `ACTIVE_UNHEALTHY`, `RESTARTING`, `RESIZING`, ...)."},
			"db_host": schema.StringAttribute{Computed: true, PlanModifiers: keep,
				MarkdownDescription: "Host to connect to the replica (the project's pooler configuration for this database)."},
			"allow_other_replicas_in_region": schema.BoolAttribute{Optional: true, Computed: true,
				Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether create may set up this replica in a region where the project already has a " +
					"replica that this resource does not manage. Default `false`: create then fails, naming the replica " +
					"and how to import it, and sends nothing. Supabase names replicas itself and keeps no label on them, " +
					"so the replica there cannot be told apart from one an earlier apply set up and could not record " +
					"(Terraform killed mid-apply): setting up another would duplicate it. Set `true` on each replica of " +
					"a project that is meant to share a region with another. Only read by create."},
			"db_port": schema.Int64Attribute{Computed: true,
				PlanModifiers:       []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				MarkdownDescription: "Port to connect to the replica."},
		},
		Blocks: map[string]schema.Block{
			"timeouts": shared.TimeoutsBlock(ctx, timeouts.Opts{Create: true, Delete: true}),
		},
	}
}

func (r *readReplicaResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = readReplicaSchema(ctx)
}

func (r *readReplicaResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		r.data = d
	}
}

// ModifyPlan reports a missing provider block at plan time, and plans the replacement of a replica whose
// setup failed (INIT_READ_REPLICA_FAILED): it will never become healthy.
func (r *readReplicaResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	shared.Require(r.data, readReplicaType, shared.BlockSupabase, &resp.Diagnostics)
	if req.State.Raw.IsNull() {
		return
	}
	var state readReplicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() || state.Status.ValueString() != StatusInitReadReplicaFailed {
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("status"), types.StringUnknown())...)
	resp.RequiresReplace = append(resp.RequiresReplace, path.Root("status"))
}

// begin is how Create and Delete start: the model read (from the plan, or the state), the client, and ctx
// bounded by the operation's timeout (30 minutes unless set). c is nil when they must stop; cancel is
// always to be called.
func (r *readReplicaResource) begin(ctx context.Context, get func(context.Context, any) diag.Diagnostics, m *readReplicaModel,
	timeout func(timeouts.Value, context.Context, time.Duration) (time.Duration, diag.Diagnostics),
	diags *diag.Diagnostics) (_ context.Context, cancel context.CancelFunc, c *Client) {
	noop := func() {}
	if diags.Append(get(ctx, m)...); diags.HasError() {
		return ctx, noop, nil
	}
	if c = clientFor(r.data, readReplicaType, diags); c == nil {
		return ctx, noop, nil
	}
	t, d := timeout(m.Timeouts, ctx, 30*time.Minute)
	if diags.Append(d...); diags.HasError() {
		return ctx, noop, nil
	}
	ctx, cancel = context.WithTimeout(ctx, t)
	return ctx, cancel, c
}

func (r *readReplicaResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan readReplicaModel
	ctx, cancel, c := r.begin(ctx, req.Plan.Get, &plan, timeouts.Value.Create, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	ref, region := plan.ProjectRef.ValueString(), plan.Region.ValueString()
	id, err := c.SetupReplica(ctx, ref, region, plan.AllowOthersInRegion.ValueBool())
	var inRegion *ReplicaInRegionError
	if errors.As(err, &inRegion) {
		resp.Diagnostics.AddAttributeError(path.Root("region"), "A read replica already exists in this region",
			fmt.Sprintf("Project %s already has the read replica %s in %s, and this resource does not manage it. If an "+
				"apply that was interrupted set it up, import it: `terraform import <address> %s/%s`. If it belongs "+
				"elsewhere and this one should be another replica in %s, set allow_other_replicas_in_region = true. "+
				"Nothing was set up.", ref, inRegion.Identifier, region, ref, inRegion.Identifier, region))
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not set up the read replica", describe("set up a read replica in "+region+" for project "+ref, err))
		return
	}
	// In state before waiting: a timeout or a failure must not leave an orphan the next apply duplicates.
	plan.ID = types.StringValue(ref + "/" + id)
	plan.Identifier = types.StringValue(id)
	plan.Status = types.StringValue(StatusInitReadReplica)
	plan.DBHost, plan.DBPort = types.StringUnknown(), types.Int64Unknown()
	if ep, err := c.Endpoint(ctx, ref, id); err == nil && ep != nil {
		plan.DBHost, plan.DBPort = types.StringValue(ep.Host), types.Int64Value(ep.Port)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, saveable(plan))...)

	db, err := c.WaitReplica(ctx, ref, id, func(d *Database) (bool, error) {
		if d == nil {
			return false, nil // not listed yet, or briefly missing
		}
		switch d.Status {
		case StatusActiveHealthy:
			return true, nil
		case StatusInitReadReplicaFailed:
			return false, fmt.Errorf("the read replica %s of project %s ended in %s: Supabase could not set it up. "+
				"The next apply replaces it; if it fails again, check the project's read replica prerequisites and Supabase's status page",
				id, ref, StatusInitReadReplicaFailed)
		case StatusGoingDown, StatusRemoved:
			return false, fmt.Errorf("the read replica %s of project %s is %s: it was removed while it was being set up", id, ref, d.Status)
		}
		return false, nil
	})
	if db != nil {
		plan.Status = types.StringValue(db.Status)
	}
	if err != nil {
		resp.Diagnostics.Append(resp.State.Set(ctx, saveable(plan))...)
		resp.Diagnostics.AddError("Read replica did not become ACTIVE_HEALTHY", err.Error())
		return
	}
	ep, err := c.Endpoint(ctx, ref, id)
	if err != nil {
		resp.Diagnostics.Append(resp.State.Set(ctx, saveable(plan))...)
		resp.Diagnostics.AddError("Could not read the read replica's host", describe("read the pooler configuration of project "+ref, err))
		return
	}
	plan.DBHost, plan.DBPort = types.StringNull(), types.Int64Null()
	if ep != nil {
		plan.DBHost, plan.DBPort = types.StringValue(ep.Host), types.Int64Value(ep.Port)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

// saveable replaces unknown values (not allowed in state) by nulls.
func saveable(m readReplicaModel) readReplicaModel {
	if m.DBHost.IsUnknown() {
		m.DBHost = types.StringNull()
	}
	if m.DBPort.IsUnknown() {
		m.DBPort = types.Int64Null()
	}
	return m
}

func (r *readReplicaResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state readReplicaModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := clientFor(r.data, readReplicaType, &resp.Diagnostics)
	if c == nil {
		return
	}
	ref, id := state.ProjectRef.ValueString(), state.Identifier.ValueString()
	db, err := c.Replica(ctx, ref, id)
	if err != nil {
		if StatusOf(err) == http.StatusNotFound {
			resp.State.RemoveResource(ctx) // the project is gone, and its replicas with it
			return
		}
		resp.Diagnostics.AddError("Could not read the read replica", describe("read read replica "+id+" of project "+ref, err))
		return
	}
	// Removed outside Terraform (or on its way out): the next apply creates it again.
	if db == nil || db.Status == StatusGoingDown || db.Status == StatusRemoved {
		resp.State.RemoveResource(ctx)
		return
	}
	state.ID = types.StringValue(ref + "/" + id)
	if state.AllowOthersInRegion.IsNull() { // imported, or recorded before the attribute existed
		state.AllowOthersInRegion = types.BoolValue(false)
	}
	state.Region = types.StringValue(db.Region)
	state.Status = types.StringValue(db.Status)
	ep, err := c.Endpoint(ctx, ref, id)
	if err != nil {
		resp.Diagnostics.AddError("Could not read the read replica's host", describe("read the pooler configuration of project "+ref, err))
		return
	}
	if ep != nil {
		state.DBHost, state.DBPort = types.StringValue(ep.Host), types.Int64Value(ep.Port)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

func (r *readReplicaResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	// Only timeouts and allow_other_replicas_in_region (read by create alone) change in place; the rest replaces.
	var plan readReplicaModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, plan)...)
}

func (r *readReplicaResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state readReplicaModel
	ctx, cancel, c := r.begin(ctx, req.State.Get, &state, timeouts.Value.Delete, &resp.Diagnostics)
	defer cancel()
	if c == nil {
		return
	}
	ref, id := state.ProjectRef.ValueString(), state.Identifier.ValueString()
	if err := c.RemoveReplica(ctx, ref, id); err != nil {
		resp.Diagnostics.AddError("Could not remove the read replica", describe("remove read replica "+id+" of project "+ref, err))
		return
	}
	if _, err := c.WaitReplica(ctx, ref, id, func(d *Database) (bool, error) {
		return d == nil || d.Status == StatusRemoved, nil
	}); err != nil {
		if StatusOf(err) == http.StatusNotFound {
			return
		}
		resp.Diagnostics.AddError("Read replica was not gone in time", err.Error())
	}
}

// ImportState takes <project_ref>/<identifier>, or the identifier alone (the short form), whose project is
// then looked up among the projects the token sees.
func (r *readReplicaResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ref, id, ok := strings.Cut(req.ID, "/")
	if !ok {
		ref, id = "", req.ID
	}
	if (ok && !refRE.MatchString(ref)) || id == "" || strings.Contains(id, "/") || strings.TrimSpace(id) != id {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("Import a read replica as <project_ref>/<identifier> "+
			"(e.g. abcdefghijklmnopqrst/abcdefghijklmnopqrst-rr-eu-west-1-xyzab) or by its identifier alone, not %q.", req.ID))
		return
	}
	if ref == "" {
		c := clientFor(r.data, readReplicaType, &resp.Diagnostics)
		if c == nil {
			return
		}
		var err error
		if ref, err = c.FindReplica(ctx, id); err != nil {
			resp.Diagnostics.AddError("Could not look up the read replica", describe("find the project of read replica "+id, err))
			return
		}
		if ref == "" {
			resp.Diagnostics.AddError("Read replica not found", fmt.Sprintf("No project that the access token can see has a "+
				"read replica %q. Import it as <project_ref>/<identifier>, with the identifier as the Management API lists it.", id))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), ref+"/"+id)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_ref"), ref)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("identifier"), id)...)
}

// describe turns an API error into a sentence: what was being done, and what the API said.
func describe(action string, err error) string {
	return fmt.Sprintf("Could not %s: %v", action, err)
}
