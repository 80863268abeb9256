# modules/agent: one private agent with its task queue.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

module "alfred_bot" {
  source = "../../../modules/agent"

  name          = "alfred-bot"
  image         = "europe-west1-docker.pkg.dev/alfred-prod/agents/alfred-bot:1.4.2"
  args          = ["--queue", "tasks"]
  env           = { LOG_LEVEL = "info" }
  secret_env    = { OPENAI_API_KEY = { secret = "openai-api-key" } }
  max_instances = 20
  cpu_idle      = false # consumes its queue between requests
  invokers      = ["serviceAccount:task-pusher@alfred-prod.iam.gserviceaccount.com"]

  task_queue           = { push_service_account = "task-pusher@alfred-prod.iam.gserviceaccount.com" }
  pubsub_service_agent = "service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
}

output "uri" {
  value = module.alfred_bot.uri
}

output "task_queue" {
  value = module.alfred_bot.task_queue
}
