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

  metrics = {
    path = "/metrics"
  }

  # The default: destroying or replacing the service fails until false has been applied.
  deletion_protection = true

  timeouts {
    create = "15m"
    update = "15m"
  }
}
