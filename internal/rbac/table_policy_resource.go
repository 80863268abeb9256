package rbac

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithConfigure        = (*tablePolicyResource)(nil)
	_ resource.ResourceWithImportState      = (*tablePolicyResource)(nil)
	_ resource.ResourceWithModifyPlan       = (*tablePolicyResource)(nil)
	_ resource.ResourceWithConfigValidators = (*tablePolicyResource)(nil)
)

const tablePolicyTypeName = "alfred_rbac_table_policy"

const tablePolicyImportPrefix = "alfred_rbac.table_policies/"

type tablePolicyResource struct{ base }

// NewTablePolicyResource returns the alfred_rbac_table_policy resource.
func NewTablePolicyResource() resource.Resource {
	return &tablePolicyResource{base{typeName: tablePolicyTypeName}}
}

func (r *tablePolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = tablePolicySchema()
}

func permissionAttr(cmd, clause string) schema.StringAttribute {
	return schema.StringAttribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf("Permission (`<resource>.<action>`) a caller needs to %s rows. Creates the "+
			"restrictive policy `alfred_rbac_%s` and the permissive policy `alfred_rbac_%s_permit`, whose %s is "+
			"`(select alfred_rbac.authorize('<permission>'))`: only callers holding the permission can %s, whatever "+
			"permissive policies the application adds. Unset: the resource creates no policy for %s, and the "+
			"application's own policies alone decide (with none, nobody but the table owner and roles that bypass "+
			"RLS can %s).",
			strings.ToUpper(cmd), cmd, cmd, clause, cmd, strings.ToUpper(cmd), cmd),
		Validators: []validator.String{permissionValidator()},
	}
}

func tablePolicySchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Row-level security on an application table, driven by `alfred_rbac` permissions. " +
			"The resource enables row-level security on the table and, for each configured command, creates two " +
			"policies that call `(select alfred_rbac.authorize('...'))` (a scalar subquery, evaluated once per " +
			"statement, not per row): `alfred_rbac_<command>`, **restrictive**, which every row must pass, and " +
			"`alfred_rbac_<command>_permit`, permissive, which grants what the first allows (PostgreSQL grants " +
			"nothing through restrictive policies alone). A permissive policy added to the table outside Terraform, " +
			"even `using (true)`, therefore cannot widen access to a governed command; a restrictive one can only " +
			"narrow it. A table whose policies were dropped, altered, or created by a provider version that made " +
			"them permissive shows as needing an update. The restrictive policies apply to every role without " +
			"BYPASSRLS: a worker role that must see every row needs BYPASSRLS (as Supabase's service_role has) or " +
			"an assignment that grants the permission. With `owner_column`, a row is also visible only to its " +
			"owner, the caller whose JWT `sub` equals the column.\n\n" +
			"The table and its data belong to the application: the resource never creates, alters or empties it. " +
			"Destroying the resource drops its policies and disables row-level security only if the provider " +
			"enabled it. Applying needs the apply role to own the table (PostgreSQL lets only a table's owner " +
			"create policies on it); see the grants in the alfred_rbac_role documentation.",
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock()},
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<schema>.<table>`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"schema": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString("public"),
				MarkdownDescription: "Schema of the table. Defaults to `public`. Changing it replaces the resource.",
				Validators:          []validator.String{schemaValidator()},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"table": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of an existing table. Changing it replaces the resource.",
				Validators:          []validator.String{identValidator("table name")},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"select_permission": permissionAttr("select", "USING clause"),
			"insert_permission": permissionAttr("insert", "WITH CHECK clause"),
			"update_permission": permissionAttr("update", "USING and WITH CHECK clauses"),
			"delete_permission": permissionAttr("delete", "USING clause"),
			"owner_column": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Optional column (`uuid` or `text`) holding the row owner's user id. When set, " +
					"every policy also requires `<owner_column> = <caller's JWT sub>`, so callers see and write " +
					"only their own rows.",
				Validators: []validator.String{identValidator("owner_column")},
			},
		},
	}
}

// ConfigValidators requires at least one permission: with none, the table would only get row-level
// security and nobody could use it.
func (r *tablePolicyResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{resourcevalidator.AtLeastOneOf(
		path.MatchRoot("select_permission"), path.MatchRoot("insert_permission"),
		path.MatchRoot("update_permission"), path.MatchRoot("delete_permission"),
	)}
}

func (r *tablePolicyResource) ModifyPlan(_ context.Context, _ resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.checkPlan(&resp.Diagnostics)
}

func (r *tablePolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan tablePolicyModel
	ctx, cancel, s := r.createStart(ctx, req, resp, &plan, func() timeouts.Value { return plan.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	p := plan.toPolicy()
	if err := s.ApplyTablePolicy(ctx, p, true); err != nil {
		resp.Diagnostics.AddError("Could not create table policy", describe("create the policies of table", p.target(), err))
		return
	}
	plan.ID = types.StringValue(p.target())
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tablePolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state tablePolicyModel
	ctx, cancel, s := r.readStart(ctx, req, resp, &state, func() timeouts.Value { return state.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	target := state.Schema.ValueString() + "." + state.Table.ValueString()
	p, err := s.GetTablePolicy(ctx, state.Schema.ValueString(), state.Table.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read table policy", describe("read the policies of table", target, err))
		return
	}
	state.fromPolicy(p)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *tablePolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan tablePolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := bounded(ctx, timeoutOf(plan.Timeouts.Update(ctx, defaultWriteTimeout)), &resp.Diagnostics)
	defer cancel()
	s := r.writer(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p := plan.toPolicy()
	if err := s.ApplyTablePolicy(ctx, p, false); err != nil {
		resp.Diagnostics.AddError("Could not update table policy", describe("update the policies of table", p.target(), err))
		return
	}
	plan.ID = types.StringValue(p.target())
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *tablePolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state tablePolicyModel
	ctx, cancel, s := r.deleteStart(ctx, req, resp, &state, func() timeouts.Value { return state.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	target := state.Schema.ValueString() + "." + state.Table.ValueString()
	if err := s.DeleteTablePolicy(ctx, state.Schema.ValueString(), state.Table.ValueString()); err != nil {
		resp.Diagnostics.AddError("Could not delete table policy", describe("drop the policies of table", target, err))
	}
}

func (r *tablePolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := strings.TrimPrefix(req.ID, tablePolicyImportPrefix)
	schemaName, table, ok := strings.Cut(id, ".")
	if !ok {
		schemaName, table = "public", id
	}
	for what, v := range map[string]string{"schema": schemaName, "table": table} {
		if why := IdentProblem(v); why != "" {
			resp.Diagnostics.AddError("Invalid import id for "+tablePolicyTypeName,
				fmt.Sprintf("The import id %q is not `<schema>.<table>`: the %s %s. For example `public.task_results`, "+
					"or the long form `alfred_rbac.table_policies/public.task_results`.", req.ID, what, why))
			return
		}
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), schemaName+"."+table)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("schema"), schemaName)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("table"), table)...)
}
