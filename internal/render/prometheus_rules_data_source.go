package render

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"gopkg.in/yaml.v3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

var (
	_ datasource.DataSource                   = (*rulesDataSource)(nil)
	_ datasource.DataSourceWithValidateConfig = (*rulesDataSource)(nil)
)

// NewPrometheusRulesDataSource returns alfred_prometheus_rules.
func NewPrometheusRulesDataSource() datasource.DataSource { return &rulesDataSource{} }

type rulesDataSource struct{}

type rulesModel struct {
	ID        types.String `tfsdk:"id"`
	GroupName types.String `tfsdk:"group_name"`
	Interval  types.String `tfsdk:"interval"`
	Rules     types.List   `tfsdk:"rule"`
	YAML      types.String `tfsdk:"yaml"`
}

type ruleModel struct {
	Name        types.String  `tfsdk:"name"`
	Preset      types.String  `tfsdk:"preset"`
	PromQL      types.String  `tfsdk:"promql"`
	Service     types.String  `tfsdk:"service"`
	Threshold   types.Float64 `tfsdk:"threshold"`
	Duration    types.String  `tfsdk:"duration"`
	Severity    types.String  `tfsdk:"severity"`
	Labels      types.Map     `tfsdk:"labels"`
	Annotations types.Map     `tfsdk:"annotations"`
	RunbookURL  types.String  `tfsdk:"runbook_url"`
}

var (
	// Alert and label names a Prometheus of any version accepts (the legacy name rules; Debian's promtool
	// 2.42 knows no other).
	alertNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	nonNameRE   = regexp.MustCompile(`[^a-zA-Z0-9_]+`)
)

func (d *rulesDataSource) Metadata(_ context.Context, _ datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = "alfred_prometheus_rules"
}

func (d *rulesDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = rulesSchema()
}

func rulesSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Renders Alfred's alert presets, or raw PromQL, as a Prometheus rule group (a rules file for a " +
			"self-hosted Prometheus: `rule_files`). The presets are the same catalogue the alert policies use, so " +
			"Prometheus and Cloud Monitoring alert on the same conditions. Every expression is parsed with the Prometheus " +
			"parser at plan time, and the output passes `promtool check rules`.\n\nPresets:\n\n" + presets.Markdown() +
			"\nThe `cpu` and `memory` presets read Cloud Run's `run.googleapis.com/container/{cpu,memory}/utilizations` " +
			"as Cloud Monitoring exposes them to PromQL (`" + presets.MetricRunCPUUtilizations + "_bucket`, `" +
			presets.MetricRunMemoryUtilizations + "_bucket`, label `service_name`); a self-hosted Prometheus has them only " +
			"when they are exported to it.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "The group name."},
			"group_name": schema.StringAttribute{Required: true, MarkdownDescription: "Name of the rule group.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"interval": schema.StringAttribute{Optional: true,
				MarkdownDescription: "How often the group is evaluated, as a Prometheus duration (e.g. `1m`). Default: Prometheus' `evaluation_interval`."},
			"yaml": schema.StringAttribute{Computed: true, MarkdownDescription: "The rendered rules file (`groups:` with one group)."},
		},
		Blocks: map[string]schema.Block{
			"rule": schema.ListNestedBlock{
				MarkdownDescription: "An alerting rule: a `preset` (with `service`, `threshold`, `duration`) or raw `promql`.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Alert name (letters, digits, `_`). Required with `promql`; a preset's default is its alert name followed by the service, e.g. `AlfredTaskFailures_alfred_bot`. Unique within the group."},
					"preset": schema.StringAttribute{Optional: true, MarkdownDescription: "One of the presets listed above.",
						Validators: []validator.String{
							stringvalidator.OneOf(presets.Names()...),
							stringvalidator.ExactlyOneOf(path.MatchRelative().AtParent().AtName("promql")),
						}},
					"promql": schema.StringAttribute{Optional: true,
						MarkdownDescription: "A raw PromQL alert expression (an instant vector; the alert fires for each series it returns)."},
					"service": schema.StringAttribute{Optional: true,
						MarkdownDescription: "The service the preset watches (its `service` label, or `service_name` for `cpu`/`memory`). Required by per-service presets; for `failed_logins` and `backup_staleness`, unset means every service (one alert per service)."},
					"threshold": schema.Float64Attribute{Optional: true,
						MarkdownDescription: "The preset's threshold, in the preset's unit and within its bounds. Default: the preset's."},
					"duration": schema.StringAttribute{Optional: true,
						MarkdownDescription: "How long the condition must hold before the alert fires (`for`), a Prometheus duration up to `1d`. Default: the preset's, or `0s` for `promql`."},
					"severity": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`CRITICAL`, `ERROR` or `WARNING`; rendered lower-cased as the `severity` label. Default: the preset's, or `WARNING`.",
						Validators:          []validator.String{stringvalidator.OneOf(presets.Severities()...)}},
					"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
						MarkdownDescription: "Extra labels (e.g. `team`). `severity` and `preset` are set by the data source."},
					"annotations": schema.MapAttribute{Optional: true, ElementType: types.StringType,
						MarkdownDescription: "Annotations, which override the preset's `summary` and `description`. Prometheus alert templating (`{{ $labels.service }}`) is checked."},
					"runbook_url": schema.StringAttribute{Optional: true, MarkdownDescription: "Rendered as the `runbook_url` annotation.",
						Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^https?://\S+$`), "must be an http(s) URL")}},
				}},
			},
		},
	}
}

