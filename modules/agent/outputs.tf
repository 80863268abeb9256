output "id" {
  description = "Full resource name of the Cloud Run service."
  value       = alfred_agent_service.this.id
}

output "uri" {
  description = "The service's URL."
  value       = alfred_agent_service.this.uri
}

output "scrape_target" {
  description = "The agent as an element of alfred_prometheus_scrape_config's `services`, for a self-hosted Prometheus. On Cloud Run such a scrape reaches one instance per request; the metrics sidecar writes every instance's metrics to Cloud Monitoring."
  value = {
    name         = alfred_agent_service.this.name
    uri          = alfred_agent_service.this.uri
    metrics_path = var.metrics_path
  }
}

output "task_queue" {
  description = "The task queue's topic, subscription and dead-letter subscription (null without task_queue)."
  value = var.task_queue == null ? null : {
    topic                    = alfred_task_queue.this[0].topic
    subscription             = alfred_task_queue.this[0].subscription
    dead_letter_subscription = alfred_task_queue.this[0].dead_letter_subscription
  }
}

output "alert_policy" {
  description = "Id of the agent's alert policy (null without alert_policy)."
  value       = one([for m in module.alerts : m.policies[var.name]])
}
