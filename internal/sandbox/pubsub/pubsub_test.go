package pubsub_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	psapi "cloud.google.com/go/pubsub/v2/apiv1"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/pubsub"
)

func clients(t *testing.T, addr string) (*psapi.TopicAdminClient, *psapi.SubscriptionAdminClient) {
	t.Helper()
	ctx := context.Background()
	opts := []option.ClientOption{option.WithEndpoint(addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
	tc, err := psapi.NewTopicAdminClient(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := psapi.NewSubscriptionAdminClient(ctx, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tc.Close(); _ = sc.Close() })
	return tc, sc
}

// verify checks an RS256 JWT against the key and returns its claims.
func verify(t *testing.T, pub *rsa.PublicKey, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("push token signature does not verify with the sandbox JWKS key: %v", err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	return c
}

type endpoint struct {
	mu     sync.Mutex
	code   int
	tokens []string
	bodies []map[string]any
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b map[string]any
	_ = json.NewDecoder(r.Body).Decode(&b)
	e.mu.Lock()
	e.tokens = append(e.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	e.bodies = append(e.bodies, b)
	code := e.code
	e.mu.Unlock()
	w.WriteHeader(code)
}

func (e *endpoint) count() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.tokens) }

func setup(t *testing.T, ts *pubsub.TestServer, name, push string, attempts int32) (*psapi.TopicAdminClient, *psapi.SubscriptionAdminClient) {
	t.Helper()
	ctx := context.Background()
	tc, sc := clients(t, ts.Addr)
	for _, tp := range []string{name, name + "-dl"} {
		if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/topics/" + tp}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sc.CreateSubscription(ctx, &pb.Subscription{Name: "projects/p/subscriptions/" + name + "-dl", Topic: "projects/p/topics/" + name + "-dl"}); err != nil {
		t.Fatal(err)
	}
	_, err := sc.CreateSubscription(ctx, &pb.Subscription{
		Name: "projects/p/subscriptions/" + name, Topic: "projects/p/topics/" + name,
		PushConfig: &pb.PushConfig{PushEndpoint: push, AuthenticationMethod: &pb.PushConfig_OidcToken_{
			OidcToken: &pb.PushConfig_OidcToken{ServiceAccountEmail: "pusher@p.iam.gserviceaccount.com", Audience: "https://agent.example"}}},
		RetryPolicy:      &pb.RetryPolicy{MinimumBackoff: durationpb.New(0), MaximumBackoff: durationpb.New(time.Second)},
		DeadLetterPolicy: &pb.DeadLetterPolicy{DeadLetterTopic: "projects/p/topics/" + name + "-dl", MaxDeliveryAttempts: attempts},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tc, sc
}

func publish(t *testing.T, tc *psapi.TopicAdminClient, topic, data string) {
	t.Helper()
	if _, err := tc.Publish(context.Background(), &pb.PublishRequest{Topic: topic, Messages: []*pb.PubsubMessage{{Data: []byte(data)}}}); err != nil {
		t.Fatal(err)
	}
}

// A push carries the message and an OIDC token signed by the sandbox key, with the configured audience
// and the push service account's email; a 2xx answer acknowledges it (no second delivery).
func TestPush_deliversWithVerifiableOIDCToken(t *testing.T) {
	ts := pubsub.StartTestServer(t, pubsub.Options{PollInterval: 20 * time.Millisecond})
	ep := &endpoint{code: 204}
	hs := httptest.NewServer(ep)
	defer hs.Close()
	tc, _ := setup(t, ts, "okay", hs.URL, 5)
	publish(t, tc, "projects/p/topics/okay", "task-1")
	deadline := time.Now().Add(5 * time.Second)
	for ep.count() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if ep.count() != 1 {
		t.Fatalf("pushes = %d, want exactly 1 (acknowledged by 204)", ep.count())
	}
	c := verify(t, ts.Server.PublicKey(), ep.tokens[0])
	if c["aud"] != "https://agent.example" || c["email"] != "pusher@p.iam.gserviceaccount.com" || c["iss"] != pubsub.Issuer {
		t.Fatalf("claims %v", c)
	}
	msg, _ := ep.bodies[0]["message"].(map[string]any)
	if d, _ := base64.StdEncoding.DecodeString(msg["data"].(string)); string(d) != "task-1" || ep.bodies[0]["subscription"] != "projects/p/subscriptions/okay" {
		t.Fatalf("body %v", ep.bodies[0])
	}
}

// An endpoint that keeps failing sees the message max_delivery_attempts times; then the message is
// forwarded to the dead-letter topic and can be pulled from its subscription.
func TestPush_failingEndpointDeadLettersAfterMaxAttempts(t *testing.T) {
	ts := pubsub.StartTestServer(t, pubsub.Options{PollInterval: 20 * time.Millisecond})
	ep := &endpoint{code: 500}
	hs := httptest.NewServer(ep)
	defer hs.Close()
	tc, sc := setup(t, ts, "bad", hs.URL, 5)
	publish(t, tc, "projects/p/topics/bad", "task-2")
	ctx := context.Background()
	var got []*pb.ReceivedMessage
	deadline := time.Now().Add(20 * time.Second)
	for len(got) == 0 && time.Now().Before(deadline) {
		r, err := sc.Pull(ctx, &pb.PullRequest{Subscription: "projects/p/subscriptions/bad-dl", MaxMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		got = r.GetReceivedMessages()
	}
	if len(got) != 1 || string(got[0].GetMessage().GetData()) != "task-2" {
		t.Fatalf("dead-letter subscription got %v", got)
	}
	if ep.count() != 5 {
		t.Fatalf("the failing endpoint saw %d deliveries, want max_delivery_attempts = 5", ep.count())
	}
	if a := ep.bodies[4]["deliveryAttempt"]; a != float64(5) {
		t.Fatalf("last deliveryAttempt = %v", a)
	}
}

func TestSubscription_refusesWhatTheAPIRefuses(t *testing.T) {
	ts := pubsub.StartTestServer(t, pubsub.Options{})
	tc, sc := clients(t, ts.Addr)
	ctx := context.Background()
	if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/topics/tasks"}); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]*pb.Subscription{
		"attempts": {DeadLetterPolicy: &pb.DeadLetterPolicy{DeadLetterTopic: "projects/p/topics/tasks", MaxDeliveryAttempts: 4}},
		"backoff":  {RetryPolicy: &pb.RetryPolicy{MinimumBackoff: durationpb.New(601 * time.Second)}},
		"minmax":   {RetryPolicy: &pb.RetryPolicy{MinimumBackoff: durationpb.New(20 * time.Second), MaximumBackoff: durationpb.New(10 * time.Second)}},
		"endpoint": {PushConfig: &pb.PushConfig{PushEndpoint: "not a url"}},
	} {
		s.Name, s.Topic = "projects/p/subscriptions/"+name, "projects/p/topics/tasks"
		if _, err := sc.CreateSubscription(ctx, s); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := sc.CreateSubscription(ctx, &pb.Subscription{Name: "projects/p/subscriptions/sub", Topic: "projects/p/topics/tasks"}); err != nil {
		t.Fatal(err)
	}
	_, err := sc.UpdateSubscription(ctx, &pb.UpdateSubscriptionRequest{Subscription: &pb.Subscription{Name: "projects/p/subscriptions/sub", Filter: "attributes:x"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"filter"}}})
	if status.Code(err) != codes.InvalidArgument {
		t.Errorf("filter update: %v, want InvalidArgument", err)
	}
}

func TestIAM_policiesOnTopicsAndSubscriptions(t *testing.T) {
	ts := pubsub.StartTestServer(t, pubsub.Options{})
	tc, sc := clients(t, ts.Addr)
	ctx := context.Background()
	if _, err := tc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: "projects/p/topics/none"}); status.Code(err) != codes.NotFound {
		t.Fatalf("policy of a missing topic: %v", err)
	}
	if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/topics/tasks"}); err != nil {
		t.Fatal(err)
	}
	p, err := tc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: "projects/p/topics/tasks"})
	if err != nil || len(p.GetBindings()) != 0 {
		t.Fatalf("%v %v", p, err)
	}
	p.Bindings = []*iampb.Binding{{Role: "roles/pubsub.publisher", Members: []string{"serviceAccount:A@p.iam.gserviceaccount.com"}}}
	if _, err := tc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: "projects/p/topics/tasks", Policy: p}); err != nil {
		t.Fatal(err)
	}
	// The etag read first is stale now.
	if _, err := tc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: "projects/p/topics/tasks", Policy: p}); status.Code(err) != codes.Aborted {
		t.Fatalf("stale etag: %v", err)
	}
	if !ts.Server.HasBinding("projects/p/topics/tasks", "roles/pubsub.publisher", "serviceAccount:a@p.iam.gserviceaccount.com") {
		t.Fatal("binding not kept (with the email lower-cased)")
	}
	if err := tc.DeleteTopic(ctx, &pb.DeleteTopicRequest{Topic: "projects/p/topics/tasks"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/topics/tasks"}); err != nil {
		t.Fatal(err)
	}
	if ts.Server.HasBinding("projects/p/topics/tasks", "roles/pubsub.publisher", "serviceAccount:a@p.iam.gserviceaccount.com") {
		t.Fatal("a deleted topic's policy survives into a new topic of the same name")
	}
	if _, err := sc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: "projects/p/subscriptions/none", Policy: &iampb.Policy{}}); status.Code(err) != codes.NotFound {
		t.Fatalf("policy of a missing subscription: %v", err)
	}
}

