package render

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

var _ datasource.DataSource = (*dashboardDataSource)(nil)

// NewGrafanaDashboardDataSource returns alfred_grafana_dashboard.
func NewGrafanaDashboardDataSource() datasource.DataSource { return &dashboardDataSource{} }

type dashboardDataSource struct{}

type dashboardModel struct {
	ID            types.String `tfsdk:"id"`
	Title         types.String `tfsdk:"title"`
	UID           types.String `tfsdk:"uid"`
	Services      []string     `tfsdk:"services"`
	DatasourceUID types.String `tfsdk:"datasource_uid"`
	Refresh       types.String `tfsdk:"refresh"`
	TimeFrom      types.String `tfsdk:"time_from"`
	TimeTo        types.String `tfsdk:"time_to"`
	Tags          []string     `tfsdk:"tags"`
	JSON          types.String `tfsdk:"json"`
}

var (
	// Grafana uids: at most 40 characters of letters, digits, - and _.
	grafanaUIDRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,40}$`)
	// A datasource uid, or an import placeholder such as ${DS_PROMETHEUS}.
	datasourceUIDRE = regexp.MustCompile(`^([a-zA-Z0-9_-]{1,40}|\$\{[A-Za-z0-9_]+\})$`)
	refreshRE       = regexp.MustCompile(`^[1-9][0-9]*(s|m|h|d)$`)
	// Grafana's relative time ("now", "now-6h", "now-1d/d") or an absolute ISO 8601 time.
	grafanaTimeRE = regexp.MustCompile(`^(now(-[1-9][0-9]*[smhdwMy])?(/[smhdwMy])?|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2}))?)$`)
)

func (d *dashboardDataSource) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "alfred_grafana_dashboard"
}

func (d *dashboardDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = dashboardSchema()
}

func dashboardSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Renders a Grafana dashboard (JSON model, built with grafana-foundation-sdk) of the agent services: " +
			"task processing rate (`rate(" + presets.MetricTasksProcessed + "[5m])` by service), task failures, task latency " +
			"percentiles (p50/p95/p99 of `" + presets.MetricTaskDuration + "`), Cloud Run CPU and memory utilisation (p99 of `" +
			presets.MetricRunCPUUtilizations + "` and `" + presets.MetricRunMemoryUtilizations + "`), failed logins (`" +
			presets.MetricFailedLogins + "`) and backup age (`" + presets.MetricBackupLastSuccess + "`). Threshold lines " +
			"are the alert presets' defaults, the same catalogue `alfred_prometheus_rules` and the alert policies use. " +
			"The output is byte-stable: the same inputs render the same JSON. Import it with Grafana's dashboard API or " +
			"file provisioning.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The dashboard uid."},
			"title": schema.StringAttribute{Required: true, MarkdownDescription: "Dashboard title.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"uid": schema.StringAttribute{Required: true, MarkdownDescription: "Dashboard uid: up to 40 letters, digits, `-` or `_`.",
				Validators: []validator.String{stringvalidator.RegexMatches(grafanaUIDRE, "must be 1 to 40 letters, digits, - or _")}},
			"services": schema.ListAttribute{Required: true, ElementType: types.StringType,
				MarkdownDescription: "Agent service names (their `service` label, Cloud Run's `service_name`) the panels show.",
				Validators: []validator.List{
					listvalidator.SizeAtLeast(1),
					listvalidator.UniqueValues(),
					listvalidator.NoNullValues(),
					listvalidator.ValueStringsAre(stringvalidator.LengthAtLeast(1)),
				}},
			"datasource_uid": schema.StringAttribute{Required: true,
				MarkdownDescription: "Uid of the Prometheus data source the panels query (Managed Service for Prometheus or a self-hosted Prometheus), or an import placeholder such as `${DS_PROMETHEUS}`.",
				Validators:          []validator.String{stringvalidator.RegexMatches(datasourceUIDRE, "must be a data source uid (1 to 40 letters, digits, - or _) or a placeholder such as ${DS_PROMETHEUS}")}},
			"refresh": schema.StringAttribute{Optional: true, MarkdownDescription: "Auto-refresh interval, e.g. `30s`, `1m`. Default `1m`.",
				Validators: []validator.String{stringvalidator.RegexMatches(refreshRE, "must be a number and a unit (s, m, h, d) such as 30s or 5m")}},
			"time_from": schema.StringAttribute{Optional: true, MarkdownDescription: "Start of the default time range. Default `now-6h`.",
				Validators: []validator.String{stringvalidator.RegexMatches(grafanaTimeRE, "must be a Grafana time such as now-6h, now-1d/d or 2026-01-31T00:00:00Z")}},
			"time_to": schema.StringAttribute{Optional: true, MarkdownDescription: "End of the default time range. Default `now`.",
				Validators: []validator.String{stringvalidator.RegexMatches(grafanaTimeRE, "must be a Grafana time such as now or now-1h")}},
			"tags": schema.ListAttribute{Optional: true, ElementType: types.StringType, MarkdownDescription: "Dashboard tags."},
			"json": schema.StringAttribute{Computed: true, MarkdownDescription: "The dashboard JSON model."},
		},
	}
}

