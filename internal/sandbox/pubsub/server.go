// Package pubsub serves Cloud Pub/Sub for the sandbox. Topics, subscriptions, publishing, pulling,
// acknowledgement, filters, ordering and dead-letter forwarding are Google's own in-memory fake
// (cloud.google.com/go/pubsub/v2/pstest). What pstest lacks and this package adds: IAM policies on topics and
// subscriptions (google.iam.v1.IAMPolicy), push delivery to loopback HTTP endpoints with an OIDC token
// signed by the sandbox (JWKS served on the debug API), and retries with the subscription's retry policy
// backoff. FIDELITY.md says which part is whose.
package pubsub

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Issuer is the `iss` of the push OIDC tokens, as Google's (https://cloud.google.com/pubsub/docs/authenticate-push-subscriptions).
const Issuer = "https://accounts.google.com"

// Options configure the emulator.
type Options struct {
	Kit *kit.Kit
	// PollInterval is how often push subscriptions are polled for deliverable messages (default 100 ms).
	PollInterval time.Duration
}

// Server is the Pub/Sub emulator.
type Server struct {
	fake *pstest.Server
	pub  *publisher
	sub  *subscriber
	iam  *iamServer
	key  *rsa.PrivateKey
	kid  string
	http *http.Client

	mu       sync.Mutex
	policies map[string]*iampb.Policy // resource name -> policy
	pushed   map[string]int64         // push endpoint -> requests sent

	stop chan struct{}
	done chan struct{}
}

