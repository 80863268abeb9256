# Alerting and dashboards as code: notification channels, log-based metrics, one Cloud Monitoring alert
# policy per service built from the preset catalogue, and, from the same catalogue, the Prometheus rules
# file and the Grafana dashboard (rendered, as outputs).

locals {
  # The key of the log-based counter the failed_logins preset reads, if any.
  failed_logins_metric = var.alert_policies.failed_logins_log_metric
  channel_ids          = concat([for k in sort(keys(alfred_notification_channel.this)) : alfred_notification_channel.this[k].id], var.notification_channels)
}

resource "alfred_notification_channel" "this" {
  for_each = var.channels

  project          = var.project
  type             = each.value.type
  display_name     = coalesce(each.value.display_name, each.key)
  labels           = length(each.value.labels) > 0 ? each.value.labels : null
  sensitive_labels = lookup(var.channel_secrets, each.key, null)
}

resource "alfred_log_metric" "this" {
  for_each = var.log_metrics

  project          = var.project
  name             = each.key
  filter           = each.value.filter
  description      = each.value.description
  label_extractors = length(each.value.label_extractors) > 0 ? each.value.label_extractors : null
}

resource "alfred_alert_policy" "agent" {
  for_each = var.alert_policies.enabled ? var.services : toset([])

  project               = var.project
  display_name          = "${each.key}: agent health"
  severity              = var.alert_policies.severity
  combiner              = "OR"
  notification_channels = length(local.channel_ids) > 0 ? local.channel_ids : null
  documentation         = "# ${each.key}\n\n${var.alert_policies.runbook}"
  user_labels           = { agent = each.key }

  lifecycle {
    precondition {
      condition     = local.failed_logins_metric == null || contains(keys(var.log_metrics), coalesce(local.failed_logins_metric, "-"))
      error_message = "alert_policies.failed_logins_log_metric must be a key of log_metrics; got ${coalesce(local.failed_logins_metric, "null")}."
    }
  }

  dynamic "condition" {
    for_each = var.alert_policies.presets
    content {
      preset                    = condition.value
      service                   = each.key
      threshold                 = lookup(var.alert_policies.thresholds, condition.value, null)
      log_metric                = condition.value == "failed_logins" && local.failed_logins_metric != null ? alfred_log_metric.this[local.failed_logins_metric].name : null
      disable_metric_validation = var.alert_policies.disable_metric_validation
    }
  }
}

data "alfred_prometheus_rules" "agents" {
  count = var.prometheus_rules.enabled && length(var.services) > 0 ? 1 : 0

  group_name = var.prometheus_rules.group_name
  interval   = var.prometheus_rules.interval

  dynamic "rule" {
    for_each = flatten([for s in sort(var.services) : [for p in var.alert_policies.presets : { service = s, preset = p }]])
    content {
      preset    = rule.value.preset
      service   = rule.value.service
      threshold = lookup(var.alert_policies.thresholds, rule.value.preset, null)
    }
  }
}

data "alfred_grafana_dashboard" "agents" {
  count = var.dashboard.enabled && length(var.services) > 0 ? 1 : 0

  uid            = var.dashboard.uid
  title          = var.dashboard.title
  datasource_uid = var.dashboard.datasource_uid
  services       = sort(var.services)
}
