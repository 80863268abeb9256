package rbac

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var (
	_ resource.ResourceWithConfigure   = (*roleAssignmentResource)(nil)
	_ resource.ResourceWithImportState = (*roleAssignmentResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*roleAssignmentResource)(nil)
)

const roleAssignmentTypeName = "alfred_rbac_role_assignment"

const assignmentImportPrefix = "alfred_rbac.assignments/"

type roleAssignmentResource struct{ base }

// NewRoleAssignmentResource returns the alfred_rbac_role_assignment resource.
func NewRoleAssignmentResource() resource.Resource {
	return &roleAssignmentResource{base{typeName: roleAssignmentTypeName}}
}

func (r *roleAssignmentResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = roleAssignmentSchema()
}

func roleAssignmentSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Assigns an `alfred_rbac_role` to a principal. `alfred_rbac.authorize()` reads " +
			"assignments on every statement, so removing one takes effect on the user's next query, not when their " +
			"token expires. The custom access token hook copies the assigned role names into `claims.alfred_roles`, " +
			"for clients to display only.\n\n" + principalDoc,
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "`<principal>/<role>`.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
			},
			"principal": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Who gets the role: a user id, matched against the JWT claim `sub` (a lowercase " +
					"UUID such as `6f1c2d4e-0000-4000-8000-000000000001`, or a numeric id such as Google's); or " +
					"`user:EMAIL` / `serviceAccount:EMAIL` (email in lowercase), matched against the verified `email` " +
					"claim (`email_verified` must be true). Changing it replaces the assignment.",
				Validators:    []validator.String{principalValidator()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"role": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "Name of the role to assign; refer to it as `alfred_rbac_role.<name>.name`. " +
					"Changing it moves the assignment to the new role in one transaction (so renaming the role " +
					"updates its assignments in place).",
				Validators: []validator.String{roleNameValidator()},
			},
		},
		Blocks: map[string]schema.Block{"timeouts": timeoutsBlock()},
	}
}

func (r *roleAssignmentResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	r.checkPlan(&resp.Diagnostics)
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	// A changed role changes the id, which otherwise keeps its prior value (UseStateForUnknown).
	var plan roleAssignmentModel
	var stateRole types.String
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("role"), &stateRole)...)
	if resp.Diagnostics.HasError() || plan.Role.Equal(stateRole) {
		return
	}
	id := types.StringUnknown()
	if !plan.Role.IsUnknown() && !plan.Principal.IsUnknown() {
		id = types.StringValue(assignmentID(plan.Principal.ValueString(), plan.Role.ValueString()))
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), id)...)
}

func assignmentID(principal, role string) string { return principal + "/" + role }

func (r *roleAssignmentResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan roleAssignmentModel
	ctx, cancel, s := r.createStart(ctx, req, resp, &plan, func() timeouts.Value { return plan.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	principal, role := plan.Principal.ValueString(), plan.Role.ValueString()
	if err := s.CreateAssignment(ctx, principal, role); err != nil {
		resp.Diagnostics.AddError("Could not assign role",
			describe("assign role", fmt.Sprintf("%q to %q", role, principal), err))
		return
	}
	plan.ID = types.StringValue(assignmentID(principal, role))
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *roleAssignmentResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state roleAssignmentModel
	ctx, cancel, s := r.readStart(ctx, req, resp, &state, func() timeouts.Value { return state.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	principal, role := state.Principal.ValueString(), state.Role.ValueString()
	ok, err := s.AssignmentExists(ctx, principal, role)
	if err != nil {
		resp.Diagnostics.AddError("Could not read role assignment",
			describe("read the assignment of role", fmt.Sprintf("%q to %q", role, principal), err))
		return
	}
	if !ok {
		resp.State.RemoveResource(ctx)
		return
	}
	state.ID = types.StringValue(assignmentID(principal, role))
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}

// Update moves the assignment to another role (the principal requires replacement).
func (r *roleAssignmentResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state roleAssignmentModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	principal, role := plan.Principal.ValueString(), plan.Role.ValueString()
	if oldRole := state.Role.ValueString(); oldRole != role {
		ctx, cancel := bounded(ctx, timeoutOf(plan.Timeouts.Update(ctx, defaultWriteTimeout)), &resp.Diagnostics)
		defer cancel()
		s := r.writer(ctx, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
		if err := s.MoveAssignment(ctx, principal, oldRole, role); err != nil {
			resp.Diagnostics.AddError("Could not change the assigned role",
				describe("move the assignment of", fmt.Sprintf("%q from role %q to %q", principal, oldRole, role), err))
			return
		}
	}
	plan.ID = types.StringValue(assignmentID(principal, role))
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *roleAssignmentResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state roleAssignmentModel
	ctx, cancel, s := r.deleteStart(ctx, req, resp, &state, func() timeouts.Value { return state.Timeouts })
	defer cancel()
	if s == nil {
		return
	}
	principal, role := state.Principal.ValueString(), state.Role.ValueString()
	if err := s.DeleteAssignment(ctx, principal, role); err != nil {
		resp.Diagnostics.AddError("Could not remove role assignment",
			describe("remove the assignment of role", fmt.Sprintf("%q to %q", role, principal), err))
	}
}

func (r *roleAssignmentResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := strings.TrimPrefix(req.ID, assignmentImportPrefix)
	i := strings.LastIndex(id, "/")
	bad := func(why string) {
		resp.Diagnostics.AddError("Invalid import id for "+roleAssignmentTypeName,
			fmt.Sprintf("The import id %q is not `<principal>/<role>` (%s). For example "+
				"`6f1c2d4e-0000-4000-8000-000000000001/analyst`, or the long form "+
				"`alfred_rbac.assignments/6f1c2d4e-0000-4000-8000-000000000001/analyst`.", req.ID, why))
	}
	if i < 0 {
		bad("there is no slash")
		return
	}
	principal, role := id[:i], id[i+1:]
	if why := PrincipalProblem(principal); why != "" {
		bad("the principal: " + why)
		return
	}
	if why := RoleNameProblem(role); why != "" {
		bad("the role: " + why)
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), assignmentID(principal, role))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("principal"), principal)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("role"), role)...)
}
