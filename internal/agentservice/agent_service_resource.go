package agentservice

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

var (
	_ resource.ResourceWithImportState      = (*agentServiceResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*agentServiceResource)(nil)
	_ resource.ResourceWithConfigure        = (*agentServiceResource)(nil)
	_ resource.ResourceWithConfigValidators = (*agentServiceResource)(nil)
)

const typeName = "alfred_agent_service"

var objectAsOptions = basetypes.ObjectAsOptions{UnhandledNullAsEmpty: true, UnhandledUnknownAsEmpty: true}

type agentServiceResource struct {
	data *shared.ProviderData
}

// NewAgentServiceResource returns the alfred_agent_service resource.
func NewAgentServiceResource() resource.Resource { return &agentServiceResource{} }

func (r *agentServiceResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = typeName
}

func (r *agentServiceResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = agentServiceSchema(ctx)
}

func (r *agentServiceResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{crossValidator{}, templateValidator{}}
}

func (r *agentServiceResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		r.data = d
	}
}

func (r *agentServiceResource) client(ctx context.Context, diags *diag.Diagnostics) *api {
	if r.data == nil {
		diags.AddError("Provider not configured", "The alfred provider was not configured before "+typeName+
			" was used. This is a bug in the provider; please report it.")
		return nil
	}
	if !shared.Require(r.data, typeName, shared.BlockGCP, diags) {
		return nil
	}
	a, err := apiFor(ctx, r.data)
	if err != nil {
		diags.AddError("Cannot build the Cloud Run client", err.Error())
		return nil
	}
	return a
}

func (r *agentServiceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if !shared.Require(r.data, typeName, shared.BlockGCP, &resp.Diagnostics) {
		return
	}
	var plan agentServiceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// project and region default to the provider's gcp block.
	for _, f := range []struct {
		attr       string
		v          *types.String
		def        string
		defUnknown bool
		env        string
	}{{"project", &plan.Project, r.data.GCP.Project, r.data.GCP.ProjectUnknown, "ALFRED_GCP_PROJECT"},
		{"region", &plan.Region, r.data.GCP.Region, r.data.GCP.RegionUnknown, "ALFRED_GCP_REGION"}} {
		// Whenever the configuration leaves it out, the provider's current default applies: compared
		// with the state below, a changed provider default shows in this plan as a replacement.
		if configNull(ctx, req.Config, f.attr) {
			if f.defUnknown {
				// The provider's value is known only at apply (e.g. a project created in the same run).
				*f.v = types.StringUnknown()
				continue
			}
			if f.def == "" {
				resp.Diagnostics.AddAttributeError(path.Root(f.attr), "No "+f.attr+" for the agent service",
					fmt.Sprintf("Set %q on the resource, or `%s` in the provider's gcp block (environment: %s).", f.attr, f.attr, f.env))
				continue
			}
			*f.v = types.StringValue(f.def)
		}
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if req.State.Raw.IsNull() {
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state agentServiceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	// Moving a service to another project or region recreates it: the API cannot move one. A value not
	// known until apply may move it too, so it is planned as a replacement the reviewer can see.
	if !plan.Project.Equal(state.Project) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("project"))
	}
	if !plan.Region.Equal(state.Region) {
		resp.RequiresReplace = append(resp.RequiresReplace, path.Root("region"))
	}
	// service_account left unset keeps the default Cloud Run chose, unless it was set before.
	var cfgSA types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("service_account"), &cfgSA)...)
	if cfgSA.IsNull() && strings.HasSuffix(state.ServiceAccount.ValueString(), "-compute@developer.gserviceaccount.com") {
		plan.ServiceAccount = state.ServiceAccount
	}
	// latest_ready_revision changes only when the revision template (templateAttrs, template.go) does.
	sameTemplate := true
	for _, f := range templateFields {
		var pv, sv attr.Value
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(f), &pv)...)
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root(f), &sv)...)
		if f == "service_account" {
			pv, sv = plan.ServiceAccount, state.ServiceAccount
		}
		if pv == nil || sv == nil || pv.IsUnknown() || !pv.Equal(sv) {
			sameTemplate = false
		}
	}
	planRevisionAttributes(&plan, &state, sameTemplate, !req.Plan.Raw.Equal(req.State.Raw))
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func configNull(ctx context.Context, cfg tfsdk.Config, attr string) bool {
	var v types.String
	_ = cfg.GetAttribute(ctx, path.Root(attr), &v)
	return v.IsNull()
}

