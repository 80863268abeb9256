# An assignment is imported by <principal>/<role>...
terraform import alfred_rbac_role_assignment.alice_analyst 6f1c2d4e-0000-4000-8000-000000000001/analyst

# ...or by the long form naming the provider's table.
terraform import alfred_rbac_role_assignment.alice_analyst alfred_rbac.assignments/6f1c2d4e-0000-4000-8000-000000000001/analyst
