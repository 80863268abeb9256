package render

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"gopkg.in/yaml.v3"
)

var _ datasource.DataSource = (*scrapeConfigDataSource)(nil)

// NewPrometheusScrapeConfigDataSource returns alfred_prometheus_scrape_config.
func NewPrometheusScrapeConfigDataSource() datasource.DataSource { return &scrapeConfigDataSource{} }

type scrapeConfigDataSource struct{}

type scrapeConfigModel struct {
	ID              types.String  `tfsdk:"id"`
	JobName         types.String  `tfsdk:"job_name"`
	ScrapeInterval  types.String  `tfsdk:"scrape_interval"`
	ScrapeTimeout   types.String  `tfsdk:"scrape_timeout"`
	MetricsPath     types.String  `tfsdk:"metrics_path"`
	Scheme          types.String  `tfsdk:"scheme"`
	BearerTokenFile types.String  `tfsdk:"bearer_token_file"`
	TLS             *tlsModel     `tfsdk:"tls"`
	Services        []targetModel `tfsdk:"services"`
	YAML            types.String  `tfsdk:"yaml"`
}

type tlsModel struct {
	CAFile             types.String `tfsdk:"ca_file"`
	CertFile           types.String `tfsdk:"cert_file"`
	KeyFile            types.String `tfsdk:"key_file"`
	ServerName         types.String `tfsdk:"server_name"`
	InsecureSkipVerify types.Bool   `tfsdk:"insecure_skip_verify"`
}

type targetModel struct {
	Name        types.String `tfsdk:"name"`
	URI         types.String `tfsdk:"uri"`
	Target      types.String `tfsdk:"target"`
	MetricsPath types.String `tfsdk:"metrics_path"`
	Port        types.Int64  `tfsdk:"port"`
}

var (
	// Prometheus durations: https://prometheus.io/docs/prometheus/latest/configuration/configuration/#duration
	promDurationRE = regexp.MustCompile(`^(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?$`)
	jobNameRE      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_:.-]*$`)
	hostPortRE     = regexp.MustCompile(`^[a-zA-Z0-9.-]+(:[0-9]{1,5})?$`)
	pathRE         = regexp.MustCompile(`^/[^\s?#]*$`)
)

func (d *scrapeConfigDataSource) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "alfred_prometheus_scrape_config"
}

func (d *scrapeConfigDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = scrapeConfigSchema()
}

func scrapeConfigSchema() schema.Schema {
	str := func(desc string, v ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, MarkdownDescription: desc, Validators: v}
	}
	return schema.Schema{
		MarkdownDescription: "Renders a Prometheus `scrape_configs` section that scrapes agent services' metrics endpoints " +
			"(one job, one static target per service labelled `service=<name>`). The output passes `promtool check config`.\n\n" +
			"It applies to a **self-hosted Prometheus that reaches each target** (an agent on a VM or in a cluster, or a single " +
			"instance). A Cloud Run service is not such a target: its URL routes each request to one of its instances and " +
			"exposes only the URL's port, so a scrape through `https://*.run.app` sees one random instance, and a metrics port " +
			"other than the service's is not reachable at all. For agents on Cloud Run, set `metrics {}` on " +
			"`alfred_agent_service`, which runs Google's Managed Service for Prometheus sidecar inside every instance and " +
			"writes to Cloud Monitoring. A `port` together with a `run.app` URI is therefore an error.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The job name."},
			"job_name": schema.StringAttribute{Required: true, MarkdownDescription: "Prometheus job name, e.g. `alfred-agents`.",
				Validators: []validator.String{stringvalidator.RegexMatches(jobNameRE, "must be a Prometheus job name (letters, digits, _ : . -)")}},
			"scrape_interval": str("How often to scrape, as a Prometheus duration. Default `30s`.",
				stringvalidator.RegexMatches(promDurationRE, "must be a Prometheus duration such as 15s, 1m or 1h30m"), stringvalidator.LengthAtLeast(2)),
			"scrape_timeout": str("Per-scrape timeout; must not exceed scrape_interval. Default `10s` (or the interval when shorter).",
				stringvalidator.RegexMatches(promDurationRE, "must be a Prometheus duration such as 10s"), stringvalidator.LengthAtLeast(2)),
			"metrics_path": str("Default metrics path of every target. Default `/metrics`.",
				stringvalidator.RegexMatches(pathRE, "must start with / and have no spaces, query or fragment")),
			"scheme": str("`https` (default; Cloud Run serves HTTPS only) or `http`.", stringvalidator.OneOf("https", "http")),
			"bearer_token_file": str("File holding the bearer token Prometheus sends (an identity token of a principal in the services' `invokers`).",
				stringvalidator.LengthAtLeast(1)),
			"tls": schema.SingleNestedAttribute{Optional: true, MarkdownDescription: "TLS settings of the scrape requests.",
				Attributes: map[string]schema.Attribute{
					"ca_file":              str("CA certificate file."),
					"cert_file":            str("Client certificate file."),
					"key_file":             str("Client key file."),
					"server_name":          str("Server name for SNI and verification."),
					"insecure_skip_verify": schema.BoolAttribute{Optional: true, MarkdownDescription: "Skip certificate verification (never in production)."},
				}},
			"services": schema.ListNestedAttribute{Required: true, MarkdownDescription: "Agent services to scrape.",
				Validators: []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Service name, used as the `service` label.",
						Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
					"uri": str("The service URL (e.g. `alfred_agent_service.x.uri`). One of `uri` or `target`. The target is the URL's "+
						"host and port; its path is ignored, and a URL whose scheme differs from the job's `scheme` is scraped with its own.",
						stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("target"))),
					"target": str("host or host:port to scrape, instead of `uri`.",
						stringvalidator.RegexMatches(hostPortRE, "must be host or host:port")),
					"metrics_path": str("Metrics path of this service, when it differs from the job's.",
						stringvalidator.RegexMatches(pathRE, "must start with / and have no spaces, query or fragment")),
					"port": schema.Int64Attribute{Optional: true, MarkdownDescription: "Port, when the metrics are served on another port than the URL's. " +
						"Not with a Cloud Run (`run.app`) URI, which exposes no other port.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
				}}},
			"yaml": schema.StringAttribute{Computed: true, MarkdownDescription: "The rendered YAML, with a top-level `scrape_configs` list."},
		},
	}
}

