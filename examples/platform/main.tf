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

module "platform" {
  source = "../../modules/platform"

  agents = {
    "alfred-bot" = {
      image         = "europe-west1-docker.pkg.dev/alfred-sandbox/agents/alfred-bot:1.4.2"
      args          = ["--queue", "tasks"]
      env           = { LOG_LEVEL = "info" }
      secret_env    = { OPENAI_API_KEY = { secret = "openai-api-key", version = "3" } }
      max_instances = 20
      invokers      = ["serviceAccount:gateway@alfred-sandbox.iam.gserviceaccount.com", "serviceAccount:task-pusher@alfred-sandbox.iam.gserviceaccount.com"]
      labels        = { team = "agents" }
      task_queue    = { push_service_account = "task-pusher@alfred-sandbox.iam.gserviceaccount.com" }
    }
    "social-intel" = {
      image         = "europe-west1-docker.pkg.dev/alfred-sandbox/agents/social-intel:0.9.0"
      args          = ["--queue", "social"]
      env           = { LOG_LEVEL = "info" }
      secret_env    = { OPENAI_API_KEY = { secret = "openai-api-key", version = "3" } }
      max_instances = 5
      invokers      = ["serviceAccount:gateway@alfred-sandbox.iam.gserviceaccount.com", "serviceAccount:task-pusher@alfred-sandbox.iam.gserviceaccount.com"]
      labels        = { team = "agents" }
      task_queue    = { push_service_account = "task-pusher@alfred-sandbox.iam.gserviceaccount.com" }
    }
  }

  # The Pub/Sub service agent of the project (its number; the sandbox accepts any).
  pubsub_service_agent = "service-100000000001@gcp-sa-pubsub.iam.gserviceaccount.com"

  # Role-based access to task data (security plan: "restricting access to task results based on user roles").
  roles = {
    viewer   = { description = "Sees which tasks exist", permissions = ["tasks.read"] }
    analyst  = { description = "Reads task results", permissions = ["task_results.read"], inherits = ["viewer"] }
    operator = { description = "Writes and deletes task results", permissions = ["task_results.write", "task_results.delete"], inherits = ["analyst"] }
  }
  assignments = {
    alice      = { principal = "6f1c2d4e-0000-4000-8000-000000000001", roles = ["analyst"] }
    alfred_bot = { principal = "serviceAccount:alfred-bot@alfred-sandbox.iam.gserviceaccount.com", roles = ["operator"] }
  }
  # The table belongs to the application (the demo creates it); the provider only adds row-level security.
  table_policies = {
    "public.task_results" = {
      select_permission = "task_results.read"
      insert_permission = "task_results.write"
      update_permission = "task_results.write"
      delete_permission = "task_results.delete"
      owner_column      = "owner_id"
    }
  }

  prometheus = {
    bearer_token_file = "/etc/prometheus/secrets/agent-invoker-token"
  }

  # One alert policy per agent from the preset catalogue, sent to the on-call channel, and the dashboard.
  alerting = {
    enabled = true
    channels = {
      oncall = { type = "email", display_name = "On-call", labels = { email_address = "oncall@example.com" } }
    }
    thresholds = { task_latency = 60 }
    # The sandbox's agents write no metrics yet: define the policies before their metrics exist.
    disable_metric_validation = true
  }
}

output "agent_uris" {
  value = module.platform.agent_uris
}

output "task_queues" {
  value = module.platform.task_queues
}

output "prometheus_scrape_configs" {
  value = module.platform.prometheus_scrape_configs
}

output "rbac" {
  value = module.platform.rbac
}

output "alerting" {
  value = {
    channels = module.platform.alerting.channels
    policies = module.platform.alerting.policies
  }
}

output "grafana_dashboard" {
  value = module.platform.alerting.dashboard
}

# Vectors in Qdrant (ops guide, database scaling): two replicated collections over the sandbox's three
# peers; agents read task embeddings through the alias, so a re-index is a blue/green alias switch.
resource "alfred_qdrant_collection" "task_embeddings" {
  name                     = "task-embeddings-v1"
  shard_number             = 3
  replication_factor       = 2
  write_consistency_factor = 1
  vectors                  = { "" = { size = 384, distance = "Cosine" } }
  payload_indexes          = { agent = "keyword", created_at = "datetime" }
  aliases                  = ["task-embeddings"]
}

resource "alfred_qdrant_collection" "agent_memory" {
  name               = "agent-memory"
  shard_number       = 3
  replication_factor = 2
  vectors            = { text = { size = 384, distance = "Cosine" } }
  quantization       = { type = "scalar", quantile = 0.99 }
  payload_indexes    = { agent = "keyword", session = "keyword" }
}

data "alfred_qdrant_cluster" "this" {}

output "qdrant" {
  value = {
    peers = [for p in data.alfred_qdrant_cluster.this.peers : p.id]
    replicas = {
      for c in [alfred_qdrant_collection.task_embeddings, alfred_qdrant_collection.agent_memory] :
      c.name => [for s in c.shards : "shard ${s.id}: ${join(", ", [for r in s.replicas : "${r.peer_id} ${r.state}"])}"]
    }
    aliases = alfred_qdrant_collection.task_embeddings.aliases
  }
}
