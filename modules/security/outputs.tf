output "role_names" {
  description = "Names of the roles created, by key."
  value       = local.role_names
}

output "assignment_ids" {
  description = "Ids (`principal/role`) of the assignments created."
  value       = sort([for a in alfred_rbac_role_assignment.this : a.id])
}

output "table_policy_ids" {
  description = "Ids (`schema.table`) of the tables under row-level security."
  value       = sort([for p in alfred_rbac_table_policy.this : p.id])
}
