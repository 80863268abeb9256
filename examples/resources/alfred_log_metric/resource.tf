# Count failed logins from the logs of Cloud Run services that do not export a Prometheus counter, by
# service. The failed_logins alert preset can read it through prometheus_name.
resource "alfred_log_metric" "failed_logins" {
  name        = "auth/failed_logins"
  description = "Failed login attempts, from the services' structured logs"
  filter      = <<-EOT
    resource.type = "cloud_run_revision"
    AND jsonPayload.event = "login_failed"
  EOT

  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
    user    = "REGEXP_EXTRACT(jsonPayload.message, \"user=([A-Za-z0-9_.@-]+)\")"
  }
}

# A distribution of task durations taken from the logs.
resource "alfred_log_metric" "task_seconds" {
  name            = "tasks/duration_seconds"
  filter          = "jsonPayload.event=\"task_done\""
  value_type      = "DISTRIBUTION"
  value_extractor = "EXTRACT(jsonPayload.seconds)"
  bucket_bounds   = [0.5, 1, 5, 30, 120]

  label_extractors = {
    service = "EXTRACT(resource.labels.service_name)"
  }
}

output "failed_logins_promql_name" {
  # logging_googleapis_com:user_auth_failed_logins
  value = alfred_log_metric.failed_logins.prometheus_name
}
