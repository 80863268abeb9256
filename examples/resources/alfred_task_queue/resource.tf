# The task queue of an agent: tasks published to the topic are pushed to the agent with an OIDC token of
# the push identity, which must be one of the agent's invokers (checked at apply, after the agent's own
# changes). A task that fails max_delivery_attempts times goes to the dead-letter subscription.
resource "alfred_task_queue" "alfred_bot" {
  name                 = "alfred-bot-tasks"
  agent                = alfred_agent_service.alfred_bot.id
  push_service_account = "task-pusher@alfred-prod.iam.gserviceaccount.com"
  pubsub_service_agent = "service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"

  ack_deadline          = "60s"
  min_backoff           = "10s"
  max_backoff           = "600s"
  max_delivery_attempts = 5
  message_retention     = "604800s"
}

output "alfred_bot_tasks_topic" {
  value = alfred_task_queue.alfred_bot.topic
}
