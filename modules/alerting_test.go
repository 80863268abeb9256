package modules_test

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// The platform module's alerting: a Slack channel whose token comes from the sensitive variable, one
// preset policy per agent sent to it, the dashboard rendered; the second plan is empty; destroy removes them.
func TestPlatformModuleAlertingAppliesChannelPoliciesAndDashboard(t *testing.T) {
	env := sandboxEnv(t)
	ctx := context.Background()
	cli := acctest.NewCLI(t)
	t.Setenv("TF_VAR_slack_token", "xoxb-module-test-token-4242")
	dir := workDir(t, header+`
variable "slack_token" {
  type      = string
  sensitive = true
}
module "platform" {
  source = "MODULES/platform"
  deletion_protection = false
  agents = {
    "alfred-bot"   = { image = "example.com/alfred-bot:1" }
    "social-intel" = { image = "example.com/social-intel:1" }
  }
  alerting = {
    enabled  = true
    channels = { slack = { type = "slack", labels = { channel_name = "#oncall" } } }
    presets  = ["task_failures", "task_latency", "cpu", "memory", "failed_logins", "request_rate_anomaly"]
    thresholds = { task_latency = 45 }
    disable_metric_validation = true
  }
  alerting_channel_secrets = { slack = { auth_token = var.slack_token } }
}
output "alerting" {
  value = module.platform.alerting
}
`)
	cli.Init(t, dir)
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")
	if code, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the second plan must be empty:\n%s", out)
	}
	_, dash := cli.Run(t, dir, []int{0}, "output", "-json", "alerting")
	if !strings.Contains(dash, "alfred_tasks_processed_total") {
		t.Errorf("the alerting output lacks the dashboard JSON: %.300s", dash)
	}

	list := func() []*monitoringpb.AlertPolicy { return alertPolicies(ctx, t, env) }
	policies := list()
	if len(policies) != 2 {
		t.Fatalf("want one policy per agent, got %d", len(policies))
	}
	for _, p := range policies {
		if len(p.Conditions) != 6 || len(p.NotificationChannels) != 1 || p.Combiner != monitoringpb.AlertPolicy_OR {
			t.Errorf("policy %s: %d conditions, channels %v, combiner %v", p.DisplayName, len(p.Conditions), p.NotificationChannels, p.Combiner)
		}
		if q := p.Conditions[1].GetConditionPrometheusQueryLanguage().GetQuery(); !strings.HasSuffix(q, "> 45") {
			t.Errorf("task_latency threshold from the module's thresholds: %s", q)
		}
	}
	cli.Run(t, dir, []int{0}, "destroy", "-auto-approve", "-input=false", "-no-color")
	if n := len(list()); n != 0 {
		t.Errorf("destroy must delete the policies, %d left", n)
	}
}

// modules/agent with alert_policy: one preset policy watching that agent, sent to a channel made outside
// the module; destroy removes it.
func TestAgentModuleAlertPolicyWatchesTheAgent(t *testing.T) {
	env := sandboxEnv(t)
	ctx := context.Background()
	cli := acctest.NewCLI(t)
	dir := workDir(t, header+`
resource "alfred_notification_channel" "oncall" {
  type         = "email"
  display_name = "On-call"
  labels       = { email_address = "oncall@example.com" }
}
module "agent" {
  source              = "MODULES/agent"
  name                = "alfred-bot"
  image               = "example.com/alfred-bot:1"
  deletion_protection = false
  alert_policy = {
    presets                   = ["task_failures", "cpu"]
    notification_channels     = [alfred_notification_channel.oncall.id]
    disable_metric_validation = true
  }
}
output "policy" { value = module.agent.alert_policy }
`)
	cli.Init(t, dir)
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")
	if code, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the second plan must be empty:\n%s", out)
	}
	policies := alertPolicies(ctx, t, env)
	if len(policies) != 1 || policies[0].GetDisplayName() != "alfred-bot: agent health" || len(policies[0].GetConditions()) != 2 || len(policies[0].GetNotificationChannels()) != 1 {
		t.Fatalf("want one policy of two presets for alfred-bot, sent to the channel: %v", policies)
	}
	if _, out := cli.Run(t, dir, []int{0}, "output", "-raw", "policy"); out != policies[0].GetName() {
		t.Errorf("output alert_policy = %q, want %q", out, policies[0].GetName())
	}
	cli.Run(t, dir, []int{0}, "destroy", "-auto-approve", "-input=false", "-no-color")
	if n := len(alertPolicies(ctx, t, env)); n != 0 {
		t.Errorf("destroy must delete the policy, %d left", n)
	}
}
