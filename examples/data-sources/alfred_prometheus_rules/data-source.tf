# Alert rules for a self-hosted Prometheus, from the same presets the Cloud Monitoring alert policies use.
data "alfred_prometheus_rules" "agents" {
  group_name = "alfred-agents"
  interval   = "1m"

  rule {
    preset      = "task_failures"
    service     = "alfred-bot"
    runbook_url = "https://runbooks.example.com/task-failures"
  }
  rule {
    preset    = "task_latency"
    service   = "alfred-bot"
    threshold = 20 # seconds, p95
    duration  = "10m"
  }
  rule {
    preset  = "cpu"
    service = "alfred-bot"
  }
  rule {
    preset  = "memory"
    service = "alfred-bot"
  }
  rule {
    preset   = "failed_logins" # every service
    severity = "CRITICAL"
  }
  rule {
    preset  = "request_rate_anomaly"
    service = "social-intel"
  }
  rule {
    preset    = "backup_staleness"
    threshold = 93600 # 26 hours
  }
  # Raw PromQL, parsed at plan time.
  rule {
    name     = "QueueBacklog"
    promql   = "sum by (subscription_id) (pubsub_googleapis_com:subscription_num_undelivered_messages) > 1000"
    duration = "15m"
    labels   = { team = "agents" }
    annotations = {
      summary = "{{ $labels.subscription_id }} has {{ $value }} undelivered messages"
    }
  }
}

# Write it where Prometheus' rule_files points (e.g. with a templated file or a ConfigMap).
output "prometheus_rules" {
  value = data.alfred_prometheus_rules.agents.yaml
}
