# An agent that takes tasks from Pub/Sub and is called only by the gateway's service account.
resource "alfred_agent_service" "alfred_bot" {
  name   = "alfred-bot"
  image  = "europe-west1-docker.pkg.dev/alfred-prod/agents/alfred-bot:1.4.2"
  region = "europe-west1"

  args = ["--queue", "tasks"]
  env = {
    LOG_LEVEL  = "info"
    QDRANT_URL = "qdrant.internal:6334"
  }
  # References only: Cloud Run reads the value from Secret Manager when an instance starts.
  secret_env = {
    OPENAI_API_KEY = { secret = "openai-api-key", version = "3" }
    SUPABASE_DSN   = { secret = "supabase-dsn" } # version defaults to "latest"
  }

  cpu           = "1"
  memory        = "1Gi"
  min_instances = 1
  max_instances = 20
  concurrency   = 40
  timeout       = "300s"

  service_account = "alfred-bot@alfred-prod.iam.gserviceaccount.com"
  ingress         = "internal-and-cloud-load-balancing"
  invokers        = ["serviceAccount:gateway@alfred-prod.iam.gserviceaccount.com"]

  labels = {
    team  = "agents"
    agent = "alfred-bot"
  }

  # A queue consumer works between requests: keep its CPU allocated, and boost it while starting.
  cpu_idle          = false
  startup_cpu_boost = true

  startup_probe = {
    http_get          = { path = "/ready" }
    period_seconds    = 5
    failure_threshold = 24 # 5 s x 24 = 120 s to start (at most 240 s)
  }
  liveness_probe = {
    http_get       = { path = "/healthz" }
    period_seconds = 30
  }

  # Direct VPC egress to reach Qdrant on its private address.
  vpc_access = {
    subnetwork = "agents"
    egress     = "private-ranges-only"
  }

  # A credentials file, read from Secret Manager (references only).
  secret_volumes = {
    "/secrets/gcp" = { secret = "alfred-bot-sa-key", path = "key.json" }
  }

  # Rendered as LANGSMITH_TRACING, LANGSMITH_PROJECT, LANGSMITH_ENDPOINT and LANGSMITH_API_KEY.
  tracing = {
    langsmith_project  = "alfred-bot-prod"
    langsmith_endpoint = "https://eu.api.smith.langchain.com"
    api_key_secret     = "langsmith-api-key"
  }

  # Runs the Managed Service for Prometheus sidecar, which scrapes :8080/metrics in every instance.
  metrics = {}

  # The default: destroying or replacing the service fails until false has been applied.
  deletion_protection = true

  timeouts {
    create = "15m"
    update = "15m"
  }
}
