package alerting_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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

const slackChannel = "alfred_notification_channel.slack"

func slackConfig(s *sandbox, displayName, channel string, enabled bool) string {
	return s.provider() + fmt.Sprintf(`
variable "slack_token" {
  type      = string
  sensitive = true
}

resource "alfred_notification_channel" "slack" {
  type             = "slack"
  display_name     = %q
  description      = "on-call room"
  labels           = { channel_name = %q }
  sensitive_labels = { auth_token = var.slack_token }
  enabled          = %t
  user_labels      = { team = "platform" }
}
`, displayName, channel, enabled)
}

func (s *sandbox) storedSecret(t *testing.T, key string, want string) resourceCheck {
	return func(st *terraform.State) error {
		name := st.RootModule().Resources[slackChannel].Primary.ID
		labels, ok := s.srv.StoredChannelLabels(name)
		if !ok {
			return fmt.Errorf("%s not stored", name)
		}
		if labels[key] != want {
			return fmt.Errorf("stored %s is %q, want the configured secret %q", key, labels[key], want)
		}
		return nil
	}
}

// Create, update in place (display name, label, enabled) without ever writing back the masked secret,
// import by full name and by {project}/{id}, drift repaired, destroy; secrets in no TRACE log.
func TestAccNotificationChannel_lifecycleKeepsSecretsAndRepairsDrift(t *testing.T) {
	const secret = "xoxb-SENTINEL-slack-token-7731"
	const secret2 = "xoxb-SENTINEL-rotated-token-5512"
	s := newSandbox(t, monitoring.Options{})
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logPath)
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	t.Setenv("TF_VAR_slack_token", secret)
	var id string
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: slackConfig(s, "On-call", "#oncall", true),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr(slackChannel, "id", regexp.MustCompile(`^projects/alfred-test/notificationChannels/[0-9]+$`)),
					resource.TestCheckResourceAttrWith(slackChannel, "id", capture(&id)),
					resource.TestCheckResourceAttr(slackChannel, "project", testProject),
					resource.TestCheckResourceAttr(slackChannel, "sensitive_labels.auth_token", secret),
					resource.TestCheckResourceAttr(slackChannel, "enabled", "true"),
					resource.TestCheckResourceAttr(slackChannel, "user_labels.%", "1"),
					s.storedSecret(t, "auth_token", secret),
				),
			},
			{
				// Update in place of other fields: the stored secret stays the configured one.
				Config: slackConfig(s, "On-call v2", "#ops", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(slackChannel, plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(slackChannel, "id", same(&id)),
					resource.TestCheckResourceAttr(slackChannel, "display_name", "On-call v2"),
					resource.TestCheckResourceAttr(slackChannel, "labels.channel_name", "#ops"),
					resource.TestCheckResourceAttr(slackChannel, "enabled", "false"),
					s.storedSecret(t, "auth_token", secret),
				),
			},
			{
				// Someone replaces the token outside Terraform: the mask no longer matches, the plan rewrites it.
				PreConfig: func() {
					_, err := s.channels.UpdateNotificationChannel(ctx, &monitoringpb.UpdateNotificationChannelRequest{
						NotificationChannel: &monitoringpb.NotificationChannel{Name: id, DisplayName: "renamed outside",
							Labels: map[string]string{"auth_token": "xoxb-changed-outside-0000"}},
						UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name", "labels.auth_token"}},
					})
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: slackConfig(s, "On-call v2", "#ops", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(slackChannel, plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(slackChannel, "display_name", "On-call v2"),
					s.storedSecret(t, "auth_token", secret),
				),
			},
			{
				// Rotating the secret sends the new configured value.
				PreConfig: func() { t.Setenv("TF_VAR_slack_token", secret2) },
				Config:    slackConfig(s, "On-call v2", "#ops", false),
				Check:     s.storedSecret(t, "auth_token", secret2),
			},
			{ResourceName: slackChannel, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"sensitive_labels", "sensitive_labels.%", "sensitive_labels.auth_token"}},
			{ResourceName: slackChannel, ImportState: true, ImportStateVerify: true,
				ImportStateIdFunc: func(*terraform.State) (string, error) {
					return testProject + "/" + id[strings.LastIndex(id, "/")+1:], nil
				},
				ImportStateVerifyIgnore: []string{"sensitive_labels", "sensitive_labels.%", "sensitive_labels.auth_token"}},
			{
				// Deleted outside Terraform: the plan creates it again.
				PreConfig: func() {
					if err := s.channels.DeleteNotificationChannel(ctx, &monitoringpb.DeleteNotificationChannelRequest{Name: id}); err != nil {
						t.Fatal(err)
					}
				},
				Config: slackConfig(s, "On-call v2", "#ops", false),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(slackChannel, plancheck.ResourceActionCreate)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrWith(slackChannel, "id", differs(&id)),
					s.storedSecret(t, "auth_token", secret2),
				),
			},
		},
	})
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no TRACE log was written: %v", err)
	}
	if !strings.Contains(string(b), "alfred_notification_channel") {
		t.Fatalf("the TRACE log (%d bytes) does not hold this test's traffic", len(b))
	}
	for _, sec := range []string{secret, secret2} {
		if strings.Contains(string(b), sec) {
			t.Fatalf("the TRACE log contains a secret label value")
		}
	}
}

// Every channel type applies with its labels, and a second plan is empty.
func TestAccNotificationChannel_everyType(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	cfg := s.provider() + mailChannel + `
resource "alfred_notification_channel" "pd" {
  type             = "pagerduty"
  display_name     = "pd"
  sensitive_labels = { service_key = "pd-key-123456" }
}
resource "alfred_notification_channel" "hook" {
  type         = "webhook_tokenauth"
  display_name = "hook"
  labels       = { url = "https://hooks.example.com/a?token=x" }
}
resource "alfred_notification_channel" "basic" {
  type             = "webhook_basicauth"
  display_name     = "basic"
  labels           = { url = "https://hooks.example.com/b", username = "alfred" }
  sensitive_labels = { password = "pw-123456" }
}
resource "alfred_notification_channel" "pubsub" {
  type         = "pubsub"
  display_name = "bus"
  labels       = { topic = "projects/alfred-test/topics/alerts" }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(
			resource.TestCheckResourceAttr("alfred_notification_channel.basic", "sensitive_labels.password", "pw-123456"),
			resource.TestCheckResourceAttr("alfred_notification_channel.pubsub", "labels.topic", "projects/alfred-test/topics/alerts"),
		)}},
	})
}