// dashboardQuery is one panel query: a PromQL expression and its legend.
type dashboardQuery struct {
	Expr, Legend string
}

// dashboardPanel describes one panel; the queries are built from the catalogue's metric names.
type dashboardPanel struct {
	Title, Description, Unit string
	Max                      *float64
	Threshold                *float64 // the alert preset's default, drawn as a line
	Queries                  []dashboardQuery
}

func float(v float64) *float64 { return &v }

// dashboardPanels lists the panels for a set of services.
func dashboardPanels(services []string) []dashboardPanel {
	svc := presets.ServiceLabel + "=~" + presets.QuoteLabelValue(presets.RegexAlternation(services))
	run := `monitored_resource="` + presets.RunMonitoredResource + `",` + presets.RunServiceLabel + "=~" +
		presets.QuoteLabelValue(presets.RegexAlternation(services))
	def := func(name string) *float64 {
		p, _ := presets.Get(name)
		return float(p.DefaultThreshold)
	}
	quantile := func(q, metric, sel, by string) string {
		return fmt.Sprintf("histogram_quantile(%s, sum by (%s, le) (rate(%s_bucket{%s}[5m])))", q, by, metric, sel)
	}
	return []dashboardPanel{
		{Title: "Task processing rate", Unit: "ops", Description: "Tasks processed per second, by service.",
			Queries: []dashboardQuery{{fmt.Sprintf("sum by (service) (rate(%s{%s}[5m]))", presets.MetricTasksProcessed, svc), "{{service}}"}}},
		{Title: "Task failures", Unit: "short", Description: "Tasks failed after their last retry, per 5 minutes (preset task_failures).",
			Threshold: def("task_failures"),
			Queries:   []dashboardQuery{{fmt.Sprintf("sum by (service) (increase(%s{%s}[5m]))", presets.MetricTasksFailed, svc), "{{service}}"}}},
		{Title: "Task latency percentiles", Unit: "s", Description: "Task processing time p50, p95 and p99 (preset task_latency alerts on p95).",
			Threshold: def("task_latency"),
			Queries: []dashboardQuery{
				{quantile("0.5", presets.MetricTaskDuration, svc, "service"), "{{service}} p50"},
				{quantile("0.95", presets.MetricTaskDuration, svc, "service"), "{{service}} p95"},
				{quantile("0.99", presets.MetricTaskDuration, svc, "service"), "{{service}} p99"},
			}},
		{Title: "CPU utilisation", Unit: "percentunit", Max: float(1), Threshold: def("cpu"),
			Description: "p99 of Cloud Run container CPU utilisation (preset cpu).",
			Queries:     []dashboardQuery{{quantile("0.99", presets.MetricRunCPUUtilizations, run, presets.RunServiceLabel), "{{service_name}}"}}},
		{Title: "Memory utilisation", Unit: "percentunit", Max: float(1), Threshold: def("memory"),
			Description: "p99 of Cloud Run container memory utilisation (preset memory).",
			Queries:     []dashboardQuery{{quantile("0.99", presets.MetricRunMemoryUtilizations, run, presets.RunServiceLabel), "{{service_name}}"}}},
		{Title: "Failed logins", Unit: "short", Threshold: def("failed_logins"),
			Description: "Failed login attempts per 5 minutes (preset failed_logins).",
			Queries:     []dashboardQuery{{fmt.Sprintf("sum by (service) (increase(%s{%s}[5m]))", presets.MetricFailedLogins, svc), "{{service}}"}}},
		{Title: "Backup age", Unit: "s", Threshold: def("backup_staleness"),
			Description: "Time since the last successful backup (preset backup_staleness).",
			Queries:     []dashboardQuery{{fmt.Sprintf("time() - max by (service) (%s{%s})", presets.MetricBackupLastSuccess, svc), "{{service}}"}}},
	}
}

