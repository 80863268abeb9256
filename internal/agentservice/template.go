package agentservice

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The revision template is declared once, here. Each attribute that makes up the template (a change to it
// rolls out a new revision) has one entry with the three ways it crosses the API: to builds it into the
// Service sent on create, apply copies it onto the service read back before an update (keeping what other
// tools set), and from reads it back into the model. ModifyPlan derives its list of template attributes
// from this table, and TestSchema_everyAttributeIsTemplateOrDeclaredNot fails for a schema attribute that
// is in neither this table nor nonTemplateAttrs.

// templateAttr is one attribute of the revision template.
type templateAttr struct {
	name string
	// to writes the attribute of m into svc: its template, and c, the ingress container.
	to func(ctx context.Context, m *agentServiceModel, svc *runpb.Service, c *runpb.Container, diags *diag.Diagnostics)
	// apply sets on next (the service as read, nc its ingress container) what want (built by to, wc its
	// ingress container) says for this attribute, and leaves everything else as it is.
	apply func(next, want *runpb.Service, nc, wc *runpb.Container)
	// from reads the attribute from the API's service into m.
	from func(ctx context.Context, r *readCtx, m *agentServiceModel, diags *diag.Diagnostics)
}

// readCtx is what the from functions read.
type readCtx struct {
	svc       *runpb.Service
	t         *runpb.RevisionTemplate
	c         *runpb.Container // the ingress container (empty when there is none)
	prior     *agentServiceModel
	importing bool
	env       envParts
}

// nonTemplateAttrs are the schema attributes that are not part of the revision template: a change to one
// of them does not create a revision.
var nonTemplateAttrs = []string{"id", "name", "project", "region", "ingress", "invokers", "labels", "uri",
	"latest_ready_revision", "timeouts",
	// Being added on another branch (issue 7 items 1 and 3); declared here so that the merge keeps the
	// schema test green. Harmless while the schema lacks them.
	"deletion_protection", "latest_created_revision", "terminal_condition"}

// templateAttrs lists every template attribute. The order of the env family (env, secret_env, tracing)
// is the order of the variables sent.
var templateAttrs = []templateAttr{
	{name: "image",
		to: func(_ context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, _ *diag.Diagnostics) {
			c.Image = m.Image.ValueString()
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) { nc.Image = wc.GetImage() },
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Image = types.StringValue(r.c.GetImage())
		}},
	{name: "command",
		to: func(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
			c.Command = stringList(ctx, m.Command, diags)
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) { nc.Command = wc.GetCommand() },
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Command = listOrNull(r.c.GetCommand())
		}},
	{name: "args",
		to: func(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
			c.Args = stringList(ctx, m.Args, diags)
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) { nc.Args = wc.GetArgs() },
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Args = listOrNull(r.c.GetArgs())
		}},
	{name: "port",
		to: func(_ context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, _ *diag.Diagnostics) {
			c.Ports = []*runpb.ContainerPort{{Name: "http1", ContainerPort: int32(m.Port.ValueInt64())}}
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) {
			if len(nc.Ports) > 0 {
				nc.Ports[0].ContainerPort = wc.GetPorts()[0].GetContainerPort() // keeps the port's name (http1 or h2c)
			} else {
				nc.Ports = wc.GetPorts()
			}
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Port = types.Int64Value(int64(servicePort(r.c)))
		}},
	{name: "env", to: envTo, apply: applyEnv,
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Env = mapOrNull(types.StringType, r.env.plain, r.prior.Env)
		}},
	{name: "secret_env", to: secretEnvTo, apply: applyEnv,
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.SecretEnv = mapOrNull(secretRefType, r.env.secrets, r.prior.SecretEnv)
		}},
	{name: "tracing", to: tracingTo, apply: applyEnv,
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Tracing = r.env.tracing
		}},
	{name: "cpu",
		to: func(_ context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, _ *diag.Diagnostics) {
			// Values equal to Cloud Run's own defaults are left out so that the server fills them, as it does for any client.
			if cpu := m.CPU.ValueString(); cpu != "" && !sameQuantity(cpu, defaultCPU) {
				c.Resources.Limits["cpu"] = cpu
			}
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) { applyLimit(nc, wc, "cpu", defaultCPU) },
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			// The API's spelling is stored as it is; when it means what Terraform already knew ("1000m" for
			// "1"), the framework keeps the known spelling by the type's semantic equality.
			m.CPU = newQuantity(orDefault(r.c.GetResources().GetLimits()["cpu"], defaultCPU))
		}},
	{name: "memory",
		to: func(_ context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, _ *diag.Diagnostics) {
			if mem := m.Memory.ValueString(); mem != "" && !sameQuantity(mem, defaultMemory) {
				c.Resources.Limits["memory"] = mem
			}
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) { applyLimit(nc, wc, "memory", defaultMemory) },
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Memory = newQuantity(orDefault(r.c.GetResources().GetLimits()["memory"], defaultMemory))
		}},
	{name: "cpu_idle",
		to: func(_ context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, _ *diag.Diagnostics) {
			// ResourceRequirements.cpu_idle: "true by default. However, if ResourceRequirements is set, the caller
			// must explicitly set this field to true to preserve the default behavior." The provider always sends
			// resources, so it always says what it means.
			c.Resources.CpuIdle = m.CPUIdle.IsNull() || m.CPUIdle.IsUnknown() || m.CPUIdle.ValueBool()
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) {
			ensureResources(nc)
			nc.Resources.CpuIdle = wc.GetResources().GetCpuIdle()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.CPUIdle = types.BoolValue(r.c.GetResources() == nil || r.c.GetResources().GetCpuIdle())
		}},
	{name: "startup_cpu_boost",
		to: func(_ context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, _ *diag.Diagnostics) {
			c.Resources.StartupCpuBoost = m.StartupCPUBoost.ValueBool()
		},
		apply: func(_, _ *runpb.Service, nc, wc *runpb.Container) {
			ensureResources(nc)
			nc.Resources.StartupCpuBoost = wc.GetResources().GetStartupCpuBoost()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.StartupCPUBoost = types.BoolValue(r.c.GetResources().GetStartupCpuBoost())
		}},
	{name: "min_instances",
		to: func(_ context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, _ *diag.Diagnostics) {
			svc.Template.Scaling.MinInstanceCount = int32(m.MinInstances.ValueInt64())
		},
		apply: func(next, want *runpb.Service, _, _ *runpb.Container) {
			next.Template.Scaling.MinInstanceCount = want.GetTemplate().GetScaling().GetMinInstanceCount()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.MinInstances = types.Int64Value(int64(r.t.GetScaling().GetMinInstanceCount()))
		}},
	{name: "max_instances",
		to: func(_ context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, _ *diag.Diagnostics) {
			svc.Template.Scaling.MaxInstanceCount = int32(m.MaxInstances.ValueInt64())
		},
		apply: func(next, want *runpb.Service, _, _ *runpb.Container) {
			next.Template.Scaling.MaxInstanceCount = want.GetTemplate().GetScaling().GetMaxInstanceCount()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.MaxInstances = types.Int64Value(int64(orDefaultInt(r.t.GetScaling().GetMaxInstanceCount(), defaultMaxInstances)))
		}},
	{name: "concurrency",
		to: func(_ context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, _ *diag.Diagnostics) {
			svc.Template.MaxInstanceRequestConcurrency = int32(m.Concurrency.ValueInt64())
		},
		apply: func(next, want *runpb.Service, _, _ *runpb.Container) {
			next.Template.MaxInstanceRequestConcurrency = want.GetTemplate().GetMaxInstanceRequestConcurrency()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Concurrency = types.Int64Value(int64(orDefaultInt(r.t.GetMaxInstanceRequestConcurrency(), defaultConcurrency)))
		}},
	{name: "timeout",
		to: func(_ context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, _ *diag.Diagnostics) {
			timeout, _ := parseTimeout(m.Timeout.ValueString())
			svc.Template.Timeout = durationpb.New(timeout)
		},
		apply: func(next, want *runpb.Service, _, _ *runpb.Container) {
			next.Template.Timeout = want.GetTemplate().GetTimeout()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.Timeout = newDuration(defaultTimeout)
			if r.t.GetTimeout() != nil {
				m.Timeout = newDuration(fmt.Sprintf("%ds", int64(r.t.GetTimeout().AsDuration()/time.Second)))
			}
		}},
	{name: "service_account",
		to: func(_ context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, _ *diag.Diagnostics) {
			if !m.ServiceAccount.IsUnknown() {
				svc.Template.ServiceAccount = m.ServiceAccount.ValueString()
			}
		},
		apply: func(next, want *runpb.Service, _, _ *runpb.Container) {
			next.Template.ServiceAccount = want.GetTemplate().GetServiceAccount()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.ServiceAccount = types.StringValue(r.t.GetServiceAccount())
		}},
	{name: "execution_environment",
		to: func(_ context.Context, m *agentServiceModel, svc *runpb.Service, _ *runpb.Container, _ *diag.Diagnostics) {
			svc.Template.ExecutionEnvironment = executionEnvToAPI[m.ExecutionEnv.ValueString()]
		},
		apply: func(next, want *runpb.Service, _, _ *runpb.Container) {
			next.Template.ExecutionEnvironment = want.GetTemplate().GetExecutionEnvironment()
		},
		from: func(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
			m.ExecutionEnv = types.StringNull()
			for k, v := range executionEnvToAPI {
				if v == r.t.GetExecutionEnvironment() {
					m.ExecutionEnv = types.StringValue(k)
				}
			}
		}},
	{name: "startup_probe", to: startupProbeTo, apply: applyStartupProbe, from: startupProbeFrom},
	{name: "liveness_probe", to: livenessProbeTo, apply: applyLivenessProbe, from: livenessProbeFrom},
	{name: "vpc_access", to: vpcAccessTo, apply: applyVPCAccess, from: vpcAccessFrom},
	{name: "secret_volumes", to: secretVolumesTo, apply: applySecretVolumes, from: secretVolumesFrom},
	{name: "metrics", to: metricsTo, apply: applyMetrics, from: metricsFrom},
}

