package rbac

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithConfigure      = (*roleResource)(nil)
	_ resource.ResourceWithImportState    = (*roleResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*roleResource)(nil)
	_ resource.ResourceWithValidateConfig = (*roleResource)(nil)
)

const roleTypeName = "alfred_rbac_role"

// roleImportPrefixes are the long forms of a role's import id; the short form is the bare name.
var roleImportPrefixes = []string{"alfred_rbac.roles/", "alfred_rbac.role/"}

type roleResource struct{ base }

// NewRoleResource returns the alfred_rbac_role resource.
func NewRoleResource() resource.Resource { return &roleResource{base{typeName: roleTypeName}} }

func (r *roleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = roleSchema()
}

func roleSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A role in the provider's `alfred_rbac` schema: a named set of permissions, plus the " +
			"permissions of the roles it inherits. Users and agents get roles through " +
			"`alfred_rbac_role_assignment`; tables enforce permissions through `alfred_rbac_table_policy`, whose " +
			"policies call `alfred_rbac.authorize('<permission>')`.\n\n" +
			"The provider installs and migrates the `alfred_rbac` schema itself, under an advisory lock, and only " +
			"when it writes (create, update, delete). Roles are rows, not PostgreSQL roles: creating hundreds in " +
			"one apply is safe at any parallelism.\n\n" + grantsDoc,
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock()},
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The role name.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"name": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Role name: 1-63 characters, a lowercase letter followed by lowercase letters, " +
					"digits or underscores (`[a-z][a-z0-9_]{0,62}`). Changing it renames the role in place: its " +
					"permissions, the roles that inherit it and its assignments follow, in the same apply.",
				Validators: []validator.String{roleNameValidator()},
			},
			"description": schema.StringAttribute{
				Optional:            true,
				Computed:            true,
				Default:             stringdefault.StaticString(""),
				MarkdownDescription: "What the role is for. Defaults to the empty string.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(1024)},
			},
			"permissions": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     setdefault.StaticValue(types.SetValueMust(types.StringType, nil)),
				MarkdownDescription: "Permissions the role grants, each `<resource>.<action>` in lowercase, e.g. " +
					"`task_results.read`. Defaults to none (a role can grant only what it inherits).",
				Validators: []validator.Set{setvalidator.ValueStringsAre(permissionValidator())},
			},
			"inherits": schema.SetAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Computed:    true,
				Default:     setdefault.StaticValue(types.SetValueMust(types.StringType, nil)),
				MarkdownDescription: "Names of roles whose permissions this role also grants, recursively. Refer to " +
					"them as `alfred_rbac_role.<name>.name` so Terraform creates them first. A role cannot inherit " +
					"itself (a plan-time error), and an inheritance cycle is refused at apply.",
				Validators: []validator.Set{setvalidator.ValueStringsAre(roleNameValidator())},
			},
		},
	}
}

func (r *roleResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m roleModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() || m.Name.IsUnknown() || m.Name.IsNull() || m.Inherits.IsUnknown() || m.Inherits.IsNull() {
		return
	}
	for _, e := range m.Inherits.Elements() {
		if s, ok := e.(types.String); ok && !s.IsUnknown() && s.ValueString() == m.Name.ValueString() {
			resp.Diagnostics.AddAttributeError(path.Root("inherits"), "A role cannot inherit itself",
				fmt.Sprintf("Role %q lists itself in inherits. Remove %q from inherits: a role always grants its own "+
					"permissions.", m.Name.ValueString(), m.Name.ValueString()))
		}
	}
}

func (r *roleResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.checkPlan(&resp.Diagnostics)
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	// A rename changes the id, which otherwise keeps its prior value (UseStateForUnknown).
	var planName, stateName types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("name"), &planName)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("name"), &stateName)...)
	if !planName.Equal(stateName) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), planName)...)
	}
}

func setStrings(ctx context.Context, s types.Set, diags *diag.Diagnostics) []string {
	if s.IsNull() || s.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(s.ElementsAs(ctx, &out, false)...)
	sort.Strings(out)
	return out
}

func (m *roleModel) toRole(ctx context.Context, diags *diag.Diagnostics) Role {
	return Role{
		Name:        m.Name.ValueString(),
		Description: m.Description.ValueString(),
		Permissions: setStrings(ctx, m.Permissions, diags),
		Inherits:    setStrings(ctx, m.Inherits, diags),
	}
}

func (m *roleModel) fromRole(ctx context.Context, role *Role, diags *diag.Diagnostics) {
	m.ID = types.StringValue(role.Name)
	m.Name = types.StringValue(role.Name)
	m.Description = types.StringValue(role.Description)
	var d diag.Diagnostics
	m.Permissions, d = types.SetValueFrom(ctx, types.StringType, nonNil(role.Permissions))
	diags.Append(d...)
	m.Inherits, d = types.SetValueFrom(ctx, types.StringType, nonNil(role.Inherits))
	diags.Append(d...)
}

func (r *roleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleModel
	ctx, cancel, s := r.createStart(ctx, req, resp, &plan, func() timeouts.Value { return plan.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	role := plan.toRole(ctx, &resp.Diagnostics)
	if err := s.CreateRole(ctx, role); err != nil {
		resp.Diagnostics.AddError("Could not create role", describe("create role", fmt.Sprintf("%q", role.Name), err))
		return
	}
	plan.ID = types.StringValue(role.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *roleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleModel
	ctx, cancel, s := r.readStart(ctx, req, resp, &state, func() timeouts.Value { return state.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	role, err := s.GetRole(ctx, state.Name.ValueString())
	if isNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read role", describe("read role", fmt.Sprintf("%q", state.Name.ValueString()), err))
		return
	}
	state.fromRole(ctx, role, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

func (r *roleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state roleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel := bounded(ctx, timeoutOf(plan.Timeouts.Update(ctx, defaultWriteTimeout)), &resp.Diagnostics)
	defer cancel()
	s := r.writer(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	role := plan.toRole(ctx, &resp.Diagnostics)
	err := s.UpdateRole(ctx, state.Name.ValueString(), role)
	if isNotFound(err) {
		// Deleted outside Terraform between plan and apply: create it again, as the plan intends.
		err = s.CreateRole(ctx, role)
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not update role", describe("update role", fmt.Sprintf("%q", role.Name), err))
		return
	}
	plan.ID = types.StringValue(role.Name)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *roleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleModel
	ctx, cancel, s := r.deleteStart(ctx, req, resp, &state, func() timeouts.Value { return state.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	if err := s.DeleteRole(ctx, state.Name.ValueString()); err != nil {
		resp.Diagnostics.AddError("Could not delete role", describe("delete role", fmt.Sprintf("%q", state.Name.ValueString()), err))
	}
}

func (r *roleResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	name := req.ID
	for _, p := range roleImportPrefixes {
		name = strings.TrimPrefix(name, p)
	}
	if why := RoleNameProblem(name); why != "" {
		resp.Diagnostics.AddError("Invalid import id for "+roleTypeName,
			fmt.Sprintf("The import id %q is not a role name (%s). Use the role name, e.g. `analyst`, or the long "+
				"form `alfred_rbac.roles/analyst`.", req.ID, why))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), name)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}
