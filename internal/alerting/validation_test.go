package alerting_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

// Bad inputs fail the plan with a message that names the attribute, and no write reaches the API.
func TestAccAlerting_badInputsRejectedAtPlan(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	policy := func(body string) string {
		return s.provider() + `
resource "alfred_alert_policy" "p" {
  display_name = "p"
` + body + `
}
`
	}
	channel := func(body string) string {
		return s.provider() + `
resource "alfred_notification_channel" "c" {
  display_name = "c"
` + body + `
}
`
	}
	cases := []struct {
		name, cfg, want string
	}{
		{"promql typo", policy(`condition { promql = "sum(rate(alfred_tasks_processed_total[5m]) > 1" }`),
			`(?s)condition\[0\]\.promql.*PromQL does not parse at 1:`},
		{"promql range vector", policy(`condition { promql = "alfred_tasks_processed_total[5m]" }`), `(?s)condition\[0\]\.promql.*range vector`},
		{"unknown preset", policy(`condition { preset = "cpuu" }`), `(?s)condition\[0\]\.preset.*value must be one of`},
		{"preset and promql", policy(`condition {
    preset = "cpu"
    promql = "up"
  }`), `(?s)condition\[0\]\.preset.*exactly one of preset`},
		{"neither preset nor promql", policy(`condition { duration = "5m" }`), `(?s)condition\[0\]\.preset.*exactly one of preset`},
		{"service missing", policy(`condition { preset = "task_latency" }`), `(?s)condition\[0\]\.service.*alerts on one service`},
		{"threshold above bound", policy(`condition {
    preset    = "cpu"
    service   = "alfred-bot"
    threshold = 1.5
  }`), `(?s)condition\[0\]\.threshold.*between 0\.01 and 1`},
		{"negative threshold", policy(`condition {
    preset    = "task_failures"
    service   = "alfred-bot"
    threshold = -1
  }`), `(?s)condition\[0\]\.threshold.*between 0 and`},
		{"duration malformed", policy(`condition {
    promql   = "up == 0"
    duration = "5 minutes"
  }`), `(?s)condition\[0\]\.duration.*not a Prometheus duration`},
		{"duration too long", policy(`condition {
    promql   = "up == 0"
    duration = "3d"
  }`), `(?s)condition\[0\]\.duration.*longer than`},
		{"evaluation interval not a multiple of 30s", policy(`condition {
    promql              = "up == 0"
    evaluation_interval = "45s"
  }`), `(?s)condition\[0\]\.evaluation_interval.*multiple of 30 seconds`},
		{"threshold on promql", policy(`condition {
    promql    = "up == 0"
    threshold = 3
  }`), `(?s)condition\[0\]\.threshold.*belongs to preset`},
		{"log_metric on a preset without one", policy(`condition {
    preset     = "cpu"
    service    = "alfred-bot"
    log_metric = "failed_logins"
  }`), `(?s)condition\[0\]\.log_metric.*failed_logins`},
		{"task_queue on a preset without one", policy(`condition {
    preset     = "task_latency"
    service    = "alfred-bot"
    task_queue = "projects/alfred-test/subscriptions/alfred-bot-tasks"
  }`), `(?s)condition\[0\]\.task_queue.*task_failures`},
		{"task_queue not a subscription", policy(`condition {
    preset     = "task_failures"
    task_queue = "alfred bot tasks"
  }`), `(?s)condition\[0\]\.task_queue.*not a Pub/Sub subscription`},
		{"task_queue on promql", policy(`condition {
    promql     = "up == 0"
    task_queue = "alfred-bot-tasks"
  }`), `(?s)condition\[0\]\.task_queue.*belongs to preset`},
		{"combiner missing", policy(`condition { promql = "up == 0" }
  condition { promql = "up == 1" }`), `(?s)combiner.*With 2 conditions`},
		{"bad combiner", policy(`combiner = "XOR"
  condition { promql = "up == 0" }`), `(?s)combiner.*value must be one of`},
		{"seven conditions", policy(`combiner = "OR"
  condition { promql = "up == 0" }
  condition { promql = "up == 1" }
  condition { promql = "up == 2" }
  condition { promql = "up == 3" }
  condition { promql = "up == 4" }
  condition { promql = "up == 5" }
  condition { promql = "up == 6" }`), `(?s)condition.*at most 6|between 1 and 6`},
		{"bad severity", policy(`severity = "PANIC"
  condition { promql = "up == 0" }`), `(?s)severity.*value must be one of`},
		{"malformed channel id", policy(`notification_channels = ["oncall"]
  condition { promql = "up == 0" }`), `(?s)notification_channels.*not a notification channel id`},
		{"unknown channel", policy(`notification_channels = ["projects/alfred-test/notificationChannels/123"]
  condition { promql = "up == 0" }`), `(?s)notification_channels.*does not exist`},
		{"channel of another project", policy(`notification_channels = ["projects/other/notificationChannels/123"]
  condition { promql = "up == 0" }`), `(?s)notification_channels.*belongs to project other`},
		{"bad user label", policy(`user_labels = { Team = "x" }
  condition { promql = "up == 0" }`), `(?s)user_labels\["Team"\].*keys begin with`},
		{"reserved user label", policy(`user_labels = { alfred_id = "x" }
  condition { promql = "up == 0" }`), `(?s)user_labels\["alfred_id"\].*reserved`},
		{"documentation too long", policy(`documentation = "${join("", [for i in range(1000) : "xxxxxxxxx"])}"
  condition { promql = "up == 0" }`), `(?s)documentation.*8192`},
		{"channel type unknown", channel(`type = "sms"`), `(?s)type.*value must be one of`},
		{"email missing", channel(`type = "email"`), `(?s)labels.*needs labels\.email_address`},
		{"slack token in labels", channel(`type = "slack"
  labels = { channel_name = "#x", auth_token = "t" }`), `(?s)labels\["auth_token"\].*sensitive_labels`},
		{"slack token missing", channel(`type = "slack"
  labels = { channel_name = "#x" }`), `(?s)sensitive_labels.*needs sensitive_labels\.auth_token`},
		{"bad email", channel(`type = "email"
  labels = { email_address = "not an address" }`), `(?s)labels\["email_address"\].*plain email address`},
		{"bad webhook url", channel(`type = "webhook_tokenauth"
  labels = { url = "ftp://x" }`), `(?s)labels\["url"\].*http\(s\) URL`},
		{"bad pubsub topic", channel(`type = "pubsub"
  labels = { topic = "alerts" }`), `(?s)labels\["topic"\].*Pub/Sub topic`},
		{"unknown label for type", channel(`type = "pagerduty"
  labels = { channel_name = "#x" }
  sensitive_labels = { service_key = "k" }`), `(?s)labels\["channel_name"\].*no label`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		steps = append(steps, resource.TestStep{Config: c.cfg, PlanOnly: true, ExpectError: regexp.MustCompile(strings.ReplaceAll(c.want, " ", `\s+`))}) // Terraform wraps lines
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
	if n := s.writes(); n != 0 {
		t.Fatalf("bad inputs must be refused before any write; %d write calls reached the API: %v", n, s.kit.Calls())
	}
	if len(cases) < 15 {
		t.Fatalf("only %d cases", len(cases))
	}
}
