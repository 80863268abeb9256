package qdrant_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	pb "github.com/qdrant/go-client/qdrant"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// BenchmarkCollectionRefresh times the refresh of one alfred_qdrant_collection (ReadResource, as a no-op
// plan makes it), the provider served in-process over tfprotov6 without Terraform, against the sandbox
// Qdrant with ALFRED_BENCH_QDRANT_LATENCY_MS (default 50) added to every call: the wait is the reads' own,
// so the figure holds on a loaded machine.
//
//	go test ./internal/qdrant/ -run '^$' -bench BenchmarkCollectionRefresh -benchtime 20x
func BenchmarkCollectionRefresh(b *testing.B) {
	latency := 50 * time.Millisecond
	if s := os.Getenv("ALFRED_BENCH_QDRANT_LATENCY_MS"); s != "" {
		ms, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("ALFRED_BENCH_QDRANT_LATENCY_MS=%q: %v", s, err)
		}
		latency = time.Duration(ms) * time.Millisecond
	}
	c := newCluster(b, sandbox.Options{})
	ctx := context.Background()
	if err := c.client.CreateCollection(ctx, &pb.CreateCollection{CollectionName: "bench", ShardNumber: ptr(uint32(2)),
		ReplicationFactor: ptr(uint32(2)), VectorsConfig: pb.NewVectorsConfig(&pb.VectorParams{Size: 4, Distance: pb.Distance_Cosine})}); err != nil {
		b.Fatal(err)
	}
	s, err := acctest.ProtoV6ProviderFactories["alfred"]()
	if err != nil {
		b.Fatal(err)
	}
	sch, err := s.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		b.Fatal(err)
	}
	cfg := nullsBut(sch.Provider.ValueType(), map[string]tftypes.Value{"qdrant": nullsBut(
		sch.Provider.ValueType().(tftypes.Object).AttributeTypes["qdrant"], map[string]tftypes.Value{
			"url": tftypes.NewValue(tftypes.String, c.Addr), "rest_url": tftypes.NewValue(tftypes.String, c.RESTURL),
			"api_key": tftypes.NewValue(tftypes.String, c.APIKey)})})
	dv, err := tfprotov6.NewDynamicValue(sch.Provider.ValueType(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	if r, err := s.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{TerraformVersion: "1.5.7", Config: &dv}); err != nil || hasError(r.Diagnostics) {
		b.Fatalf("configure: %v %+v", err, r)
	}
	imp, err := s.ImportResourceState(ctx, &tfprotov6.ImportResourceStateRequest{TypeName: "alfred_qdrant_collection", ID: "bench"})
	if err != nil || hasError(imp.Diagnostics) || len(imp.ImportedResources) != 1 {
		b.Fatalf("import: %v %+v", err, imp)
	}
	state := imp.ImportedResources[0].State
	read := func() {
		r, err := s.ReadResource(ctx, &tfprotov6.ReadResourceRequest{TypeName: "alfred_qdrant_collection", CurrentState: state})
		if err != nil || hasError(r.Diagnostics) || r.NewState == nil {
			b.Fatalf("read: %v %+v", err, r)
		}
		state = r.NewState
	}
	read() // the connection is made once per provider process
	c.Kit.SetFaults(0, latency, 1)
	c.Kit.ResetCalls()
	b.ResetTimer()
	for range b.N {
		read()
	}
	b.StopTimer()
	calls := int64(0)
	for _, n := range c.Kit.Calls() {
		calls += n
	}
	b.ReportMetric(float64(calls)/float64(b.N), "calls/refresh")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/refresh")
}

func ptr[T any](v T) *T { return &v }

func hasError(ds []*tfprotov6.Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			return true
		}
	}
	return false
}

// nullsBut is an object of type typ whose attributes are null but those given.
func nullsBut(typ tftypes.Type, set map[string]tftypes.Value) tftypes.Value {
	o := typ.(tftypes.Object)
	vals := map[string]tftypes.Value{}
	for k, t := range o.AttributeTypes {
		vals[k] = tftypes.NewValue(t, nil)
		if v, ok := set[k]; ok {
			vals[k] = v
		}
	}
	return tftypes.NewValue(o, vals)
}