func orDefaultString(v types.String, def string) string {
	if v.IsNull() || v.IsUnknown() {
		return def
	}
	return v.ValueString()
}

// renderDashboard builds the dashboard with the SDK's builders and returns its JSON.
func renderDashboard(m *dashboardModel) (string, error) {
	ds := common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr(m.DatasourceUID.ValueString())}
	tags := m.Tags
	if tags == nil {
		tags = []string{"alfred"}
	}
	// The classic dashboard model: what Grafana's dashboard HTTP API and file provisioning take on every
	// Grafana version (the v2 schema needs a Grafana 12 feature flag).
	b := dashboard.NewDashboardBuilder(m.Title.ValueString()) //nolint:staticcheck // see above
	b.Uid(m.UID.ValueString()).
		Tags(tags).
		Timezone(common.TimeZoneBrowser).
		Refresh(orDefaultString(m.Refresh, "1m")).
		Time(orDefaultString(m.TimeFrom, "now-6h"), orDefaultString(m.TimeTo, "now"))
	for i, p := range dashboardPanels(m.Services) {
		panel := timeseries.NewPanelBuilder().
			Id(uint32(i + 1)).
			Title(p.Title).
			Description(p.Description).
			Datasource(ds).
			Unit(p.Unit).
			Min(0).
			Height(8).
			Span(12).
			Legend(common.NewVizLegendOptionsBuilder().ShowLegend(true).DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom)).
			Tooltip(common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending))
		if p.Max != nil {
			panel.Max(*p.Max)
		}
		if p.Threshold != nil {
			panel.Thresholds(dashboard.NewThresholdsConfigBuilder().
				Mode(dashboard.ThresholdsModeAbsolute).
				Steps([]dashboard.Threshold{{Value: nil, Color: "green"}, {Value: p.Threshold, Color: "red"}})).
				ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeLine))
		}
		for j, q := range p.Queries {
			panel.WithTarget(prometheus.NewDataqueryBuilder().
				Datasource(ds).
				RefId(string(rune('A' + j))).
				Expr(q.Expr).
				LegendFormat(q.Legend).
				Range())
		}
		b.WithPanel(panel)
	}
	d, err := b.Build()
	if err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return "", err
	}
	return string(out) + "\n", nil
}

func (d *dashboardDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m dashboardModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	for i, p := range dashboardPanels(m.Services) {
		for _, q := range p.Queries {
			if msg := presets.CheckAlertExpr(q.Expr); msg != "" { // never expected: the queries are built, not typed
				resp.Diagnostics.AddError("Cannot render the dashboard", fmt.Sprintf("panel %d (%s): %s", i+1, p.Title, msg))
				return
			}
		}
	}
	out, err := renderDashboard(&m)
	if err != nil {
		resp.Diagnostics.AddError("Cannot render the dashboard", err.Error())
		return
	}
	m.ID = m.UID
	m.JSON = types.StringValue(out)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
