variable "name" {
  description = "Service name (lowercase letters, digits and hyphens)."
  type        = string
}

variable "image" {
  description = "Container image URL."
  type        = string
}

variable "args" {
  description = "Container arguments."
  type        = list(string)
  default     = []
}

variable "env" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Environment variables read from Secret Manager: references only, never values."
  type = map(object({
    secret  = string
    version = optional(string, "latest")
  }))
  default = {}
}

variable "memory" {
  description = "Memory limit, e.g. `1Gi`."
  type        = string
  default     = "1Gi"
}

variable "cpu" {
  description = "CPU limit, e.g. `1` or `2000m`."
  type        = string
  default     = "1"
}

variable "min_instances" {
  description = "Instances kept warm."
  type        = number
  default     = 0
}

variable "max_instances" {
  description = "Autoscaling ceiling."
  type        = number
  default     = 10
}

variable "concurrency" {
  description = "Requests one instance serves at once."
  type        = number
  default     = 40
}

variable "invokers" {
  description = "IAM members that may call the agent. Empty keeps it private."
  type        = set(string)
  default     = []
}

variable "service_account" {
  description = "Service account the agent runs as. Defaults to `<name>@<project>.iam.gserviceaccount.com` when `project` is given, else Cloud Run's default."
  type        = string
  default     = null
}

variable "project" {
  description = "Project ID (default: the provider's)."
  type        = string
  default     = null
}

variable "region" {
  description = "Region (default: the provider's)."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels; `agent = <name>` is added."
  type        = map(string)
  default     = {}
}

variable "metrics_path" {
  description = "Path of the Prometheus metrics endpoint."
  type        = string
  default     = "/metrics"
}

variable "cpu_idle" {
  description = "CPU only while requests are served (true, Cloud Run's default). False keeps CPU always allocated: for agents that work between requests (queue consumers) and for the metrics sidecar, whose scrapes are otherwise throttled."
  type        = bool
  default     = true
}

variable "startup_cpu_boost" {
  description = "More CPU while an instance starts, for shorter cold starts."
  type        = bool
  default     = false
}

variable "startup_probe" {
  description = "alfred_agent_service's startup_probe (http_get, tcp_socket or grpc, and timings). Null keeps Cloud Run's default TCP probe."
  type        = any
  default     = null
}

variable "liveness_probe" {
  description = "alfred_agent_service's liveness_probe (http_get or grpc, and timings). Null means none."
  type        = any
  default     = null
}

variable "vpc_access" {
  description = "Direct VPC egress (network and/or subnetwork) or a connector, with egress (all-traffic or private-ranges-only)."
  type = object({
    network    = optional(string)
    subnetwork = optional(string)
    connector  = optional(string)
    egress     = optional(string, "private-ranges-only")
  })
  default = null
}

variable "execution_environment" {
  description = "gen1 or gen2; null lets Cloud Run choose."
  type        = string
  default     = null
}

variable "secret_volumes" {
  description = "Secret Manager secrets mounted as files, keyed by mount path."
  type = map(object({
    secret  = string
    version = optional(string, "latest")
    path    = string
  }))
  default = null
}

variable "tracing" {
  description = "LangSmith tracing: project, optional endpoint, and the Secret Manager secret holding the API key."
  type = object({
    langsmith_project  = string
    langsmith_endpoint = optional(string)
    api_key_secret     = string
  })
  default = null
}

variable "metrics_port" {
  description = "Port of the metrics endpoint inside the instance (default: the service port). Off 8080, metrics_config_secret is needed."
  type        = number
  default     = null
}

variable "metrics_config_secret" {
  description = "Secret Manager secret with the sidecar's RunMonitoring configuration, when the metrics are not on 8080 at /metrics."
  type        = string
  default     = null
}

variable "deletion_protection" {
  description = "Refuse to destroy or replace the service until this has been applied as false (the resource's deletion_protection)."
  type        = bool
  default     = true
}

variable "task_queue" {
  description = "The agent's task queue (alfred_task_queue): push_service_account (must be among invokers), ack_deadline, min_backoff, max_backoff, max_delivery_attempts. null: none."
  type = object({
    push_service_account  = string
    ack_deadline          = optional(string, "60s")
    min_backoff           = optional(string, "10s")
    max_backoff           = optional(string, "600s")
    max_delivery_attempts = optional(number, 5)
  })
  default = null
}

variable "pubsub_service_agent" {
  description = "The project's Pub/Sub service agent, service-PROJECT_NUMBER@gcp-sa-pubsub.iam.gserviceaccount.com (needed with task_queue)."
  type        = string
  default     = null
}

variable "alert_policy" {
  description = "The agent's own Cloud Monitoring alert policy from the preset catalogue (through modules/observability): `presets`, `thresholds`, `severity`, the ids of the `notification_channels` to notify, `disable_metric_validation`. null: none (modules/platform makes the agents' policies itself)."
  type = object({
    presets                   = optional(list(string), ["task_failures", "task_latency", "cpu", "memory", "request_rate_anomaly"])
    thresholds                = optional(map(number), {})
    severity                  = optional(string, "ERROR")
    notification_channels     = optional(list(string), [])
    disable_metric_validation = optional(bool, false)
  })
  default = null
}
