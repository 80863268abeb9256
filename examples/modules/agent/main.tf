# modules/agent: one private agent with its task queue and its own alert policy, sent to the on-call channel.
terraform {
  required_providers {
    alfred = {
      source = "alfred-platform/alfred"
    }
  }
}

provider "alfred" {}

resource "alfred_notification_channel" "oncall" {
  type         = "email"
  display_name = "On-call"
  labels       = { email_address = "oncall@example.com" }
}

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

  alert_policy = {
    presets               = ["task_failures", "task_latency", "cpu"]
    thresholds            = { task_latency = 45 }
    notification_channels = [alfred_notification_channel.oncall.id]
  }
}

output "uri" {
  value = module.alfred_bot.uri
}

output "task_queue" {
  value = module.alfred_bot.task_queue
}

output "alert_policy" {
  value = module.alfred_bot.alert_policy
}
