package backup_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	mon "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

func metricClient(t *testing.T) *monitoring.MetricClient {
	t.Helper()
	srv, err := mon.New(mon.Options{Kit: kit.New(0, 0, 1)})
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
	t.Cleanup(g.Stop)
	c, err := monitoring.NewMetricClient(context.Background(), option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestAccBackup_successfulRunRecordsLastSuccessMetric(t *testing.T) {
	needAcc(t)
	ctx := context.Background()
	client := metricClient(t)
	e := newEngine(t, storeConfig(t), keyFile(t))
	db := smallDatabase(t)
	task := &monitoredres.MonitoredResource{Type: "generic_task", Labels: map[string]string{
		"project_id": "alfred-test", "location": "us-central1", "namespace": "backup", "job": "alfredctl", "task_id": "1"}}
	e.Metrics = &backup.MetricSink{Client: client, Project: "alfred-test", Resource: task}
	m, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err != nil {
		t.Fatal(err)
	}
	it := client.ListTimeSeries(ctx, &monitoringpb.ListTimeSeriesRequest{
		Name: "projects/alfred-test", Filter: `metric.type = "` + backup.LastSuccessMetric + `"`,
		Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(m.StartedAt.Add(-time.Minute)), EndTime: timestamppb.New(time.Now().Add(time.Minute))},
	})
	ts, err := it.Next()
	if err != nil {
		t.Fatalf("no series recorded: %v", err)
	}
	if got := ts.Points[0].GetValue().GetDoubleValue(); int64(got) != m.FinishedAt.Unix() {
		t.Fatalf("recorded %v, want the run's finish time %d", got, m.FinishedAt.Unix())
	}
	if _, err := it.Next(); err != iterator.Done {
		t.Fatalf("more than one series: %v", err)
	}

	// On a resource type that does not take custom metrics the set is still good, and the error says why.
	e.Metrics.Resource = &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{"project_id": "alfred-test"}}
	m2, err := e.Run(ctx, backup.RunOptions{Databases: []string{db}})
	if err == nil || !strings.Contains(err.Error(), "cloud_run_revision") || m2 == nil {
		t.Fatalf("run recording on cloud_run_revision: %v", err)
	}
	if _, err := e.Store.Manifest(ctx, m2.ID); err != nil {
		t.Fatalf("the set is not good after the metric failed: %v", err)
	}
}