// The YAML shapes, in the field order of Prometheus' rules files.
type ruleFile struct {
	Groups []ruleGroup `yaml:"groups"`
}

type ruleGroup struct {
	Name     string      `yaml:"name"`
	Interval string      `yaml:"interval,omitempty"`
	Rules    []alertRule `yaml:"rules"`
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for,omitempty"`
	Labels      map[string]string `yaml:"labels,omitempty"`
	Annotations map[string]string `yaml:"annotations,omitempty"`
}

func known(v attr.Value) bool { return !v.IsNull() && !v.IsUnknown() }

func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) (map[string]string, bool) {
	if !known(m) {
		return nil, !m.IsUnknown()
	}
	var elems map[string]types.String
	if diags.Append(m.ElementsAs(ctx, &elems, false)...); diags.HasError() {
		return nil, false
	}
	out := make(map[string]string, len(elems))
	for k, v := range elems {
		if v.IsUnknown() {
			return nil, false // known after apply: checked then
		}
		out[k] = v.ValueString()
	}
	return out, true
}

// buildRules checks the configuration and renders the group. Unknown values (at validation time) skip
// the checks that need them; complete is false then.
func buildRules(ctx context.Context, m *rulesModel) (group ruleGroup, complete bool, diags diag.Diagnostics) {
	complete = known(m.GroupName) && !m.Interval.IsUnknown() && known(m.Rules)
	group.Name = m.GroupName.ValueString()
	if known(m.Interval) {
		d, err := model.ParseDuration(m.Interval.ValueString())
		if err != nil || d <= 0 {
			diags.AddAttributeError(path.Root("interval"), "Invalid evaluation interval",
				fmt.Sprintf("%q is not a positive Prometheus duration; use e.g. 30s or 1m.", m.Interval.ValueString()))
		}
		group.Interval = m.Interval.ValueString()
	}
	var rules []ruleModel
	if m.Rules.IsUnknown() {
		return group, false, diags
	}
	if !m.Rules.IsNull() {
		if diags.Append(m.Rules.ElementsAs(ctx, &rules, false)...); diags.HasError() {
			return group, false, diags
		}
	}
	if len(rules) == 0 {
		diags.AddAttributeError(path.Root("rule"), "No rules",
			"add at least 1 `rule` block: an empty group renders a rules file that alerts on nothing.")
	}
	names := map[string]int{}
	for i, r := range rules {
		p := path.Root("rule").AtListIndex(i)
		rule, ok := buildRule(ctx, r, p, &diags)
		if !ok {
			complete = false
			continue
		}
		if j, dup := names[rule.Alert]; dup {
			diags.AddAttributeError(p.AtName("name"), "Duplicate alert name",
				fmt.Sprintf("rule %d and rule %d are both named %q; set a distinct `name` on one of them.", j, i, rule.Alert))
			continue
		}
		names[rule.Alert] = i
		// The last word: Prometheus' own rule validation (templates in annotations, label names).
		if msg := checkWithRulefmt(rule); msg != "" {
			at := p
			if known(r.Annotations) { // what the data source renders itself passes; the user's templates may not
				at = p.AtName("annotations")
			}
			diags.AddAttributeError(at, "Prometheus refuses the rule", msg)
			continue
		}
		group.Rules = append(group.Rules, rule)
	}
	return group, complete && !diags.HasError(), diags
}

