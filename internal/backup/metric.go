package backup

import (
	"context"
	"fmt"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// LastSuccessMetric is the Cloud Monitoring metric a successful run records: the run's finish time in
// Unix seconds, so an alert can fire when it grows stale.
const LastSuccessMetric = "custom.googleapis.com/alfred_backup_last_success_timestamp_seconds"

// MetricSink writes LastSuccessMetric after each successful run.
type MetricSink struct {
	Client  *monitoring.MetricClient
	Project string
	// Resource must be a type that accepts custom metrics, e.g. generic_task or global (not
	// cloud_run_revision, which the API refuses for user-defined metrics).
	Resource *monitoredres.MonitoredResource
	Labels   map[string]string
}

func (s *MetricSink) record(ctx context.Context, at time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := s.Client.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{
		Name: "projects/" + s.Project,
		TimeSeries: []*monitoringpb.TimeSeries{{
			Metric:   &metric.Metric{Type: LastSuccessMetric, Labels: s.Labels},
			Resource: s.Resource,
			Points: []*monitoringpb.Point{{
				Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(at)},
				Value:    &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: float64(at.UnixMilli()) / 1000}},
			}},
		}},
	})
	if err != nil {
		return fmt.Errorf("recording %s on resource type %q in project %s: %w", LastSuccessMetric, s.Resource.GetType(), s.Project, err)
	}
	return nil
}
