# modules/security: roles with inheritance, assignments to a user and an agent, and row-level security on
# the application's task_results table.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

module "security" {
  source = "../../../modules/security"

  roles = {
    viewer   = { description = "Sees which tasks exist", permissions = ["tasks.read"] }
    analyst  = { description = "Reads task results", permissions = ["task_results.read"], inherits = ["viewer"] }
    operator = { description = "Writes task results", permissions = ["task_results.write"], inherits = ["analyst"] }
  }
  assignments = {
    alice      = { principal = "6f1c2d4e-0000-4000-8000-000000000001", roles = ["analyst"] }
    alfred_bot = { principal = "serviceAccount:alfred-bot@alfred-prod.iam.gserviceaccount.com", roles = ["operator"] }
  }
  table_policies = {
    "public.task_results" = {
      select_permission = "task_results.read"
      insert_permission = "task_results.write"
      owner_column      = "owner_id"
    }
  }
}

output "roles" {
  value = module.security.role_names
}