// readTemplate reads every template attribute of svc into m.
func readTemplate(ctx context.Context, svc *runpb.Service, prior *agentServiceModel, importing bool, m *agentServiceModel, diags *diag.Diagnostics) {
	t := svc.GetTemplate()
	c := &runpb.Container{}
	if cs := t.GetContainers(); len(cs) > 0 {
		c = cs[ingressContainer(t)]
	}
	r := &readCtx{svc: svc, t: t, c: c, prior: prior, importing: importing}
	r.env = splitEnv(ctx, c, prior, importing, diags)
	for _, a := range templateAttrs {
		a.from(ctx, r, m, diags)
	}
}

// appliedAlready reports whether cur, the service as read, already holds next, what an update would
// write: outside the template exactly, and the template as this resource reads it, so that what the
// server fills in (a default startup probe, probe ports, cpu_idle) is no difference, as in a plan. A
// retried update uses it to tell that an earlier attempt whose reply was lost took effect.
func appliedAlready(ctx context.Context, cur, next *runpb.Service) bool {
	x, y := proto.Clone(cur).(*runpb.Service), proto.Clone(next).(*runpb.Service)
	x.Template, y.Template = nil, nil
	if !proto.Equal(x, y) {
		return false
	}
	var diags diag.Diagnostics
	var mc, mn agentServiceModel
	readTemplate(ctx, cur, &agentServiceModel{}, true, &mc, &diags)
	readTemplate(ctx, next, &agentServiceModel{}, true, &mn, &diags)
	if diags.HasError() {
		return false
	}
	vc, vn := reflect.ValueOf(mc), reflect.ValueOf(mn)
	for i := range vc.NumField() {
		a, ok := vc.Field(i).Interface().(attr.Value)
		if !ok || !slices.Contains(templateFields, vc.Type().Field(i).Tag.Get("tfsdk")) {
			continue
		}
		b := vn.Field(i).Interface().(attr.Value)
		if a.Equal(b) {
			continue
		}
		if sa, ok := a.(basetypes.StringValuableWithSemanticEquals); ok {
			if sb, ok := b.(basetypes.StringValuable); ok {
				if eq, d := sa.StringSemanticEquals(ctx, sb); eq && !d.HasError() {
					continue
				}
			}
		}
		return false
	}
	return true
}

