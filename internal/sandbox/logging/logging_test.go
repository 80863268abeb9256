package logging_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/distribution"
	"google.golang.org/genproto/googleapis/api/label"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbl "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/logging"
)

const parent = "projects/alfred-test"

func client(t *testing.T, ts *sbl.TestServer) *logging.MetricsClient {
	t.Helper()
	c, err := logging.NewMetricsClient(context.Background(), option.WithEndpoint(ts.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func start(t *testing.T, dir string) (*sbl.TestServer, *logging.MetricsClient) {
	t.Helper()
	ts := sbl.StartTestServer(t, sbl.Options{Dir: dir})
	return ts, client(t, ts)
}

func wantCode(t *testing.T, err error, code codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), msg) {
		t.Errorf("got %v, want %s containing %q", err, code, msg)
	}
}

func TestLogMetric_createFillsDefaultsAndOutputOnlyFields(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	m, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent, Metric: &loggingpb.LogMetric{
		Name: "auth/failed-logins", Filter: `jsonPayload.event="login_failed"`, Description: "failed logins",
	}})
	if err != nil {
		t.Fatal(err)
	}
	d := m.GetMetricDescriptor()
	if d.GetMetricKind() != metric.MetricDescriptor_DELTA || d.GetValueType() != metric.MetricDescriptor_INT64 || d.GetUnit() != "1" {
		t.Errorf("default descriptor must be DELTA/INT64/unit 1, got %v", d)
	}
	if d.GetType() != "logging.googleapis.com/user/auth/failed-logins" ||
		d.GetName() != "projects/alfred-test/metricDescriptors/logging.googleapis.com/user/auth/failed-logins" ||
		d.GetDescription() != "failed logins" {
		t.Errorf("descriptor name/type/description are built from the metric, got %v", d)
	}
	if m.GetCreateTime() == nil || m.GetUpdateTime() == nil {
		t.Errorf("create_time and update_time are output only and filled: %v", m)
	}
	// The slash of the hierarchy may be sent raw or escaped (the proto's own example).
	for _, name := range []string{"projects/alfred-test/metrics/auth/failed-logins", "projects/alfred-test/metrics/auth%2Ffailed-logins"} {
		if got, err := c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: name}); err != nil || got.GetFilter() != m.GetFilter() {
			t.Errorf("get %s: %v %v", name, got, err)
		}
	}
	_, err = c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent, Metric: &loggingpb.LogMetric{
		Name: "auth/failed-logins", Filter: "severity>=ERROR"}})
	wantCode(t, err, codes.AlreadyExists, "already exists")
}

func TestLogMetric_refusesBadNamesAndFilters(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	for _, x := range []struct {
		name, filter string
		msg          string
	}{
		{"", "severity>=ERROR", "name is required"},
		{strings.Repeat("a", 101), "severity>=ERROR", "at most 100"},
		{"/leading", "severity>=ERROR", "first character"},
		{"has space", "severity>=ERROR", "characters outside"},
		{"semi;colon", "severity>=ERROR", "characters outside"},
		{"ok", "", "Unparseable filter"},
		{"ok", `severity>=ERROR AND (resource.type="x"`, "unbalanced parentheses"},
		{"ok", `jsonPayload.event="login_failed`, "unterminated string"},
		{"ok", `severity>=`, "has no value"},
	} {
		_, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent,
			Metric: &loggingpb.LogMetric{Name: x.name, Filter: x.filter}})
		wantCode(t, err, codes.InvalidArgument, x.msg)
	}
	// Every documented special character is allowed.
	if _, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent,
		Metric: &loggingpb.LogMetric{Name: "a_-.,+!*'()%/b", Filter: "severity>=ERROR"}}); err != nil {
		t.Errorf("a name with every allowed special character: %v", err)
	}
	_, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent,
		Metric: &loggingpb.LogMetric{Name: "x", Filter: "a", Description: strings.Repeat("d", 8001)}})
	wantCode(t, err, codes.InvalidArgument, "at most 8000")
}

func labelled(name string, extractors map[string]string, labels ...*label.LabelDescriptor) *loggingpb.LogMetric {
	return &loggingpb.LogMetric{Name: name, Filter: "severity>=ERROR", LabelExtractors: extractors,
		MetricDescriptor: &metric.MetricDescriptor{MetricKind: metric.MetricDescriptor_DELTA,
			ValueType: metric.MetricDescriptor_INT64, Unit: "1", Labels: labels}}
}

