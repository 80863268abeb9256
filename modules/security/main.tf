# Roles are created level by level so that a role exists before any role that inherits it: Terraform
# cannot order the instances of one for_each by their references to each other.
locals {
  level0 = { for n, r in var.roles : n => r if length(r.inherits) == 0 }
  level1 = { for n, r in var.roles : n => r if !contains(keys(local.level0), n) && length(setsubtract(r.inherits, keys(local.level0))) == 0 }
  done1  = concat(keys(local.level0), keys(local.level1))
  level2 = { for n, r in var.roles : n => r if !contains(local.done1, n) && length(setsubtract(r.inherits, local.done1)) == 0 }
  done2  = concat(local.done1, keys(local.level2))
  level3 = { for n, r in var.roles : n => r if !contains(local.done2, n) && length(setsubtract(r.inherits, local.done2)) == 0 }
  placed = concat(local.done2, keys(local.level3))

  assignments = merge([
    for key, a in var.assignments : { for role in a.roles : "${key}/${role}" => { principal = a.principal, role = role } }
  ]...)
}

resource "terraform_data" "role_levels" {
  lifecycle {
    precondition {
      condition     = length(local.placed) == length(var.roles)
      error_message = "These roles inherit more than four levels deep or in a cycle: ${join(", ", sort(setsubtract(keys(var.roles), local.placed)))}."
    }
    precondition {
      condition     = alltrue([for a in values(local.assignments) : contains(keys(var.roles), a.role)])
      error_message = "Every role in `assignments` must be a role of `roles`; unknown: ${join(", ", sort(distinct([for a in values(local.assignments) : a.role if !contains(keys(var.roles), a.role)])))}."
    }
  }
}

resource "alfred_rbac_role" "level0" {
  for_each    = local.level0
  name        = each.key
  description = each.value.description
  permissions = each.value.permissions
}

resource "alfred_rbac_role" "level1" {
  for_each    = local.level1
  name        = each.key
  description = each.value.description
  permissions = each.value.permissions
  inherits    = [for p in each.value.inherits : alfred_rbac_role.level0[p].name]
}

resource "alfred_rbac_role" "level2" {
  for_each    = local.level2
  name        = each.key
  description = each.value.description
  permissions = each.value.permissions
  inherits    = [for p in each.value.inherits : try(alfred_rbac_role.level0[p].name, alfred_rbac_role.level1[p].name)]
}

resource "alfred_rbac_role" "level3" {
  for_each    = local.level3
  name        = each.key
  description = each.value.description
  permissions = each.value.permissions
  inherits    = [for p in each.value.inherits : try(alfred_rbac_role.level0[p].name, alfred_rbac_role.level1[p].name, alfred_rbac_role.level2[p].name)]
}

locals {
  role_names = merge(
    { for n, r in alfred_rbac_role.level0 : n => r.name },
    { for n, r in alfred_rbac_role.level1 : n => r.name },
    { for n, r in alfred_rbac_role.level2 : n => r.name },
    { for n, r in alfred_rbac_role.level3 : n => r.name },
  )
}

resource "alfred_rbac_role_assignment" "this" {
  for_each  = local.assignments
  principal = each.value.principal
  # Through the created role, so the assignment waits for it.
  role = lookup(local.role_names, each.value.role, each.value.role)
}

resource "alfred_rbac_table_policy" "this" {
  for_each          = var.table_policies
  schema            = split(".", each.key)[0]
  table             = split(".", each.key)[1]
  select_permission = each.value.select_permission
  insert_permission = each.value.insert_permission
  update_permission = each.value.update_permission
  delete_permission = each.value.delete_permission
  owner_column      = each.value.owner_column
}
