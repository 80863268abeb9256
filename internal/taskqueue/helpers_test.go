package taskqueue_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	psapi "cloud.google.com/go/pubsub/v2/apiv1"
	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sbps "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/pubsub"
)

func TestMain(m *testing.M) { acctest.Main(m) }

const (
	project = "p"
	agentSA = "service-123456789@gcp-sa-pubsub.iam.gserviceaccount.com"
	pusher  = "pusher@p.iam.gserviceaccount.com"
)

// sandbox is a Pub/Sub emulator on loopback and official clients to look at it or change it "outside
// Terraform".
type sandbox struct {
	*sbps.TestServer
	topics  *psapi.TopicAdminClient
	subs    *psapi.SubscriptionAdminClient
	runAddr string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	ts := sbps.StartTestServer(t, sbps.Options{PollInterval: 20e6})
	ctx := context.Background()
	o := []option.ClientOption{option.WithEndpoint(ts.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
	tc, err := psapi.NewTopicAdminClient(ctx, o...)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := psapi.NewSubscriptionAdminClient(ctx, o...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tc.Close(); _ = sc.Close() })
	return &sandbox{TestServer: ts, topics: tc, subs: sc, runAddr: "127.0.0.1:1"}
}

func (s *sandbox) provider() string {
	return fmt.Sprintf(`
provider "alfred" {
  gcp {
    project         = %q
    region          = "europe-west1"
    pubsub_endpoint = %q
    run_endpoint    = %q
    insecure        = true
  }
}
`, project, s.Addr, s.runAddr)
}

func (s *sandbox) sub(t *testing.T, name string) *pb.Subscription {
	t.Helper()
	x, err := s.subs.GetSubscription(context.Background(), &pb.GetSubscriptionRequest{Subscription: "projects/p/subscriptions/" + name})
	if err != nil {
		t.Fatalf("GetSubscription %s: %v", name, err)
	}
	return x
}

func (s *sandbox) granted(resource, role, member string) bool {
	var p *iampb.Policy
	var err error
	if strings.Contains(resource, "/subscriptions/") {
		p, err = s.subs.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: resource})
	} else {
		p, err = s.topics.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: resource})
	}
	if err != nil {
		return false
	}
	for _, b := range p.GetBindings() {
		for _, m := range b.GetMembers() {
			if b.GetRole() == role && m == member {
				return true
			}
		}
	}
	return false
}

// checkDestroyed asks the API that none of the queue's topics and subscriptions remain.
func (s *sandbox) checkDestroyed(st *terraform.State) error {
	for _, rs := range st.RootModule().Resources {
		if rs.Type != "alfred_task_queue" {
			continue
		}
		a := rs.Primary.Attributes
		for _, n := range []string{a["subscription"], a["dead_letter_subscription"]} {
			if _, err := s.subs.GetSubscription(context.Background(), &pb.GetSubscriptionRequest{Subscription: n}); status.Code(err) != codes.NotFound {
				return fmt.Errorf("%s still exists after destroy (err=%v)", n, err)
			}
		}
		for _, n := range []string{a["topic"], a["dead_letter_topic"]} {
			if _, err := s.topics.GetTopic(context.Background(), &pb.GetTopicRequest{Topic: n}); status.Code(err) != codes.NotFound {
				return fmt.Errorf("%s still exists after destroy (err=%v)", n, err)
			}
		}
	}
	return nil
}

// agentEndpoint stands in for an agent: it records each push and answers code.
type agentEndpoint struct {
	mu     sync.Mutex
	code   int
	tokens []string
	bodies []map[string]any
}

func (e *agentEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b map[string]any
	_ = json.NewDecoder(r.Body).Decode(&b)
	e.mu.Lock()
	e.tokens = append(e.tokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	e.bodies = append(e.bodies, b)
	code := e.code
	e.mu.Unlock()
	w.WriteHeader(code)
}

func (e *agentEndpoint) count() int { e.mu.Lock(); defer e.mu.Unlock(); return len(e.tokens) }

// verifyWithJWKS checks an RS256 token against the JWKS the sandbox publishes, as an agent would, and
// returns its claims.
func verifyWithJWKS(jwks map[string]any, token string) (map[string]any, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("not a JWT: %q", token)
	}
	var hdr struct {
		Alg, Kid string
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[0])
	_ = json.Unmarshal(raw, &hdr)
	keys, _ := json.Marshal(jwks["keys"])
	var ks []struct{ Kid, N, E string }
	_ = json.Unmarshal(keys, &ks)
	for _, k := range ks {
		if k.Kid != hdr.Kid || hdr.Alg != "RS256" {
			continue
		}
		n, _ := base64.RawURLEncoding.DecodeString(k.N)
		e, _ := base64.RawURLEncoding.DecodeString(k.E)
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
			return nil, err
		}
		var c map[string]any
		cl, _ := base64.RawURLEncoding.DecodeString(parts[1])
		return c, json.Unmarshal(cl, &c)
	}
	return nil, fmt.Errorf("no JWKS key %q for alg %q", hdr.Kid, hdr.Alg)
}
