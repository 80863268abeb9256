output "agent_uris" {
  description = "URL of each agent."
  value       = { for name, a in module.agent : name => a.uri }
}

output "prometheus_scrape_configs" {
  description = "prometheus.yml fragment with a top-level `scrape_configs` list."
  value       = one(data.alfred_prometheus_scrape_config.agents[*].yaml)
}

output "rbac" {
  description = "What the security module created."
  value = {
    roles          = module.security.role_names
    assignments    = module.security.assignment_ids
    table_policies = module.security.table_policy_ids
  }
}

output "task_queues" {
  description = "Each agent's task queue (agents with a task_queue): the topic to publish tasks to, and the dead-letter subscription where failed tasks wait."
  value       = { for name, a in module.agent : name => a.task_queue if a.task_queue != null }
}

output "alerting" {
  description = "Notification channel ids by key, alert policy ids by agent, log-based metrics, and the rendered Prometheus rules file and Grafana dashboard JSON."
  value = {
    channels         = module.observability.channels
    policies         = module.observability.policies
    log_metrics      = module.observability.log_metrics
    prometheus_rules = module.observability.prometheus_rules
    dashboard        = module.observability.dashboard
  }
}

output "data" {
  description = "Qdrant collections (status, aliases, replicas per shard), read replicas (status, endpoint), partitions and network security."
  value = {
    collections      = module.data.collections
    read_replicas    = module.data.read_replicas
    partitions       = module.data.partitions
    network_security = module.data.network_security
  }
}

output "backups" {
  description = "The backup policy (`policy_id`, `scheduler_job`, `last_success`) and the pre-migration backup (`backup_id`, `bucket`, `prefix`, ...), or null when backups are off."
  value = var.backups.enabled ? {
    policy_id            = module.backups[0].policy_id
    scheduler_job        = module.backups[0].scheduler_job
    last_success         = module.backups[0].last_success
    pre_migration_backup = module.backups[0].pre_migration_backup
  } : null
}
