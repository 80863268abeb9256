package alerting_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	mon "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/distribution"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

// writeSeries writes one point of each metric type, as the agents' Managed Service for Prometheus sidecar
// and Cloud Run would, so that policies on them pass the API's metric validation.
func writeSeries(t *testing.T, s *sandbox, types ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := mon.NewMetricClient(ctx, option.WithEndpoint(s.addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, typ := range types {
		val := &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: 1}}
		if strings.HasPrefix(typ, "run.googleapis.com/") { // Cloud Run's utilisations are distributions
			val = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DistributionValue{DistributionValue: &distribution.Distribution{Count: 1, Mean: 0.5}}}
		}
		err := c.CreateServiceTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: "projects/" + testProject, TimeSeries: []*monitoringpb.TimeSeries{{
			Metric:   &metric.Metric{Type: typ},
			Resource: &monitoredres.MonitoredResource{Type: "prometheus_target", Labels: map[string]string{"project_id": testProject}},
			Points: []*monitoringpb.Point{{Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(time.Now())},
				Value: val}},
		}}})
		if err != nil {
			t.Fatalf("write %s: %v", typ, err)
		}
	}
}

// The documented examples apply against the sandbox (once the metrics they read have data), and a
// second plan is empty.
func TestAccAlerting_examplesApply(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	writeSeries(t, s,
		"prometheus.googleapis.com/alfred_tasks_failed_total/counter",
		"prometheus.googleapis.com/alfred_task_duration_seconds/histogram",
		"prometheus.googleapis.com/alfred_tasks_processed_total/counter",
		"run.googleapis.com/container/memory/utilizations")
	t.Setenv("TF_VAR_slack_token", "xoxb-example-token-1234")
	var cfg string
	for _, f := range []string{"alfred_notification_channel/resource.tf", "alfred_alert_policy/resource.tf"} {
		b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "resources", f))
		if err != nil {
			t.Fatal(err)
		}
		cfg += string(b) + "\n"
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{{Config: s.provider() + cfg, Check: resource.ComposeAggregateTestCheckFunc(
			resource.TestCheckResourceAttr("alfred_alert_policy.security", "condition.0.query",
				`sum by (service) (increase(logging_googleapis_com:user_alfred_failed_logins[5m])) > 20`),
			resource.TestCheckResourceAttr("alfred_alert_policy.alfred_bot", "condition.#", "3"),
		)}},
	})
}