// buildRule renders one rule; ok is false when it has errors or unknown values.
func buildRule(ctx context.Context, r ruleModel, p path.Path, diags *diag.Diagnostics) (rule alertRule, ok bool) {
	for _, v := range []attr.Value{r.Name, r.Preset, r.PromQL, r.Service, r.Threshold, r.Duration, r.Severity, r.RunbookURL} {
		if v.IsUnknown() {
			return rule, false
		}
	}
	before := diags.ErrorsCount()
	labels, lok := stringMap(ctx, r.Labels, diags)
	annotations, aok := stringMap(ctx, r.Annotations, diags)
	if !lok || !aok {
		return rule, false
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case k == "severity" || k == "preset":
			diags.AddAttributeError(p.AtName("labels"), "Reserved label",
				fmt.Sprintf("the %q label is set by the data source (from the rule's `%s`); remove it from `labels`.", k, k))
		case !labelNameRE.MatchString(k) || strings.HasPrefix(k, "__"):
			diags.AddAttributeError(p.AtName("labels"), "Invalid label name",
				fmt.Sprintf("%q is not a label name Prometheus accepts: letters, digits and _, not starting with a digit or __.", k))
		}
	}
	severity := presets.SeverityWarning
	var forDur string
	switch {
	case known(r.Preset):
		pr, found := presets.Get(r.Preset.ValueString())
		if !found {
			return rule, false // the preset attribute's validator reports it
		}
		service := r.Service.ValueString()
		if pr.PerService && service == "" {
			diags.AddAttributeError(p.AtName("service"), "Missing service",
				fmt.Sprintf("preset %q alerts on one service: set `service` to the agent service's name (its %q label).", pr.Name, pr.Label))
		}
		threshold := pr.DefaultThreshold
		if known(r.Threshold) {
			threshold = r.Threshold.ValueFloat64()
			if msg := pr.CheckThreshold(threshold); msg != "" {
				diags.AddAttributeError(p.AtName("threshold"), "Threshold out of bounds", msg)
			}
		}
		rule.Expr = pr.Expr(service, threshold)
		if msg := presets.CheckAlertExpr(rule.Expr); msg != "" { // the catalogue's own guarantee, kept honest
			diags.AddAttributeError(p.AtName("preset"), "Preset renders invalid PromQL", msg)
		}
		rule.Alert = pr.AlertName
		if service != "" {
			rule.Alert += "_" + strings.Trim(nonNameRE.ReplaceAllString(service, "_"), "_")
		}
		severity = pr.Severity
		forDur = presets.FormatDuration(pr.DefaultDuration)
		if annotations == nil {
			annotations = map[string]string{}
		}
		for k, v := range map[string]string{"summary": pr.Summary, "description": pr.Description} {
			if _, set := annotations[k]; !set {
				annotations[k] = v
			}
		}
		if labels == nil {
			labels = map[string]string{}
		}
		labels["preset"] = pr.Name
	case known(r.PromQL):
		rule.Expr = r.PromQL.ValueString()
		if msg := presets.CheckAlertExpr(rule.Expr); msg != "" {
			diags.AddAttributeError(p.AtName("promql"), "Invalid PromQL", msg)
		}
		if known(r.Threshold) {
			diags.AddAttributeError(p.AtName("threshold"), "Threshold applies to presets only",
				"a `promql` rule carries its threshold in the expression (e.g. `... > 5`); remove `threshold`.")
		}
		if known(r.Service) {
			diags.AddAttributeError(p.AtName("service"), "Service applies to presets only",
				"a `promql` rule selects its series in the expression; remove `service` (or add it to `labels`).")
		}
		if !known(r.Name) {
			diags.AddAttributeError(p.AtName("name"), "Missing alert name", "a `promql` rule needs a `name`, e.g. \"QueueBacklogHigh\".")
		}
		forDur = "0s"
	default:
		return rule, false // ExactlyOneOf on preset reports it
	}
	if known(r.Name) {
		rule.Alert = r.Name.ValueString()
		if !alertNameRE.MatchString(rule.Alert) {
			diags.AddAttributeError(p.AtName("name"), "Invalid alert name",
				fmt.Sprintf("%q is not a Prometheus alert name: use letters, digits and _, not starting with a digit.", rule.Alert))
		}
	}
	if known(r.Duration) {
		d, msg := presets.ParseDuration(r.Duration.ValueString())
		if msg != "" {
			diags.AddAttributeError(p.AtName("duration"), "Invalid duration", msg)
		}
		forDur = presets.FormatDuration(d)
	}
	if forDur != "0s" {
		rule.For = forDur
	}
	if known(r.Severity) {
		severity = r.Severity.ValueString()
	}
	if labels == nil {
		labels = map[string]string{}
	}
	labels["severity"] = strings.ToLower(severity)
	if known(r.RunbookURL) {
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations["runbook_url"] = r.RunbookURL.ValueString()
	}
	rule.Labels, rule.Annotations = labels, annotations
	return rule, diags.ErrorsCount() == before
}

// checkWithRulefmt runs Prometheus' own rules-file validation on one rule.
func checkWithRulefmt(rule alertRule) string {
	b, err := yaml.Marshal(ruleFile{Groups: []ruleGroup{{Name: "check", Rules: []alertRule{rule}}}})
	if err != nil {
		return err.Error()
	}
	_, errs := rulefmt.Parse(b, false, model.LegacyValidation, presets.Parser(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if len(errs) == 0 {
		return ""
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

func (d *rulesDataSource) ValidateConfig(ctx context.Context, req datasource.ValidateConfigRequest, resp *datasource.ValidateConfigResponse) {
	var m rulesModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	_, _, diags := buildRules(ctx, &m)
	resp.Diagnostics.Append(diags...)
}

func (d *rulesDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var m rulesModel
	if resp.Diagnostics.Append(req.Config.Get(ctx, &m)...); resp.Diagnostics.HasError() {
		return
	}
	group, _, diags := buildRules(ctx, &m)
	if resp.Diagnostics.Append(diags...); resp.Diagnostics.HasError() {
		return
	}
	b, err := yaml.Marshal(ruleFile{Groups: []ruleGroup{group}})
	if err != nil {
		resp.Diagnostics.AddError("Cannot render the rules file", err.Error())
		return
	}
	m.ID = m.GroupName
	m.YAML = types.StringValue(string(b))
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
