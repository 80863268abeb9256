package agentservice

import (
	"context"
	"fmt"
	"math"
	"regexp"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Probe bounds and defaults from the Probe message of google.cloud.run.v2 (k8s.min.proto):
// initial_delay_seconds default 0, at most 240 for a startup probe and 3600 for a liveness probe;
// timeout_seconds default 1, 1 to 3600, not above period_seconds; period_seconds default 10, 1 to 240
// (startup) or 3600 (liveness); failure_threshold default 3, at least 1. "Configure container health checks"
// adds that a startup probe gives up after failure_threshold × period_seconds, at most 240 seconds, and
// lists HTTP and gRPC liveness probes only (TCP is a startup probe).
const (
	probeDefaultTimeout  = 1
	probeDefaultPeriod   = 10
	probeDefaultFailures = 3
	startupMaxSeconds    = 240
	livenessMaxSeconds   = 3600
	// The probe Cloud Run adds to a service's ingress container when none is configured ("Configure
	// container health checks", "The default TCP startup probe").
	defaultStartupTimeout  = 240
	defaultStartupPeriod   = 240
	defaultStartupFailures = 1
)

type probeModel struct {
	HTTPGet             types.Object `tfsdk:"http_get"`
	TCPSocket           types.Object `tfsdk:"tcp_socket"`
	GRPC                types.Object `tfsdk:"grpc"`
	InitialDelaySeconds types.Int64  `tfsdk:"initial_delay_seconds"`
	TimeoutSeconds      types.Int64  `tfsdk:"timeout_seconds"`
	PeriodSeconds       types.Int64  `tfsdk:"period_seconds"`
	FailureThreshold    types.Int64  `tfsdk:"failure_threshold"`
}

type httpGetModel struct {
	Path        types.String `tfsdk:"path"`
	Port        types.Int64  `tfsdk:"port"`
	HTTPHeaders types.Map    `tfsdk:"http_headers"`
}

type grpcModel struct {
	Port    types.Int64  `tfsdk:"port"`
	Service types.String `tfsdk:"service"`
}

var (
	httpGetAttrTypes = map[string]attr.Type{"path": types.StringType, "port": types.Int64Type,
		"http_headers": types.MapType{ElemType: types.StringType}}
	tcpSocketAttrTypes = map[string]attr.Type{"port": types.Int64Type}
	grpcAttrTypes      = map[string]attr.Type{"port": types.Int64Type, "service": types.StringType}
	probeAttrTypes     = map[string]attr.Type{
		"http_get": types.ObjectType{AttrTypes: httpGetAttrTypes}, "tcp_socket": types.ObjectType{AttrTypes: tcpSocketAttrTypes},
		"grpc": types.ObjectType{AttrTypes: grpcAttrTypes}, "initial_delay_seconds": types.Int64Type,
		"timeout_seconds": types.Int64Type, "period_seconds": types.Int64Type, "failure_threshold": types.Int64Type,
	}
	headerNameRE = regexp.MustCompile(`^[!#$%&'*+.^_` + "`" + `|~0-9A-Za-z-]+$`)
)

// probeSchema is the schema of startup_probe (startup true) or liveness_probe.
func probeSchema(startup bool) schema.SingleNestedAttribute {
	maxS, kind := int64(livenessMaxSeconds), "liveness"
	if startup {
		maxS, kind = startupMaxSeconds, "startup"
	}
	types3 := func(self string) []path.Expression {
		var out []path.Expression
		for _, n := range []string{"http_get", "tcp_socket", "grpc"} {
			if n != self {
				out = append(out, path.MatchRelative().AtParent().AtName(n))
			}
		}
		return out
	}
	port := schema.Int64Attribute{Optional: true, MarkdownDescription: "Port to probe; unset means the service's `port`. Cloud Run fills the " +
		"service port in when it is unset, so an imported probe on the service port reads as unset: leave it unset rather " +
		"than repeating the service port.",
		Validators: []validator.Int64{int64validator.Between(1, 65535)}}
	desc := "Liveness probe of the agent container: Cloud Run restarts an instance whose probe keeps failing. " +
		"One of `http_get` or `grpc` (Cloud Run has no TCP liveness probe). Unset means none."
	if startup {
		desc = "Startup probe of the agent container: the instance gets traffic once it succeeds. One of `http_get`, " +
			"`tcp_socket` or `grpc`. Unset means Cloud Run's default, a TCP probe of the service's port with timeout and " +
			"period 240 s and failure threshold 1 (never shown as a difference). `failure_threshold` × `period_seconds` " +
			"may not exceed 240 s."
	}
	return schema.SingleNestedAttribute{Optional: true, MarkdownDescription: desc,
		Validators: []validator.Object{probeValidator{startup: startup}},
		Attributes: map[string]schema.Attribute{
			"http_get": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "HTTP GET probe; any status from 200 to 399 is a success.",
				Validators: []validator.Object{objectvalidator.ExactlyOneOf(types3("http_get")...)},
				Attributes: map[string]schema.Attribute{
					"path": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("/"),
						MarkdownDescription: "Path to request. Default `/`.",
						Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^/\S*$`), "must start with / and have no spaces")}},
					"port": port,
					"http_headers": schema.MapAttribute{ElementType: types.StringType, Optional: true,
						MarkdownDescription: "Request headers, name to value.",
						Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.RegexMatches(headerNameRE,
							"must be an HTTP header name (letters, digits and !#$%&'*+.^_`|~-)"))}},
				}},
			"tcp_socket": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "TCP probe: a connection that opens is a success" +
				map[bool]string{true: ".", false: ". Not available for liveness probes."}[startup],
				Validators: []validator.Object{objectvalidator.ExactlyOneOf(types3("tcp_socket")...)},
				Attributes: map[string]schema.Attribute{"port": port}},
			"grpc": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "gRPC Health Checking probe.",
				Validators: []validator.Object{objectvalidator.ExactlyOneOf(types3("grpc")...)},
				Attributes: map[string]schema.Attribute{
					"port":    port,
					"service": schema.StringAttribute{Optional: true, MarkdownDescription: "Service name sent in the health check request."},
				}},
			"initial_delay_seconds": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: fmt.Sprintf("Seconds after start before the first probe, 0 to %d. Default 0.", maxS),
				Validators:          []validator.Int64{int64validator.Between(0, maxS)}},
			"timeout_seconds": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(probeDefaultTimeout),
				MarkdownDescription: "Seconds a probe may take, 1 to 3600 and not above `period_seconds`. Default 1.",
				Validators:          []validator.Int64{int64validator.Between(1, 3600)}},
			"period_seconds": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(probeDefaultPeriod),
				MarkdownDescription: fmt.Sprintf("Seconds between probes, 1 to %d. Default 10.", maxS),
				Validators:          []validator.Int64{int64validator.Between(1, maxS)}},
			"failure_threshold": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(probeDefaultFailures),
				MarkdownDescription: "Consecutive failures before the " + kind + " probe fails, at least 1. Default 3.",
				// The API's field is an int32: a larger value would be cut short on the way.
				Validators: []validator.Int64{int64validator.Between(1, math.MaxInt32)}},
		}}
}

