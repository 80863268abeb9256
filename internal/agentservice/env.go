package agentservice

import (
	"context"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// The ingress container's environment holds three attributes: env (plain values), secret_env (Secret
// Manager references) and tracing (the LangSmith variables). Reading it back splits it again.

// LangSmith's SDKs read these variables ("Trace without setting environment variables": LANGSMITH_TRACING,
// LANGSMITH_API_KEY, LANGSMITH_ENDPOINT, LANGSMITH_PROJECT). The Python SDK's utils.get_env_var looks each
// name up as LANGSMITH_<name>, then LANGCHAIN_<name>, so the LANGSMITH_* names win over the older LANGCHAIN_*
// ones and no alias is set. Tracing itself is read as TRACING_V2 before TRACING
// (get_env_var("TRACING_V2", default=get_env_var("TRACING"))): a LANGSMITH_TRACING_V2 or LANGCHAIN_TRACING_V2
// in env would override LANGSMITH_TRACING, so those names are refused alongside tracing as well.
const (
	envLangSmithTracing  = "LANGSMITH_TRACING"
	envLangSmithProject  = "LANGSMITH_PROJECT"
	envLangSmithEndpoint = "LANGSMITH_ENDPOINT"
	envLangSmithAPIKey   = "LANGSMITH_API_KEY"
)

var tracingEnvNames = []string{envLangSmithTracing, envLangSmithProject, envLangSmithEndpoint, envLangSmithAPIKey}

// tracingClashNames may not be in env or secret_env when tracing is set: the variables tracing renders, and
// those the SDKs read before them.
var tracingClashNames = append([]string{"LANGSMITH_TRACING_V2", "LANGCHAIN_TRACING_V2"}, tracingEnvNames...)

type tracingModel struct {
	Project      types.String `tfsdk:"langsmith_project"`
	Endpoint     types.String `tfsdk:"langsmith_endpoint"`
	APIKeySecret types.String `tfsdk:"api_key_secret"`
}

var tracingAttrTypes = map[string]attr.Type{"langsmith_project": types.StringType, "langsmith_endpoint": types.StringType,
	"api_key_secret": types.StringType}

func envTo(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	if m.Env.IsNull() || m.Env.IsUnknown() {
		return
	}
	env := map[string]string{}
	diags.Append(m.Env.ElementsAs(ctx, &env, false)...)
	for _, k := range sortedKeys(env) {
		c.Env = append(c.Env, plainVar(k, env[k]))
	}
}

func secretEnvTo(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	if m.SecretEnv.IsNull() || m.SecretEnv.IsUnknown() {
		return
	}
	refs := map[string]secretRefModel{}
	diags.Append(m.SecretEnv.ElementsAs(ctx, &refs, false)...)
	for _, k := range sortedKeys(refs) {
		c.Env = append(c.Env, secretVar(k, refs[k].Secret.ValueString(), refs[k].Version.ValueString()))
	}
}

func tracingTo(ctx context.Context, m *agentServiceModel, _ *runpb.Service, c *runpb.Container, diags *diag.Diagnostics) {
	if m.Tracing.IsNull() || m.Tracing.IsUnknown() {
		return
	}
	var tr tracingModel
	diags.Append(m.Tracing.As(ctx, &tr, objectAsOptions)...)
	c.Env = append(c.Env, plainVar(envLangSmithTracing, "true"), plainVar(envLangSmithProject, tr.Project.ValueString()))
	if !tr.Endpoint.IsNull() {
		c.Env = append(c.Env, plainVar(envLangSmithEndpoint, tr.Endpoint.ValueString()))
	}
	c.Env = append(c.Env, secretVar(envLangSmithAPIKey, tr.APIKeySecret.ValueString(), "latest"))
}

func plainVar(k, v string) *runpb.EnvVar {
	return &runpb.EnvVar{Name: k, Values: &runpb.EnvVar_Value{Value: v}}
}

func secretVar(k, secret, version string) *runpb.EnvVar {
	return &runpb.EnvVar{Name: k, Values: &runpb.EnvVar_ValueSource{ValueSource: &runpb.EnvVarSource{
		SecretKeyRef: &runpb.SecretKeySelector{Secret: secret, Version: version}}}}
}

// envParts is the ingress container's environment split into the three attributes.
type envParts struct {
	plain, secrets map[string]attr.Value
	tracing        types.Object
}

// splitEnv splits the environment. The LangSmith variables are read as tracing only when tracing was set
// before (or on import), and only when they say what tracing renders (LANGSMITH_TRACING=true, a project,
// the API key from Secret Manager); otherwise they stay in env and secret_env, where the plan shows them.
func splitEnv(_ context.Context, c *runpb.Container, prior *agentServiceModel, importing bool, _ *diag.Diagnostics) envParts {
	p := envParts{plain: map[string]attr.Value{}, secrets: map[string]attr.Value{}, tracing: types.ObjectNull(tracingAttrTypes)}
	plainVals := map[string]string{}
	keyRef := (*runpb.SecretKeySelector)(nil)
	for _, e := range c.GetEnv() {
		if ref := e.GetValueSource().GetSecretKeyRef(); ref != nil {
			if e.GetName() == envLangSmithAPIKey {
				keyRef = ref
			}
			v := ref.GetVersion()
			if v == "" {
				v = "latest"
			}
			p.secrets[e.GetName()] = types.ObjectValueMust(secretRefType.AttrTypes, map[string]attr.Value{
				"secret": types.StringValue(ref.GetSecret()), "version": types.StringValue(v)})
			continue
		}
		plainVals[e.GetName()] = e.GetValue()
		p.plain[e.GetName()] = types.StringValue(e.GetValue())
	}
	wanted := importing || (!prior.Tracing.IsNull() && !prior.Tracing.IsUnknown())
	project, hasProject := plainVals[envLangSmithProject]
	if wanted && plainVals[envLangSmithTracing] == "true" && hasProject && keyRef != nil &&
		(keyRef.GetVersion() == "" || keyRef.GetVersion() == "latest") {
		endpoint := types.StringNull()
		if v, ok := plainVals[envLangSmithEndpoint]; ok {
			endpoint = types.StringValue(v)
		}
		p.tracing = types.ObjectValueMust(tracingAttrTypes, map[string]attr.Value{
			"langsmith_project": types.StringValue(project), "langsmith_endpoint": endpoint,
			"api_key_secret": types.StringValue(keyRef.GetSecret())})
		for _, k := range tracingEnvNames {
			delete(p.plain, k)
			delete(p.secrets, k)
		}
	}
	return p
}
