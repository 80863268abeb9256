package alerting

import (
	"fmt"
	"regexp"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

type conditionModel struct {
	Name                    types.String  `tfsdk:"name"`
	DisplayName             types.String  `tfsdk:"display_name"`
	Preset                  types.String  `tfsdk:"preset"`
	Service                 types.String  `tfsdk:"service"`
	Threshold               types.Float64 `tfsdk:"threshold"`
	LogMetric               types.String  `tfsdk:"log_metric"`
	TaskQueue               types.String  `tfsdk:"task_queue"`
	PromQL                  types.String  `tfsdk:"promql"`
	Duration                types.String  `tfsdk:"duration"`
	EvaluationInterval      types.String  `tfsdk:"evaluation_interval"`
	DisableMetricValidation types.Bool    `tfsdk:"disable_metric_validation"`
	Query                   types.String  `tfsdk:"query"`
}

// defaultEvaluationInterval: "This field is optional. Its default value is 30 seconds."
// (PrometheusQueryLanguageCondition.evaluation_interval)
const defaultEvaluationInterval = 30 * time.Second

var logMetricNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-/]{1,100}$`)

// checkCondition reports plan-time errors of one condition (all attributes known or not); it makes no
// API call.
func checkCondition(c conditionModel, p path.Path, diags *diag.Diagnostics) {
	hasPreset := !c.Preset.IsNull()
	hasPromQL := !c.PromQL.IsNull()
	if hasPreset == hasPromQL && !c.Preset.IsUnknown() && !c.PromQL.IsUnknown() {
		addAttrError(diags, p.AtName("preset"), "Preset or PromQL",
			"Each condition sets exactly one of preset (with service, threshold, duration) or promql (with duration, evaluation_interval).")
		return
	}
	if hasPromQL {
		for _, f := range []struct {
			name string
			set  bool
		}{{"service", !c.Service.IsNull()}, {"threshold", !c.Threshold.IsNull()}, {"log_metric", !c.LogMetric.IsNull()}, {"task_queue", !c.TaskQueue.IsNull()}} {
			if f.set {
				addAttrError(diags, p.AtName(f.name), "Only for presets",
					fmt.Sprintf("%s belongs to preset conditions; a promql condition carries its selectors and threshold in the query.", f.name))
			}
		}
		if !c.PromQL.IsUnknown() {
			if msg := presets.CheckAlertExpr(c.PromQL.ValueString()); msg != "" {
				addAttrError(diags, p.AtName("promql"), "Invalid PromQL", msg)
			}
		}
	}
	if hasPreset && !c.Preset.IsUnknown() {
		pr, ok := presets.Get(c.Preset.ValueString())
		if !ok {
			return // the OneOf validator reports it
		}
		if !c.TaskQueue.IsNull() && !c.TaskQueue.IsUnknown() {
			if !pr.AcceptsDeadLetters {
				addAttrError(diags, p.AtName("task_queue"), "No task queue for this preset",
					fmt.Sprintf("Only presets that can read a task queue's dead-letter count take task_queue (task_failures); %q reads %v.", pr.Name, pr.Metrics))
			} else if _, err := pr.ExprDeadLetters(c.TaskQueue.ValueString(), 0); err != nil {
				addAttrError(diags, p.AtName("task_queue"), "Invalid task queue subscription",
					fmt.Sprintf("task_queue must be a Pub/Sub subscription (alfred_task_queue's `subscription`): %v.", err))
			}
			if !c.LogMetric.IsNull() {
				addAttrError(diags, p.AtName("task_queue"), "One source", "Set at most one of log_metric and task_queue.")
			}
		}
		if pr.PerService && c.Service.IsNull() && c.TaskQueue.IsNull() {
			addAttrError(diags, p.AtName("service"), "Service required",
				fmt.Sprintf("Preset %q alerts on one service: set service (the agent's name, e.g. \"alfred-bot\").", pr.Name))
		}
		if !c.Service.IsNull() && !c.Service.IsUnknown() && c.Service.ValueString() == "" {
			addAttrError(diags, p.AtName("service"), "Empty service", "service must not be empty; leave it unset to alert on every service (presets that allow it).")
		}
		if !c.Threshold.IsNull() && !c.Threshold.IsUnknown() {
			if msg := pr.CheckThreshold(c.Threshold.ValueFloat64()); msg != "" {
				addAttrError(diags, p.AtName("threshold"), "Threshold out of bounds", msg)
			}
		}
		if !c.LogMetric.IsNull() && !c.LogMetric.IsUnknown() {
			if !pr.AcceptsLogMetric {
				addAttrError(diags, p.AtName("log_metric"), "No log metric for this preset",
					fmt.Sprintf("Only presets that can read a log-based counter take log_metric (failed_logins); %q reads %v.", pr.Name, pr.Metrics))
			} else if !logMetricNameRE.MatchString(c.LogMetric.ValueString()) {
				addAttrError(diags, p.AtName("log_metric"), "Invalid log metric name",
					fmt.Sprintf("%q is not a log-based metric name (letters, digits, _ - . /, at most 100 characters): use alfred_log_metric's name.", c.LogMetric.ValueString()))
			}
		}
	}
	if !c.Duration.IsNull() && !c.Duration.IsUnknown() {
		if _, msg := presets.ParseDuration(c.Duration.ValueString()); msg != "" {
			addAttrError(diags, p.AtName("duration"), "Invalid duration", msg)
		}
	}
	if !c.EvaluationInterval.IsNull() && !c.EvaluationInterval.IsUnknown() {
		d, msg := presets.ParseDuration(c.EvaluationInterval.ValueString())
		if msg == "" && (d <= 0 || d%(30*time.Second) != 0) {
			msg = fmt.Sprintf("%q must be a positive multiple of 30 seconds (30s, 1m, 90s, ...), as Cloud Monitoring requires.", c.EvaluationInterval.ValueString())
		}
		if msg != "" {
			addAttrError(diags, p.AtName("evaluation_interval"), "Invalid evaluation interval", msg)
		}
	}
	if !c.DisplayName.IsNull() && !c.DisplayName.IsUnknown() && (c.DisplayName.ValueString() == "" || len(c.DisplayName.ValueString()) > 512) {
		addAttrError(diags, p.AtName("display_name"), "Invalid condition display name", "A condition's display_name has 1 to 512 characters.")
	}
}

// renderQuery returns the PromQL a condition sends, and whether its inputs are known.
func renderQuery(c conditionModel) (string, bool) {
	if !c.PromQL.IsNull() {
		return c.PromQL.ValueString(), !c.PromQL.IsUnknown()
	}
	if c.Preset.IsUnknown() || c.Service.IsUnknown() || c.Threshold.IsUnknown() || c.LogMetric.IsUnknown() || c.TaskQueue.IsUnknown() {
		return "", false
	}
	pr, ok := presets.Get(c.Preset.ValueString())
	if !ok {
		return "", false
	}
	th := pr.DefaultThreshold
	if !c.Threshold.IsNull() {
		th = c.Threshold.ValueFloat64()
	}
	if !c.TaskQueue.IsNull() {
		q, err := pr.ExprDeadLetters(c.TaskQueue.ValueString(), th)
		if err != nil {
			return "", false
		}
		return q, true
	}
	if !c.LogMetric.IsNull() {
		q, err := pr.ExprOver(presets.LogMetricPromQLName(c.LogMetric.ValueString()), c.Service.ValueString(), th)
		if err != nil {
			return "", false
		}
		return q, true
	}
	return pr.CloudExpr(c.Service.ValueString(), th), true
}

// defaultDisplayName is the condition's display_name when the configuration leaves it unset.
func defaultDisplayName(c conditionModel, i int) (string, bool) {
	if !c.PromQL.IsNull() {
		return fmt.Sprintf("PromQL condition %d", i+1), true
	}
	if c.Preset.IsUnknown() || c.Service.IsUnknown() {
		return "", false
	}
	pr, ok := presets.Get(c.Preset.ValueString())
	if !ok {
		return "", false
	}
	if s := c.Service.ValueString(); s != "" {
		return pr.Title + ": " + s, true
	}
	return pr.Title, true
}

// effectiveDuration is what a condition's duration means, its default filled.
func effectiveDuration(c conditionModel) time.Duration {
	if !c.Duration.IsNull() {
		d, _ := presets.ParseDuration(c.Duration.ValueString())
		return d
	}
	if pr, ok := presets.Get(c.Preset.ValueString()); ok && !c.Preset.IsNull() {
		return pr.DefaultDuration
	}
	return 0
}

func effectiveInterval(c conditionModel) time.Duration {
	if !c.EvaluationInterval.IsNull() {
		d, _ := presets.ParseDuration(c.EvaluationInterval.ValueString())
		return d
	}
	return defaultEvaluationInterval
}

func toCondition(c conditionModel) *monitoringpb.AlertPolicy_Condition {
	pq := &monitoringpb.AlertPolicy_Condition_PrometheusQueryLanguageCondition{
		Query:                   c.Query.ValueString(),
		Duration:                durationpb.New(effectiveDuration(c)),
		DisableMetricValidation: c.DisableMetricValidation.ValueBool(),
	}
	if !c.EvaluationInterval.IsNull() {
		pq.EvaluationInterval = durationpb.New(effectiveInterval(c))
	}
	name := ""
	if !c.Name.IsUnknown() && !c.Name.IsNull() {
		name = c.Name.ValueString()
	}
	return &monitoringpb.AlertPolicy_Condition{
		Name:        name,
		DisplayName: c.DisplayName.ValueString(),
		Condition:   &monitoringpb.AlertPolicy_Condition_ConditionPrometheusQueryLanguage{ConditionPrometheusQueryLanguage: pq},
	}
}

// fromCondition reads one condition back. prior is the condition at the same position in the state or
// plan (nil on import): the preset's inputs are kept from it (the API has only the rendered query, in
// `query`, whose drift the next plan repairs); durations keep prior's spelling when they mean the same.
func fromCondition(api *monitoringpb.AlertPolicy_Condition, prior *conditionModel) conditionModel {
	var out conditionModel
	if prior != nil {
		out = *prior
	} else {
		out = conditionModel{Preset: types.StringNull(), Service: types.StringNull(), Threshold: types.Float64Null(),
			LogMetric: types.StringNull(), TaskQueue: types.StringNull(), Duration: types.StringNull(), EvaluationInterval: types.StringNull(), PromQL: types.StringNull()}
	}
	out.Name = types.StringValue(api.GetName())
	out.DisplayName = types.StringValue(api.GetDisplayName())
	pq := api.GetConditionPrometheusQueryLanguage()
	if pq == nil {
		// Not a PromQL condition (made outside Terraform): shown as an empty promql so the plan rewrites it.
		out.Query = types.StringValue("")
		if out.Preset.IsNull() {
			out.PromQL = types.StringValue("")
		}
		out.DisableMetricValidation = types.BoolValue(false)
		return out
	}
	out.Query = types.StringValue(pq.Query)
	if prior == nil || prior.Preset.IsNull() {
		out.PromQL = types.StringValue(pq.Query)
	}
	out.DisableMetricValidation = types.BoolValue(pq.DisableMetricValidation)
	d := pq.GetDuration().AsDuration()
	if d != effectiveDuration(out) {
		out.Duration = types.StringValue(presets.FormatDuration(d))
	}
	if ei := pq.GetEvaluationInterval(); ei != nil {
		v := ei.AsDuration()
		if v != effectiveInterval(out) {
			out.EvaluationInterval = types.StringValue(presets.FormatDuration(v))
		}
	}
	return out
}
