# Presets of the catalogue: the PromQL is rendered by the provider and parsed at plan time.
resource "alfred_alert_policy" "alfred_bot" {
  display_name          = "alfred-bot"
  severity              = "ERROR"
  notification_channels = [alfred_notification_channel.oncall_mail.id]
  combiner              = "OR"
  documentation         = <<-EOT
    # alfred-bot is failing
    1. Check the dead-letter subscription of the task queue.
    2. Roll back the last revision if failures started with it.
  EOT
  documentation_subject = "alfred-bot: tasks failing"

  condition {
    preset    = "task_failures"
    service   = "alfred-bot"
    threshold = 0
  }

  condition {
    preset    = "task_latency"
    service   = "alfred-bot"
    threshold = 30
    duration  = "10m"
  }

  condition {
    preset  = "memory"
    service = "alfred-bot"
  }
}

# Failed logins counted from the logs by a log-based metric; a backup-age alert created before the first
# backup has written its metric.
resource "alfred_alert_policy" "security" {
  display_name          = "security and backups"
  severity              = "CRITICAL"
  notification_channels = [alfred_notification_channel.oncall_mail.id]
  combiner              = "OR"

  condition {
    preset                    = "failed_logins"
    log_metric                = "alfred_failed_logins"
    threshold                 = 20
    disable_metric_validation = true
  }

  condition {
    preset                    = "backup_staleness"
    threshold                 = 93600
    disable_metric_validation = true
  }
}

# Raw PromQL.
resource "alfred_alert_policy" "no_traffic" {
  display_name = "social-intel receives no tasks"
  severity     = "WARNING"

  condition {
    display_name        = "no tasks for 30 minutes"
    promql              = "sum(rate(alfred_tasks_processed_total{service=\"social-intel\"}[30m])) == 0"
    duration            = "30m"
    evaluation_interval = "60s"
  }
}