func (r *agentServiceResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan agentServiceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	a := r.client(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	d, diags := plan.Timeouts.Create(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	svc := toService(ctx, &plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	name := svc.GetName()
	tflog.Debug(ctx, "creating Cloud Run service", map[string]any{"name": name, "image": plan.Image.ValueString()})
	op, existing, err := a.create(ctx, svc)
	if status.Code(err) == codes.AlreadyExists {
		st, _ := status.FromError(err)
		resp.Diagnostics.AddAttributeError(path.Root("name"), "Agent service already exists",
			fmt.Sprintf("Cannot create Cloud Run service %s: it already exists and this Terraform state does not manage it "+
				"(the API said: %s). To manage it with Terraform, import it: `terraform import alfred_agent_service.<name> %s` "+
				"(or an `import` block with id = %q); the next plan then shows how it differs from the configuration. "+
				"Otherwise choose another name.", name, st.Message(), name, name))
		return
	}
	if err != nil {
		// Every attempt failed, yet one may have reached the API with its reply lost: a service this create
		// made is kept in state (tainted), so the next apply replaces it instead of failing on ALREADY_EXISTS.
		if got := a.findOwnCreate(ctx, svc); got != nil {
			resp.Diagnostics.Append(resp.State.Set(ctx, partialState(plan, name, got.GetUri()))...)
		}
		resp.Diagnostics.AddError("Cannot create agent service", a.rolloutError(ctx, "create", name, err))
		return
	}
	// The API has accepted the service: record it now, so that a failed rollout or a timeout leaves it in
	// state (tainted) rather than orphaned.
	uri := ""
	if op != nil {
		if meta, err := op.Metadata(); err == nil && meta != nil {
			uri = meta.GetUri()
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, partialState(plan, name, uri))...)

	members := setStrings(ctx, plan.Invokers, &resp.Diagnostics)
	if len(members) > 0 {
		if err := a.setInvokers(ctx, name, members); err != nil {
			resp.Diagnostics.AddError("Cannot grant invokers on agent service", shared.DescribeGRPC("set the IAM policy of", name, err))
			return
		}
	}
	if op != nil {
		_, err = wait(ctx, op)
	} else {
		_, err = a.waitReconciled(ctx, name, existing.GetGeneration())
	}
	if err != nil {
		resp.Diagnostics.AddError("Agent service rollout failed", a.rolloutError(ctx, "create", name, err))
		return
	}
	r.readInto(ctx, a, name, &plan, false, &resp.State, &resp.Diagnostics)
}

// partialState is what state holds of a service the API has accepted but whose rollout has not been seen
// to finish: the plan, with the id and what the API has told so far.
func partialState(plan agentServiceModel, name, uri string) *agentServiceModel {
	partial := plan
	partial.ID = types.StringValue(name)
	partial.URI = types.StringNull()
	if uri != "" {
		partial.URI = types.StringValue(uri)
	}
	partial.LatestReadyRevision = types.StringNull()
	partial.LatestCreatedRevision = types.StringNull()
	partial.TerminalCondition = types.ObjectNull(terminalConditionAttrTypes)
	if partial.ServiceAccount.IsUnknown() {
		partial.ServiceAccount = types.StringNull()
	}
	return &partial
}

func setStrings(ctx context.Context, s types.Set, diags *diag.Diagnostics) []string {
	if s.IsNull() || s.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	return out
}

// readInto reads the service and its policy and writes the result to state. It returns false when the
// service does not exist.
func (r *agentServiceResource) readInto(ctx context.Context, a *api, name string, prior *agentServiceModel, importing bool, state *tfsdk.State, diags *diag.Diagnostics) bool {
	svc, policy, err := a.get(ctx, name)
	if shared.IsNotFound(err) {
		return false
	}
	if err != nil {
		diags.AddError("Cannot read agent service", shared.DescribeGRPC("read", "Cloud Run service "+name, err))
		return true
	}
	// After a failed rollout, the template fields are those of the revision that serves.
	serving, err := a.servingService(ctx, svc)
	if err != nil {
		diags.AddError("Cannot read agent service", shared.DescribeGRPC("read the serving revision of", "Cloud Run service "+name, err))
		return true
	}
	m := *prior
	fromService(ctx, serving, policy, prior, importing, &m, diags)
	if m.DeletionProtection.IsNull() || m.DeletionProtection.IsUnknown() {
		m.DeletionProtection = types.BoolValue(true) // import: the schema's default
	}
	if diags.HasError() {
		return true
	}
	diags.Append(state.Set(ctx, &m)...)
	return true
}

func (r *agentServiceResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state agentServiceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	importing := state.Image.IsNull()
	if !r.readInto(ctx, a, state.ID.ValueString(), &state, importing, &resp.State, &resp.Diagnostics) {
		tflog.Warn(ctx, "agent service no longer exists; removing it from state", map[string]any{"name": state.ID.ValueString()})
		resp.State.RemoveResource(ctx)
	}
}

func (r *agentServiceResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state agentServiceModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	d, diags := plan.Timeouts.Update(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()

	name := state.ID.ValueString()
	want := toService(ctx, &plan, &resp.Diagnostics)
	had := toService(ctx, &state, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// A failed update leaves the prior state, so the next plan shows the change again.
	keepPrior := func() { resp.Diagnostics.Append(resp.State.Set(ctx, &state)...) }
	invokersChanged := !plan.Invokers.Equal(state.Invokers) && !sameMembers(plan.Invokers, state.Invokers)
	rollout := !proto.Equal(want, had) || plan.ServiceAccount.IsUnknown() || rolloutFailed(&state)
	if !rollout && !invokersChanged {
		// Only what lives in Terraform's state changed (deletion_protection, timeouts, a spelling): the
		// plan is the new state, with no API call.
		if req.Plan.Raw.IsFullyKnown() {
			resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
			return
		}
		if !r.readInto(ctx, a, name, &plan, false, &resp.State, &resp.Diagnostics) {
			resp.Diagnostics.AddError("Agent service disappeared", "Cloud Run service "+name+" was deleted while it was being updated.")
		}
		return
	}
	if rollout {
		tflog.Debug(ctx, "updating Cloud Run service", map[string]any{"name": name})
		op, err := a.update(ctx, want, had)
		if err == nil {
			_, err = wait(ctx, op)
		}
		if err != nil {
			resp.Diagnostics.AddError("Cannot update agent service", a.rolloutError(ctx, "update", name, err))
			// A failed rollout is recorded as it is (the serving revision's template, the failed terminal
			// condition), so the next plan shows what is still not true; other failures (a timeout while the
			// rollout still runs, an API error) keep the prior state.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if svc, gerr := a.getService(rctx, name); gerr != nil || !settledFailed(svc) ||
				!r.readInto(rctx, a, name, &state, false, &resp.State, &resp.Diagnostics) {
				keepPrior()
			}
			return
		}
	}
	if invokersChanged {
		if err := a.setInvokers(ctx, name, setStrings(ctx, plan.Invokers, &resp.Diagnostics)); err != nil {
			keepPrior()
			resp.Diagnostics.AddError("Cannot change invokers of agent service", shared.DescribeGRPC("set the IAM policy of", name, err))
			return
		}
	}
	if !r.readInto(ctx, a, name, &plan, false, &resp.State, &resp.Diagnostics) {
		resp.Diagnostics.AddError("Agent service disappeared", "Cloud Run service "+name+" was deleted while it was being updated.")
	}
}

func (r *agentServiceResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state agentServiceModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	d, diags := state.Timeouts.Delete(ctx, 20*time.Minute)
	resp.Diagnostics.Append(diags...)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	name := state.ID.ValueString()
	if why := deletionBlocked(&state); why != "" {
		resp.Diagnostics.AddError("Agent service is protected from deletion", why)
		return
	}
	op, err := a.delete(ctx, name)
	if err == nil && op != nil {
		_, err = wait(ctx, op)
	}
	if err != nil && !shared.IsNotFound(err) {
		resp.Diagnostics.AddError("Cannot delete agent service", a.rolloutError(ctx, "delete", name, err))
	}
}

var shortIDRE = regexp.MustCompile(`^([a-z][a-z0-9-]*)/([a-z]+-[a-z]+[0-9]+)/([a-z][-a-z0-9]*)$`)
var fullIDRE = regexp.MustCompile(`^projects/([^/]+)/locations/([^/]+)/services/([^/]+)$`)

func (r *agentServiceResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	m := fullIDRE.FindStringSubmatch(req.ID)
	if m == nil {
		m = shortIDRE.FindStringSubmatch(req.ID)
	}
	if m == nil {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not an agent service ID. Use the full name "+
			"projects/{project}/locations/{region}/services/{name} or the short form {project}/{region}/{name}.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), serviceName(m[1], m[2], m[3]))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project"), m[1])...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("region"), m[2])...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), m[3])...)
}
