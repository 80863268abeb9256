package rbac

import (
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// roleModel is the state of an alfred_rbac_role.
type roleModel struct {
	ID          types.String   `tfsdk:"id"`
	Name        types.String   `tfsdk:"name"`
	Description types.String   `tfsdk:"description"`
	Permissions types.Set      `tfsdk:"permissions"`
	Inherits    types.Set      `tfsdk:"inherits"`
	Timeouts    timeouts.Value `tfsdk:"timeouts"`
}

// roleAssignmentModel is the state of an alfred_rbac_role_assignment.
type roleAssignmentModel struct {
	ID        types.String   `tfsdk:"id"`
	Principal types.String   `tfsdk:"principal"`
	Role      types.String   `tfsdk:"role"`
	Timeouts  timeouts.Value `tfsdk:"timeouts"`
}

// tablePolicyModel is the state of an alfred_rbac_table_policy.
type tablePolicyModel struct {
	ID               types.String   `tfsdk:"id"`
	Schema           types.String   `tfsdk:"schema"`
	Table            types.String   `tfsdk:"table"`
	SelectPermission types.String   `tfsdk:"select_permission"`
	InsertPermission types.String   `tfsdk:"insert_permission"`
	UpdatePermission types.String   `tfsdk:"update_permission"`
	DeletePermission types.String   `tfsdk:"delete_permission"`
	OwnerColumn      types.String   `tfsdk:"owner_column"`
	Timeouts         timeouts.Value `tfsdk:"timeouts"`
}

func (m *tablePolicyModel) permissionFields() map[string]*types.String {
	return map[string]*types.String{
		"select": &m.SelectPermission,
		"insert": &m.InsertPermission,
		"update": &m.UpdatePermission,
		"delete": &m.DeletePermission,
	}
}

func (m *tablePolicyModel) toPolicy() TablePolicy {
	p := TablePolicy{Schema: m.Schema.ValueString(), Table: m.Table.ValueString(), Permissions: map[string]string{},
		OwnerColumn: m.OwnerColumn.ValueString()}
	for cmd, f := range m.permissionFields() {
		if !f.IsNull() && !f.IsUnknown() {
			p.Permissions[cmd] = f.ValueString()
		}
	}
	return p
}

func (m *tablePolicyModel) fromPolicy(p *TablePolicy) {
	m.ID = types.StringValue(p.Schema + "." + p.Table)
	m.Schema = types.StringValue(p.Schema)
	m.Table = types.StringValue(p.Table)
	for cmd, f := range m.permissionFields() {
		if v, ok := p.Permissions[cmd]; ok {
			*f = types.StringValue(v)
		} else {
			*f = types.StringNull()
		}
	}
	if p.OwnerColumn != "" {
		m.OwnerColumn = types.StringValue(p.OwnerColumn)
	} else {
		m.OwnerColumn = types.StringNull()
	}
}