// templateFields are the names of the template attributes: a change to any of them rolls out a new
// revision, so latest_ready_revision is unknown in the plan only then.
var templateFields = templateFieldNames()

func templateFieldNames() []string {
	out := make([]string, len(templateAttrs))
	for i, a := range templateAttrs {
		out[i] = a.name
	}
	return out
}

var executionEnvToAPI = map[string]runpb.ExecutionEnvironment{
	"gen1": runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN1,
	"gen2": runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN2,
}

func ensureResources(c *runpb.Container) {
	if c.Resources == nil {
		c.Resources = &runpb.ResourceRequirements{}
	}
	if c.Resources.Limits == nil {
		c.Resources.Limits = map[string]string{}
	}
}

func applyLimit(nc, wc *runpb.Container, k, def string) {
	ensureResources(nc)
	if v, ok := wc.GetResources().GetLimits()[k]; ok {
		nc.Resources.Limits[k] = v
	} else if cv, ok := nc.Resources.Limits[k]; ok && !sameQuantity(cv, def) {
		delete(nc.Resources.Limits, k) // back to the default, which the server fills
	}
}

func applyEnv(_, _ *runpb.Service, nc, wc *runpb.Container) { nc.Env = wc.GetEnv() }

func orDefaultInt(v int32, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// servicePort is the ingress container's port (Cloud Run's default 8080 when it has none).
func servicePort(c *runpb.Container) int32 {
	if ps := c.GetPorts(); len(ps) > 0 && ps[0].GetContainerPort() != 0 {
		return ps[0].GetContainerPort()
	}
	return defaultPort
}
