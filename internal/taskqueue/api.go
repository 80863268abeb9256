package taskqueue

import (
	"context"
	"errors"
	"slices"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	psapi "cloud.google.com/go/pubsub/v2/apiv1"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Roles the Pub/Sub service agent needs for dead-lettering (docs "Handle message failures": grant the
// service agent the publisher role on the dead-letter topic and the subscriber role on the subscription).
const (
	rolePublisher  = "roles/pubsub.publisher"
	roleSubscriber = "roles/pubsub.subscriber"
	roleInvoker    = "roles/run.invoker"
)

// api is the adapter between alfred_task_queue and Pub/Sub (and Cloud Run, to read the agent). Every call
// goes through shared.Retry; the clients' own retries are off. Creates treat ALREADY_EXISTS as success
// (after a lost reply the object is there) and deletes treat NOT_FOUND as success.
type api struct {
	topics *psapi.TopicAdminClient
	subs   *psapi.SubscriptionAdminClient
	run    *run.ServicesClient // nil when the provider has no run endpoint/credentials for it
	b      shared.Backoff
}

func apiFor(ctx context.Context, data *shared.ProviderData) (*api, error) {
	c, err := data.Client("pubsub", func() (any, func(), error) {
		opts := data.GCP.ClientOptions(data.GCP.PubSubEndpoint)
		tc, err := psapi.NewTopicAdminClient(ctx, opts...)
		if err != nil {
			return nil, nil, err
		}
		sc, err := psapi.NewSubscriptionAdminClient(ctx, opts...)
		if err != nil {
			_ = tc.Close()
			return nil, nil, err
		}
		rc, err := run.NewServicesClient(ctx, data.GCP.ClientOptions(data.GCP.RunEndpoint)...)
		if err != nil {
			_ = tc.Close()
			_ = sc.Close()
			return nil, nil, err
		}
		shared.WithoutClientRetries(tc.CallOptions)
		shared.WithoutClientRetries(sc.CallOptions)
		a := &api{topics: tc, subs: sc, run: rc, b: shared.DefaultBackoff}
		return a, func() { _ = tc.Close(); _ = sc.Close(); _ = rc.Close() }, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*api), nil
}

func (a *api) retry(ctx context.Context, fn func(context.Context) error) error {
	return shared.Retry(ctx, a.b, shared.RetryableGRPC, fn)
}

func (a *api) getTopic(ctx context.Context, name string) (*pb.Topic, error) {
	var t *pb.Topic
	err := a.retry(ctx, func(ctx context.Context) error {
		var err error
		t, err = a.topics.GetTopic(ctx, &pb.GetTopicRequest{Topic: name})
		return err
	})
	return t, err
}

func (a *api) createTopic(ctx context.Context, name string) error {
	return a.retry(ctx, func(ctx context.Context) error {
		_, err := a.topics.CreateTopic(ctx, &pb.Topic{Name: name})
		if status.Code(err) == codes.AlreadyExists {
			return nil
		}
		return err
	})
}

func (a *api) deleteTopic(ctx context.Context, name string) error {
	return a.retry(ctx, func(ctx context.Context) error {
		err := a.topics.DeleteTopic(ctx, &pb.DeleteTopicRequest{Topic: name})
		if shared.IsNotFound(err) {
			return nil
		}
		return err
	})
}

func (a *api) getSub(ctx context.Context, name string) (*pb.Subscription, error) {
	var s *pb.Subscription
	err := a.retry(ctx, func(ctx context.Context) error {
		var err error
		s, err = a.subs.GetSubscription(ctx, &pb.GetSubscriptionRequest{Subscription: name})
		return err
	})
	return s, err
}

// updatableSubPaths are the fields the provider changes in place (subscriptions.patch).
var updatableSubPaths = []string{"push_config", "ack_deadline_seconds", "retry_policy", "dead_letter_policy", "message_retention_duration"}

// ensureSub creates the subscription, or when it is there already (a create whose reply was lost, or an
// earlier partial apply) brings its updatable fields to want. A subscription of that name on another topic,
// or with another filter or ordering, is an error: those cannot change in place.
func (a *api) ensureSub(ctx context.Context, want *pb.Subscription) error {
	err := a.retry(ctx, func(ctx context.Context) error {
		_, err := a.subs.CreateSubscription(ctx, want)
		return err
	})
	if status.Code(err) != codes.AlreadyExists {
		return err
	}
	got, err := a.getSub(ctx, want.GetName())
	if err != nil {
		return err
	}
	if got.GetTopic() != want.GetTopic() || got.GetFilter() != want.GetFilter() || got.GetEnableMessageOrdering() != want.GetEnableMessageOrdering() {
		return status.Errorf(codes.AlreadyExists, "subscription %s exists with another topic, filter or ordering", want.GetName())
	}
	return a.updateSub(ctx, want)
}

func (a *api) updateSub(ctx context.Context, want *pb.Subscription) error {
	return a.retry(ctx, func(ctx context.Context) error {
		_, err := a.subs.UpdateSubscription(ctx, &pb.UpdateSubscriptionRequest{Subscription: want, UpdateMask: &fieldmaskpb.FieldMask{Paths: updatableSubPaths}})
		return err
	})
}

func (a *api) deleteSub(ctx context.Context, name string) error {
	return a.retry(ctx, func(ctx context.Context) error {
		err := a.subs.DeleteSubscription(ctx, &pb.DeleteSubscriptionRequest{Subscription: name})
		if shared.IsNotFound(err) {
			return nil
		}
		return err
	})
}

type iamClient interface {
	GetIamPolicy(context.Context, *iampb.GetIamPolicyRequest) (*iampb.Policy, error)
	SetIamPolicy(context.Context, *iampb.SetIamPolicyRequest) (*iampb.Policy, error)
}

type topicIAM struct{ c *psapi.TopicAdminClient }

func (t topicIAM) GetIamPolicy(ctx context.Context, r *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	return t.c.GetIamPolicy(ctx, r)
}
func (t topicIAM) SetIamPolicy(ctx context.Context, r *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	return t.c.SetIamPolicy(ctx, r)
}

type subIAM struct {
	c *psapi.SubscriptionAdminClient
}

func (t subIAM) GetIamPolicy(ctx context.Context, r *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	return t.c.GetIamPolicy(ctx, r)
}
func (t subIAM) SetIamPolicy(ctx context.Context, r *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	return t.c.SetIamPolicy(ctx, r)
}

func (a *api) iamOf(resource string) iamClient {
	if strings.Contains(resource, "/subscriptions/") {
		return subIAM{a.subs}
	}
	return topicIAM{a.topics}
}

func (a *api) policy(ctx context.Context, resource string) (*iampb.Policy, error) {
	var p *iampb.Policy
	err := a.retry(ctx, func(ctx context.Context) error {
		var err error
		p, err = a.iamOf(resource).GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: resource})
		return err
	})
	return p, err
}

// hasGrant reports whether member holds role on resource.
func (a *api) hasGrant(ctx context.Context, resource, role, member string) (bool, error) {
	p, err := a.policy(ctx, resource)
	if err != nil {
		return false, err
	}
	return hasMember(p, role, member), nil
}

func hasMember(p *iampb.Policy, role, member string) bool {
	for _, b := range p.GetBindings() {
		if b.GetRole() == role && slices.Contains(b.GetMembers(), member) {
			return true
		}
	}
	return false
}

// grant adds member to role on resource by read-modify-write with the policy's etag; a failed write (a
// concurrent edit, ABORTED, among them) restarts the whole read-modify-write, and a write whose reply was
// lost is found done by the next read. The read is retried on a budget of its own (as one budget, failed
// reads used up the write's attempts); when it runs out, the grant stops. Other bindings are kept.
func (a *api) grant(ctx context.Context, resource, role, member string, add bool) error {
	var readErr error
	return shared.Retry(ctx, a.b, func(err error) bool { return readErr == nil && shared.RetryableGRPC(err) }, func(ctx context.Context) error {
		p, err := a.policy(ctx, resource)
		if err != nil {
			readErr = err
			return err
		}
		if hasMember(p, role, member) == add {
			return nil
		}
		var out []*iampb.Binding
		done := false
		for _, b := range p.GetBindings() {
			if b.GetRole() == role {
				if add {
					b.Members = append(b.Members, member)
					done = true
				} else {
					b.Members = slices.DeleteFunc(b.Members, func(m string) bool { return m == member })
					if len(b.Members) == 0 {
						continue
					}
				}
			}
			out = append(out, b)
		}
		if add && !done {
			out = append(out, &iampb.Binding{Role: role, Members: []string{member}})
		}
		p.Bindings = out
		_, err = a.iamOf(resource).SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: resource, Policy: p})
		return err
	})
}

