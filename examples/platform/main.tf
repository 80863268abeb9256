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

# Agents on Cloud Run: private by default, called only by the listed principals.
locals {
  agents = {
    "alfred-bot" = {
      image = "europe-west1-docker.pkg.dev/alfred-sandbox/agents/alfred-bot:1.4.2"
      args  = ["--queue", "tasks"]
      max   = 20
    }
    "social-intel" = {
      image = "europe-west1-docker.pkg.dev/alfred-sandbox/agents/social-intel:0.9.0"
      args  = ["--queue", "social"]
      max   = 5
    }
  }
}

resource "alfred_agent_service" "agent" {
  for_each = local.agents

  name  = each.key
  image = each.value.image
  args  = each.value.args
  env = {
    LOG_LEVEL = "info"
  }
  secret_env = {
    OPENAI_API_KEY = { secret = "openai-api-key", version = "3" }
  }
  memory          = "1Gi"
  min_instances   = 0
  max_instances   = each.value.max
  concurrency     = 40
  service_account = "${each.key}@alfred-sandbox.iam.gserviceaccount.com"
  ingress         = "internal-and-cloud-load-balancing"
  invokers        = ["serviceAccount:gateway@alfred-sandbox.iam.gserviceaccount.com"]
  labels = {
    team  = "agents"
    agent = each.key
  }
  metrics = {
    path = "/metrics"
  }
}

# Prometheus scrapes every agent's /metrics (ops guide, scrape config).
data "alfred_prometheus_scrape_config" "agents" {
  job_name          = "alfred-agents"
  scrape_interval   = "30s"
  bearer_token_file = "/etc/prometheus/secrets/agent-invoker-token"
  services = [
    for name, svc in alfred_agent_service.agent : { name = name, uri = svc.uri }
  ]
}

output "agent_uris" {
  value = { for name, svc in alfred_agent_service.agent : name => svc.uri }
}

output "prometheus_scrape_configs" {
  value = data.alfred_prometheus_scrape_config.agents.yaml
}
