variable "roles" {
  description = <<-EOT
    Roles by name. `permissions` are `<resource>.<action>` in lowercase; `inherits` names other roles of this
    map. Inheritance may be up to four levels deep (a role, its parent, grandparent and great-grandparent).
  EOT
  type = map(object({
    description = optional(string, "")
    permissions = optional(set(string), [])
    inherits    = optional(set(string), [])
  }))
  default = {}

  validation {
    condition = alltrue(flatten([
      for name, r in var.roles : [for parent in r.inherits : contains(keys(var.roles), parent) && parent != name]
    ]))
    error_message = "Every role in `inherits` must be another role of `roles` (a role cannot inherit itself)."
  }
}

variable "assignments" {
  description = "Role assignments: a principal (a user id matched against the JWT `sub`, or `user:EMAIL` / `serviceAccount:EMAIL` matched against the verified `email` claim) and the names of its roles."
  type = map(object({
    principal = string
    roles     = set(string)
  }))
  default = {}
}

variable "table_policies" {
  description = "Row-level security on the application's tables, keyed by `schema.table`. Each command's permission is optional; unset commands are denied."
  type = map(object({
    select_permission = optional(string)
    insert_permission = optional(string)
    update_permission = optional(string)
    delete_permission = optional(string)
    owner_column      = optional(string)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.table_policies) : length(split(".", k)) == 2])
    error_message = "table_policies keys must be `schema.table`, e.g. `public.task_results`."
  }
}
