# modules/platform with its defaults: one agent, RBAC on task results, a collection and alerting. The
# complete platform, as make demo applies it, is examples/platform.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

module "platform" {
  source = "../../../modules/platform"

  agents = {
    "alfred-bot" = {
      image    = "europe-west1-docker.pkg.dev/alfred-prod/agents/alfred-bot:1.4.2"
      invokers = ["serviceAccount:gateway@alfred-prod.iam.gserviceaccount.com"]
    }
  }
  roles = {
    viewer  = { permissions = ["tasks.read"] }
    analyst = { permissions = ["task_results.read"], inherits = ["viewer"] }
  }
  assignments = {
    alice = { principal = "6f1c2d4e-0000-4000-8000-000000000001", roles = ["analyst"] }
  }
  table_policies = {
    "public.task_results" = { select_permission = "task_results.read", owner_column = "owner_id" }
  }
  collections = {
    "agent-memory" = { vectors = { text = { size = 384, distance = "Cosine" } } }
  }
  alerting = {
    enabled  = true
    channels = { oncall = { type = "email", labels = { email_address = "oncall@example.com" } } }
  }
}

output "agent_uris" {
  value = module.platform.agent_uris
}
