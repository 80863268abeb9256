package alerting_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

const policyAddr = "alfred_alert_policy.bot"

type policyParams struct {
	threshold string
	channels  string // HCL list expression
	enabled   bool
	runbook   string
	duration  string
}

func policyConfig(s *sandbox, p policyParams) string {
	return s.provider() + mailChannel + fmt.Sprintf(`
resource "alfred_notification_channel" "hook" {
  type         = "webhook_tokenauth"
  display_name = "hook"
  labels       = { url = "https://hooks.example.com/alerts" }
}

resource "alfred_alert_policy" "bot" {
  display_name          = "alfred-bot"
  severity              = "ERROR"
  enabled               = %t
  notification_channels = %s
  documentation         = %q
  documentation_subject = "alfred-bot alert"
  combiner              = "OR"
  user_labels           = { agent = "alfred-bot" }

  condition {
    preset                    = "task_failures"
    service                   = "alfred-bot"
    threshold                 = %s
    duration                  = %q
    disable_metric_validation = true
  }

  condition {
    display_name              = "queue backlog"
    promql                    = "sum(rate(alfred_tasks_processed_total[5m])) < 1"
    duration                  = "300s"
    evaluation_interval       = "60s"
    disable_metric_validation = true
  }
}
`, p.enabled, p.channels, p.runbook, p.threshold, p.duration)
}

// Create, update in place (threshold, channels, enabled, documentation) keeping the policy and its
// condition names, import by full name and {project}/{id}, drift (changed and deleted outside) repaired,
// destroy checked through the API; no perpetual diff from "300s" against the server's 5m.
func TestAccAlertPolicy_lifecycleKeepsConditionNamesAndRepairsDrift(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	ctx := context.Background()
	var id, cond0, cond1 string
	base := policyParams{threshold: "0", channels: "[alfred_notification_channel.mail.id]", enabled: true, runbook: "# Runbook\nRestart the worker.", duration: "1m"}
	upd := policyParams{threshold: "5", channels: "[alfred_notification_channel.mail.id, alfred_notification_channel.hook.id]", enabled: false, runbook: "# Runbook v2\nPage the owner.", duration: "2m"}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: policyConfig(s, base),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(policyAddr, "id", regexp.MustCompile(`^projects/alfred-test/alertPolicies/[0-9]+$`)),
					resource.TestCheckResourceAttrWith(policyAddr, "id", capture(&id)),
					resource.TestCheckResourceAttrWith(policyAddr, "condition.0.name", capture(&cond0)),
					resource.TestCheckResourceAttrWith(policyAddr, "condition.1.name", capture(&cond1)),
					resource.TestCheckResourceAttr(policyAddr, "condition.0.display_name", "Task failures: alfred-bot"),
					resource.TestCheckResourceAttr(policyAddr, "condition.0.query", `sum by (service) (increase(alfred_tasks_failed_total{service="alfred-bot"}[5m])) > 0`),
					resource.TestCheckResourceAttr(policyAddr, "condition.1.duration", "300s"),
					resource.TestCheckResourceAttr(policyAddr, "notification_channels.#", "1"),
					func(st *terraform.State) error {
						p := s.policy(t, id)
						if p.Severity != monitoringpb.AlertPolicy_ERROR || p.Documentation.GetContent() != base.runbook || p.UserLabels["agent"] != "alfred-bot" {
							return fmt.Errorf("policy as stored: %v", p)
						}
						if got := p.Conditions[1].GetConditionPrometheusQueryLanguage().GetDuration().AsDuration().String(); got != "5m0s" {
							return fmt.Errorf("duration stored %s", got)
						}
						return nil
					},
				),
			},
			{
				Config: policyConfig(s, upd),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(policyAddr, "id", same(&id)),
					resource.TestCheckResourceAttrWith(policyAddr, "condition.0.name", same(&cond0)),
					resource.TestCheckResourceAttrWith(policyAddr, "condition.1.name", same(&cond1)),
					resource.TestCheckResourceAttr(policyAddr, "enabled", "false"),
					resource.TestCheckResourceAttr(policyAddr, "notification_channels.#", "2"),
					resource.TestCheckResourceAttr(policyAddr, "condition.0.query", `sum by (service) (increase(alfred_tasks_failed_total{service="alfred-bot"}[5m])) > 5`),
					func(st *terraform.State) error {
						p := s.policy(t, id)
						if p.GetEnabled().GetValue() || len(p.NotificationChannels) != 2 || p.Documentation.GetContent() != upd.runbook ||
							!strings.HasSuffix(p.Conditions[0].GetConditionPrometheusQueryLanguage().Query, "> 5") ||
							p.Conditions[0].Name != cond0 || p.Conditions[1].Name != cond1 {
							return fmt.Errorf("policy as stored after update: %v", p)
						}
						if p.UserLabels["alfred_id"] == "" {
							return fmt.Errorf("the provider's alfred_id label was lost on update: %v", p.UserLabels)
						}
						return nil
					},
				),
			},
			{ResourceName: policyAddr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"condition.0.preset", "condition.0.service", "condition.0.threshold", "condition.0.duration", "condition.0.promql",
					// The server's spelling of equal durations (5m for 300s); the configuration's is kept in a plan.
					"condition.1.duration", "condition.1.evaluation_interval"}},
			{ResourceName: policyAddr, ImportState: true, ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) {
					return testProject + "/" + id[strings.LastIndex(id, "/")+1:], nil
				},
				ImportStateVerifyIgnore: []string{"condition.0.preset", "condition.0.service", "condition.0.threshold", "condition.0.duration", "condition.0.promql",
					// The server's spelling of equal durations (5m for 300s); the configuration's is kept in a plan.
					"condition.1.duration", "condition.1.evaluation_interval"}},
			{
				// Changed outside Terraform: the preset's query, the runbook and enabled; the plan repairs them.
				PreConfig: func() {
					p := s.policy(t, id)
					p.Conditions[0].GetConditionPrometheusQueryLanguage().Query = "vector(1)"
					p.Documentation.Content = "edited in the console"
					_, err := s.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{AlertPolicy: p,
						UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"conditions", "documentation.content"}}})
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: policyConfig(s, upd),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionUpdate)}},
				Check: func(st *terraform.State) error {
					p := s.policy(t, id)
					if p.Documentation.GetContent() != upd.runbook || !strings.HasSuffix(p.Conditions[0].GetConditionPrometheusQueryLanguage().Query, "> 5") {
						return fmt.Errorf("drift not repaired: %v", p)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					if err := s.alerts.DeleteAlertPolicy(ctx, &monitoringpb.DeleteAlertPolicyRequest{Name: id}); err != nil {
						t.Fatal(err)
					}
				},
				Config: policyConfig(s, upd),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(policyAddr, plancheck.ResourceActionCreate)}},
				Check: resource.TestCheckResourceAttrWith(policyAddr, "id", differs(&id)),
			},
		},
	})
}

