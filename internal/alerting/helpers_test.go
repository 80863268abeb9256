package alerting_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	mon "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

func TestMain(m *testing.M) { acctest.Main(m) }

const testProject = "alfred-test"

// sandbox is one Cloud Monitoring emulator on loopback, with its fault kit, and official clients to
// inspect or change it "outside Terraform".
type sandbox struct {
	addr     string
	kit      *kit.Kit
	srv      *monitoring.Server
	alerts   *mon.AlertPolicyClient
	channels *mon.NotificationChannelClient
}

func newSandbox(t testing.TB, opts monitoring.Options) *sandbox {
	t.Helper()
	k := kit.New(0, 0, 1)
	opts.Kit = k
	srv, err := monitoring.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(k.ServerOptions()...)
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	o := []option.ClientOption{option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
	s := &sandbox{addr: lis.Addr().String(), kit: k, srv: srv}
	ctx := context.Background()
	if s.alerts, err = mon.NewAlertPolicyClient(ctx, o...); err != nil {
		t.Fatal(err)
	}
	if s.channels, err = mon.NewNotificationChannelClient(ctx, o...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.alerts.Close(); _ = s.channels.Close(); g.Stop() })
	return s
}

func (s *sandbox) provider() string {
	return fmt.Sprintf(`
provider "alfred" {
  gcp {
    project             = %q
    region              = "europe-west1"
    monitoring_endpoint = %q
    insecure            = true
  }
}
`, testProject, s.addr)
}

func (s *sandbox) policy(t testing.TB, name string) *monitoringpb.AlertPolicy {
	t.Helper()
	p, err := s.alerts.GetAlertPolicy(context.Background(), &monitoringpb.GetAlertPolicyRequest{Name: name})
	if err != nil {
		t.Fatalf("GetAlertPolicy %s: %v", name, err)
	}
	return p
}

func (s *sandbox) policies(t testing.TB) []*monitoringpb.AlertPolicy {
	t.Helper()
	return drain(t, s.alerts.ListAlertPolicies(context.Background(), &monitoringpb.ListAlertPoliciesRequest{Name: "projects/" + testProject}).Next)
}

func (s *sandbox) channelNames(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, c := range drain(t, s.channels.ListNotificationChannels(context.Background(), &monitoringpb.ListNotificationChannelsRequest{Name: "projects/" + testProject}).Next) {
		out = append(out, c.GetName())
	}
	return out
}

// drain returns every item of a listing.
func drain[T any](t testing.TB, next func() (T, error)) []T {
	t.Helper()
	var out []T
	for {
		v, err := next()
		if err == iterator.Done {
			return out
		}
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		out = append(out, v)
	}
}

func (s *sandbox) writes() int64 {
	var n int64
	for m, c := range s.kit.Calls() {
		if kit.IsWriteMethod(m) {
			n += c
		}
	}
	return n
}

// checkDestroyed asks the API that every policy and channel of the state is gone.
func (s *sandbox) checkDestroyed(st *terraform.State) error {
	ctx := context.Background()
	for _, rs := range st.RootModule().Resources {
		var err error
		switch rs.Type {
		case "alfred_alert_policy":
			_, err = s.alerts.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: rs.Primary.ID})
		case "alfred_notification_channel":
			_, err = s.channels.GetNotificationChannel(ctx, &monitoringpb.GetNotificationChannelRequest{Name: rs.Primary.ID})
		default:
			continue
		}
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("%s still exists after destroy (err=%v)", rs.Primary.ID, err)
		}
	}
	return nil
}

func capture(dst *string) func(string) error {
	return func(v string) error { *dst = v; return nil }
}

func same(prev *string) func(string) error {
	return func(v string) error {
		if v == "" || v != *prev {
			return fmt.Errorf("expected %q to be kept, got %q", *prev, v)
		}
		return nil
	}
}

func differs(prev *string) func(string) error {
	return func(v string) error {
		if v == "" || v == *prev {
			return fmt.Errorf("expected a new value, got %q (before: %q)", v, *prev)
		}
		return nil
	}
}

type resourceCheck = func(*terraform.State) error
