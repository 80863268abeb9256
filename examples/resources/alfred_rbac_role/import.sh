# A role is imported by its name...
terraform import alfred_rbac_role.analyst analyst

# ...or by the long form naming the provider's table.
terraform import alfred_rbac_role.analyst alfred_rbac.roles/analyst
