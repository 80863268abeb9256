package agentservice

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/proto"
)

// TestSchema_everyAttributeIsTemplateOrDeclaredNot fails when a schema attribute is neither in the
// revision template table nor declared as not part of the template, so that a new template attribute
// cannot be left out of ModifyPlan, toService, applyManaged or fromService.
func TestSchema_everyAttributeIsTemplateOrDeclaredNot(t *testing.T) {
	t.Parallel()
	s := agentServiceSchema(context.Background())
	var names []string
	for n := range s.Attributes {
		names = append(names, n)
	}
	for n := range s.Blocks {
		names = append(names, n)
	}
	tmpl := templateFields
	for _, n := range names {
		inT, inN := slices.Contains(tmpl, n), slices.Contains(nonTemplateAttrs, n)
		switch {
		case inT && inN:
			t.Errorf("%s is declared both a template and a non-template attribute", n)
		case !inT && !inN:
			t.Errorf("schema attribute %s is neither in templateAttrs (template.go) nor in nonTemplateAttrs: declare it", n)
		}
	}
	for _, a := range templateAttrs {
		if !slices.Contains(names, a.name) {
			t.Errorf("templateAttrs names %s, which is not a schema attribute", a.name)
		}
		if a.to == nil || a.apply == nil || a.from == nil {
			t.Errorf("template attribute %s lacks a to, apply or from function", a.name)
		}
	}
}

func baseModel() agentServiceModel {
	return agentServiceModel{
		ID: types.StringNull(), Name: types.StringValue("bot"), Project: types.StringValue("p"), Region: types.StringValue("europe-west1"),
		Image: types.StringValue("example.com/bot:v1"), Command: types.ListNull(types.StringType), Args: types.ListNull(types.StringType),
		Port: types.Int64Value(8080), Env: types.MapNull(types.StringType), SecretEnv: types.MapNull(secretRefType),
		CPU: newQuantity("1000m"), Memory: newQuantity("512Mi"), MinInstances: types.Int64Value(0), MaxInstances: types.Int64Value(100),
		Concurrency: types.Int64Value(80), Timeout: newDuration("300s"), ServiceAccount: types.StringValue("bot@p.iam.gserviceaccount.com"),
		Ingress: types.StringValue("all"), Invokers: types.SetValueMust(types.StringType, nil), Labels: types.MapNull(types.StringType),
		Metrics: types.ObjectNull(metricsAttrTypes), URI: types.StringNull(), LatestReadyRevision: types.StringNull(),
		Timeouts: timeouts.Value{Object: types.ObjectNull(map[string]attr.Type{})}, CPUIdle: types.BoolValue(true),
		StartupCPUBoost: types.BoolValue(false), StartupProbe: types.ObjectNull(probeAttrTypes), LivenessProbe: types.ObjectNull(probeAttrTypes),
		VPCAccess: types.ObjectNull(vpcAccessAttrTypes), ExecutionEnv: types.StringNull(), SecretVolumes: types.MapNull(secretVolumeType),
		Tracing: types.ObjectNull(tracingAttrTypes),
	}
}

func i64(v int64) types.Int64   { return types.Int64Value(v) }
func str(v string) types.String { return types.StringValue(v) }

