# One agent (alfred-bot, social-intel, ...) as a private, autoscaled Cloud Run service whose Prometheus
# metrics go to Cloud Monitoring through the Managed Service for Prometheus sidecar.
resource "alfred_agent_service" "this" {
  name            = var.name
  image           = var.image
  project         = var.project
  region          = var.region
  args            = length(var.args) > 0 ? var.args : null # the resource takes no empty list
  env             = var.env
  secret_env      = var.secret_env
  cpu             = var.cpu
  memory          = var.memory
  min_instances   = var.min_instances
  max_instances   = var.max_instances
  concurrency     = var.concurrency
  invokers        = var.invokers
  ingress         = "internal-and-cloud-load-balancing"
  service_account = var.service_account != null ? var.service_account : (var.project != null ? "${var.name}@${var.project}.iam.gserviceaccount.com" : null)
  labels          = merge(var.labels, { agent = var.name })
  # The Managed Service for Prometheus sidecar scrapes the agent inside each instance and writes to Cloud
  # Monitoring, where the alert policies read.
  metrics = {
    path          = var.metrics_path
    port          = var.metrics_port
    config_secret = var.metrics_config_secret
  }
  cpu_idle              = var.cpu_idle
  startup_cpu_boost     = var.startup_cpu_boost
  startup_probe         = var.startup_probe
  liveness_probe        = var.liveness_probe
  vpc_access            = var.vpc_access
  execution_environment = var.execution_environment
  secret_volumes        = var.secret_volumes
  tracing               = var.tracing
  deletion_protection   = var.deletion_protection
}

# Tasks reach the agent through Pub/Sub push, authenticated with an OIDC token of an invoker; tasks that
# fail max_delivery_attempts times wait in the dead-letter subscription.
resource "alfred_task_queue" "this" {
  count = var.task_queue == null ? 0 : 1

  name                  = "${var.name}-tasks"
  agent                 = alfred_agent_service.this.id
  push_service_account  = var.task_queue.push_service_account
  pubsub_service_agent  = var.pubsub_service_agent
  ack_deadline          = var.task_queue.ack_deadline
  min_backoff           = var.task_queue.min_backoff
  max_backoff           = var.task_queue.max_backoff
  max_delivery_attempts = var.task_queue.max_delivery_attempts
}

# The agent's alert presets, when asked for: one policy watching this service.
module "alerts" {
  source = "../observability"
  count  = var.alert_policy == null ? 0 : 1

  project               = var.project
  services              = [var.name]
  notification_channels = var.alert_policy.notification_channels
  alert_policies = {
    presets                   = var.alert_policy.presets
    thresholds                = var.alert_policy.thresholds
    severity                  = var.alert_policy.severity
    disable_metric_validation = var.alert_policy.disable_metric_validation
  }
  prometheus_rules = { enabled = false }
  dashboard        = { enabled = false }
}
