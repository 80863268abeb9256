# A role grants permissions (<resource>.<action>, lowercase) and everything the roles it inherits grant.
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  description = "Reads tasks and their results"
  permissions = ["tasks.read", "task_results.read"]
}

resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  description = "Viewer who also exports results"
  permissions = ["task_results.export"]
  # Refer to inherited roles by attribute, so Terraform creates them first.
  inherits = [alfred_rbac_role.viewer.name]
}