func TestLogMetric_labelExtractorsMustMatchDeclaredLabels(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	svc := &label.LabelDescriptor{Key: "service"}
	create := func(m *loggingpb.LogMetric) error {
		_, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent, Metric: m})
		return err
	}
	wantCode(t, create(labelled("a", map[string]string{"service": "EXTRACT(resource.labels.service_name)"})),
		codes.InvalidArgument, "Number of label descriptors must match number of label extractors")
	wantCode(t, create(labelled("a", nil, svc)), codes.InvalidArgument, "Number of label descriptors must match")
	wantCode(t, create(labelled("a", map[string]string{"user": "EXTRACT(jsonPayload.user)"}, svc)),
		codes.InvalidArgument, "No label descriptor found for label extractor with key user")
	wantCode(t, create(labelled("a", map[string]string{"service": "resource.labels.service_name"}, svc)),
		codes.InvalidArgument, "Invalid label extractor for key service")
	wantCode(t, create(labelled("a", map[string]string{"service": `REGEXP_EXTRACT(textPayload, "svc=\w+")`}, svc)),
		codes.InvalidArgument, "0 capture groups")
	if err := create(labelled("a", map[string]string{"service": `REGEXP_EXTRACT(textPayload, "svc=(\w+)")`}, svc)); err != nil {
		t.Errorf("a declared label with a one-group regex: %v", err)
	}
	// "You can create up to 10 user-defined labels per metric."
	many := func(n int) *loggingpb.LogMetric {
		ex := map[string]string{}
		var ls []*label.LabelDescriptor
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("l%d", i)
			ex[k] = "EXTRACT(jsonPayload." + k + ")"
			ls = append(ls, &label.LabelDescriptor{Key: k})
		}
		return labelled(fmt.Sprintf("many%d", n), ex, ls...)
	}
	wantCode(t, create(many(11)), codes.InvalidArgument, "at most 10 user-defined labels")
	if err := create(many(10)); err != nil {
		t.Errorf("10 labels: %v", err)
	}
	// A descriptor without kind and type is refused (GoogleCloudPlatform/magic-modules#2134).
	m := labelled("b", nil)
	m.MetricDescriptor.MetricKind = metric.MetricDescriptor_METRIC_KIND_UNSPECIFIED
	wantCode(t, create(m), codes.InvalidArgument, "metric_kind and value_type")
}

func TestLogMetric_valueExtractorOnlyForDistributions(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	create := func(m *loggingpb.LogMetric) error {
		_, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent, Metric: m})
		return err
	}
	counter := labelled("c", nil)
	counter.ValueExtractor = "EXTRACT(jsonPayload.latency)"
	wantCode(t, create(counter), codes.InvalidArgument, "only allowed with the DISTRIBUTION value type")
	dist := labelled("d", nil)
	dist.MetricDescriptor.ValueType = metric.MetricDescriptor_DISTRIBUTION
	wantCode(t, create(dist), codes.InvalidArgument, "needs a value_extractor")
	dist.ValueExtractor = "EXTRACT(jsonPayload.latency)"
	wantCode(t, create(dist), codes.InvalidArgument, "needs bucket_options")
	dist.BucketOptions = &distribution.Distribution_BucketOptions{Options: &distribution.Distribution_BucketOptions_ExplicitBuckets{
		ExplicitBuckets: &distribution.Distribution_BucketOptions_Explicit{Bounds: []float64{0.1, 1, 10}}}}
	if err := create(dist); err != nil {
		t.Errorf("a distribution with extractor and buckets: %v", err)
	}
}

func TestLogMetric_updateUpsertsAndKeepsKindTypeAndLabelTypes(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	name := "projects/alfred-test/metrics/errors"
	// "If the metric does not exist in [PROJECT_ID], then a new metric is created."
	m, err := c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: name,
		Metric: &loggingpb.LogMetric{Name: "errors", Filter: "severity>=ERROR"}})
	if err != nil {
		t.Fatalf("update of a missing metric creates it: %v", err)
	}
	created := m.GetCreateTime().AsTime()
	time.Sleep(5 * time.Millisecond)
	svc := &label.LabelDescriptor{Key: "service", ValueType: label.LabelDescriptor_STRING}
	up := labelled("errors", map[string]string{"service": "EXTRACT(resource.labels.service_name)"}, svc)
	up.Filter = "severity>=WARNING"
	m, err = c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: name, Metric: up})
	if err != nil {
		t.Fatalf("adding a label and changing the filter: %v", err)
	}
	if !m.GetCreateTime().AsTime().Equal(created) || !m.GetUpdateTime().AsTime().After(created) || m.GetFilter() != "severity>=WARNING" {
		t.Errorf("update keeps create_time and advances update_time: %v", m)
	}
	changed := labelled("errors", map[string]string{"service": "EXTRACT(resource.labels.service_name)"},
		&label.LabelDescriptor{Key: "service", ValueType: label.LabelDescriptor_INT64})
	_, err = c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: name, Metric: changed})
	wantCode(t, err, codes.InvalidArgument, "label service of metric errors cannot be changed")
	// "After you create a label, you can't delete it."
	_, err = c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: name, Metric: labelled("errors", nil)})
	wantCode(t, err, codes.InvalidArgument, "label service of metric errors cannot be deleted")
	dist := labelled("errors", nil)
	dist.MetricDescriptor.ValueType = metric.MetricDescriptor_DOUBLE
	_, err = c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: name, Metric: dist})
	wantCode(t, err, codes.InvalidArgument, "cannot be changed")
	_, err = c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: name,
		Metric: &loggingpb.LogMetric{Name: "other", Filter: "a"}})
	wantCode(t, err, codes.InvalidArgument, "must be the same as the [METRIC_ID]")
}

