package supabase

import (
	"context"
	"net/http"
	"slices"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

const networkSecurityType = "alfred_supabase_network_security"

var (
	_ resource.ResourceWithConfigure   = (*networkSecurityResource)(nil)
	_ resource.ResourceWithImportState = (*networkSecurityResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*networkSecurityResource)(nil)
)

// Supabase's defaults: every address may connect, SSL is not enforced.
var (
	defaultCIDRs   = []string{"0.0.0.0/0"}
	defaultCIDRsV6 = []string{"::/0"}
)

// NewNetworkSecurityResource is alfred_supabase_network_security.
func NewNetworkSecurityResource() resource.Resource { return &networkSecurityResource{} }

type networkSecurityResource struct{ data *shared.ProviderData }

func (r *networkSecurityResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_supabase_network_security"
}

func stringSet(vs []string) types.Set {
	elems := make([]attr.Value, 0, len(vs))
	for _, v := range vs {
		elems = append(elems, types.StringValue(v))
	}
	return types.SetValueMust(types.StringType, elems)
}

func networkSecuritySchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A Supabase project's SSL enforcement and network restrictions (the IPv4 and IPv6 ranges " +
			"allowed to connect to Postgres and its pooler), through the Management API (`/ssl-enforcement`, " +
			"`/network-restrictions/apply`). The resource owns the whole of both lists: ranges added outside Terraform are " +
			"shown as drift and removed by the next apply. Destroying the resource stops managing the settings and leaves " +
			"them as they are. Import with the project ref.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The project ref.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"project_ref": schema.StringAttribute{Required: true,
				MarkdownDescription: "Ref of the project (20 lowercase letters).",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:          []validator.String{projectRefValidator()}},
			"ssl_enforcement": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Refuse database connections that do not use SSL. Default `false` (Supabase's default)."},
			"allowed_cidrs": schema.SetAttribute{ElementType: types.StringType, Optional: true, Computed: true,
				Default: setdefault.StaticValue(stringSet(defaultCIDRs)),
				MarkdownDescription: "IPv4 ranges allowed to connect, e.g. `[\"203.0.113.0/24\"]`; an empty set allows no IPv4 " +
					"address. Default `[\"0.0.0.0/0\"]` (all, Supabase's default). Written as the network (`10.0.0.0/8`, not `10.1.2.3/8`).",
				Validators: []validator.Set{setvalidator.ValueStringsAre(cidrValidator{v6: false})}},
			"allowed_cidrs_v6": schema.SetAttribute{ElementType: types.StringType, Optional: true, Computed: true,
				Default: setdefault.StaticValue(stringSet(defaultCIDRsV6)),
				MarkdownDescription: "IPv6 ranges allowed to connect, e.g. `[\"2001:db8::/32\"]`; an empty set allows no IPv6 " +
					"address. Default `[\"::/0\"]` (all). Canonical, lower-case form with the bits past the prefix zero.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(cidrValidator{v6: true})}},
		},
	}
}

func (r *networkSecurityResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = networkSecuritySchema()
}

func (r *networkSecurityResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		r.data = d
	}
}

func (r *networkSecurityResource) ModifyPlan(_ context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if !req.Plan.Raw.IsNull() {
		shared.Require(r.data, networkSecurityType, shared.BlockSupabase, &resp.Diagnostics)
	}
}

func setStrings(ctx context.Context, s types.Set, diags *diag.Diagnostics) []string {
	var out []string
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	slices.Sort(out)
	return out
}

// apply writes the planned settings and reads them back into the state (Create and Update alike). Once
// a setting is written the resource is in state, the plan with what is not read yet null: a failure
// after that (the second write, the read-back) leaves it there, tainted by Terraform on a create, and
// the next refresh reads the truth.
func (r *networkSecurityResource) apply(ctx context.Context, planned tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics) {
	var plan networkSecurityModel
	diags.Append(planned.Get(ctx, &plan)...)
	if diags.HasError() {
		return
	}
	c := clientFor(r.data, networkSecurityType, diags)
	if c == nil {
		return
	}
	ref := plan.ProjectRef.ValueString()
	v4 := setStrings(ctx, plan.AllowedCIDRs, diags)
	v6 := setStrings(ctx, plan.AllowedCIDRsV6, diags)
	if diags.HasError() {
		return
	}
	if err := c.SetSSLEnforcement(ctx, ref, plan.SSLEnforcement.ValueBool()); err != nil {
		diags.AddError("Could not set SSL enforcement", describe("set the SSL enforcement of project "+ref, err))
		return
	}
	written := plan
	written.ID = types.StringValue(ref)
	shared.NullUnknowns(ctx, &written)
	diags.Append(state.Set(ctx, written)...)
	if err := c.ApplyNetworkRestrictions(ctx, ref, v4, v6); err != nil {
		diags.AddError("Could not apply network restrictions", describe("apply the network restrictions of project "+ref, err))
		return
	}
	got, summary, err := r.read(ctx, c, ref)
	if err != nil {
		diags.AddError(summary, describe("read back the network security of project "+ref, err))
		return
	}
	diags.Append(state.Set(ctx, got)...)
}

// read reads the settings; on failure it returns the error and a summary for the diagnostic.
func (r *networkSecurityResource) read(ctx context.Context, c *Client, ref string) (networkSecurityModel, string, error) {
	ssl, err := c.SSLEnforcement(ctx, ref)
	if err != nil {
		return networkSecurityModel{}, "Could not read SSL enforcement", err
	}
	nr, err := c.NetworkRestrictions(ctx, ref)
	if err != nil {
		return networkSecurityModel{}, "Could not read network restrictions", err
	}
	return networkSecurityModel{
		ID: types.StringValue(ref), ProjectRef: types.StringValue(ref), SSLEnforcement: types.BoolValue(ssl),
		AllowedCIDRs: stringSet(nr.V4), AllowedCIDRsV6: stringSet(nr.V6),
	}, "", nil
}

func (r *networkSecurityResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *networkSecurityResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.apply(ctx, req.Plan, &resp.State, &resp.Diagnostics)
}

func (r *networkSecurityResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state networkSecurityModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c := clientFor(r.data, networkSecurityType, &resp.Diagnostics)
	if c == nil {
		return
	}
	ref := state.ProjectRef.ValueString()
	got, summary, err := r.read(ctx, c, ref)
	if err != nil {
		if StatusOf(err) == http.StatusNotFound {
			resp.State.RemoveResource(ctx) // the project is gone
			return
		}
		resp.Diagnostics.AddError(summary, describe("read the network security of project "+ref, err))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, got)...)
}

// Delete leaves the settings as they are: destroying a security setting must not open the database.
func (r *networkSecurityResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {
}

func (r *networkSecurityResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !refRE.MatchString(req.ID) {
		resp.Diagnostics.AddError("Invalid import ID", "Import network security with the project ref (20 lowercase letters), not "+req.ID+".")
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project_ref"), req.ID)...)
}
