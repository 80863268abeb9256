// Package rbac manages role-based access to task data in Postgres: roles, assignments and table policies,
// over the provider's own alfred_rbac schema.
package rbac

import "github.com/hashicorp/terraform-plugin-framework/resource"

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{
		NewRoleResource,
		NewRoleAssignmentResource,
		NewTablePolicyResource,
	}
}
