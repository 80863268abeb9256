# The Alfred platform as far as it is built, applied by `make demo` against the local sandbox.
# Every provider block is filled from the environment that `alfredctl sandbox up` writes to sandbox.env.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

# Role-based access to task data (security plan: "restricting access to task results based on user roles").
resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  description = "Sees which tasks exist"
  permissions = ["tasks.read"]
}

resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  description = "Reads task results"
  permissions = ["task_results.read"]
  inherits    = [alfred_rbac_role.viewer.name]
}

resource "alfred_rbac_role" "operator" {
  name        = "operator"
  description = "Writes and deletes task results"
  permissions = ["task_results.write", "task_results.delete"]
  inherits    = [alfred_rbac_role.analyst.name]
}

resource "alfred_rbac_role_assignment" "alice" {
  principal = "6f1c2d4e-0000-4000-8000-000000000001"
  role      = alfred_rbac_role.analyst.name
}

resource "alfred_rbac_role_assignment" "alfred_bot" {
  principal = "alfred-bot@alfred-sandbox.iam.gserviceaccount.com"
  role      = alfred_rbac_role.operator.name
}

# The table belongs to the application (the demo creates it); the provider only adds row-level security.
resource "alfred_rbac_table_policy" "task_results" {
  schema            = "public"
  table             = "task_results"
  select_permission = "task_results.read"
  insert_permission = "task_results.write"
  update_permission = "task_results.write"
  delete_permission = "task_results.delete"
  owner_column      = "owner_id"
}
