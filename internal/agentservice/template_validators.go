package agentservice

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// templateValidator checks what spans the template attributes added with the revision template table:
// tracing's variables against env and secret_env, the sidecar's scrape target against its default
// configuration, and gen2's minimum memory.
type templateValidator struct{}

func (templateValidator) Description(context.Context) string {
	return "tracing variables are not in env or secret_env; metrics off 8080 or /metrics name a config_secret; gen2 has at least 512Mi"
}
func (v templateValidator) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (templateValidator) ValidateResource(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var env, secretEnv types.Map
	var tracing, metrics types.Object
	var port types.Int64
	var execEnv types.String
	var memory quantityValue
	for name, dst := range map[string]any{"env": &env, "secret_env": &secretEnv, "tracing": &tracing, "metrics": &metrics,
		"port": &port, "execution_environment": &execEnv, "memory": &memory} {
		resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root(name), dst)...)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if !tracing.IsNull() && !tracing.IsUnknown() {
		for attr, m := range map[string]types.Map{"env": env, "secret_env": secretEnv} {
			if m.IsNull() || m.IsUnknown() {
				continue
			}
			for _, k := range tracingClashNames {
				if _, ok := m.Elements()[k]; ok {
					resp.Diagnostics.AddAttributeError(path.Root(attr).AtMapKey(k), "Variable set by tracing",
						fmt.Sprintf("%s is rendered from the tracing block, or would override what it renders; remove it from %s "+
							"(or remove tracing).", k, attr))
				}
			}
		}
	}
	if !metrics.IsNull() && !metrics.IsUnknown() {
		var mm metricsModel
		resp.Diagnostics.Append(metrics.As(ctx, &mm, objectAsOptions)...)
		p := int64(defaultPort)
		known := true
		switch {
		case mm.Port.IsUnknown():
			known = false
		case !mm.Port.IsNull():
			p = mm.Port.ValueInt64()
		case port.IsUnknown():
			known = false
		case !port.IsNull():
			p = port.ValueInt64()
		}
		mpath := sidecarDefaultPath
		if mm.Path.IsUnknown() {
			known = false
		} else if !mm.Path.IsNull() {
			mpath = mm.Path.ValueString()
		}
		if known && (p != sidecarDefaultPort || mpath != sidecarDefaultPath) && mm.ConfigSecret.IsNull() {
			resp.Diagnostics.AddAttributeError(path.Root("metrics").AtName("config_secret"), "The sidecar needs a scrape configuration",
				fmt.Sprintf("The metrics are on port %d at %s, but without a configuration the Managed Service for Prometheus sidecar "+
					"scrapes port 8080 at /metrics. Put a RunMonitoring configuration whose endpoint is port %q, path %q in a Secret "+
					"Manager secret and name it in metrics.config_secret, or serve the metrics on 8080 at /metrics.", p, mpath,
					fmt.Sprint(p), mpath))
		}
	}
	if execEnv.ValueString() == "gen2" && !memory.IsUnknown() {
		m := defaultMemory
		if !memory.IsNull() {
			m = memory.ValueString()
		}
		if n, ok := parseQuantity(m); ok && n < 512*(1<<20) {
			resp.Diagnostics.AddAttributeError(path.Root("memory"), "gen2 needs at least 512Mi",
				fmt.Sprintf("memory = %q is below the second generation execution environment's minimum of 512Mi; raise memory or use gen1.", m))
		}
	}
}
