# The Alfred platform from one set of variables: the agents on Cloud Run (modules/agent), role-based access
# to task data (modules/security), the data layer (modules/data: Qdrant collections, Supabase read replicas
# and network security, time partitions), alerting and dashboards (modules/observability), and Prometheus'
# scrape configuration for the agents.
module "agent" {
  source   = "../agent"
  for_each = var.agents

  name                  = each.key
  project               = var.project
  image                 = each.value.image
  args                  = each.value.args
  env                   = each.value.env
  secret_env            = each.value.secret_env
  memory                = each.value.memory
  cpu                   = each.value.cpu
  min_instances         = each.value.min_instances
  max_instances         = each.value.max_instances
  concurrency           = each.value.concurrency
  invokers              = each.value.invokers
  labels                = each.value.labels
  metrics_path          = each.value.metrics_path
  cpu_idle              = each.value.cpu_idle
  metrics_config_secret = each.value.metrics_config_secret
  tracing               = each.value.tracing
  task_queue            = each.value.task_queue
  pubsub_service_agent  = var.pubsub_service_agent

  deletion_protection = var.deletion_protection
}

module "security" {
  source = "../security"

  roles          = var.roles
  assignments    = var.assignments
  table_policies = var.table_policies
}

module "data" {
  source = "../data"

  collections      = var.collections
  project_ref      = var.supabase_project_ref
  read_replicas    = var.read_replicas
  network_security = var.network_security
  partitions       = var.partitions
}

module "observability" {
  source = "../observability"

  project         = var.project
  services        = var.alerting.enabled ? toset(keys(var.agents)) : toset([])
  channels        = var.alerting.enabled ? var.alerting.channels : {}
  channel_secrets = var.alerting_channel_secrets
  log_metrics     = var.alerting.enabled ? var.alerting.log_metrics : {}
  alert_policies = {
    severity                  = var.alerting.severity
    presets                   = var.alerting.presets
    thresholds                = var.alerting.thresholds
    runbook                   = var.alerting.runbook
    disable_metric_validation = var.alerting.disable_metric_validation
    failed_logins_log_metric  = var.alerting.failed_logins_log_metric
  }
  prometheus_rules = var.alerting.prometheus_rules
  dashboard        = var.alerting.dashboard
}

# Alerting lived in this module before modules/observability: the same objects, not new ones.
moved {
  from = alfred_notification_channel.this
  to   = module.observability.alfred_notification_channel.this
}

moved {
  from = alfred_alert_policy.agent
  to   = module.observability.alfred_alert_policy.agent
}

# Backups: a scheduled policy and, with pre_migration, a backup taken at apply (modules/backups).
module "backups" {
  source = "../backups"
  count  = var.backups.enabled ? 1 : 0

  name                   = var.backups.name
  schedule               = var.backups.schedule
  time_zone              = var.backups.time_zone
  keep_last              = var.backups.keep_last
  max_age                = var.backups.max_age
  postgres_dsn           = var.backup_postgres_dsn
  databases              = var.backups.databases
  qdrant_collections     = var.backups.qdrant_collections
  bucket                 = var.backups.bucket
  prefix                 = var.backups.prefix
  encryption_key         = var.backup_encryption_key
  runner_image           = var.backups.runner_image
  runner_service_account = var.backups.runner_service_account
  runner_grant_role      = var.backups.runner_grant_role
  pre_migration          = var.backups.pre_migration

  # The collections are backed up once they exist.
  depends_on = [module.data]
}

data "alfred_prometheus_scrape_config" "agents" {
  count = length(var.agents) > 0 ? 1 : 0

  job_name          = var.prometheus.job_name
  scrape_interval   = var.prometheus.scrape_interval
  bearer_token_file = var.prometheus.bearer_token_file
  services          = [for name in sort(keys(module.agent)) : module.agent[name].scrape_target]
}
