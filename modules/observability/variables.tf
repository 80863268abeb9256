variable "project" {
  description = "Project of the alert policies, channels and log-based metrics (default: the provider's)."
  type        = string
  default     = null
}

variable "services" {
  description = "Agent service names (their `service` label, Cloud Run's `service_name`): one alert policy, one Prometheus rule per preset and one dashboard row each."
  type        = set(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.services : can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", s))])
    error_message = "services: each name is a Cloud Run service name: lowercase letters, digits and hyphens, starting with a letter, at most 49 characters."
  }
}

variable "channels" {
  description = "Notification channels by key: `type` (email, slack, pagerduty, webhook_tokenauth, webhook_basicauth, pubsub), `display_name` (default: the key) and `labels`. Secret labels go in `channel_secrets` under the same key."
  type = map(object({
    type         = string
    display_name = optional(string)
    labels       = optional(map(string), {})
  }))
  default = {}

  validation {
    condition     = alltrue([for c in values(var.channels) : contains(["email", "slack", "pagerduty", "webhook_tokenauth", "webhook_basicauth", "pubsub"], c.type)])
    error_message = "channels: type must be one of email, slack, pagerduty, webhook_tokenauth, webhook_basicauth, pubsub."
  }
}

variable "notification_channels" {
  description = "Ids of notification channels made elsewhere (`projects/{project}/notificationChannels/{id}`) that the alert policies notify too."
  type        = list(string)
  default     = []
}

variable "channel_secrets" {
  description = "Secret labels of the notification channels, by channel key (e.g. `{ slack = { auth_token = \"...\" } }`)."
  type        = map(map(string))
  default     = {}
  sensitive   = true
}

variable "alert_policies" {
  description = <<-EOT
    One Cloud Monitoring alert policy per service from the preset catalogue, sent to every channel.
    `presets`: the presets each policy holds (one to six); `thresholds`: per preset, else the preset's default;
    `disable_metric_validation`: define the policies before the agents have written their metrics (a fresh
    project, or the sandbox); `failed_logins_log_metric`: the key of a `log_metrics` entry that the
    `failed_logins` preset reads instead of `alfred_auth_failed_logins_total`.
  EOT
  type = object({
    enabled                   = optional(bool, true)
    severity                  = optional(string, "ERROR")
    presets                   = optional(list(string), ["task_failures", "task_latency", "cpu", "memory", "request_rate_anomaly"])
    thresholds                = optional(map(number), {})
    runbook                   = optional(string, "Check the agent's logs and its task queue's dead-letter subscription; roll back its last revision if the alert started with it.")
    disable_metric_validation = optional(bool, false)
    failed_logins_log_metric  = optional(string)
  })
  default = {}

  validation {
    condition     = contains(["CRITICAL", "ERROR", "WARNING"], var.alert_policies.severity)
    error_message = "alert_policies.severity must be CRITICAL, ERROR or WARNING."
  }
  validation {
    condition     = length(var.alert_policies.presets) >= 1 && length(var.alert_policies.presets) <= 6 && length(distinct(var.alert_policies.presets)) == length(var.alert_policies.presets)
    error_message = "alert_policies.presets: one to six distinct presets (a Cloud Monitoring policy holds at most six conditions)."
  }
  validation {
    condition = alltrue([for p in concat(var.alert_policies.presets, keys(var.alert_policies.thresholds)) :
    contains(["task_failures", "task_latency", "cpu", "memory", "failed_logins", "request_rate_anomaly", "backup_staleness"], p)])
    error_message = "alert_policies.presets and the keys of alert_policies.thresholds are presets of the catalogue: task_failures, task_latency, cpu, memory, failed_logins, request_rate_anomaly, backup_staleness."
  }
}

variable "log_metrics" {
  description = "Cloud Logging log-based counters by name (e.g. `auth/failed_logins`): `filter`, `description`, `label_extractors` (label -> `EXTRACT(...)`). Their PromQL names are in the `log_metrics` output."
  type = map(object({
    filter           = string
    description      = optional(string)
    label_extractors = optional(map(string), {})
  }))
  default = {}

  validation {
    condition     = alltrue([for n in keys(var.log_metrics) : can(regex("^[A-Za-z0-9_.,+!*'()%-][A-Za-z0-9_.,+!*'()%/-]{0,99}$", n))])
    error_message = "log_metrics: names are up to 100 characters among A-Z a-z 0-9 _-.,+!*',()%/ and cannot start with `/`."
  }
}

variable "prometheus_rules" {
  description = "The same presets as a Prometheus rules file (output `prometheus_rules`), for a self-hosted Prometheus: the rule group's name and evaluation interval."
  type = object({
    enabled    = optional(bool, true)
    group_name = optional(string, "alfred-agents")
    interval   = optional(string)
  })
  default = {}
}

variable "dashboard" {
  description = "The Grafana dashboard of the services (output `dashboard`): uid, title and the uid of the Prometheus data source its panels query."
  type = object({
    enabled        = optional(bool, true)
    uid            = optional(string, "alfred-agents")
    title          = optional(string, "Alfred agents")
    datasource_uid = optional(string, "managed-prometheus")
  })
  default = {}

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,40}$", var.dashboard.uid))
    error_message = "dashboard.uid: up to 40 letters, digits, `-` or `_`."
  }
}
