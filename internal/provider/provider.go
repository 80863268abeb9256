// Package provider defines the alfred provider: its configuration schema, the resolution of that
// configuration from HCL and the environment, and the registry of every area's resources and data sources.
package provider

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/alfred-platform/terraform-provider-alfred/internal/agentservice"
	"github.com/alfred-platform/terraform-provider-alfred/internal/alerting"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backuppolicy"
	"github.com/alfred-platform/terraform-provider-alfred/internal/pgdata"
	"github.com/alfred-platform/terraform-provider-alfred/internal/qdrant"
	"github.com/alfred-platform/terraform-provider-alfred/internal/rbac"
	"github.com/alfred-platform/terraform-provider-alfred/internal/render"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
	"github.com/alfred-platform/terraform-provider-alfred/internal/supabase"
	"github.com/alfred-platform/terraform-provider-alfred/internal/taskqueue"
)

var _ provider.Provider = (*alfredProvider)(nil)

type alfredProvider struct {
	version string
}

// New returns a constructor of the provider for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &alfredProvider{version: version} }
}

type gcpModel struct {
	Project            types.String `tfsdk:"project"`
	Region             types.String `tfsdk:"region"`
	Credentials        types.String `tfsdk:"credentials"`
	RunEndpoint        types.String `tfsdk:"run_endpoint"`
	MonitoringEndpoint types.String `tfsdk:"monitoring_endpoint"`
	LoggingEndpoint    types.String `tfsdk:"logging_endpoint"`
	SchedulerEndpoint  types.String `tfsdk:"scheduler_endpoint"`
	PubSubEndpoint     types.String `tfsdk:"pubsub_endpoint"`
	Insecure           types.Bool   `tfsdk:"insecure"`
}

type supabaseModel struct {
	AccessToken      types.String `tfsdk:"access_token"`
	APIURL           types.String `tfsdk:"api_url"`
	OrganizationSlug types.String `tfsdk:"organization_slug"`
}

type qdrantModel struct {
	URL     types.String `tfsdk:"url"`
	RESTURL types.String `tfsdk:"rest_url"`
	APIKey  types.String `tfsdk:"api_key"`
	TLS     types.Bool   `tfsdk:"tls"`
	CACert  types.String `tfsdk:"ca_cert"`
}

type postgresModel struct {
	DSN types.String `tfsdk:"dsn"`
}

type s3Model struct {
	Region          types.String `tfsdk:"region"`
	Endpoint        types.String `tfsdk:"endpoint"`
	AccessKeyID     types.String `tfsdk:"access_key_id"`
	SecretAccessKey types.String `tfsdk:"secret_access_key"`
	ForcePathStyle  types.Bool   `tfsdk:"force_path_style"`
}

type providerModel struct {
	GCP      *gcpModel      `tfsdk:"gcp"`
	Supabase *supabaseModel `tfsdk:"supabase"`
	Qdrant   *qdrantModel   `tfsdk:"qdrant"`
	Postgres *postgresModel `tfsdk:"postgres"`
	S3       *s3Model       `tfsdk:"s3"`
}

func (p *alfredProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "alfred"
	resp.Version = p.version
}

func (p *alfredProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerSchema()
}

func str(desc string, sensitive bool, validators ...validator.String) schema.StringAttribute {
	return schema.StringAttribute{Optional: true, Sensitive: sensitive, MarkdownDescription: desc, Validators: validators}
}

func providerSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "The `alfred` provider manages the Alfred Agent Platform: agent services on Cloud Run, " +
			"Qdrant collections, Supabase read replicas, backups, alerting and role-based access control in Postgres. " +
			"Every block is optional; a resource that needs a block that is missing fails at plan time and names the " +
			"block and its environment variables. Environment variables fill attributes left unset.",
		Blocks: map[string]schema.Block{
			"gcp": schema.SingleNestedBlock{
				MarkdownDescription: "Google Cloud: Cloud Run, Cloud Monitoring, Cloud Logging and Cloud Scheduler.",
				Attributes: map[string]schema.Attribute{
					"project":             str("Default project ID. Environment: `ALFRED_GCP_PROJECT`.", false),
					"region":              str("Default region, e.g. `europe-west1`. Environment: `ALFRED_GCP_REGION`.", false),
					"credentials":         str("Service account key JSON. Defaults to Application Default Credentials.", true),
					"run_endpoint":        str("Cloud Run API endpoint (host:port). Environment: `ALFRED_GCP_RUN_ENDPOINT`.", false, hostPortValidator()),
					"monitoring_endpoint": str("Cloud Monitoring API endpoint (host:port). Environment: `ALFRED_GCP_MONITORING_ENDPOINT`.", false, hostPortValidator()),
					"logging_endpoint":    str("Cloud Logging API endpoint (host:port), for log-based metrics. Environment: `ALFRED_GCP_LOGGING_ENDPOINT`.", false, hostPortValidator()),
					"scheduler_endpoint":  str("Cloud Scheduler API endpoint (host:port). Environment: `ALFRED_GCP_SCHEDULER_ENDPOINT`.", false, hostPortValidator()),
					"pubsub_endpoint":     str("Cloud Pub/Sub API endpoint (host:port), for task queues. Environment: `ALFRED_GCP_PUBSUB_ENDPOINT`.", false, hostPortValidator()),
					"insecure": schema.BoolAttribute{Optional: true, MarkdownDescription: "Plaintext gRPC without " +
						"credentials, for the local sandbox only. Environment: `ALFRED_GCP_INSECURE`."},
				},
			},
			"supabase": schema.SingleNestedBlock{
				MarkdownDescription: "Supabase Management API.",
				Attributes: map[string]schema.Attribute{
					"access_token":      str("Personal access token. Environment: `SUPABASE_ACCESS_TOKEN`.", true),
					"api_url":           str("API base URL. Environment: `ALFRED_SUPABASE_API_URL`. Default `https://api.supabase.com`.", false, urlValidator()),
					"organization_slug": str("Organization slug. Environment: `ALFRED_SUPABASE_ORG_SLUG`.", false),
				},
			},
			"qdrant": schema.SingleNestedBlock{
				MarkdownDescription: "Qdrant cluster.",
				Attributes: map[string]schema.Attribute{
					"url":      str("gRPC address (host:port). Environment: `ALFRED_QDRANT_URL`.", false, hostPortValidator()),
					"rest_url": str("REST base URL, used for snapshots. Environment: `ALFRED_QDRANT_REST_URL`.", false, urlValidator()),
					"api_key":  str("API key. Environment: `QDRANT_API_KEY`.", true),
					"tls": schema.BoolAttribute{Optional: true, MarkdownDescription: "Use TLS for gRPC and REST, verified " +
						"against the system roots or `ca_cert`. Environment: `ALFRED_QDRANT_TLS`. Default false, or true when `ca_cert` is set."},
					"ca_cert": str("PEM CA certificate that signs the cluster's TLS certificate (implies TLS). Environment: `ALFRED_QDRANT_CA_CERT`.", false),
				},
			},
			"postgres": schema.SingleNestedBlock{
				MarkdownDescription: "PostgreSQL (Supabase or plain), used by RBAC and replication data sources.",
				Attributes: map[string]schema.Attribute{
					"dsn": str("Connection string (URL or key=value). Environment: `ALFRED_POSTGRES_DSN`.", true),
				},
			},
			"s3": schema.SingleNestedBlock{
				MarkdownDescription: "S3-compatible object store for backups.",
				Attributes: map[string]schema.Attribute{
					"region":            str("Region. Environment: `AWS_REGION`.", false),
					"endpoint":          str("Endpoint URL for S3-compatible stores. Environment: `ALFRED_S3_ENDPOINT`.", false, urlValidator()),
					"access_key_id":     str("Access key ID. Environment: `AWS_ACCESS_KEY_ID`.", false),
					"secret_access_key": str("Secret access key. Environment: `AWS_SECRET_ACCESS_KEY`.", true),
					"force_path_style": schema.BoolAttribute{Optional: true, MarkdownDescription: "Path-style " +
						"addressing. Defaults to true when an endpoint is set."},
				},
			},
		},
	}
}

// pick returns the configured value, else the first set environment variable. ok is false when the value is
// unknown at plan time (it depends on another resource).
func pick(v types.String, env ...string) (val string, unknown bool) {
	if v.IsUnknown() {
		return "", true
	}
	if !v.IsNull() && v.ValueString() != "" {
		return v.ValueString(), false
	}
	for _, e := range env {
		if s := os.Getenv(e); s != "" {
			return s, false
		}
	}
	return "", false
}

