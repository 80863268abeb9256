# One agent (alfred-bot, social-intel, ...) as a private, autoscaled Cloud Run service that exposes its
# Prometheus metrics.
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
  metrics = {
    path = var.metrics_path
  }
  deletion_protection = var.deletion_protection
}
