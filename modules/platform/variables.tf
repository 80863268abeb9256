variable "project" {
  description = "Project ID of the agents (default: the provider's)."
  type        = string
  default     = null
}

variable "agents" {
  description = "Agents by name. Each is a private Cloud Run service; see modules/agent for the fields."
  type = map(object({
    image         = string
    args          = optional(list(string), [])
    env           = optional(map(string), {})
    secret_env    = optional(map(object({ secret = string, version = optional(string, "latest") })), {})
    memory        = optional(string, "1Gi")
    cpu           = optional(string, "1")
    min_instances = optional(number, 0)
    max_instances = optional(number, 10)
    concurrency   = optional(number, 40)
    invokers      = optional(set(string), [])
    labels        = optional(map(string), {})
    metrics_path  = optional(string, "/metrics")
    cpu_idle      = optional(bool, true)
    # Needed when metrics_path is not /metrics: the sidecar's RunMonitoring configuration (see modules/agent).
    metrics_config_secret = optional(string)
    tracing = optional(object({
      langsmith_project  = string
      langsmith_endpoint = optional(string)
      api_key_secret     = string
    }))
    # The agent's task queue (alfred_task_queue): tasks pushed to the agent with an OIDC token of
    # push_service_account, which must also be in invokers.
    task_queue = optional(object({
      push_service_account  = string
      ack_deadline          = optional(string, "60s")
      min_backoff           = optional(string, "10s")
      max_backoff           = optional(string, "600s")
      max_delivery_attempts = optional(number, 5)
    }))
  }))
  default = {}
}

variable "pubsub_service_agent" {
  description = "The project's Pub/Sub service agent (service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com), granted what dead-lettering needs on every task queue. Required when an agent has a task_queue."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "deletion_protection of every agent's service: true (the default) refuses to destroy or replace an agent until false has been applied."
  type        = bool
  default     = true
}

variable "roles" {
  description = "RBAC roles; see modules/security."
  type = map(object({
    description = optional(string, "")
    permissions = optional(set(string), [])
    inherits    = optional(set(string), [])
  }))
  default = {}
}

variable "assignments" {
  description = "RBAC role assignments; see modules/security."
  type = map(object({
    principal = string
    roles     = set(string)
  }))
  default = {}
}

variable "table_policies" {
  description = "Row-level security on the application's tables; see modules/security."
  type = map(object({
    select_permission = optional(string)
    insert_permission = optional(string)
    update_permission = optional(string)
    delete_permission = optional(string)
    owner_column      = optional(string)
  }))
  default = {}
}

variable "prometheus" {
  description = "How Prometheus scrapes the agents."
  type = object({
    job_name          = optional(string, "alfred-agents")
    scrape_interval   = optional(string, "30s")
    bearer_token_file = optional(string)
  })
  default = {}
}

variable "alerting" {
  description = <<-EOT
    Alerting on Cloud Monitoring (off unless `enabled`); see modules/observability. `channels`: notification
    channels by key (type, labels; secrets go in var.alerting_channel_secrets under the same key). `presets`:
    the catalogue presets each agent's policy holds (at most six). `disable_metric_validation`: define the
    policies before the agents have written their metrics (a fresh project, or the sandbox). `log_metrics`:
    log-based counters; `failed_logins_log_metric` names the one the failed_logins preset reads.
    `prometheus_rules` and `dashboard`: the rules file and the Grafana dashboard rendered from the same presets.
  EOT
  type = object({
    enabled  = optional(bool, false)
    severity = optional(string, "ERROR")
    channels = optional(map(object({
      type         = string
      display_name = optional(string)
      labels       = optional(map(string), {})
    })), {})
    presets                   = optional(list(string), ["task_failures", "task_latency", "cpu", "memory", "request_rate_anomaly"])
    thresholds                = optional(map(number), {})
    runbook                   = optional(string, "Check the agent's logs and its task queue's dead-letter subscription; roll back its last revision if the alert started with it.")
    disable_metric_validation = optional(bool, false)
    log_metrics = optional(map(object({
      filter           = string
      description      = optional(string)
      label_extractors = optional(map(string), {})
    })), {})
    failed_logins_log_metric = optional(string)
    prometheus_rules = optional(object({
      enabled    = optional(bool, true)
      group_name = optional(string, "alfred-agents")
      interval   = optional(string)
    }), {})
    dashboard = optional(object({
      enabled        = optional(bool, true)
      uid            = optional(string, "alfred-agents")
      title          = optional(string, "Alfred agents")
      datasource_uid = optional(string, "managed-prometheus")
    }), {})
  })
  default = {}
}