// templateSamples sets each template attribute to a value other than baseModel's.
var templateSamples = map[string]func(m *agentServiceModel){
	"image":   func(m *agentServiceModel) { m.Image = str("example.com/bot:v2") },
	"command": func(m *agentServiceModel) { m.Command = listOrNull([]string{"/bin/agent"}) },
	"args":    func(m *agentServiceModel) { m.Args = listOrNull([]string{"--queue", "tasks"}) },
	"port":    func(m *agentServiceModel) { m.Port = i64(9000) },
	"env": func(m *agentServiceModel) {
		m.Env = types.MapValueMust(types.StringType, map[string]attr.Value{"A": str("1")})
	},
	"secret_env": func(m *agentServiceModel) {
		m.SecretEnv = types.MapValueMust(secretRefType, map[string]attr.Value{"K": types.ObjectValueMust(secretRefType.AttrTypes,
			map[string]attr.Value{"secret": str("k"), "version": str("2")})})
	},
	"tracing": func(m *agentServiceModel) {
		m.Tracing = types.ObjectValueMust(tracingAttrTypes, map[string]attr.Value{"langsmith_project": str("agents"),
			"langsmith_endpoint": str("https://eu.api.smith.langchain.com"), "api_key_secret": str("langsmith-key")})
	},
	"cpu":                   func(m *agentServiceModel) { m.CPU = newQuantity("2") },
	"memory":                func(m *agentServiceModel) { m.Memory = newQuantity("1Gi") },
	"cpu_idle":              func(m *agentServiceModel) { m.CPUIdle = types.BoolValue(false) },
	"startup_cpu_boost":     func(m *agentServiceModel) { m.StartupCPUBoost = types.BoolValue(true) },
	"min_instances":         func(m *agentServiceModel) { m.MinInstances = i64(1) },
	"max_instances":         func(m *agentServiceModel) { m.MaxInstances = i64(5) },
	"concurrency":           func(m *agentServiceModel) { m.Concurrency = i64(10) },
	"timeout":               func(m *agentServiceModel) { m.Timeout = newDuration("60s") },
	"service_account":       func(m *agentServiceModel) { m.ServiceAccount = str("other@p.iam.gserviceaccount.com") },
	"execution_environment": func(m *agentServiceModel) { m.ExecutionEnv = str("gen2") },
	"startup_probe": func(m *agentServiceModel) {
		m.StartupProbe = sampleProbe("http_get", types.ObjectValueMust(httpGetAttrTypes, map[string]attr.Value{"path": str("/ready"),
			"port": types.Int64Null(), "http_headers": types.MapValueMust(types.StringType, map[string]attr.Value{"X-Probe": str("1")})}))
	},
	"liveness_probe": func(m *agentServiceModel) {
		m.LivenessProbe = sampleProbe("grpc", types.ObjectValueMust(grpcAttrTypes, map[string]attr.Value{"port": i64(9001), "service": str("health")}))
	},
	"vpc_access": func(m *agentServiceModel) {
		m.VPCAccess = types.ObjectValueMust(vpcAccessAttrTypes, map[string]attr.Value{"network": str("default"), "subnetwork": str("agents"),
			"connector": types.StringNull(), "egress": str("all-traffic")})
	},
	"secret_volumes": func(m *agentServiceModel) {
		m.SecretVolumes = types.MapValueMust(secretVolumeType, map[string]attr.Value{"/secrets/gcp": types.ObjectValueMust(secretVolumeType.AttrTypes,
			map[string]attr.Value{"secret": str("sa-key"), "version": str("3"), "path": str("key.json")})})
	},
	"metrics": func(m *agentServiceModel) {
		m.Metrics = types.ObjectValueMust(metricsAttrTypes, map[string]attr.Value{"port": i64(9090), "path": str("/prom"),
			"sidecar_image": str(defaultSidecarImage), "config_secret": str("gmp-config")})
	},
}

func sampleProbe(kind string, action types.Object) types.Object {
	v := map[string]attr.Value{"http_get": types.ObjectNull(httpGetAttrTypes), "tcp_socket": types.ObjectNull(tcpSocketAttrTypes),
		"grpc": types.ObjectNull(grpcAttrTypes), "initial_delay_seconds": i64(5), "timeout_seconds": i64(2), "period_seconds": i64(20),
		"failure_threshold": i64(4)}
	v[kind] = action
	return types.ObjectValueMust(probeAttrTypes, v)
}

// field returns the model's value of the attribute named by its tfsdk tag.
func field(m *agentServiceModel, name string) attr.Value {
	v := reflect.ValueOf(m).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Tag.Get("tfsdk") == name {
			return v.Field(i).Interface().(attr.Value)
		}
	}
	return nil
}

// TestTemplateAttrs_eachIsSentAppliedAndReadBack: for every template attribute, a changed value changes
// the Service sent (to), survives the read-modify-write of an update (apply) and is read back (from).
func TestTemplateAttrs_eachIsSentAppliedAndReadBack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, a := range templateAttrs {
		t.Run(a.name, func(t *testing.T) {
			sample, ok := templateSamples[a.name]
			if !ok {
				t.Fatalf("no sample value for template attribute %s: add one to templateSamples", a.name)
			}
			var diags diag.Diagnostics
			base := baseModel()
			want := baseModel()
			sample(&want)
			cur := toService(ctx, &base, &diags)
			wantSvc := toService(ctx, &want, &diags)
			if proto.Equal(cur, wantSvc) {
				t.Fatalf("changing %s does not change the Service sent", a.name)
			}
			// The server's copy carries what another tool added: it must survive the update.
			cur.Template.Containers = append(cur.Template.Containers, &runpb.Container{Name: "otel", Image: "example.com/otel:1"})
			next := applyManaged(cur, wantSvc, cur)
			if !slices.ContainsFunc(next.GetTemplate().GetContainers(), func(c *runpb.Container) bool { return c.GetName() == "otel" }) {
				t.Fatalf("the update of %s dropped another tool's sidecar", a.name)
			}
			got := base
			fromService(ctx, next, nil, &want, false, &got, &diags)
			if diags.HasError() {
				t.Fatal(diags)
			}
			if w, g := field(&want, a.name), field(&got, a.name); !g.Equal(w) {
				t.Fatalf("%s read back as %v, want %v", a.name, g, w)
			}
			// And nothing else changed on the way.
			for _, other := range templateAttrs {
				if other.name != a.name && !field(&got, other.name).Equal(field(&want, other.name)) {
					t.Errorf("changing %s changed %s: %v, want %v", a.name, other.name, field(&got, other.name), field(&want, other.name))
				}
			}
		})
	}
}