// pickBool returns the configured value, else the environment variable's, else def. An environment value
// that is not a boolean is an error at attr, not a silent false: ALFRED_GCP_INSECURE=yes must not quietly
// mean TLS with credentials against a plaintext sandbox, nor =fasle mean true.
func pickBool(v types.Bool, env string, def bool, attr path.Path, diags *diag.Diagnostics) bool {
	if !v.IsNull() && !v.IsUnknown() {
		return v.ValueBool()
	}
	if s := os.Getenv(env); s != "" {
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			diags.AddAttributeError(attr, "Invalid environment variable "+env,
				fmt.Sprintf("%s=%q is not a boolean. Set it to true or false (1, 0, t, f, TRUE, FALSE are accepted "+
					"too), or unset it.", env, s))
			return def
		}
		return b
	}
	return def
}

// checkValue reports, at attr, a resolved value that fails check. Values written in HCL were validated
// already (or were unknown then); this catches the ones that came from the environment.
func checkValue(val string, attr path.Path, env string, check func(string) string, rule string, diags *diag.Diagnostics) {
	if val == "" {
		return
	}
	if p := check(val); p != "" {
		if u, err := url.Parse(val); err == nil && u.User != nil {
			val = u.Redacted() // never echo a password written into a URL
		}
		diags.AddAttributeError(attr, "Invalid provider configuration value",
			fmt.Sprintf("%q (from the %s attribute or the environment variable %s) is not valid: %s. Expected: %s",
				val, attr, env, p, rule))
	}
}

