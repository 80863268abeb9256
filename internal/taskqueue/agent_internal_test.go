package taskqueue

import (
	"context"
	"testing"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Reading the agent (its service, then its IAM policy) retries each call on its own: four failures of
// each, which ran one shared budget of eight attempts out when both calls were one attempt, still read it.
func TestAgentReadsRetryEachCallOnItsOwn(t *testing.T) {
	rs := cloudrun.StartTestServer(t, cloudrun.Options{})
	ctx := context.Background()
	rc, err := run.NewServicesClient(ctx, option.WithEndpoint(rs.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	shared.WithoutClientRetries(rc.CallOptions)
	op, err := rc.CreateService(ctx, &runpb.CreateServiceRequest{Parent: "projects/p/locations/europe-west1", ServiceId: "bot",
		Service: &runpb.Service{Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "example.com/bot:v1"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := op.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		rs.Kit.FailNext("/google.cloud.run.v2.Services/GetService", kit.FaultUnavailable)
		rs.Kit.FailNext("/google.cloud.run.v2.Services/GetIamPolicy", kit.FaultUnavailable)
	}
	a := &api{run: rc, b: shared.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 8}}
	info, err := a.agent(ctx, svc.GetName())
	if err != nil || info.URI != svc.GetUri() {
		t.Fatalf("agent: %+v, %v", info, err)
	}
}
