package alerting

import (
	"context"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/option"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// logAPI is the adapter between alfred_log_metric and Cloud Logging's MetricsServiceV2. Every call goes
// through shared.Retry, the one retry layer (the client's own retries are turned off); writes are
// repeated only where that is safe: an update is a full replacement (idempotent), a create after an
// attempt whose reply may have been lost first reads the metric there and takes it when it is the one it
// sent (createChecked), and a delete that meets NOT_FOUND has what it wanted.
type logAPI struct {
	c       *logging.MetricsClient
	backoff shared.Backoff
}

func newLogAPI(ctx context.Context, opts ...option.ClientOption) (*logAPI, error) {
	c, err := logging.NewMetricsClient(ctx, opts...)
	if err != nil {
		return nil, err
	}
	shared.WithoutClientRetries(c.CallOptions)
	return &logAPI{c: c, backoff: shared.DefaultBackoff}, nil
}

// logAPIFor returns the provider's Logging client, built once per configured provider.
func logAPIFor(ctx context.Context, data *shared.ProviderData) (*logAPI, error) {
	c, err := data.Client("logging", func() (any, func(), error) {
		a, err := newLogAPI(ctx, data.GCP.ClientOptions(data.GCP.LoggingEndpoint)...)
		if err != nil {
			return nil, nil, err
		}
		return a, func() { _ = a.c.Close() }, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*logAPI), nil
}

func logMetricName(project, id string) string { return "projects/" + project + "/metrics/" + id }

func (a *logAPI) get(ctx context.Context, name string) (*loggingpb.LogMetric, error) {
	var m *loggingpb.LogMetric
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		var err error
		m, err = a.c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: name})
		return err
	})
	return m, err
}

// create creates the metric. After an attempt whose reply may have been lost (the create may have taken
// effect), the metric of that name is read before creating again: when it is the one sent, it is what
// the create made; otherwise the next create meets ALREADY_EXISTS, the user's conflict.
func (a *logAPI) create(ctx context.Context, project string, want *loggingpb.LogMetric) (*loggingpb.LogMetric, error) {
	name := logMetricName(project, want.GetName())
	return createChecked(ctx, a.backoff, func(ctx context.Context) (*loggingpb.LogMetric, bool, error) {
		found, err := a.c.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: name})
		if shared.IsNotFound(err) {
			return nil, false, nil
		}
		return found, err == nil && sameLogMetric(found, want), err
	}, func(ctx context.Context) (*loggingpb.LogMetric, error) {
		return a.c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: "projects/" + project, Metric: want})
	})
}

// update replaces the metric (UpdateLogMetric creates it when missing): repeating it is harmless.
func (a *logAPI) update(ctx context.Context, project string, want *loggingpb.LogMetric) (*loggingpb.LogMetric, error) {
	var got *loggingpb.LogMetric
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		var err error
		got, err = a.c.UpdateLogMetric(ctx, &loggingpb.UpdateLogMetricRequest{MetricName: logMetricName(project, want.GetName()), Metric: want})
		return err
	})
	return got, err
}

// delete deletes the metric; one that is already gone (deleted outside Terraform, or by an attempt whose
// reply was lost) is success.
func (a *logAPI) delete(ctx context.Context, name string) error {
	err := shared.Retry(ctx, a.backoff, shared.RetryableGRPC, func(ctx context.Context) error {
		return a.c.DeleteLogMetric(ctx, &loggingpb.DeleteLogMetricRequest{MetricName: name})
	})
	if shared.IsNotFound(err) {
		return nil
	}
	return err
}

// sameLogMetric compares what a user writes of two metrics, ignoring what the server fills (times,
// version, the descriptor's name, type, description and unit).
func sameLogMetric(a, b *loggingpb.LogMetric) bool {
	strip := func(m *loggingpb.LogMetric) *loggingpb.LogMetric {
		m = proto.Clone(m).(*loggingpb.LogMetric)
		m.CreateTime, m.UpdateTime = nil, nil
		if d := m.GetMetricDescriptor(); d != nil {
			d.Name, d.Type, d.Description, d.Unit = "", "", "", ""
		}
		return m
	}
	return proto.Equal(strip(a), strip(b))
}
