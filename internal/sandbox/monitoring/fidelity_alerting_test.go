package monitoring_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	mon "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/distribution"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

// startWith runs the emulator with opts and returns its clients and the server (to inspect stored state).
func startWith(t *testing.T, opts monitoring.Options) (clients, *monitoring.Server) {
	t.Helper()
	srv, err := monitoring.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(kit.New(0, 0, 1).ServerOptions()...)
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	o := []option.ClientOption{option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
	ctx := context.Background()
	var c clients
	if c.alerts, err = mon.NewAlertPolicyClient(ctx, o...); err != nil {
		t.Fatal(err)
	}
	if c.channels, err = mon.NewNotificationChannelClient(ctx, o...); err != nil {
		t.Fatal(err)
	}
	if c.metrics, err = mon.NewMetricClient(ctx, o...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.alerts.Close(); c.channels.Close(); c.metrics.Close(); g.Stop() })
	return c, srv
}

func checkedPromQL(q string) *monitoringpb.AlertPolicy_Condition {
	c := promql(q)
	c.GetConditionPrometheusQueryLanguage().DisableMetricValidation = false
	return c
}

func TestAlertPolicy_promQLOnUnwrittenMetricRefusedUnlessValidationDisabled(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	create := func(cond *monitoringpb.AlertPolicy_Condition) error {
		_, err := c.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: policy("p", cond)})
		return err
	}
	q := `time() - max(alfred_backup_last_success_timestamp_seconds{service="db"}) > 90000`
	err := create(checkedPromQL(q))
	wantCode(t, err, codes.InvalidArgument, "PromQL on a metric never written")
	if !strings.Contains(err.Error(), "alfred_backup_last_success_timestamp_seconds") || !strings.Contains(err.Error(), "disable_metric_validation") {
		t.Fatalf("message should name the metric and the way out: %v", err)
	}
	if err := create(promql(q)); err != nil {
		t.Fatalf("with disable_metric_validation the policy must be accepted: %v", err)
	}
	// A Managed Service for Prometheus series written makes the metric known, histograms by their _bucket name too.
	now := time.Now()
	for _, typ := range []string{"prometheus.googleapis.com/alfred_backup_last_success_timestamp_seconds/gauge",
		"prometheus.googleapis.com/alfred_task_duration_seconds/histogram"} {
		err := c.metrics.CreateServiceTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{{
			Metric:   &metric.Metric{Type: typ, Labels: map[string]string{"service": "db"}},
			Resource: &monitoredres.MonitoredResource{Type: "prometheus_target", Labels: map[string]string{"project_id": "alfred-test"}},
			Points: []*monitoringpb.Point{{Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(now)},
				Value: &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: 1}}}},
		}}})
		if err != nil {
			t.Fatalf("write %s: %v", typ, err)
		}
	}
	if err := create(checkedPromQL(q)); err != nil {
		t.Fatalf("metric written: %v", err)
	}
	if err := create(checkedPromQL(`histogram_quantile(0.95, sum by (le) (rate(alfred_task_duration_seconds_bucket[5m]))) > 30`)); err != nil {
		t.Fatalf("histogram bucket of a written histogram: %v", err)
	}
	// A custom metric read by its PromQL name (domain and path with '_', first '/' as ':').
	err = create(checkedPromQL(`custom_googleapis_com:alfred_jobs > 1`))
	wantCode(t, err, codes.InvalidArgument, "custom metric never written")
	if _, err := c.metrics.CreateMetricDescriptor(ctx, &monitoringpb.CreateMetricDescriptorRequest{Name: project, MetricDescriptor: &metric.MetricDescriptor{
		Type: "custom.googleapis.com/alfred_jobs", MetricKind: metric.MetricDescriptor_GAUGE, ValueType: metric.MetricDescriptor_DOUBLE}}); err != nil {
		t.Fatal(err)
	}
	if err := create(checkedPromQL(`custom_googleapis_com:alfred_jobs > 1`)); err != nil {
		t.Fatalf("custom metric with a descriptor: %v", err)
	}
	// A DOUBLE metric has no histogram series; a DISTRIBUTION (Cloud Run's utilisations) reads as one.
	wantCode(t, create(checkedPromQL(`custom_googleapis_com:alfred_jobs_bucket > 1`)), codes.InvalidArgument, "_bucket of a DOUBLE metric")
	q = `histogram_quantile(0.99, sum by (le) (rate(run_googleapis_com:container_memory_utilizations_bucket[5m]))) > 0.9`
	wantCode(t, create(checkedPromQL(q)), codes.InvalidArgument, "Cloud Run memory never written")
	err = c.metrics.CreateServiceTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{{
		Metric:   &metric.Metric{Type: "run.googleapis.com/container/memory/utilizations"},
		Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{"project_id": "alfred-test"}},
		Points: []*monitoringpb.Point{{Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(now)},
			Value: &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DistributionValue{DistributionValue: &distribution.Distribution{Count: 1, Mean: 0.5}}}}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := create(checkedPromQL(q)); err != nil {
		t.Fatalf("histogram of a written distribution: %v", err)
	}
}

