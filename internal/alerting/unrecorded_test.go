package alerting_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

// Cloud Monitoring names channels and policies itself, so an apply killed after a create and before
// Terraform recorded it leaves an object the next apply would create a second time. Objects this provider
// created (they carry its alfred_id label) with the display name (and, for channels, the type) of one to
// create make the create fail with the import command and create nothing; after the import the apply
// converges with one of each. A policy of the same name that the provider did not create does not stop it.
func TestAccMonitoring_objectsAnInterruptedApplyLeftAreImportedNotDuplicated(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	ctx := context.Background()
	parent := "projects/" + testProject
	promql := func(label map[string]string, name string) *monitoringpb.AlertPolicy {
		return &monitoringpb.AlertPolicy{DisplayName: name, UserLabels: label, Combiner: monitoringpb.AlertPolicy_OR,
			Conditions: []*monitoringpb.AlertPolicy_Condition{{DisplayName: "down",
				Condition: &monitoringpb.AlertPolicy_Condition_ConditionPrometheusQueryLanguage{
					ConditionPrometheusQueryLanguage: &monitoringpb.AlertPolicy_Condition_PrometheusQueryLanguageCondition{
						Query: "up == 0", Duration: durationpb.New(time.Minute), DisableMetricValidation: true}}}}}
	}
	left := map[string]string{"alfred_id": "from-a-killed-apply"}
	ch, err := s.channels.CreateNotificationChannel(ctx, &monitoringpb.CreateNotificationChannelRequest{Name: parent,
		NotificationChannel: &monitoringpb.NotificationChannel{Type: "email", DisplayName: "mail", UserLabels: left,
			Labels: map[string]string{"email_address": "oncall@example.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	pol, err := s.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: parent, AlertPolicy: promql(left, "left")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: parent, AlertPolicy: promql(nil, "foreign")}); err != nil {
		t.Fatal(err)
	}
	cfg := s.provider() + mailChannel + `
resource "alfred_alert_policy" "left" {
  display_name = "left"
  severity     = "ERROR"
  condition {
    promql                    = "up == 0"
    duration                  = "60s"
    disable_metric_validation = true
  }
}
resource "alfred_alert_policy" "foreign" {
  display_name = "foreign"
  severity     = "WARNING"
  condition {
    promql                    = "up == 0"
    duration                  = "60s"
    disable_metric_validation = true
  }
}
`
	byName := func() map[string]int {
		n := map[string]int{}
		for _, p := range s.policies(t) {
			n["policy "+p.GetDisplayName()]++
		}
		it := s.channels.ListNotificationChannels(ctx, &monitoringpb.ListNotificationChannelsRequest{Name: parent})
		for {
			c, err := it.Next()
			if err == iterator.Done {
				return n
			}
			if err != nil {
				t.Fatal(err)
			}
			n["channel "+c.GetDisplayName()]++
		}
	}
	words := func(s string) *regexp.Regexp {
		f := strings.Fields(s)
		for i := range f {
			f[i] = regexp.QuoteMeta(f[i])
		}
		return regexp.MustCompile(strings.Join(f, `\s+`))
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				ExpectError: words(fmt.Sprintf("already has the email notification channel %q (%s), which this provider created "+
					"(it carries the alfred_id label) and this resource does not manage", "mail", ch.GetName())),
			},
			{
				Config: cfg,
				ExpectError: words(fmt.Sprintf("already has the alert policy %q (%s), which this provider created", "left", pol.GetName()) +
					fmt.Sprintf(" (it carries the alfred_id label) and this resource does not manage: an apply that was interrupted after creating it, before Terraform recorded it, leaves one. Import it: `terraform import <address> %s`", pol.GetName())),
			},
			{
				PreConfig: func() {
					if n := byName(); n["channel mail"] != 1 || n["policy left"] != 1 || n["policy foreign"] != 2 {
						t.Errorf("the refused creates must create nothing, and a foreign policy of the same name must not stop one: %v", n)
					}
				},
				Config: cfg, ResourceName: "alfred_notification_channel.mail", ImportState: true, ImportStateId: ch.GetName(), ImportStatePersist: true,
			},
			{Config: cfg, ResourceName: "alfred_alert_policy.left", ImportState: true, ImportStateId: pol.GetName(), ImportStatePersist: true},
			{
				Config: cfg,
				Check: func(*terraform.State) error {
					if n := byName(); n["channel mail"] != 1 || n["policy left"] != 1 || n["policy foreign"] != 2 {
						return fmt.Errorf("after the imports, one of each: %v", n)
					}
					return nil
				},
			},
		},
	})
}
