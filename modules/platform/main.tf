# The Alfred platform as far as the provider builds it today: agents on Cloud Run, role-based access to
# task data in Postgres, and Prometheus' scrape configuration for the agents.
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

data "alfred_prometheus_scrape_config" "agents" {
  count = length(var.agents) > 0 ? 1 : 0

  job_name          = var.prometheus.job_name
  scrape_interval   = var.prometheus.scrape_interval
  bearer_token_file = var.prometheus.bearer_token_file
  services          = [for name in sort(keys(module.agent)) : module.agent[name].scrape_target]
}
