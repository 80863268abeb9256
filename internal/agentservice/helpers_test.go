package agentservice_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
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

func TestMain(m *testing.M) { acctest.Main(m) }

// sandbox is one Cloud Run emulator on loopback and an official client to inspect or change it "outside
// Terraform".
type sandbox struct {
	*cloudrun.TestServer
	client *run.ServicesClient
}

func newSandbox(t testing.TB, delay time.Duration) *sandbox {
	t.Helper()
	ts := cloudrun.StartTestServer(t, cloudrun.Options{OperationDelay: delay})
	c, err := run.NewServicesClient(context.Background(), option.WithEndpoint(ts.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &sandbox{TestServer: ts, client: c}
}

func (s *sandbox) provider() string {
	return fmt.Sprintf(`
provider "alfred" {
  gcp {
    project      = "p"
    region       = "europe-west1"
    run_endpoint = %q
    insecure     = true
  }
}
`, s.Addr)
}

func name(project, region, id string) string {
	return fmt.Sprintf("projects/%s/locations/%s/services/%s", project, region, id)
}

func (s *sandbox) get(t testing.TB, full string) *runpb.Service {
	t.Helper()
	svc, err := s.client.GetService(context.Background(), &runpb.GetServiceRequest{Name: full})
	if err != nil {
		t.Fatalf("GetService %s: %v", full, err)
	}
	return svc
}

func (s *sandbox) invokers(full string) ([]string, error) {
	p, err := s.client.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: full})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, b := range p.GetBindings() {
		if b.GetRole() == "roles/run.invoker" {
			out = append(out, b.GetMembers()...)
		}
	}
	return out, nil
}

// update changes the service through the API, as someone outside Terraform would.
func (s *sandbox) update(t testing.TB, full string, change func(*runpb.Service)) {
	t.Helper()
	svc := s.get(t, full)
	change(svc)
	op, err := s.client.UpdateService(context.Background(), &runpb.UpdateServiceRequest{Service: svc})
	if err != nil {
		t.Fatalf("UpdateService: %v", err)
	}
	if _, err := op.Wait(context.Background()); err != nil {
		t.Fatalf("UpdateService wait: %v", err)
	}
}

func (s *sandbox) delete(t testing.TB, full string) {
	t.Helper()
	op, err := s.client.DeleteService(context.Background(), &runpb.DeleteServiceRequest{Name: full})
	if err != nil {
		t.Fatalf("DeleteService: %v", err)
	}
	if _, err := op.Wait(context.Background()); err != nil {
		t.Fatalf("DeleteService wait: %v", err)
	}
}

// waitGone polls until the service no longer exists.
func (s *sandbox) waitGone(t testing.TB, full string) {
	t.Helper()
	for i := 0; i < 200; i++ {
		_, err := s.client.GetService(context.Background(), &runpb.GetServiceRequest{Name: full})
		if status.Code(err) == codes.NotFound {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s still exists", full)
}

// checkDestroyed asks the API that every alfred_agent_service of the state is gone.
func (s *sandbox) checkDestroyed(st *terraform.State) error {
	for _, rs := range st.RootModule().Resources {
		if rs.Type != "alfred_agent_service" {
			continue
		}
		_, err := s.client.GetService(context.Background(), &runpb.GetServiceRequest{Name: rs.Primary.ID})
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("%s still exists after destroy (err=%v)", rs.Primary.ID, err)
		}
	}
	return nil
}

// capture stores an attribute's value for a later step.
func capture(dst *string) func(string) error {
	return func(v string) error { *dst = v; return nil }
}

func differs(prev *string) func(string) error {
	return func(v string) error {
		if v == "" || v == *prev {
			return fmt.Errorf("expected a new value, got %q (before: %q)", v, *prev)
		}
		return nil
	}
}

func hasPrefix(p string) func(string) error {
	return func(v string) error {
		if !strings.HasPrefix(v, p) {
			return fmt.Errorf("%q does not start with %q", v, p)
		}
		return nil
	}
}

// test runs steps against the sandbox with the harness's pre-check and provider, and asks the API after
// destroy that every service of the state is gone.
func (s *sandbox) test(t *testing.T, steps []resource.TestStep) {
	t.Helper()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps:                    steps,
	})
}