// A PromQL condition on a metric never written is refused by the API unless disable_metric_validation
// is set; with it, a backup-age alert applies before the first backup.
func TestAccAlertPolicy_metricNotWrittenNeedsDisableMetricValidation(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	cfg := func(disable bool) string {
		return s.provider() + fmt.Sprintf(`
resource "alfred_alert_policy" "backup" {
  display_name = "backups"
  severity     = "CRITICAL"
  condition {
    preset                    = "backup_staleness"
    disable_metric_validation = %t
  }
}
`, disable)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg(false), ExpectError: regexp.MustCompile(`(?s)alfred_backup_last_success_timestamp_seconds.*disable_metric_validation`)},
			{Config: cfg(true), Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckNoResourceAttr("alfred_alert_policy.backup", "condition.0.duration"),
				resource.TestCheckResourceAttr("alfred_alert_policy.backup", "condition.0.display_name", "Backup age"),
				resource.TestCheckResourceAttr("alfred_alert_policy.backup", "condition.0.query", `time() - max by (service) (custom_googleapis_com:alfred_backup_last_success_timestamp_seconds) > 93600`),
			)},
		},
	})
}

// task_failures can read a task queue's dead-letter count (Pub/Sub's dead_letter_message_count of the
// subscription) instead of alfred_tasks_failed_total; service then only names the condition.
func TestAccAlertPolicy_taskFailuresFromATaskQueuesDeadLetters(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	want := `sum by (subscription_id) (increase(pubsub_googleapis_com:subscription_dead_letter_message_count{monitored_resource="pubsub_subscription",subscription_id="alfred-bot-tasks"}[5m])) > 2`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: s.provider() + `
resource "alfred_alert_policy" "dl" {
  display_name = "dead letters"
  severity     = "ERROR"
  condition {
    preset                    = "task_failures"
    service                   = "alfred-bot"
    threshold                 = 2
    task_queue                = "projects/alfred-test/subscriptions/alfred-bot-tasks"
    disable_metric_validation = true
  }
}
`,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("alfred_alert_policy.dl", "condition.0.query", want),
				func(st *terraform.State) error {
					p := s.policy(t, st.RootModule().Resources["alfred_alert_policy.dl"].Primary.ID)
					if q := p.GetConditions()[0].GetConditionPrometheusQueryLanguage().GetQuery(); q != want {
						return fmt.Errorf("the API holds %s", q)
					}
					return nil
				},
			),
		}},
	})
}

