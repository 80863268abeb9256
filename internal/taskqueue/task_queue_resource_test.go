package taskqueue_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

func queueConfig(name, agent, extra string) string {
	return fmt.Sprintf(`
resource "alfred_task_queue" "q" {
  name                 = %q
  agent                = %q
  push_service_account = %q
  pubsub_service_agent = %q
%s
}
`, name, agent, pusher, agentSA, extra)
}

const agentURI = "https://alfred-bot-abc.a.run.app"

func TestAccTaskQueue_lifecycle(t *testing.T) {
	sb := newSandbox(t)
	sub, dlt := "projects/p/subscriptions/tasks", "projects/p/topics/tasks-dead-letter"
	member := "serviceAccount:" + agentSA
	tuned := `  min_backoff = "1s"
  max_backoff = "30s"
  max_delivery_attempts = 12
  ack_deadline = "60s"
  message_retention = "86400s"`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: sb.provider() + queueConfig("tasks", agentURI, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_task_queue.q", "id", sub),
					resource.TestCheckResourceAttr("alfred_task_queue.q", "topic", "projects/p/topics/tasks"),
					resource.TestCheckResourceAttr("alfred_task_queue.q", "subscription", sub),
					resource.TestCheckResourceAttr("alfred_task_queue.q", "dead_letter_topic", dlt),
					resource.TestCheckResourceAttr("alfred_task_queue.q", "dead_letter_subscription", "projects/p/subscriptions/tasks-dead-letter"),
					resource.TestCheckResourceAttr("alfred_task_queue.q", "max_delivery_attempts", "5"),
					func(*terraform.State) error {
						s := sb.sub(t, "tasks")
						pc := s.GetPushConfig()
						if pc.GetPushEndpoint() != agentURI || pc.GetOidcToken().GetServiceAccountEmail() != pusher || pc.GetOidcToken().GetAudience() != agentURI {
							return fmt.Errorf("push config %v", pc)
						}
						if s.GetDeadLetterPolicy().GetDeadLetterTopic() != dlt || s.GetDeadLetterPolicy().GetMaxDeliveryAttempts() != 5 ||
							s.GetRetryPolicy().GetMinimumBackoff().AsDuration() != 10*time.Second || s.GetRetryPolicy().GetMaximumBackoff().AsDuration() != 600*time.Second ||
							s.GetAckDeadlineSeconds() != 10 {
							return fmt.Errorf("subscription %v", s)
						}
						if sb.sub(t, "tasks-dead-letter").GetTopic() != dlt {
							return fmt.Errorf("dead-letter subscription is not on the dead-letter topic")
						}
						if !sb.granted(dlt, "roles/pubsub.publisher", member) || !sb.granted(sub, "roles/pubsub.subscriber", member) {
							return fmt.Errorf("the Pub/Sub service agent lacks its grants")
						}
						return nil
					},
				),
			},
			{
				// Backoff, attempts, deadline and retention change in place.
				Config: sb.provider() + queueConfig("tasks", agentURI, tuned),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_task_queue.q", plancheck.ResourceActionUpdate)}},
				Check: func(*terraform.State) error {
					s := sb.sub(t, "tasks")
					if s.GetRetryPolicy().GetMinimumBackoff().AsDuration() != time.Second || s.GetRetryPolicy().GetMaximumBackoff().AsDuration() != 30*time.Second ||
						s.GetDeadLetterPolicy().GetMaxDeliveryAttempts() != 12 || s.GetAckDeadlineSeconds() != 60 || s.GetMessageRetentionDuration().AsDuration() != 24*time.Hour {
						return fmt.Errorf("update in place: %v", s)
					}
					return nil
				},
			},
			{
				// The API cannot change a filter: the queue is replaced.
				Config: sb.provider() + queueConfig("tasks", agentURI, tuned+"\n  filter = \"attributes.kind = \\\"summary\\\"\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_task_queue.q", plancheck.ResourceActionReplace)}},
				Check: func(*terraform.State) error {
					if f := sb.sub(t, "tasks").GetFilter(); f != `attributes.kind = "summary"` {
						return fmt.Errorf("filter %q", f)
					}
					return nil
				},
			},
			{
				ResourceName: "alfred_task_queue.q", ImportState: true, ImportStateVerify: true, ImportStateId: sub,
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName: "alfred_task_queue.q", ImportState: true, ImportStateVerify: true, ImportStateId: "p/tasks",
				ImportStateVerifyIgnore: []string{"timeouts"},
			},
			{
				ResourceName: "alfred_task_queue.q", ImportState: true, ImportStateId: "projects/p/topics/tasks",
				ExpectError: regexp.MustCompile(`Expected projects/\{project\}/subscriptions/\{name\}`),
			},
			{
				// The subscription deleted outside Terraform: the plan creates it again.
				PreConfig: func() {
					if err := sb.subs.DeleteSubscription(context.Background(), &pb.DeleteSubscriptionRequest{Subscription: sub}); err != nil {
						t.Fatal(err)
					}
				},
				Config: sb.provider() + queueConfig("tasks", agentURI, tuned+"\n  filter = \"attributes.kind = \\\"summary\\\"\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_task_queue.q", plancheck.ResourceActionCreate)}},
				Check: func(*terraform.State) error {
					if s := sb.sub(t, "tasks"); s.GetDeadLetterPolicy().GetMaxDeliveryAttempts() != 12 || !sb.granted(sub, "roles/pubsub.subscriber", member) {
						return fmt.Errorf("recreated subscription %v", s)
					}
					return nil
				},
			},
			{
				// The dead-letter grant removed outside Terraform: the plan restores it in place.
				PreConfig: func() {
					if _, err := sb.topics.SetIamPolicy(context.Background(), &iampb.SetIamPolicyRequest{Resource: dlt, Policy: &iampb.Policy{}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: sb.provider() + queueConfig("tasks", agentURI, tuned+"\n  filter = \"attributes.kind = \\\"summary\\\"\""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_task_queue.q", plancheck.ResourceActionUpdate)}},
				Check: func(*terraform.State) error {
					if !sb.granted(dlt, "roles/pubsub.publisher", member) {
						return fmt.Errorf("dead-letter grant not restored")
					}
					return nil
				},
			},
		},
	})
}

