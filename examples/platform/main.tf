# The complete Alfred platform through modules/platform, applied by `make demo` against the local sandbox:
# alfred-bot and social-intel with their task queues, RBAC on task results, Qdrant collections, a Supabase
# read replica and network restrictions, time partitions, alert presets, log-based metrics and the dashboard.
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

  deletion_protection = var.deletion_protection

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
    presets    = ["task_failures", "task_latency", "cpu", "memory", "failed_logins", "request_rate_anomaly"]
    thresholds = { task_latency = 60 }
    # Agents that log failed logins without exporting alfred_auth_failed_logins_total: the failed_logins
    # preset counts them from the logs.
    log_metrics = {
      "auth/failed_logins" = {
        description      = "Failed login attempts, from the agents' structured logs"
        filter           = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"login_failed\""
        label_extractors = { service = "EXTRACT(resource.labels.service_name)" }
      }
    }
    failed_logins_log_metric = "auth/failed_logins"
    # The sandbox's agents write no metrics yet: define the policies before their metrics exist.
    disable_metric_validation = true
  }

  # Vectors in Qdrant (ops guide, database scaling): two replicated collections over the sandbox's three
  # peers; agents read task embeddings through the alias, so a re-index is a blue/green alias switch.
  collections = {
    "task-embeddings-v1" = {
      shard_number             = 3
      replication_factor       = 2
      write_consistency_factor = 1
      vectors                  = { "" = { size = 384, distance = "Cosine" } }
      payload_indexes          = { agent = "keyword", created_at = "datetime" }
      aliases                  = ["task-embeddings"]
    }
    "agent-memory" = {
      shard_number       = 3
      replication_factor = 2
      vectors            = { text = { size = 384, distance = "Cosine" } }
      quantization       = { type = "scalar", quantile = 0.99 }
      payload_indexes    = { agent = "keyword", session = "keyword" }
    }
  }

  # Database scaling and network security on Supabase (ops guide: "horizontally, using read replicas";
  # security plan: data travels encrypted and only from where it should; in the sandbox: loopback).
  supabase_project_ref = var.supabase_project_ref
  read_replicas        = { analytics = { region = "us-east-1" } }
  network_security = {
    ssl_enforcement  = true
    allowed_cidrs    = ["127.0.0.0/8"]
    allowed_cidrs_v6 = ["::1/128"]
  }

  # Time partitions of the application's events table (the demo creates the table, as the application's
  # migration would): daily partitions from 30 days back to 7 days ahead, older ones detached, and a default
  # partition for stray rows. Without pg_cron in the database, apply warns how to maintain them.
  partitions = {
    "public.events" = { interval = "day", premake = 7, retention = "30d", default_partition = true }
  }

  # Encrypted off-site backups of the platform's database and the agents' memory collection, nightly at 03:00 Berlin
  # time, the newest 7 kept; and a backup taken at apply whenever `migration` changes, before the migration
  # runs (a migration's resources depend on module.platform.backups.pre_migration_backup). Off without a
  # bucket: `make demo` creates one and a keyset (alfredctl backup keygen) and passes both.
  backups = {
    enabled                = var.backup_bucket != null
    name                   = "platform-nightly"
    schedule               = "CRON_TZ=Europe/Berlin 0 3 * * *"
    keep_last              = 7
    databases              = ["postgres"]
    qdrant_collections     = var.backup_qdrant_collections
    bucket                 = var.backup_bucket
    runner_image           = "local/alfredctl:demo"
    runner_service_account = "backup-runner@alfred-sandbox.iam.gserviceaccount.com"
    pre_migration          = { triggers = { migration = var.migration } }
  }
  backup_postgres_dsn   = var.backup_postgres_dsn
  backup_encryption_key = var.backup_encryption_key
}

variable "supabase_project_ref" {
  description = "Ref of the Supabase project that holds the platform's state (the sandbox seeds alfredsandboxproject)."
  type        = string
  default     = "alfredsandboxproject"
}

variable "backup_bucket" {
  description = "S3 bucket of the backups; null leaves backups off."
  type        = string
  default     = null
}

variable "backup_encryption_key" {
  description = "Tink keyset (JSON) of the backups (`alfredctl backup keygen`)."
  type        = string
  sensitive   = true
  default     = null
}

variable "backup_postgres_dsn" {
  description = "DSN the backup job reads the database with."
  type        = string
  sensitive   = true
  default     = null
}

variable "backup_qdrant_collections" {
  description = "Qdrant collections the backups include (the runner reaches Qdrant with the provider's qdrant block)."
  type        = list(string)
  default     = ["agent-memory"]
}

variable "migration" {
  description = "Version of the application's latest schema migration: a change takes a backup first."
  type        = string
  default     = "0001"
}

variable "deletion_protection" {
  description = "deletion_protection of the agents: set false (and apply) before `terraform destroy`."
  type        = bool
  default     = true
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

output "prometheus_rules" {
  value = module.platform.alerting.prometheus_rules
}

output "rbac" {
  value = module.platform.rbac
}

output "alerting" {
  value = {
    channels    = module.platform.alerting.channels
    policies    = module.platform.alerting.policies
    log_metrics = module.platform.alerting.log_metrics
  }
}

output "grafana_dashboard" {
  value = module.platform.alerting.dashboard
}

data "alfred_qdrant_cluster" "this" {}

output "qdrant" {
  value = {
    peers       = [for p in data.alfred_qdrant_cluster.this.peers : p.id]
    collections = module.platform.data.collections
  }
}

output "read_replica" {
  value = module.platform.data.read_replicas["analytics"]
}

output "backups" {
  value = module.platform.backups
}

output "events_partitions" {
  value = module.platform.data.partitions["public.events"].partitions
}
