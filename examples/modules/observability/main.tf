# modules/observability: a Slack channel, a log-based failed-logins counter, one preset policy per agent,
# and the Prometheus rules and Grafana dashboard rendered from the same presets.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

variable "slack_token" {
  type      = string
  sensitive = true
}

module "observability" {
  source = "../../../modules/observability"

  services        = ["alfred-bot", "social-intel"]
  channels        = { slack = { type = "slack", labels = { channel_name = "#oncall" } } }
  channel_secrets = { slack = { auth_token = var.slack_token } }

  log_metrics = {
    "auth/failed_logins" = {
      filter           = "resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"login_failed\""
      label_extractors = { service = "EXTRACT(resource.labels.service_name)" }
    }
  }
  alert_policies = {
    presets                  = ["task_failures", "task_latency", "failed_logins"]
    thresholds               = { task_latency = 45 }
    failed_logins_log_metric = "auth/failed_logins"
  }
  dashboard = { datasource_uid = "managed-prometheus" }
}

output "prometheus_rules" {
  value = module.observability.prometheus_rules
}

output "dashboard" {
  value = module.observability.dashboard
}