func (d *scrapeConfigDataSource) ConfigValidators(context.Context) []datasource.ConfigValidator {
	return nil
}

// The YAML shapes, in Prometheus' field order.
type promConfig struct {
	ScrapeConfigs []scrapeConfig `yaml:"scrape_configs"`
}

type scrapeConfig struct {
	JobName        string         `yaml:"job_name"`
	ScrapeInterval string         `yaml:"scrape_interval"`
	ScrapeTimeout  string         `yaml:"scrape_timeout"`
	MetricsPath    string         `yaml:"metrics_path"`
	Scheme         string         `yaml:"scheme"`
	Authorization  *authorization `yaml:"authorization,omitempty"`
	TLSConfig      *tlsConfig     `yaml:"tls_config,omitempty"`
	StaticConfigs  []staticConfig `yaml:"static_configs"`
}

type authorization struct {
	Type            string `yaml:"type"`
	CredentialsFile string `yaml:"credentials_file"`
}

type tlsConfig struct {
	CAFile             string `yaml:"ca_file,omitempty"`
	CertFile           string `yaml:"cert_file,omitempty"`
	KeyFile            string `yaml:"key_file,omitempty"`
	ServerName         string `yaml:"server_name,omitempty"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify,omitempty"`
}

type staticConfig struct {
	Targets []string          `yaml:"targets"`
	Labels  map[string]string `yaml:"labels"`
}

func orDefault(v types.String, def string) string {
	if v.IsNull() || v.ValueString() == "" {
		return def
	}
	return v.ValueString()
}

// promSeconds converts a Prometheus duration to milliseconds (for the timeout <= interval check).
func promMillis(s string) int64 {
	m := promDurationRE.FindStringSubmatch(s)
	if m == nil {
		return -1
	}
	units := []int64{365 * 86400000, 7 * 86400000, 86400000, 3600000, 60000, 1000, 1}
	var total int64
	for i, u := range units {
		if n := m[2+2*i]; n != "" {
			v, _ := strconv.ParseInt(n, 10, 64)
			total += v * u
		}
	}
	return total
}