// agentInfo is what the resource needs of the agent service: where to push, and who may invoke it.
type agentInfo struct {
	URI      string
	Invokers []string // IAM members holding roles/run.invoker on the service
}

// agent reads the Cloud Run service named by id (projects/*/locations/*/services/*).
func (a *api) agent(ctx context.Context, id string) (*agentInfo, error) {
	// Each read is retried on its own: as one attempt, both had to pass together, and at a high fault
	// rate that ran out of attempts.
	var svc *runpb.Service
	var p *iampb.Policy
	err := a.retry(ctx, func(ctx context.Context) (err error) {
		svc, err = a.run.GetService(ctx, &runpb.GetServiceRequest{Name: id})
		return err
	})
	if err == nil {
		err = a.retry(ctx, func(ctx context.Context) (err error) {
			p, err = a.run.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: id})
			return err
		})
	}
	if err != nil {
		return nil, err
	}
	info := &agentInfo{URI: svc.GetUri()}
	for _, b := range p.GetBindings() {
		if b.GetRole() == roleInvoker {
			info.Invokers = append(info.Invokers, b.GetMembers()...)
		}
	}
	if info.URI == "" {
		return nil, errors.New("the service has no URI yet (it has never become ready)")
	}
	return info, nil
}

func describe(action, target string, err error) string {
	return shared.DescribeGRPC(action, target, err)
}
