# Alerting and dashboards as code: notification channels, one Cloud Monitoring alert policy per agent
# built from the preset catalogue (the same one alfred_prometheus_rules and the dashboard use), and the
# Grafana dashboard of the agents.

variable "alerting" {
  description = <<-EOT
    Alerting on Cloud Monitoring (off unless `enabled`). `channels`: notification channels by key (type, labels; secrets go in
    var.alerting_channel_secrets under the same key). `presets`: the catalogue presets each agent's policy
    holds (at most six). `disable_metric_validation`: define the policies before the agents have written
    their metrics (a fresh project, or the sandbox). `dashboard`: render the Grafana dashboard.
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
    dashboard = optional(object({
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

resource "alfred_notification_channel" "this" {
  for_each = var.alerting.enabled ? var.alerting.channels : {}

  type             = each.value.type
  display_name     = coalesce(each.value.display_name, each.key)
  labels           = length(each.value.labels) > 0 ? each.value.labels : null
  sensitive_labels = lookup(var.alerting_channel_secrets, each.key, null)
}

resource "alfred_alert_policy" "agent" {
  for_each = var.alerting.enabled ? var.agents : {}

  project               = var.project
  display_name          = "${each.key}: agent health"
  severity              = var.alerting.severity
  combiner              = "OR"
  notification_channels = length(alfred_notification_channel.this) > 0 ? [for k in sort(keys(alfred_notification_channel.this)) : alfred_notification_channel.this[k].id] : null
  documentation         = "# ${each.key}\n\n${var.alerting.runbook}"
  user_labels           = { agent = each.key }

  dynamic "condition" {
    for_each = var.alerting.presets
    content {
      preset                    = condition.value
      service                   = each.key
      threshold                 = lookup(var.alerting.thresholds, condition.value, null)
      disable_metric_validation = var.alerting.disable_metric_validation
    }
  }
}

data "alfred_grafana_dashboard" "agents" {
  count = var.alerting.enabled && length(var.agents) > 0 ? 1 : 0

  uid            = var.alerting.dashboard.uid
  title          = var.alerting.dashboard.title
  datasource_uid = var.alerting.dashboard.datasource_uid
  services       = sort(keys(var.agents))
}

output "alerting" {
  description = "Notification channel ids by key, alert policy ids by agent, and the dashboard JSON."
  value = {
    channels  = { for k, c in alfred_notification_channel.this : k => c.id }
    policies  = { for k, p in alfred_alert_policy.agent : k => p.id }
    dashboard = one(data.alfred_grafana_dashboard.agents[*].json)
  }
}