variable "alerting_channel_secrets" {
  description = "Secret labels of the notification channels, by channel key (e.g. { slack = { auth_token = \"...\" } })."
  type        = map(map(string))
  default     = {}
  sensitive   = true
}

variable "collections" {
  description = "Qdrant collections by name; see modules/data."
  type = map(object({
    vectors = map(object({
      size     = number
      distance = string
      on_disk  = optional(bool)
    }))
    shard_number             = optional(number)
    replication_factor       = optional(number)
    write_consistency_factor = optional(number)
    on_disk_payload          = optional(bool)
    payload_indexes          = optional(map(string), {})
    aliases                  = optional(set(string), [])
    quantization = optional(object({
      type        = string
      quantile    = optional(number)
      compression = optional(string)
      always_ram  = optional(bool)
    }))
  }))
  default = {}
}

variable "supabase_project_ref" {
  description = "Ref of the Supabase project holding the platform's state: the primary of `read_replicas`, the project `network_security` restricts."
  type        = string
  default     = null
}

variable "read_replicas" {
  description = "Supabase read replicas by key, each with its `region`; see modules/data."
  type        = map(object({ region = string }))
  default     = {}
}

variable "network_security" {
  description = "SSL enforcement and allowed CIDR ranges of the Supabase project's database (null: not managed); see modules/data."
  type = object({
    ssl_enforcement  = optional(bool, true)
    allowed_cidrs    = optional(set(string))
    allowed_cidrs_v6 = optional(set(string))
  })
  default = null
}

variable "partitions" {
  description = "Time partitions of the application's tables, keyed by `schema.table`; see modules/data."
  type = map(object({
    interval          = optional(string, "day")
    premake           = optional(number, 7)
    retention         = optional(string)
    retention_action  = optional(string, "detach")
    default_partition = optional(bool, true)
  }))
  default = {}
}

variable "backups" {
  description = "Scheduled, encrypted backups of the platform's databases and collections (`modules/backups`): a Cloud Run job running `alfredctl backup run` on `schedule`, and with `pre_migration` a backup taken at apply before a migration. Off unless `enabled`; then `bucket`, `runner_image`, `runner_service_account` and the sensitive `backup_encryption_key` are required."
  type = object({
    enabled                = optional(bool, false)
    name                   = optional(string, "platform")
    schedule               = optional(string, "0 3 * * *")
    time_zone              = optional(string)
    keep_last              = optional(number, 7)
    max_age                = optional(string)
    databases              = optional(list(string), [])
    qdrant_collections     = optional(list(string), [])
    bucket                 = optional(string)
    prefix                 = optional(string, "alfred/")
    runner_image           = optional(string)
    runner_service_account = optional(string)
    runner_grant_role      = optional(string, "roles/run.invoker")
    pre_migration = optional(object({
      triggers          = map(string)
      retain_on_destroy = optional(bool, true)
    }))
  })
  default  = {}
  nullable = false
  validation {
    condition     = !var.backups.enabled || (var.backups.bucket != null && var.backups.runner_image != null && var.backups.runner_service_account != null)
    error_message = "With `backups.enabled`, set `backups.bucket`, `backups.runner_image` (an alfredctl image) and `backups.runner_service_account`."
  }
  validation {
    condition     = !var.backups.enabled || length(var.backups.databases) + length(var.backups.qdrant_collections) > 0
    error_message = "With `backups.enabled`, name what to back up: `backups.databases` and/or `backups.qdrant_collections`."
  }
}

variable "backup_postgres_dsn" {
  description = "DSN of the PostgreSQL cluster the backups read (a role that reads every row); needed when `backups.databases` is set."
  type        = string
  sensitive   = true
  default     = null
}

variable "backup_encryption_key" {
  description = "Tink keyset (JSON) that encrypts the backups (`alfredctl backup keygen`); needed with `backups.enabled`."
  type        = string
  sensitive   = true
  default     = null
}
