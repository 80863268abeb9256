# A small platform for the plan review tests: applied once against the sandbox, then changed by the
# scenarios of review_acc_test.go (override files and edits), planned, and reviewed.
terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}

provider "alfred" {}

variable "project_ref" {
  type = string
}

variable "bot_image" {
  type      = string
  sensitive = true
  default   = "example.com/bot:1"
}

module "data" {
  source      = "./data"
  project_ref = var.project_ref
}

resource "alfred_agent_service" "bot" {
  name     = "bot"
  image    = var.bot_image
  ingress  = "internal"
  invokers = ["serviceAccount:gw@p.iam.gserviceaccount.com"]
}

resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["tasks.read"]
}

resource "alfred_rbac_role" "analyst" {
  name        = "analyst"
  permissions = ["task_results.read"]
}

resource "alfred_rbac_table_policy" "results" {
  schema            = "public"
  table             = "task_results"
  select_permission = "task_results.read"
}

resource "alfred_notification_channel" "oncall" {
  type         = "email"
  display_name = "On-call"
  labels       = { email_address = "oncall@example.com" }
}

resource "alfred_alert_policy" "bot" {
  display_name          = "bot"
  severity              = "ERROR"
  notification_channels = [alfred_notification_channel.oncall.id]

  condition {
    preset                    = "task_failures"
    service                   = "bot"
    threshold                 = 0
    disable_metric_validation = true
  }
}
