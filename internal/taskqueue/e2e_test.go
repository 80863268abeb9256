package taskqueue_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
)

// The push identity must be one of the agent's invokers: with the agent given as a service id that
// exists, the apply refuses any other account before it creates anything (the plan warns: the same apply
// might grant it), and with an invoker it pushes to the service's URI.
func TestAccTaskQueue_pushIdentityMustInvokeTheAgent(t *testing.T) {
	sb := newSandbox(t)
	rs := cloudrun.StartTestServer(t, cloudrun.Options{})
	sb.runAddr = rs.Addr
	ctx := context.Background()
	rc, err := run.NewServicesClient(ctx, option.WithEndpoint(rs.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	op, err := rc.CreateService(ctx, &runpb.CreateServiceRequest{Parent: "projects/p/locations/europe-west1", ServiceId: "alfred-bot",
		Service: &runpb.Service{Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "example.com/agent:v1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := op.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := svc.GetName()
	if _, err := rc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: id, Policy: &iampb.Policy{Bindings: []*iampb.Binding{
		{Role: "roles/run.invoker", Members: []string{"serviceAccount:" + pusher}}}}}); err != nil {
		t.Fatal(err)
	}
	other := `resource "alfred_task_queue" "q" {
  name                 = "tasks"
  agent                = %q
  push_service_account = "someone-else@p.iam.gserviceaccount.com"
  pubsub_service_agent = %q
}`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config:      sb.provider() + fmt.Sprintf(other, id, agentSA),
				ExpectError: regexp.MustCompile(`(?s)Push identity cannot invoke the agent\n.*push_service_account.*is not among\s+the invokers`),
			},
			{
				PreConfig: func() {
					if _, err := sb.topics.GetTopic(ctx, &pb.GetTopicRequest{Topic: "projects/" + project + "/topics/tasks"}); status.Code(err) != codes.NotFound {
						t.Errorf("the refused apply must create nothing, but the topic is there (err=%v)", err)
					}
				},
				Config: sb.provider() + queueConfig("tasks", id, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_task_queue.q", "push_endpoint", svc.GetUri()),
					func(*terraform.State) error {
						if pc := sb.sub(t, "tasks").GetPushConfig(); pc.GetPushEndpoint() != svc.GetUri() || pc.GetOidcToken().GetAudience() != svc.GetUri() {
							return fmt.Errorf("push config %v, want the service URI %s", pc, svc.GetUri())
						}
						return nil
					},
				),
			},
		},
	})
}

// End to end: a task published to the queue's topic reaches the agent (a local HTTP server) with an OIDC
// token that verifies against the sandbox JWKS and whose audience is the agent; an agent that keeps
// answering 500 sees the task max_delivery_attempts times, and then it is in the dead-letter subscription.
func TestAccTaskQueue_endToEndPushRetriesAndDeadLetters(t *testing.T) {
	sb := newSandbox(t)
	good := &agentEndpoint{code: 200}
	bad := &agentEndpoint{code: 500}
	gs, bs := httptest.NewServer(good), httptest.NewServer(bad)
	defer gs.Close()
	defer bs.Close()
	cfg := fmt.Sprintf(`
resource "alfred_task_queue" "good" {
  name                 = "good"
  agent                = %q
  push_service_account = %q
  pubsub_service_agent = %q
}
resource "alfred_task_queue" "bad" {
  name                  = "bad"
  agent                 = %q
  push_service_account  = %q
  pubsub_service_agent  = %q
  min_backoff           = "0s"
  max_backoff           = "1s"
  max_delivery_attempts = 6
}
`, gs.URL, pusher, agentSA, bs.URL, pusher, agentSA)
	ctx := context.Background()
	publish := func(topic, data string) {
		if _, err := sb.topics.Publish(ctx, &pb.PublishRequest{Topic: topic, Messages: []*pb.PubsubMessage{{Data: []byte(data)}}}); err != nil {
			t.Fatal(err)
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: sb.provider() + cfg,
			Check: func(st *terraform.State) error {
				publish(st.RootModule().Resources["alfred_task_queue.good"].Primary.Attributes["topic"], "summarise")
				deadline := time.Now().Add(10 * time.Second)
				for good.count() == 0 && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if good.count() == 0 {
					return fmt.Errorf("the task was never pushed to the agent")
				}
				claims, err := verifyWithJWKS(sb.Server.JWKS(), good.tokens[0])
				if err != nil {
					return fmt.Errorf("push token: %w", err)
				}
				if claims["aud"] != gs.URL || claims["email"] != pusher || claims["iss"] != "https://accounts.google.com" {
					return fmt.Errorf("claims %v", claims)
				}
				msg, _ := good.bodies[0]["message"].(map[string]any)
				if d, _ := base64.StdEncoding.DecodeString(fmt.Sprint(msg["data"])); string(d) != "summarise" {
					return fmt.Errorf("pushed body %v", good.bodies[0])
				}

				a := st.RootModule().Resources["alfred_task_queue.bad"].Primary.Attributes
				publish(a["topic"], "doomed")
				var got []*pb.ReceivedMessage
				deadline = time.Now().Add(30 * time.Second)
				for len(got) == 0 && time.Now().Before(deadline) {
					r, err := sb.subs.Pull(ctx, &pb.PullRequest{Subscription: a["dead_letter_subscription"], MaxMessages: 10})
					if err != nil {
						return err
					}
					got = r.GetReceivedMessages()
				}
				if len(got) != 1 || string(got[0].GetMessage().GetData()) != "doomed" {
					return fmt.Errorf("dead-letter subscription holds %v", got)
				}
				if bad.count() != 6 {
					return fmt.Errorf("the failing agent saw the task %d times, want max_delivery_attempts = 6", bad.count())
				}
				if good.count() != 1 {
					return fmt.Errorf("the acknowledged task was pushed %d times", good.count())
				}
				return nil
			},
		}},
	})
}

// An invoker added to the agent in the same apply as the queue that pushes with it converges: the plan
// only warns (it cannot see the agent's planned invokers), and apply checks after the agent has the grant.
// This is also the apply that follows one killed between the agent's creation and its IAM policy.
func TestAccTaskQueue_invokerGrantedInTheSameApplyConverges(t *testing.T) {
	sb := newSandbox(t)
	rs := cloudrun.StartTestServer(t, cloudrun.Options{})
	sb.runAddr = rs.Addr
	agent := `resource "alfred_agent_service" "a" {
  name                = "bot"
  image               = "example.com/bot:v1"
  invokers            = %s
  deletion_protection = false
}
`
	queue := fmt.Sprintf(`resource "alfred_task_queue" "q" {
  name                 = "tasks"
  agent                = alfred_agent_service.a.id
  push_service_account = %q
  pubsub_service_agent = %q
}
`, pusher, agentSA)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: sb.provider() + fmt.Sprintf(agent, "[]")},
			{
				Config: sb.provider() + fmt.Sprintf(agent, fmt.Sprintf("[%q]", "serviceAccount:"+pusher)) + queue,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPair("alfred_task_queue.q", "push_endpoint", "alfred_agent_service.a", "uri"),
					func(*terraform.State) error {
						if pc := sb.sub(t, "tasks").GetPushConfig(); pc.GetOidcToken().GetServiceAccountEmail() != pusher {
							return fmt.Errorf("push config %v", pc)
						}
						return nil
					},
				),
			},
		},
	})
}