// New starts Google's fake (on a private loopback port it alone uses) and the push loop.
func New(opts Options) (*Server, error) {
	if opts.PollInterval == 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(key.N.Bytes())
	s := &Server{
		fake: pstest.NewServerWithAddress("127.0.0.1:0"), key: key, kid: fmt.Sprintf("%x", sum[:8]),
		http:     &http.Client{Timeout: 10 * time.Second},
		policies: map[string]*iampb.Policy{}, pushed: map[string]int64{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	g := &s.fake.GServer
	s.pub = &publisher{GServer: g, s: s}
	s.sub = &subscriber{GServer: g, s: s}
	s.iam = &iamServer{s: s}
	go s.pushLoop(opts.PollInterval)
	return s, nil
}

// Register adds Publisher, Subscriber and IAMPolicy to g.
func (s *Server) Register(g *grpc.Server) {
	pb.RegisterPublisherServer(g, s.pub)
	pb.RegisterSubscriberServer(g, s.sub)
	iampb.RegisterIAMPolicyServer(g, s.iam)
}

// Close stops the push loop and Google's fake.
func (s *Server) Close() error {
	select {
	case <-s.stop:
	default:
		close(s.stop)
		<-s.done
	}
	return s.fake.Close()
}

// publisher is pstest's Publisher, plus removing a deleted topic's IAM policy.
type publisher struct {
	*pstest.GServer
	s *Server
}

// CreateTopic refuses a topic name the API refuses, then lets pstest create it (pstest checks only that a
// name is given).
func (p *publisher) CreateTopic(ctx context.Context, t *pb.Topic) (*pb.Topic, error) {
	if err := checkName(t.GetName(), "topics"); err != nil {
		return nil, err
	}
	return p.GServer.CreateTopic(ctx, t)
}

func (p *publisher) DeleteTopic(ctx context.Context, req *pb.DeleteTopicRequest) (*emptypb.Empty, error) {
	r, err := p.GServer.DeleteTopic(ctx, req)
	if err == nil {
		p.s.dropPolicy(req.GetTopic())
	}
	return r, err
}

// subscriber is pstest's Subscriber, plus the checks pstest does not make on push and retry settings.
type subscriber struct {
	*pstest.GServer
	s *Server
}

func (u *subscriber) CreateSubscription(ctx context.Context, req *pb.Subscription) (*pb.Subscription, error) {
	if err := checkName(req.GetName(), "subscriptions"); err != nil {
		return nil, err
	}
	if err := checkName(req.GetTopic(), "topics"); err != nil {
		return nil, err
	}
	if err := checkSubscription(req); err != nil {
		return nil, err
	}
	return u.GServer.CreateSubscription(ctx, req)
}

func (u *subscriber) UpdateSubscription(ctx context.Context, req *pb.UpdateSubscriptionRequest) (*pb.Subscription, error) {
	for _, p := range req.GetUpdateMask().GetPaths() {
		// pubsub.proto: enable_message_ordering and filter are immutable (no "update" in their comments,
		// and the REST reference for subscriptions.patch lists neither among updatable fields).
		switch p {
		case "enable_message_ordering", "filter", "topic", "name":
			return nil, status.Errorf(codes.InvalidArgument, "Invalid update_mask provided in the UpdateSubscriptionRequest: the %s field cannot be updated.", p)
		}
	}
	if err := checkSubscription(req.GetSubscription()); err != nil {
		return nil, err
	}
	return u.GServer.UpdateSubscription(ctx, req)
}

func (u *subscriber) DeleteSubscription(ctx context.Context, req *pb.DeleteSubscriptionRequest) (*emptypb.Empty, error) {
	r, err := u.GServer.DeleteSubscription(ctx, req)
	if err == nil {
		u.s.dropPolicy(req.GetSubscription())
	}
	return r, err
}

// resourceIDRE is a topic or subscription id as pubsub.proto describes Topic.name and Subscription.name:
// "must start with a letter, and contain only letters ([A-Za-z]), numbers ([0-9]), dashes (-), underscores
// (_), periods (.), tildes (~), plus (+) or percent signs (%). It must be between 3 and 255 characters in
// length, and it must not start with "goog"."
var resourceIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.~+%-]{2,254}$`)

// checkName refuses a name that is not projects/{project}/{kind}/{id} with a valid id, with the live API's
// INVALID_ARGUMENT text (gofr-dev/gofr#1257: "Invalid resource name given (name=projects/zs-products/topics/).
// Refer to https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more information.").
func checkName(name, kind string) error {
	p := strings.Split(name, "/")
	if len(p) != 4 || p[0] != "projects" || p[1] == "" || p[2] != kind || !resourceIDRE.MatchString(p[3]) ||
		strings.HasPrefix(p[3], "goog") {
		return status.Errorf(codes.InvalidArgument, "Invalid resource name given (name=%s). Refer to "+
			"https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names for more information.", name)
	}
	return nil
}

// checkSubscription refuses what pubsub.proto documents as out of range and pstest accepts.
func checkSubscription(sub *pb.Subscription) error {
	if rp := sub.GetRetryPolicy(); rp != nil {
		// "minimum_backoff ... Value should be between 0 and 600 seconds. Defaults to 10 seconds."
		// "maximum_backoff ... Value should be between 0 and 600 seconds. Defaults to 600 seconds."
		for n, d := range map[string]time.Duration{"minimum_backoff": rp.GetMinimumBackoff().AsDuration(), "maximum_backoff": rp.GetMaximumBackoff().AsDuration()} {
			if (rp.GetMinimumBackoff() != nil || n == "maximum_backoff") && (d < 0 || d > 600*time.Second) {
				if n == "maximum_backoff" && rp.GetMaximumBackoff() == nil {
					continue
				}
				return status.Errorf(codes.InvalidArgument, "Invalid %s: must be between 0 and 600 seconds.", n)
			}
		}
		if rp.GetMinimumBackoff() != nil && rp.GetMaximumBackoff() != nil && rp.GetMinimumBackoff().AsDuration() > rp.GetMaximumBackoff().AsDuration() {
			return status.Errorf(codes.InvalidArgument, "Invalid retry_policy: minimum_backoff must not exceed maximum_backoff.")
		}
	}
	if dl := sub.GetDeadLetterPolicy(); dl != nil {
		if t := dl.GetDeadLetterTopic(); t != "" {
			if err := checkName(t, "topics"); err != nil {
				return err
			}
		}
		// "max_delivery_attempts ... The value must be between 5 and 100. ... If this parameter is 0, a
		// default value of 5 is used."
		if n := dl.GetMaxDeliveryAttempts(); n != 0 && (n < 5 || n > 100) {
			return status.Errorf(codes.InvalidArgument, "Invalid max_delivery_attempts: must be between 5 and 100, got %d.", n)
		}
		if dl.GetMaxDeliveryAttempts() == 0 {
			dl.MaxDeliveryAttempts = 5
		}
	}
	if pc := sub.GetPushConfig(); pc.GetPushEndpoint() != "" {
		u, err := url.Parse(pc.GetPushEndpoint())
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return status.Errorf(codes.InvalidArgument, "Invalid push_endpoint: %q is not an absolute http(s) URL.", pc.GetPushEndpoint())
		}
		if tok := pc.GetOidcToken(); tok != nil && !strings.Contains(tok.GetServiceAccountEmail(), "@") {
			return status.Errorf(codes.InvalidArgument, "Invalid oidc_token.service_account_email: %q.", tok.GetServiceAccountEmail())
		}
	}
	return nil
}

func (s *Server) dropPolicy(name string) {
	s.mu.Lock()
	delete(s.policies, name)
	s.mu.Unlock()
}

// iamServer keeps IAM policies on topics and subscriptions, which pstest does not implement.
type iamServer struct {
	iampb.UnimplementedIAMPolicyServer
	s *Server
}

func (i *iamServer) exists(ctx context.Context, resource string) error {
	var err error
	switch {
	case strings.Contains(resource, "/topics/"):
		_, err = i.s.pub.GetTopic(ctx, &pb.GetTopicRequest{Topic: resource})
	case strings.Contains(resource, "/subscriptions/"):
		_, err = i.s.sub.GetSubscription(ctx, &pb.GetSubscriptionRequest{Subscription: resource})
	default:
		err = status.Errorf(codes.InvalidArgument, "Invalid resource name %q: expected projects/*/topics/* or projects/*/subscriptions/*.", resource)
	}
	if status.Code(err) == codes.NotFound {
		return status.Errorf(codes.NotFound, "Resource not found (resource=%s).", resource)
	}
	return err
}

func (i *iamServer) GetIamPolicy(ctx context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	if err := i.exists(ctx, req.GetResource()); err != nil {
		return nil, err
	}
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	p := i.s.policies[req.GetResource()]
	if p == nil {
		// An untouched resource has an empty policy with the etag "ACAB" (base64 of 0x00 0x20 0x01).
		return &iampb.Policy{Etag: []byte{0x00, 0x20, 0x01}}, nil
	}
	return proto.Clone(p).(*iampb.Policy), nil
}

func (i *iamServer) SetIamPolicy(ctx context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	if err := i.exists(ctx, req.GetResource()); err != nil {
		return nil, err
	}
	in := req.GetPolicy()
	for _, b := range in.GetBindings() {
		if !strings.HasPrefix(b.GetRole(), "roles/") {
			return nil, status.Errorf(codes.InvalidArgument, "Role %q is not a valid role name.", b.GetRole())
		}
		for j, m := range b.GetMembers() {
			kind, email, ok := strings.Cut(m, ":")
			switch {
			case m == "allUsers" || m == "allAuthenticatedUsers":
			case ok && (kind == "user" || kind == "serviceAccount" || kind == "group") && strings.Contains(email, "@"):
				b.Members[j] = kind + ":" + strings.ToLower(email) // IAM stores emails lower-cased
			case ok && kind == "domain" && email != "":
			default:
				return nil, status.Errorf(codes.InvalidArgument, "Invalid member %q in role %s.", m, b.GetRole())
			}
		}
	}
	i.s.mu.Lock()
	defer i.s.mu.Unlock()
	cur := i.s.policies[req.GetResource()]
	curEtag := []byte{0x00, 0x20, 0x01}
	if cur != nil {
		curEtag = cur.GetEtag()
	}
	// Optimistic concurrency: a policy read earlier carries the etag it was read with (iam_policy.proto).
	if len(in.GetEtag()) > 0 && !bytes.Equal(in.GetEtag(), curEtag) {
		return nil, status.Error(codes.Aborted, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.")
	}
	p := proto.Clone(in).(*iampb.Policy)
	etag := make([]byte, 8)
	_, _ = rand.Read(etag)
	p.Etag = etag
	i.s.policies[req.GetResource()] = p
	return proto.Clone(p).(*iampb.Policy), nil
}

func (i *iamServer) TestIamPermissions(ctx context.Context, req *iampb.TestIamPermissionsRequest) (*iampb.TestIamPermissionsResponse, error) {
	if err := i.exists(ctx, req.GetResource()); err != nil {
		return nil, err
	}
	// The sandbox's caller is unauthenticated and may do everything.
	return &iampb.TestIamPermissionsResponse{Permissions: req.GetPermissions()}, nil
}

// HasBinding reports whether member holds role on the topic or subscription.
func (s *Server) HasBinding(resource, role, member string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.policies[resource].GetBindings() {
		if b.GetRole() == role {
			for _, m := range b.GetMembers() {
				if m == member {
					return true
				}
			}
		}
	}
	return false
}

// JWKS is the JSON Web Key Set that verifies the push tokens.
func (s *Server) JWKS() map[string]any {
	pub := s.key.PublicKey
	return map[string]any{"keys": []map[string]any{{
		"kty": "RSA", "alg": "RS256", "use": "sig", "kid": s.kid,
		"n": base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}}
}

// PublicKey is the key that verifies the push tokens.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// DebugRoutes adds GET /pubsub/jwks (the keys of the push tokens) and GET /pubsub/pushes (requests sent per
// endpoint) to mux.
func (s *Server) DebugRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /pubsub/jwks", func(w http.ResponseWriter, _ *http.Request) {
		kit.WriteJSON(w, http.StatusOK, s.JWKS())
	})
	mux.HandleFunc("GET /pubsub/pushes", func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		out := map[string]int64{}
		for k, v := range s.pushed {
			out[k] = v
		}
		s.mu.Unlock()
		kit.WriteJSON(w, http.StatusOK, out)
	})
}

// token signs the OIDC token a push carries: RS256, iss accounts.google.com, aud the configured audience
// or else the push endpoint, email the push service account (authenticate-push-subscriptions docs).
func (s *Server) token(email, audience string, now time.Time) (string, error) {
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": s.kid})
	claims, _ := json.Marshal(map[string]any{
		"iss": Issuer, "aud": audience, "email": email, "email_verified": true,
		"sub": fmt.Sprintf("%x", sha256.Sum256([]byte(email)))[:21], "azp": email,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	signing := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func (s *Server) pushLoop(every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.pushOnce()
		}
	}
}

// isLoopback reports whether the push endpoint's host is a loopback address: the sandbox pushes only
// there (no requests leave the machine). Other endpoints are never delivered to, so their messages wait.
func isLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) pushOnce() {
	ctx := context.Background()
	var subs []*pb.Subscription
	req := &pb.ListSubscriptionsRequest{Project: "projects/", PageSize: 1000}
	for {
		r, err := s.sub.ListSubscriptions(ctx, req)
		if err != nil {
			return
		}
		for _, sub := range r.GetSubscriptions() {
			subs = append(subs, proto.Clone(sub).(*pb.Subscription))
		}
		if r.GetNextPageToken() == "" {
			break
		}
		req.PageToken = r.GetNextPageToken()
	}
	for _, sub := range subs {
		ep := sub.GetPushConfig().GetPushEndpoint()
		if ep == "" || !isLoopback(ep) {
			continue
		}
		// Deprecated for clients, but without it pstest waits 500 ms on every empty pull of the poll loop.
		r, err := s.sub.Pull(ctx, &pb.PullRequest{Subscription: sub.GetName(), MaxMessages: 10, ReturnImmediately: true}) //nolint:staticcheck // see above
		if err != nil {
			continue
		}
		for _, m := range r.GetReceivedMessages() {
			s.deliver(ctx, sub, m)
		}
	}
}

// deliver sends one message as the push wrapper JSON (PubsubWrapper) and acknowledges it on success. A
// push is a success when the endpoint answers 102, 200, 201, 202 or 204 (push subscription docs); anything
// else is a negative acknowledgement, and the message comes back after the retry policy's backoff:
// exponential from minimum_backoff, doubling with each delivery attempt, capped at maximum_backoff; without
// a retry policy it is redelivered at once. Delivery attempts and dead-letter forwarding after
// max_delivery_attempts are pstest's.
func (s *Server) deliver(ctx context.Context, sub *pb.Subscription, rm *pb.ReceivedMessage) {
	pc := sub.GetPushConfig()
	m := rm.GetMessage()
	body := map[string]any{
		"message": map[string]any{
			"data": base64.StdEncoding.EncodeToString(m.GetData()), "attributes": m.GetAttributes(),
			"messageId": m.GetMessageId(), "message_id": m.GetMessageId(),
			"publishTime": m.GetPublishTime().AsTime().Format(time.RFC3339Nano), "publish_time": m.GetPublishTime().AsTime().Format(time.RFC3339Nano),
			"orderingKey": m.GetOrderingKey(),
		},
		"subscription": sub.GetName(),
	}
	if rm.GetDeliveryAttempt() > 0 {
		body["deliveryAttempt"] = rm.GetDeliveryAttempt()
	}
	raw, _ := json.Marshal(body)
	ok := false
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, pc.GetPushEndpoint(), bytes.NewReader(raw))
	if err == nil {
		hreq.Header.Set("Content-Type", "application/json")
		if tok := pc.GetOidcToken(); tok != nil && tok.GetServiceAccountEmail() != "" {
			aud := tok.GetAudience()
			if aud == "" {
				aud = pc.GetPushEndpoint()
			}
			jwt, terr := s.token(tok.GetServiceAccountEmail(), aud, time.Now())
			if terr == nil {
				hreq.Header.Set("Authorization", "Bearer "+jwt)
			}
		}
		s.mu.Lock()
		s.pushed[pc.GetPushEndpoint()]++
		s.mu.Unlock()
		resp, herr := s.http.Do(hreq)
		if herr == nil {
			_ = resp.Body.Close()
			switch resp.StatusCode {
			case 102, 200, 201, 202, 204:
				ok = true
			}
		}
	}
	if ok {
		_, _ = s.sub.Acknowledge(ctx, &pb.AcknowledgeRequest{Subscription: sub.GetName(), AckIds: []string{rm.GetAckId()}})
		return
	}
	_, _ = s.sub.ModifyAckDeadline(ctx, &pb.ModifyAckDeadlineRequest{
		Subscription: sub.GetName(), AckIds: []string{rm.GetAckId()},
		AckDeadlineSeconds: int32(backoff(sub.GetRetryPolicy(), int(rm.GetDeliveryAttempt())) / time.Second),
	})
}

// backoff is the delay before the next delivery after the attempt-th failed one.
func backoff(rp *pb.RetryPolicy, attempt int) time.Duration {
	if rp == nil {
		return 0
	}
	lo, hi := 10*time.Second, 600*time.Second
	if rp.GetMinimumBackoff() != nil {
		lo = rp.GetMinimumBackoff().AsDuration()
	}
	if rp.GetMaximumBackoff() != nil {
		hi = rp.GetMaximumBackoff().AsDuration()
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	if d > hi {
		d = hi
	}
	return d
}
