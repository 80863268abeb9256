output "channels" {
  description = "Notification channel ids (`projects/{project}/notificationChannels/{id}`) by key."
  value       = { for k, c in alfred_notification_channel.this : k => c.id }
}

output "policies" {
  description = "Alert policy ids (`projects/{project}/alertPolicies/{id}`) by service."
  value       = { for k, p in alfred_alert_policy.agent : k => p.id }
}

output "log_metrics" {
  description = "Log-based metrics by name: their Cloud Monitoring type and their name in PromQL."
  value       = { for k, m in alfred_log_metric.this : k => { metric_type = m.metric_type, prometheus_name = m.prometheus_name } }
}

output "prometheus_rules" {
  description = "Prometheus rules file (`groups:`) with the same presets, for a self-hosted Prometheus (null without services)."
  value       = one(data.alfred_prometheus_rules.agents[*].yaml)
}

output "dashboard" {
  description = "The Grafana dashboard JSON model (null without services)."
  value       = one(data.alfred_grafana_dashboard.agents[*].json)
}