// At least ten bad inputs are refused at plan time, each naming its attribute.
func TestAccTaskQueue_badInputsRefusedAtPlan(t *testing.T) {
	sb := newSandbox(t)
	for name, c := range map[string]struct{ name, agent, extra, want string }{
		"min_backoff over 600s":      {"q1", agentURI, `min_backoff = "601s"`, `min_backoff`},
		"max_backoff not a duration": {"q1", agentURI, `max_backoff = "soon"`, `max_backoff`},
		"min above max":              {"q1", agentURI, "min_backoff = \"60s\"\nmax_backoff = \"30s\"", `max_backoff \(30s\) must not be below min_backoff`},
		"attempts below 5":           {"q1", agentURI, `max_delivery_attempts = 4`, `max_delivery_attempts`},
		"attempts above 100":         {"q1", agentURI, `max_delivery_attempts = 101`, `max_delivery_attempts`},
		"ack deadline below 10s":     {"q1", agentURI, `ack_deadline = "5s"`, `ack_deadline`},
		"ack deadline above 600s":    {"q1", agentURI, `ack_deadline = "11m"`, `ack_deadline`},
		"retention below 10m":        {"q1", agentURI, `message_retention = "5m"`, `message_retention`},
		"retention above 7 days":     {"q1", agentURI, `message_retention = "200h"`, `message_retention`},
		"fractional seconds":         {"q1", agentURI, `min_backoff = "1.5s"`, `min_backoff`},
		"name too short":             {"q", agentURI, ``, `name`},
		"name starting with goog":    {"google-tasks", agentURI, ``, `name must not start with "goog"`},
		"agent plain http remote":    {"q1", "http://agent.example.com", ``, `agent`},
		"agent neither id nor URI":   {"q1", "alfred-bot", ``, `agent`},
		"filter over 256 bytes":      {"q1", agentURI, fmt.Sprintf("filter = %q", "attributes.k = \""+string(make([]byte, 0))+repeat("x", 260)+"\""), `filter`},
		"service agent format":       {"q1", agentURI, ``, `pubsub_service_agent`},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := queueConfig(c.name, c.agent, c.extra)
			if name == "service agent format" {
				cfg = regexp.MustCompile(`service-123456789@`).ReplaceAllString(cfg, "pubsub@")
			}
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config: sb.provider() + cfg, PlanOnly: true, ExpectError: regexp.MustCompile(c.want),
				}},
			})
		})
	}
}

func repeat(s string, n int) string {
	out := ""
	for i := 0; i < n; i++ {
		out += s
	}
	return out
}

// A new name is a new queue: the plan replaces it, the computed names follow, and the old queue is gone.
func TestAccTaskQueue_renameReplaces(t *testing.T) {
	sb := newSandbox(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: sb.provider() + queueConfig("old-tasks", agentURI, "")},
			{
				Config: sb.provider() + queueConfig("new-tasks", agentURI, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_task_queue.q", plancheck.ResourceActionReplace)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_task_queue.q", "topic", "projects/p/topics/new-tasks"),
					resource.TestCheckResourceAttr("alfred_task_queue.q", "dead_letter_subscription", "projects/p/subscriptions/new-tasks-dead-letter"),
					func(*terraform.State) error {
						if _, err := sb.topics.GetTopic(context.Background(), &pb.GetTopicRequest{Topic: "projects/p/topics/old-tasks"}); err == nil {
							return fmt.Errorf("the old topic survived the replacement")
						}
						return nil
					},
				),
			},
			{
				// Another provider project is another queue, there.
				Config: strings.Replace(sb.provider(), `project         = "p"`, `project         = "q"`, 1) + queueConfig("new-tasks", agentURI, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_task_queue.q", plancheck.ResourceActionReplace)}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_task_queue.q", "subscription", "projects/q/subscriptions/new-tasks"),
					func(*terraform.State) error {
						if _, err := sb.topics.GetTopic(context.Background(), &pb.GetTopicRequest{Topic: "projects/p/topics/new-tasks"}); err == nil {
							return fmt.Errorf("the queue in the old project survived")
						}
						return nil
					},
				),
			},
		},
	})
}