func (p *alfredProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	data := resolve(cfg, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	tflog.Debug(ctx, "configured alfred provider", map[string]any{
		"gcp": data.GCP != nil, "supabase": data.Supabase != nil, "qdrant": data.Qdrant != nil,
		"postgres": data.Postgres != nil, "s3": data.S3 != nil,
	})
	resp.ResourceData = data
	resp.DataSourceData = data
}

// resolve merges HCL with the environment. A block counts as present when it is written in HCL or when any
// of its environment variables is set.
func resolve(cfg providerModel, diags *diag.Diagnostics) *shared.ProviderData {
	data := &shared.ProviderData{}
	present := func(written bool, block string) bool {
		if written {
			return true
		}
		for _, e := range shared.BlockEnv[block] {
			if os.Getenv(e) != "" {
				return true
			}
		}
		return false
	}

	if g := cfg.GCP; present(g != nil, shared.BlockGCP) {
		if g == nil {
			g = &gcpModel{}
		}
		c := &shared.GCPConfig{}
		c.Project, c.ProjectUnknown = pick(g.Project, "ALFRED_GCP_PROJECT", "GOOGLE_CLOUD_PROJECT")
		c.Region, c.RegionUnknown = pick(g.Region, "ALFRED_GCP_REGION")
		c.Credentials, _ = pick(g.Credentials, "GOOGLE_CREDENTIALS")
		c.RunEndpoint, _ = pick(g.RunEndpoint, "ALFRED_GCP_RUN_ENDPOINT")
		c.MonitoringEndpoint, _ = pick(g.MonitoringEndpoint, "ALFRED_GCP_MONITORING_ENDPOINT")
		c.LoggingEndpoint, _ = pick(g.LoggingEndpoint, "ALFRED_GCP_LOGGING_ENDPOINT")
		c.SchedulerEndpoint, _ = pick(g.SchedulerEndpoint, "ALFRED_GCP_SCHEDULER_ENDPOINT")
		c.PubSubEndpoint, _ = pick(g.PubSubEndpoint, "ALFRED_GCP_PUBSUB_ENDPOINT")
		c.Insecure = pickBool(g.Insecure, "ALFRED_GCP_INSECURE", false, path.Root("gcp").AtName("insecure"), diags)
		for attr, v := range map[string]struct{ val, env string }{
			"run_endpoint":        {c.RunEndpoint, "ALFRED_GCP_RUN_ENDPOINT"},
			"monitoring_endpoint": {c.MonitoringEndpoint, "ALFRED_GCP_MONITORING_ENDPOINT"},
			"logging_endpoint":    {c.LoggingEndpoint, "ALFRED_GCP_LOGGING_ENDPOINT"},
			"scheduler_endpoint":  {c.SchedulerEndpoint, "ALFRED_GCP_SCHEDULER_ENDPOINT"},
			"pubsub_endpoint":     {c.PubSubEndpoint, "ALFRED_GCP_PUBSUB_ENDPOINT"},
		} {
			checkValue(v.val, path.Root("gcp").AtName(attr), v.env, hostPortProblem, hostPortRule, diags)
		}
		data.GCP = c
	}
	if s := cfg.Supabase; present(s != nil, shared.BlockSupabase) {
		if s == nil {
			s = &supabaseModel{}
		}
		c := &shared.SupabaseConfig{}
		c.AccessToken, _ = pick(s.AccessToken, "SUPABASE_ACCESS_TOKEN")
		c.APIURL, _ = pick(s.APIURL, "ALFRED_SUPABASE_API_URL")
		if c.APIURL == "" {
			c.APIURL = "https://api.supabase.com"
		}
		c.OrganizationSlug, _ = pick(s.OrganizationSlug, "ALFRED_SUPABASE_ORG_SLUG")
		checkValue(c.APIURL, path.Root("supabase").AtName("api_url"), "ALFRED_SUPABASE_API_URL", urlProblem, urlRule, diags)
		data.Supabase = c
	}
	if q := cfg.Qdrant; present(q != nil, shared.BlockQdrant) {
		if q == nil {
			q = &qdrantModel{}
		}
		c := &shared.QdrantConfig{}
		var keyUnknown, caUnknown bool
		c.URL, c.URLUnknown = pick(q.URL, "ALFRED_QDRANT_URL")
		c.RESTURL, c.RESTURLUnknown = pick(q.RESTURL, "ALFRED_QDRANT_REST_URL")
		c.APIKey, keyUnknown = pick(q.APIKey, "QDRANT_API_KEY")
		c.CACert, caUnknown = pick(q.CACert, "ALFRED_QDRANT_CA_CERT")
		c.Unknown = c.URLUnknown || c.RESTURLUnknown || keyUnknown || caUnknown || q.TLS.IsUnknown()
		c.TLS = pickBool(q.TLS, "ALFRED_QDRANT_TLS", c.CACert != "", path.Root("qdrant").AtName("tls"), diags)
		checkValue(c.URL, path.Root("qdrant").AtName("url"), "ALFRED_QDRANT_URL", hostPortProblem, hostPortRule, diags)
		checkValue(c.RESTURL, path.Root("qdrant").AtName("rest_url"), "ALFRED_QDRANT_REST_URL", urlProblem, urlRule, diags)
		data.Qdrant = c
	}
	if pg := cfg.Postgres; present(pg != nil, shared.BlockPostgres) {
		if pg == nil {
			pg = &postgresModel{}
		}
		c := &shared.PostgresConfig{}
		c.DSN, c.Unknown = pick(pg.DSN, "ALFRED_POSTGRES_DSN")
		data.Postgres = c
	}
	if s := cfg.S3; present(s != nil, shared.BlockS3) {
		if s == nil {
			s = &s3Model{}
		}
		c := &shared.S3Config{}
		c.Region, _ = pick(s.Region, "AWS_REGION", "AWS_DEFAULT_REGION")
		c.Endpoint, _ = pick(s.Endpoint, "ALFRED_S3_ENDPOINT")
		c.AccessKeyID, _ = pick(s.AccessKeyID, "AWS_ACCESS_KEY_ID")
		c.SecretAccessKey, _ = pick(s.SecretAccessKey, "AWS_SECRET_ACCESS_KEY")
		c.ForcePathStyle = pickBool(s.ForcePathStyle, "ALFRED_S3_FORCE_PATH_STYLE", c.Endpoint != "",
			path.Root("s3").AtName("force_path_style"), diags)
		checkValue(c.Endpoint, path.Root("s3").AtName("endpoint"), "ALFRED_S3_ENDPOINT", urlProblem, urlRule, diags)
		data.S3 = c
	}
	return data
}

func (p *alfredProvider) Resources(_ context.Context) []func() resource.Resource {
	var all []func() resource.Resource
	all = append(all, rbac.Resources()...)
	all = append(all, agentservice.Resources()...)
	all = append(all, alerting.Resources()...)
	all = append(all, supabase.Resources()...)
	all = append(all, qdrant.Resources()...)
	all = append(all, pgdata.Resources()...)
	all = append(all, taskqueue.Resources()...)
	all = append(all, backuppolicy.Resources()...)
	return all
}

func (p *alfredProvider) DataSources(_ context.Context) []func() datasource.DataSource {
	var all []func() datasource.DataSource
	all = append(all, render.DataSources()...)
	all = append(all, alerting.DataSources()...)
	all = append(all, qdrant.DataSources()...)
	all = append(all, pgdata.DataSources()...)
	return all
}
