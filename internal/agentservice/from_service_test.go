package agentservice

import (
	"context"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

func emptyModel() agentServiceModel {
	return agentServiceModel{
		Env: types.MapNull(types.StringType), SecretEnv: types.MapNull(secretRefType), Labels: types.MapNull(types.StringType),
		CPU: quantityValue{types.StringNull()}, Memory: quantityValue{types.StringNull()}, Timeout: durationValue{types.StringNull()}, Image: types.StringNull(),
	}
}

// A service deployed with a sidecar listed before the serving container (Cloud Run allows any order; the
// ingress container is the one with a port) must be read as the serving container, on import too.
func TestFromService_readsTheIngressContainerNotTheFirst(t *testing.T) {
	t.Parallel()
	svc := &runpb.Service{
		Name: "projects/p/locations/europe-west1/services/bot",
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{
			{Name: "otel", Image: "example.com/otel:1", Env: []*runpb.EnvVar{{Name: "OTEL", Values: &runpb.EnvVar_Value{Value: "x"}}}},
			{Name: "app", Image: "example.com/bot:v3", Ports: []*runpb.ContainerPort{{Name: "http1", ContainerPort: 9000}},
				Env: []*runpb.EnvVar{{Name: "QUEUE", Values: &runpb.EnvVar_Value{Value: "tasks"}}}},
		}},
	}
	prior := emptyModel()
	m := prior
	var diags diag.Diagnostics
	fromService(context.Background(), svc, nil, &prior, true, &m, &diags)
	if diags.HasError() {
		t.Fatal(diags)
	}
	if m.Image.ValueString() != "example.com/bot:v3" || m.Port.ValueInt64() != 9000 {
		t.Fatalf("read image %s port %d, want the serving container's example.com/bot:v3 on 9000", m.Image, m.Port.ValueInt64())
	}
	if _, ok := m.Env.Elements()["QUEUE"]; !ok || len(m.Env.Elements()) != 1 {
		t.Fatalf("env %v, want the serving container's", m.Env)
	}
}

// A service without any container (a malformed import) reads without a panic.
func TestFromService_noContainerDoesNotPanic(t *testing.T) {
	t.Parallel()
	prior := emptyModel()
	m := prior
	var diags diag.Diagnostics
	fromService(context.Background(), &runpb.Service{Name: "projects/p/locations/europe-west1/services/bot"}, nil, &prior, true, &m, &diags)
	if m.Port.ValueInt64() != defaultPort {
		t.Fatalf("port %d", m.Port.ValueInt64())
	}
}