func TestLogMetric_notFoundListAndPersistence(t *testing.T) {
	dir := t.TempDir()
	ts, c := start(t, dir)
	ctx := context.Background()
	_, err := c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: parent + "/metrics/nope"})
	wantCode(t, err, codes.NotFound, "does not exist")
	err = c.DeleteLogMetric(ctx, &loggingpb.DeleteLogMetricRequest{MetricName: parent + "/metrics/nope"})
	wantCode(t, err, codes.NotFound, "does not exist")
	_, err = c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: "metrics/nope"})
	wantCode(t, err, codes.InvalidArgument, "projects/[PROJECT_ID]/metrics/[METRIC_ID]")
	for i := 0; i < 5; i++ {
		if _, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent,
			Metric: &loggingpb.LogMetric{Name: fmt.Sprintf("m%d", i), Filter: "severity>=ERROR"}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: "projects/other",
		Metric: &loggingpb.LogMetric{Name: "m9", Filter: "severity>=ERROR"}}); err != nil {
		t.Fatal(err)
	}
	var names []string
	it := c.ListLogMetrics(ctx, &loggingpb.ListLogMetricsRequest{Parent: parent, PageSize: 2})
	for {
		m, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, m.GetName())
	}
	if strings.Join(names, ",") != "m0,m1,m2,m3,m4" {
		t.Errorf("list pages through the project's metrics only, in order: %v", names)
	}
	if err := c.DeleteLogMetric(ctx, &loggingpb.DeleteLogMetricRequest{MetricName: parent + "/metrics/m0"}); err != nil {
		t.Fatal(err)
	}
	// State survives a restart of the emulator.
	_ = ts.Server.Close()
	_, c2 := start(t, dir)
	if _, err := c2.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: parent + "/metrics/m1"}); err != nil {
		t.Errorf("m1 after restart: %v", err)
	}
	_, err = c2.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: parent + "/metrics/m0"})
	wantCode(t, err, codes.NotFound, "does not exist")
}

// The kit's faults apply: a write refused as a concurrent edit has no effect, and a lost reply of a
// create leaves the metric created.
func TestLogMetric_kitFaultsApply(t *testing.T) {
	k := kit.New(0, 0, 1)
	ts := sbl.StartTestServer(t, sbl.Options{Kit: k})
	c := client(t, ts)
	ctx := context.Background()
	const create = "/google.logging.v2.MetricsServiceV2/CreateLogMetric"
	k.FailNext(create, kit.FaultConflict)
	_, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent,
		Metric: &loggingpb.LogMetric{Name: "x", Filter: "a"}})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("injected conflict: %v", err)
	}
	_, err = c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: parent + "/metrics/x"})
	wantCode(t, err, codes.NotFound, "")
	k.FailNext(create, kit.FaultLostReply)
	_, err = c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent,
		Metric: &loggingpb.LogMetric{Name: "x", Filter: "a"}})
	if err == nil {
		t.Fatal("a lost reply must fail the call")
	}
	if _, err := c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: parent + "/metrics/x"}); err != nil {
		t.Errorf("a create whose reply was lost took effect: %v", err)
	}
	if k.Calls()[create] != 2 {
		t.Errorf("calls are counted: %v", k.Calls())
	}
}

// Nothing in the API's documentation refuses concurrent writes of metrics (there is no etag): parallel
// updates all succeed, and the last one wins. Only the kit injects ABORTED.
func TestLogMetric_parallelWritesAreNotRefused(t *testing.T) {
	_, c := start(t, "")
	ctx := context.Background()
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func(i int) {
			_, err := c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: parent + "/metrics/shared",
				Metric: &loggingpb.LogMetric{Name: "shared", Filter: fmt.Sprintf("jsonPayload.n=%d", i)}})
			errs <- err
		}(i)
	}
	for i := 0; i < 20; i++ {
		if err := <-errs; err != nil {
			t.Errorf("parallel update: %v", err)
		}
	}
}
