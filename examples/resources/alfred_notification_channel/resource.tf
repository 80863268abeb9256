variable "slack_token" {
  type      = string
  sensitive = true
}

# Secrets go in sensitive_labels: the API returns them masked, and the provider never writes that back.
resource "alfred_notification_channel" "oncall_slack" {
  type             = "slack"
  display_name     = "On-call (Slack)"
  labels           = { channel_name = "#alfred-oncall" }
  sensitive_labels = { auth_token = var.slack_token }
  user_labels      = { team = "platform" }
}

resource "alfred_notification_channel" "oncall_mail" {
  type         = "email"
  display_name = "On-call (email)"
  labels       = { email_address = "oncall@example.com" }
}

resource "alfred_notification_channel" "incidents" {
  type         = "pubsub"
  display_name = "Incident bus"
  labels       = { topic = "projects/alfred-prod/topics/incidents" }
}