// Conditions from a dynamic block whose for_each is known only after apply (here: derived from a
// channel's id), as in modules: the plan neither fails nor guesses, and the apply renders the presets.
func TestAccAlertPolicy_dynamicConditionsUnknownAtPlan(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	cfg := s.provider() + mailChannel + `
variable "presets" {
  type    = list(string)
  default = ["task_failures", "memory"]
}

resource "alfred_alert_policy" "dyn" {
  display_name          = "dynamic"
  combiner              = "OR"
  notification_channels = [alfred_notification_channel.mail.id]
  dynamic "condition" {
    for_each = [for p in var.presets : p if alfred_notification_channel.mail.id != ""]
    content {
      preset                    = condition.value
      service                   = "alfred-bot"
      disable_metric_validation = true
    }
  }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(
			resource.TestCheckResourceAttr("alfred_alert_policy.dyn", "condition.#", "2"),
			resource.TestCheckResourceAttr("alfred_alert_policy.dyn", "condition.1.display_name", "Memory utilisation (p99): alfred-bot"),
		)}},
	})
}

// A no-op plan of policies looks up none of their channels (one read per policy, not one per policy and
// channel: it counts at 500 resources), and a plan that changes a policy whose channel was deleted
// outside Terraform still fails at plan time.
func TestAccAlertPolicy_noOpPlanLooksUpNoChannelButAChangeStillChecksThem(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	ch, err := s.channels.CreateNotificationChannel(context.Background(), &monitoringpb.CreateNotificationChannelRequest{
		Name: "projects/" + testProject,
		NotificationChannel: &monitoringpb.NotificationChannel{Type: "email", DisplayName: "on-call",
			Labels: map[string]string{"email_address": "oncall@example.com"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg := func(severity string) string {
		var b strings.Builder
		b.WriteString(s.provider())
		for _, preset := range []string{"task_failures", "task_latency", "memory"} {
			fmt.Fprintf(&b, `
resource "alfred_alert_policy" %[1]q {
  display_name          = "bot %[1]s"
  severity              = %[2]q
  notification_channels = [%[3]q]
  condition {
    preset                    = %[1]q
    service                   = "bot"
    disable_metric_validation = true
  }
}
`, preset, severity, ch.GetName())
		}
		return b.String()
	}
	const (
		getPolicy  = "/google.monitoring.v3.AlertPolicyService/GetAlertPolicy"
		getChannel = "/google.monitoring.v3.NotificationChannelService/GetNotificationChannel"
	)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg("ERROR")},
			{PreConfig: s.kit.ResetCalls, Config: cfg("ERROR"), PlanOnly: true},
			{
				PreConfig: func() {
					if c := s.kit.Calls(); c[getPolicy] == 0 || c[getChannel] != 0 {
						t.Errorf("a no-op plan must read the policies and look up no channel: %d %s, %d %s", c[getPolicy], getPolicy, c[getChannel], getChannel)
					}
					if err := s.channels.DeleteNotificationChannel(context.Background(), &monitoringpb.DeleteNotificationChannelRequest{Name: ch.GetName(), Force: true}); err != nil {
						t.Fatal(err)
					}
				},
				Config:      cfg("WARNING"),
				ExpectError: regexp.MustCompile(`Notification channel not found`),
			},
		},
	})
}