// render builds the YAML; problems are returned as (attribute path, message).
func render(m *scrapeConfigModel) (string, *path.Path, string) {
	interval := orDefault(m.ScrapeInterval, "30s")
	timeout := orDefault(m.ScrapeTimeout, "10s")
	if m.ScrapeTimeout.IsNull() && promMillis(timeout) > promMillis(interval) {
		timeout = interval
	}
	if promMillis(timeout) > promMillis(interval) {
		p := path.Root("scrape_timeout")
		return "", &p, fmt.Sprintf("scrape_timeout (%s) must not be longer than scrape_interval (%s).", timeout, interval)
	}
	jobPath := orDefault(m.MetricsPath, "/metrics")
	sc := scrapeConfig{
		JobName:        m.JobName.ValueString(),
		ScrapeInterval: interval,
		ScrapeTimeout:  timeout,
		MetricsPath:    jobPath,
		Scheme:         orDefault(m.Scheme, "https"),
	}
	if !m.BearerTokenFile.IsNull() {
		sc.Authorization = &authorization{Type: "Bearer", CredentialsFile: m.BearerTokenFile.ValueString()}
	}
	if t := m.TLS; t != nil {
		sc.TLSConfig = &tlsConfig{CAFile: t.CAFile.ValueString(), CertFile: t.CertFile.ValueString(), KeyFile: t.KeyFile.ValueString(),
			ServerName: t.ServerName.ValueString(), InsecureSkipVerify: t.InsecureSkipVerify.ValueBool()}
		if (sc.TLSConfig.CertFile == "") != (sc.TLSConfig.KeyFile == "") {
			p := path.Root("tls")
			return "", &p, "tls.cert_file and tls.key_file go together: set both or neither."
		}
	}
	seen := map[string]bool{}
	for i, s := range m.Services {
		p := path.Root("services").AtListIndex(i)
		name := s.Name.ValueString()
		if seen[name] {
			pp := p.AtName("name")
			return "", &pp, fmt.Sprintf("service %q is listed twice; each service is one target labelled service=%q.", name, name)
		}
		seen[name] = true
		labels := map[string]string{"service": name}
		var host string
		if !s.URI.IsNull() {
			u, err := url.Parse(s.URI.ValueString())
			if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
				pp := p.AtName("uri")
				return "", &pp, fmt.Sprintf("%q is not an http(s) URL such as https://alfred-bot-abc123-ew.a.run.app.", s.URI.ValueString())
			}
			if isCloudRunHost(u.Hostname()) && (!s.Port.IsNull() || (u.Port() != "" && u.Port() != "443")) {
				pp := p.AtName("port")
				if s.Port.IsNull() {
					pp = p.AtName("uri")
				}
				return "", &pp, fmt.Sprintf("%s is a Cloud Run URL, which serves only port 443 and routes each request to one "+
					"instance: a metrics port other than the service's cannot be reached through it. Remove the port and serve the "+
					"metrics on the service port, or (better) set metrics {} on the alfred_agent_service, whose Managed Service for "+
					"Prometheus sidecar scrapes every instance from inside.", s.URI.ValueString())
			}
			// Only the authority is the target: path, query and user info are dropped.
			host = u.Host
			if !s.Port.IsNull() {
				host = net.JoinHostPort(u.Hostname(), strconv.FormatInt(s.Port.ValueInt64(), 10))
			}
			if u.Scheme != sc.Scheme {
				// The URI says how the service is reached; Prometheus reads __scheme__ per target.
				labels["__scheme__"] = u.Scheme
			}
		} else {
			host = s.Target.ValueString()
			if !s.Port.IsNull() {
				if h, _, err := net.SplitHostPort(host); err == nil {
					host = h
				}
				host = net.JoinHostPort(host, strconv.FormatInt(s.Port.ValueInt64(), 10))
			}
			h, port, err := net.SplitHostPort(host)
			if err != nil {
				h, port = host, ""
			}
			if isCloudRunHost(h) && port != "" && port != "443" {
				pp := p.AtName("target")
				return "", &pp, fmt.Sprintf("%s is a Cloud Run host, which serves only port 443 and routes each request to one "+
					"instance: port %s cannot be reached. Set metrics {} on the alfred_agent_service instead, whose Managed Service "+
					"for Prometheus sidecar scrapes every instance from inside.", h, port)
			}
		}
		if mp := s.MetricsPath.ValueString(); mp != "" && mp != jobPath {
			// Per-target path through the reserved label Prometheus reads before scraping.
			labels["__metrics_path__"] = mp
		}
		sc.StaticConfigs = append(sc.StaticConfigs, staticConfig{Targets: []string{host}, Labels: labels})
	}
	b, err := yaml.Marshal(promConfig{ScrapeConfigs: []scrapeConfig{sc}})
	if err != nil {
		return "", nil, err.Error()
	}
	return string(b), nil, ""
}

// isCloudRunHost reports whether host is a Cloud Run service URL's (`*.run.app`).
func isCloudRunHost(host string) bool {
	return strings.HasSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), ".run.app")
}

func (d *scrapeConfigDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m scrapeConfigModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, p, msg := render(&m)
	if msg != "" {
		if p != nil {
			resp.Diagnostics.AddAttributeError(*p, "Cannot render the scrape configuration", msg)
		} else {
			resp.Diagnostics.AddError("Cannot render the scrape configuration", msg)
		}
		return
	}
	m.ID = m.JobName
	m.YAML = types.StringValue(out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
