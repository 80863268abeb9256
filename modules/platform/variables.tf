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