func TestAlertPolicy_tooManyConcurrentEditsIsAborted(t *testing.T) {
	c, _ := startWith(t, monitoring.Options{Kit: kit.New(0, 0, 1), MaxConcurrentPolicyWrites: 2, PolicyWriteLatency: 200 * time.Millisecond})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: policy("p", promql(`up`))})
		}()
	}
	wg.Wait()
	ok, aborted := 0, 0
	for _, err := range errs {
		switch status.Code(err) {
		case codes.OK:
			ok++
		case codes.Aborted:
			aborted++
			if !strings.Contains(err.Error(), "Too many concurrent edits to the project configuration. Please try again.") {
				t.Fatalf("message: %v", err)
			}
		default:
			t.Fatalf("unexpected: %v", err)
		}
	}
	if ok < 1 || ok > 2 || aborted != len(errs)-ok {
		t.Fatalf("6 concurrent creates with a limit of 2: %d ok, %d aborted", ok, aborted)
	}
	// One at a time, every write passes.
	for i := 0; i < 3; i++ {
		if _, err := c.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: policy("p", promql(`up`))}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNotificationChannel_sensitiveLabelsMaskedKeepingLastFourAndMaskedWriteBackStored(t *testing.T) {
	c, srv := startWith(t, monitoring.Options{Kit: kit.New(0, 0, 1)})
	ctx := context.Background()
	ch, err := c.channels.CreateNotificationChannel(ctx, &monitoringpb.CreateNotificationChannelRequest{Name: project,
		NotificationChannel: &monitoringpb.NotificationChannel{Type: "webhook_basicauth", DisplayName: "hook",
			Labels: map[string]string{"url": "https://hooks.example.com/x", "username": "alfred", "password": "s3cret-pass-9684"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ch.Labels["password"]; got != "************9684" {
		t.Fatalf("masked password: %q", got)
	}
	if ch.Labels["username"] != "alfred" || ch.Labels["url"] != "https://hooks.example.com/x" {
		t.Fatalf("non-sensitive labels in clear: %v", ch.Labels)
	}
	// Writing back what was read stores the masked text: the secret is lost.
	_, err = c.channels.UpdateNotificationChannel(ctx, &monitoringpb.UpdateNotificationChannelRequest{NotificationChannel: ch})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := srv.StoredChannelLabels(ch.Name)
	if stored["password"] != "************9684" {
		t.Fatalf("a masked write-back is stored as sent: %v", stored)
	}
	for _, tc := range []struct {
		typ    string
		labels map[string]string
	}{
		{"webhook_basicauth", map[string]string{"url": "https://x.example.com", "username": "u"}},
		{"webhook_basicauth", map[string]string{"url": "ftp://x", "username": "u", "password": "p"}},
		{"pubsub", map[string]string{}},
		{"pubsub", map[string]string{"topic": "alerts"}},
	} {
		_, err := c.channels.CreateNotificationChannel(ctx, &monitoringpb.CreateNotificationChannelRequest{Name: project,
			NotificationChannel: &monitoringpb.NotificationChannel{Type: tc.typ, Labels: tc.labels}})
		wantCode(t, err, codes.InvalidArgument, tc.typ+" with bad labels")
	}
	ps, err := c.channels.CreateNotificationChannel(ctx, &monitoringpb.CreateNotificationChannelRequest{Name: project,
		NotificationChannel: &monitoringpb.NotificationChannel{Type: "pubsub", Labels: map[string]string{"topic": "projects/alfred-test/topics/alerts"}}})
	if err != nil || ps.Labels["topic"] != "projects/alfred-test/topics/alerts" {
		t.Fatalf("pubsub channel: %v %v", ps, err)
	}
}