// Topic and subscription ids follow pubsub.proto's Topic.name / Subscription.name rules (a letter first,
// letters, digits and -_.~+%, 3 to 255 characters, not starting with "goog"); the API refuses any other
// name with INVALID_ARGUMENT, where pstest alone accepts it.
func TestNames_refusedAsTheAPIRefuses(t *testing.T) {
	ts := pubsub.StartTestServer(t, pubsub.Options{})
	tc, sc := clients(t, ts.Addr)
	ctx := context.Background()
	for _, id := range []string{"ab", "1abc", "goog-topic", "with space", "a/b/c", strings.Repeat("a", 256)} {
		if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/topics/" + id}); status.Code(err) != codes.InvalidArgument ||
			!strings.Contains(err.Error(), "Invalid resource name given") {
			t.Errorf("topic %q: %v, want InvalidArgument", id, err)
		}
	}
	if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/subscriptions/abc"}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("a subscription name as a topic: %v, want InvalidArgument", err)
	}
	for _, id := range []string{"abc", "A.b~c+d%e_f-g", strings.Repeat("a", 255)} {
		if _, err := tc.CreateTopic(ctx, &pb.Topic{Name: "projects/p/topics/" + id}); err != nil {
			t.Errorf("topic %q: %v", id, err)
		}
	}
	for name, s := range map[string]*pb.Subscription{
		"short id":          {Name: "projects/p/subscriptions/ab", Topic: "projects/p/topics/abc"},
		"topic name":        {Name: "projects/p/subscriptions/abc", Topic: "abc"},
		"dead-letter topic": {Name: "projects/p/subscriptions/abc", Topic: "projects/p/topics/abc", DeadLetterPolicy: &pb.DeadLetterPolicy{DeadLetterTopic: "projects/p/topics/x"}},
	} {
		if _, err := sc.CreateSubscription(ctx, s); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := sc.CreateSubscription(ctx, &pb.Subscription{Name: "projects/p/subscriptions/abc", Topic: "projects/p/topics/abc"}); err != nil {
		t.Fatal(err)
	}
}