// probeValidator checks what spans the probe's attributes.
type probeValidator struct{ startup bool }

func (v probeValidator) Description(context.Context) string {
	return "timeout_seconds <= period_seconds; startup: failure_threshold × period_seconds <= 240; liveness: not tcp_socket"
}
func (v probeValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (v probeValidator) ValidateObject(ctx context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var p probeModel
	resp.Diagnostics.Append(req.ConfigValue.As(ctx, &p, objectAsOptions)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !v.startup && !p.TCPSocket.IsNull() {
		resp.Diagnostics.AddAttributeError(req.Path.AtName("tcp_socket"), "No TCP liveness probe on Cloud Run",
			"Cloud Run liveness probes are HTTP (`http_get`) or gRPC (`grpc`); a TCP probe can only be a startup_probe.")
	}
	known := func(i types.Int64, def int64) (int64, bool) {
		if i.IsUnknown() {
			return 0, false
		}
		if i.IsNull() {
			return def, true
		}
		return i.ValueInt64(), true
	}
	maxS := int64(livenessMaxSeconds)
	if v.startup {
		maxS = startupMaxSeconds
	}
	// A value outside its own range is reported by its attribute's validator, which the framework runs only
	// when this one found nothing: comparing it here would blame the other attribute (period_seconds = -1
	// reported as "timeout_seconds (1) must not exceed period_seconds (-1)").
	inRange := func(n, lo, hi int64) bool { return n >= lo && n <= hi }
	timeout, ok1 := known(p.TimeoutSeconds, probeDefaultTimeout)
	period, ok2 := known(p.PeriodSeconds, probeDefaultPeriod)
	failures, ok3 := known(p.FailureThreshold, probeDefaultFailures)
	ok1 = ok1 && inRange(timeout, 1, 3600)
	ok2 = ok2 && inRange(period, 1, maxS)
	ok3 = ok3 && failures >= 1
	if ok1 && ok2 && timeout > period {
		resp.Diagnostics.AddAttributeError(req.Path.AtName("timeout_seconds"), "Probe timeout longer than its period",
			fmt.Sprintf("timeout_seconds (%d) must not exceed period_seconds (%d).", timeout, period))
	}
	if v.startup && ok2 && ok3 && failures*period > startupMaxSeconds {
		resp.Diagnostics.AddAttributeError(req.Path.AtName("failure_threshold"), "Startup probe window too long",
			fmt.Sprintf("failure_threshold × period_seconds is %d × %d = %d s; Cloud Run allows a startup probe at most %d s. "+
				"Lower one of them (initial_delay_seconds can add up to 240 s more).", failures, period, failures*period, startupMaxSeconds))
	}
}

func probeToAPI(ctx context.Context, o types.Object, diags *diag.Diagnostics) *runpb.Probe {
	if o.IsNull() || o.IsUnknown() {
		return nil
	}
	var p probeModel
	diags.Append(o.As(ctx, &p, objectAsOptions)...)
	out := &runpb.Probe{InitialDelaySeconds: int32(p.InitialDelaySeconds.ValueInt64()), TimeoutSeconds: int32(p.TimeoutSeconds.ValueInt64()),
		PeriodSeconds: int32(p.PeriodSeconds.ValueInt64()), FailureThreshold: int32(p.FailureThreshold.ValueInt64())}
	switch {
	case !p.HTTPGet.IsNull() && !p.HTTPGet.IsUnknown():
		var h httpGetModel
		diags.Append(p.HTTPGet.As(ctx, &h, objectAsOptions)...)
		a := &runpb.HTTPGetAction{Path: h.Path.ValueString(), Port: int32(h.Port.ValueInt64())}
		if !h.HTTPHeaders.IsNull() && !h.HTTPHeaders.IsUnknown() {
			hs := map[string]string{}
			diags.Append(h.HTTPHeaders.ElementsAs(ctx, &hs, false)...)
			for _, k := range sortedKeys(hs) {
				a.HttpHeaders = append(a.HttpHeaders, &runpb.HTTPHeader{Name: k, Value: hs[k]})
			}
		}
		out.ProbeType = &runpb.Probe_HttpGet{HttpGet: a}
	case !p.TCPSocket.IsNull() && !p.TCPSocket.IsUnknown():
		var t struct {
			Port types.Int64 `tfsdk:"port"`
		}
		diags.Append(p.TCPSocket.As(ctx, &t, objectAsOptions)...)
		out.ProbeType = &runpb.Probe_TcpSocket{TcpSocket: &runpb.TCPSocketAction{Port: int32(t.Port.ValueInt64())}}
	case !p.GRPC.IsNull() && !p.GRPC.IsUnknown():
		var g grpcModel
		diags.Append(p.GRPC.As(ctx, &g, objectAsOptions)...)
		out.ProbeType = &runpb.Probe_Grpc{Grpc: &runpb.GRPCAction{Port: int32(g.Port.ValueInt64()), Service: g.Service.ValueString()}}
	}
	return out
}

// probeFromAPI reads a probe. A port equal to the service port is read as unset when the prior value left
// it unset: the API fills "the exposed port of the container" in its place.
func probeFromAPI(p *runpb.Probe, svcPort int32, prior types.Object) types.Object {
	if p == nil {
		return types.ObjectNull(probeAttrTypes)
	}
	var priorP probeModel
	if !prior.IsNull() && !prior.IsUnknown() {
		_ = prior.As(context.Background(), &priorP, objectAsOptions)
	}
	priorPort := func(o types.Object) bool { // whether the prior action set its port
		if o.IsNull() || o.IsUnknown() {
			return false
		}
		v, ok := o.Attributes()["port"].(types.Int64)
		return ok && !v.IsNull()
	}
	port := func(v int32, priorSet bool) types.Int64 {
		if v == 0 || (v == svcPort && !priorSet) {
			return types.Int64Null()
		}
		return types.Int64Value(int64(v))
	}
	vals := map[string]attr.Value{
		"http_get": types.ObjectNull(httpGetAttrTypes), "tcp_socket": types.ObjectNull(tcpSocketAttrTypes), "grpc": types.ObjectNull(grpcAttrTypes),
		"initial_delay_seconds": types.Int64Value(int64(p.GetInitialDelaySeconds())),
		"timeout_seconds":       types.Int64Value(int64(orDefaultInt(p.GetTimeoutSeconds(), probeDefaultTimeout))),
		"period_seconds":        types.Int64Value(int64(orDefaultInt(p.GetPeriodSeconds(), probeDefaultPeriod))),
		"failure_threshold":     types.Int64Value(int64(orDefaultInt(p.GetFailureThreshold(), probeDefaultFailures))),
	}
	switch {
	case p.GetHttpGet() != nil:
		h := p.GetHttpGet()
		headers := types.MapNull(types.StringType)
		if len(h.GetHttpHeaders()) > 0 {
			el := map[string]attr.Value{}
			for _, x := range h.GetHttpHeaders() {
				el[x.GetName()] = types.StringValue(x.GetValue())
			}
			headers = types.MapValueMust(types.StringType, el)
		}
		vals["http_get"] = types.ObjectValueMust(httpGetAttrTypes, map[string]attr.Value{
			"path": types.StringValue(orDefault(h.GetPath(), "/")), "port": port(h.GetPort(), priorPort(priorP.HTTPGet)), "http_headers": headers})
	case p.GetTcpSocket() != nil:
		vals["tcp_socket"] = types.ObjectValueMust(tcpSocketAttrTypes, map[string]attr.Value{
			"port": port(p.GetTcpSocket().GetPort(), priorPort(priorP.TCPSocket))})
	case p.GetGrpc() != nil:
		svc := types.StringNull()
		if s := p.GetGrpc().GetService(); s != "" {
			svc = types.StringValue(s)
		}
		vals["grpc"] = types.ObjectValueMust(grpcAttrTypes, map[string]attr.Value{
			"port": port(p.GetGrpc().GetPort(), priorPort(priorP.GRPC)), "service": svc})
	}
	return types.ObjectValueMust(probeAttrTypes, vals)
}

// isDefaultStartupProbe reports whether p is the probe Cloud Run adds when none is configured.
func isDefaultStartupProbe(p *runpb.Probe, svcPort int32) bool {
	tcp := p.GetTcpSocket()
	return tcp != nil && (tcp.GetPort() == 0 || tcp.GetPort() == svcPort) && p.GetInitialDelaySeconds() == 0 &&
		p.GetTimeoutSeconds() == defaultStartupTimeout && p.GetPeriodSeconds() == defaultStartupPeriod &&
		p.GetFailureThreshold() == defaultStartupFailures
}

func startupProbeTo(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	c.StartupProbe = probeToAPI(ctx, m.StartupProbe, diags)
}

func livenessProbeTo(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	c.LivenessProbe = probeToAPI(ctx, m.LivenessProbe, diags)
}

// An unset startup probe is sent unset, so that the server puts its default back.
func applyStartupProbe(_, _ *runpb.Service, nc, wc *runpb.Container) {
	nc.StartupProbe = wc.GetStartupProbe()
}

func applyLivenessProbe(_, _ *runpb.Service, nc, wc *runpb.Container) {
	nc.LivenessProbe = wc.GetLivenessProbe()
}

func startupProbeFrom(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
	p := r.c.GetStartupProbe()
	if (r.prior.StartupProbe.IsNull() || r.importing) && isDefaultStartupProbe(p, servicePort(r.c)) {
		m.StartupProbe = types.ObjectNull(probeAttrTypes) // the server's default, not configured
		return
	}
	m.StartupProbe = probeFromAPI(p, servicePort(r.c), r.prior.StartupProbe)
}

func livenessProbeFrom(_ context.Context, r *readCtx, m *agentServiceModel, _ *diag.Diagnostics) {
	m.LivenessProbe = probeFromAPI(r.c.GetLivenessProbe(), servicePort(r.c), r.prior.LivenessProbe)
}
