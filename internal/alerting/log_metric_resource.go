package alerting

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/genproto/googleapis/api/distribution"
	"google.golang.org/genproto/googleapis/api/label"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/logquery"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

var (
	_ resource.ResourceWithImportState    = (*logMetricResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*logMetricResource)(nil)
	_ resource.ResourceWithValidateConfig = (*logMetricResource)(nil)
	_ resource.ResourceWithConfigure      = (*logMetricResource)(nil)
)

const logMetricTypeName = "alfred_log_metric"

// NewLogMetricResource returns alfred_log_metric: a Cloud Logging log-based metric.
func NewLogMetricResource() resource.Resource { return &logMetricResource{} }

type logMetricResource struct {
	data *shared.ProviderData
}

type logMetricModel struct {
	ID              types.String `tfsdk:"id"`
	Project         types.String `tfsdk:"project"`
	Name            types.String `tfsdk:"name"`
	Filter          types.String `tfsdk:"filter"`
	Description     types.String `tfsdk:"description"`
	Disabled        types.Bool   `tfsdk:"disabled"`
	LabelExtractors types.Map    `tfsdk:"label_extractors"`
	Labels          types.Map    `tfsdk:"labels"`
	MetricKind      types.String `tfsdk:"metric_kind"`
	ValueType       types.String `tfsdk:"value_type"`
	ValueExtractor  types.String `tfsdk:"value_extractor"`
	BucketBounds    types.List   `tfsdk:"bucket_bounds"`
	MetricType      types.String `tfsdk:"metric_type"`
	PrometheusName  types.String `tfsdk:"prometheus_name"`
}

func (r *logMetricResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = logMetricTypeName
}

func (r *logMetricResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = logMetricSchema()
}

// metricIDRE is LogMetric.name's rule: "limited to 100 characters and can include only the following
// characters: A-Z, a-z, 0-9, and the special characters _-.,+!*',()%/ ... (/) cannot be the first
// character of the name".
var (
	metricIDRE = regexp.MustCompile(`^[A-Za-z0-9_\-.,+!*'()%/]+$`)
	labelKeyRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)
)

func metricIDProblem(id string) string {
	switch {
	case utf8.RuneCountInString(id) > 100:
		return fmt.Sprintf("it has %d characters; at most 100 are allowed", utf8.RuneCountInString(id))
	case !metricIDRE.MatchString(id):
		return "it may contain only A-Z, a-z, 0-9 and the characters _-.,+!*',()%/"
	case strings.HasPrefix(id, "/"):
		return "'/' separates the pieces of a hierarchical name (nginx/requests) and cannot be its first character"
	}
	return ""
}

// checkValidator is a validator.String built from a problem function.
type checkValidator struct {
	desc  string
	check func(string) string
}

func (v checkValidator) Description(context.Context) string         { return v.desc }
func (v checkValidator) MarkdownDescription(context.Context) string { return v.desc }
func (v checkValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if p := v.check(req.ConfigValue.ValueString()); p != "" {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+v.desc, fmt.Sprintf("%q is not valid: %s.", req.ConfigValue.ValueString(), p))
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var (
	nameValidator   = checkValidator{"log metric name", metricIDProblem}
	filterValidator = checkValidator{"Logging query language filter", func(s string) string {
		if err := logquery.CheckFilter(s); err != nil {
			return "the filter does not parse: " + err.Error()
		}
		return ""
	}}
	extractorValidator = checkValidator{"extractor expression", func(s string) string { return errString(logquery.CheckExtractor(s)) }}
	labelKeyValidator  = checkValidator{"label name", func(s string) string {
		if !labelKeyRE.MatchString(s) {
			return "a label name starts with a letter and has up to 100 letters, digits and underscores"
		}
		return ""
	}}
)

var labelTypes = []string{"STRING", "BOOL", "INT64"}

func logMetricSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A Cloud Logging log-based metric: Cloud Logging counts the log entries that match `filter` " +
			"(by default a DELTA / INT64 counter) and writes the count to Cloud Monitoring as " +
			"`logging.googleapis.com/user/NAME`, where alert policies read it by its PromQL name (`prometheus_name`). " +
			"The `failed_logins` alert preset can count failed logins from such a metric when a service does not export " +
			"`alfred_auth_failed_logins_total`.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`projects/{project}/metrics/{name}`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"project": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Project of the metric. Defaults to the provider's `gcp.project`. Changing it recreates the metric.",
				Validators:          []validator.String{shared.ProjectID()}},
			"name": schema.StringAttribute{Required: true,
				MarkdownDescription: "Metric identifier: up to 100 characters among `A-Z a-z 0-9 _-.,+!*',()%/`; `/` makes a " +
					"hierarchy (`auth/failed_logins`) and cannot come first. Changing it recreates the metric.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{nameValidator}},
			"filter": schema.StringAttribute{Required: true,
				MarkdownDescription: "Logging query language filter of the entries to count, e.g. " +
					"`resource.type=\"cloud_run_revision\" AND jsonPayload.event=\"login_failed\"`. Checked at plan time: not " +
					"empty, at most 20000 characters, quotes and parentheses balanced, every comparison with a value.",
				Validators: []validator.String{filterValidator}},
			"description": schema.StringAttribute{Optional: true, MarkdownDescription: "Description, at most 8000 characters.",
				Validators: []validator.String{stringvalidator.UTF8LengthAtMost(8000)}},
			"disabled": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "A disabled metric produces no points. Default `false`."},
			"label_extractors": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Metric labels: label name -> extractor expression, `EXTRACT(field)` or " +
					"`REGEXP_EXTRACT(field, \"regex with one (group)\")`, e.g. `service = \"EXTRACT(resource.labels.service_name)\"`. " +
					"Each label is a STRING unless `labels` gives it another type. Labels can be added in place; removing one, " +
					"or changing its type, replaces the metric (the API refuses both).",
				Validators: []validator.Map{mapvalidator.KeysAre(labelKeyValidator), mapvalidator.ValueStringsAre(extractorValidator)}},
			"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Types of labels of `label_extractors` that are not STRING: label name -> `STRING`, " +
					"`BOOL` or `INT64`. Every name must have an extractor. The API cannot change the type of an existing " +
					"label: changing one recreates the metric.",
				Validators: []validator.Map{mapvalidator.ValueStringsAre(stringvalidator.OneOf(labelTypes...))}},
			"metric_kind": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("DELTA"),
				MarkdownDescription: "Metric kind; log-based metrics are `DELTA` (the default, and the only kind the API " +
					"documents for them).",
				Validators:    []validator.String{stringvalidator.OneOf("DELTA")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"value_type": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("INT64"),
				MarkdownDescription: "`INT64` (a counter of matching entries, the default) or `DISTRIBUTION` (values taken by " +
					"`value_extractor` into the buckets of `bucket_bounds`). The API cannot change it: changing it recreates the metric.",
				Validators:    []validator.String{stringvalidator.OneOf("INT64", "DISTRIBUTION")},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"value_extractor": schema.StringAttribute{Optional: true,
				MarkdownDescription: "For `DISTRIBUTION` only (and required there): the extractor of the recorded value, e.g. " +
					"`REGEXP_EXTRACT(jsonPayload.latency, \"([0-9.]+)s\")`.",
				Validators: []validator.String{extractorValidator}},
			"bucket_bounds": schema.ListAttribute{Optional: true, ElementType: types.Float64Type,
				MarkdownDescription: "For `DISTRIBUTION` only (and required there): strictly increasing bucket boundaries."},
			"metric_type": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The metric's type in Cloud Monitoring: `logging.googleapis.com/user/NAME`."},
			"prometheus_name": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The metric's name in PromQL queries of Cloud Monitoring: `logging_googleapis_com:user_NAME` " +
					"with every character other than letters, digits and `_` written `_`. Use it in `alfred_alert_policy` " +
					"conditions (the `failed_logins` preset reads it)."},
		},
	}
}

func (r *logMetricResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		r.data = d
	}
}

// stringMap returns the values of a map by key; an element known only after apply (an extractor built
// from another resource's attribute) maps to "": its key is known, and keys are what plans check.
func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	var vals map[string]types.String
	diags.Append(m.ElementsAs(ctx, &vals, false)...)
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		out[k] = v.ValueString()
	}
	return out
}

// ValidateConfig checks what spans attributes: label types only for extracted labels, a value extractor
// and buckets exactly for distributions, increasing bounds.
func (r *logMetricResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m logMetricModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !m.Labels.IsUnknown() && !m.LabelExtractors.IsUnknown() {
		ex := stringMap(ctx, m.LabelExtractors, &resp.Diagnostics)
		for _, k := range sortedKeys(stringMap(ctx, m.Labels, &resp.Diagnostics)) {
			if _, ok := ex[k]; !ok {
				resp.Diagnostics.AddAttributeError(path.Root("labels").AtMapKey(k), "Label without an extractor",
					fmt.Sprintf("labels declares the label %q, but label_extractors has no extractor for it. Add "+
						"label_extractors[%q] (e.g. \"EXTRACT(jsonPayload.%s)\") or remove it from labels.", k, k, k))
			}
		}
	}
	if m.ValueType.IsUnknown() {
		return
	}
	dist := m.ValueType.ValueString() == "DISTRIBUTION"
	switch {
	case dist && m.ValueExtractor.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("value_extractor"), "Missing value_extractor",
			"A DISTRIBUTION metric records the value that value_extractor takes from each entry: set it, e.g. "+
				"\"EXTRACT(jsonPayload.latency_seconds)\".")
	case !dist && !m.ValueExtractor.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("value_extractor"), "value_extractor needs value_type = \"DISTRIBUTION\"",
			"A counter (value_type INT64) counts entries and extracts no value: remove value_extractor, or set value_type = \"DISTRIBUTION\".")
	}
	switch {
	case dist && m.BucketBounds.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("bucket_bounds"), "Missing bucket_bounds",
			"A DISTRIBUTION metric needs its bucket boundaries, e.g. bucket_bounds = [0.1, 0.5, 1, 5].")
	case !dist && !m.BucketBounds.IsNull():
		resp.Diagnostics.AddAttributeError(path.Root("bucket_bounds"), "bucket_bounds needs value_type = \"DISTRIBUTION\"",
			"Only a DISTRIBUTION metric has buckets: remove bucket_bounds, or set value_type = \"DISTRIBUTION\".")
	}
	if !m.BucketBounds.IsNull() && !m.BucketBounds.IsUnknown() {
		var bounds []types.Float64
		resp.Diagnostics.Append(m.BucketBounds.ElementsAs(ctx, &bounds, false)...)
		if len(bounds) == 0 && dist {
			resp.Diagnostics.AddAttributeError(path.Root("bucket_bounds"), "Empty bucket_bounds", "Give at least one boundary.")
		}
		for i := 1; i < len(bounds); i++ {
			if bounds[i].IsUnknown() || bounds[i-1].IsUnknown() {
				continue
			}
			if bounds[i].ValueFloat64() <= bounds[i-1].ValueFloat64() {
				resp.Diagnostics.AddAttributeError(path.Root("bucket_bounds").AtListIndex(i), "Bucket bounds must increase",
					fmt.Sprintf("bucket_bounds[%d] = %v is not greater than bucket_bounds[%d] = %v: list the boundaries in strictly increasing order.",
						i, bounds[i].ValueFloat64(), i-1, bounds[i-1].ValueFloat64()))
			}
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func configNull(ctx context.Context, cfg tfsdk.Config, attr string) bool {
	var v types.String
	_ = cfg.GetAttribute(ctx, path.Root(attr), &v)
	return v.IsNull()
}

// ModifyPlan fills the project from the provider, computes the names that follow from the metric's name,
// and recreates the metric where the API cannot change a value in place.
func (r *logMetricResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return // destroy
	}
	if !shared.Require(r.data, logMetricTypeName, shared.BlockGCP, &resp.Diagnostics) {
		return
	}
	var plan logMetricModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if configNull(ctx, req.Config, "project") {
		switch {
		case r.data.GCP.ProjectUnknown:
			plan.Project = types.StringUnknown()
		case r.data.GCP.Project == "":
			resp.Diagnostics.AddAttributeError(path.Root("project"), "No project for the log metric",
				"Set \"project\" on the resource, or `project` in the provider's gcp block (environment: ALFRED_GCP_PROJECT).")
			return
		default:
			plan.Project = types.StringValue(r.data.GCP.Project)
		}
	}
	if plan.Name.IsUnknown() {
		plan.MetricType, plan.PrometheusName = types.StringUnknown(), types.StringUnknown()
	} else {
		plan.MetricType = types.StringValue("logging.googleapis.com/user/" + plan.Name.ValueString())
		plan.PrometheusName = types.StringValue(presets.LogMetricPromQLName(plan.Name.ValueString()))
	}
	if plan.Project.IsUnknown() || plan.Name.IsUnknown() {
		plan.ID = types.StringUnknown()
	} else {
		plan.ID = types.StringValue(logMetricName(plan.Project.ValueString(), plan.Name.ValueString()))
	}
	if !req.State.Raw.IsNull() {
		var state logMetricModel
		resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
		if resp.Diagnostics.HasError() {
			return
		}
		if !plan.Project.Equal(state.Project) {
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("project"))
		}
		// "existing labels cannot be modified except for their description": a label whose type changes
		// (its absence from labels means STRING) needs a new metric.
		// A type known only after apply may change: the plan says so now (replace), since an update
		// planned now cannot become a replacement at apply.
		if !plan.Labels.IsUnknown() && !plan.LabelExtractors.IsUnknown() {
			oldEx := stringMap(ctx, state.LabelExtractors, &resp.Diagnostics)
			newEx := stringMap(ctx, plan.LabelExtractors, &resp.Diagnostics)
			oldT := stringMap(ctx, state.Labels, &resp.Diagnostics)
			newT := stringMap(ctx, plan.Labels, &resp.Diagnostics)
			for k := range newEx {
				typ, ok := plan.Labels.Elements()[k]
				if _, existed := oldEx[k]; existed && (ok && typ.IsUnknown() || labelType(oldT, k) != labelType(newT, k)) {
					resp.RequiresReplace = append(resp.RequiresReplace, path.Root("labels"))
					break
				}
			}
			// Nor can a label be deleted ("The label K of metric M cannot be deleted"): a new metric.
			for k := range oldEx {
				if _, kept := newEx[k]; !kept {
					resp.RequiresReplace = append(resp.RequiresReplace, path.Root("label_extractors"))
					break
				}
			}
		} else if plan.LabelExtractors.IsUnknown() && len(state.LabelExtractors.Elements()) > 0 {
			// Extractors known only after apply may drop a label: replace, as an update could not.
			resp.RequiresReplace = append(resp.RequiresReplace, path.Root("label_extractors"))
		}
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

func labelType(types map[string]string, k string) string {
	if t, ok := types[k]; ok {
		return t
	}
	return "STRING"
}

// toLogMetric builds what the API is sent from a fully known model.
func toLogMetric(ctx context.Context, m *logMetricModel, diags *diag.Diagnostics) *loggingpb.LogMetric {
	out := &loggingpb.LogMetric{
		Name:           m.Name.ValueString(),
		Filter:         m.Filter.ValueString(),
		Description:    m.Description.ValueString(),
		Disabled:       m.Disabled.ValueBool(),
		ValueExtractor: m.ValueExtractor.ValueString(),
		MetricDescriptor: &metric.MetricDescriptor{
			MetricKind: metric.MetricDescriptor_MetricKind(metric.MetricDescriptor_MetricKind_value[m.MetricKind.ValueString()]),
			ValueType:  metric.MetricDescriptor_ValueType(metric.MetricDescriptor_ValueType_value[m.ValueType.ValueString()]),
			Unit:       "1",
		},
	}
	ex := stringMap(ctx, m.LabelExtractors, diags)
	typesOf := stringMap(ctx, m.Labels, diags)
	if len(ex) > 0 {
		out.LabelExtractors = ex
	}
	for _, k := range sortedKeys(ex) {
		out.MetricDescriptor.Labels = append(out.MetricDescriptor.Labels, &label.LabelDescriptor{
			Key: k, ValueType: label.LabelDescriptor_ValueType(label.LabelDescriptor_ValueType_value[labelType(typesOf, k)]),
		})
	}
	if !m.BucketBounds.IsNull() && !m.BucketBounds.IsUnknown() {
		var bounds []float64
		diags.Append(m.BucketBounds.ElementsAs(ctx, &bounds, false)...)
		out.BucketOptions = &distribution.Distribution_BucketOptions{Options: &distribution.Distribution_BucketOptions_ExplicitBuckets{
			ExplicitBuckets: &distribution.Distribution_BucketOptions_Explicit{Bounds: bounds}}}
	}
	return out
}

// fromLogMetric writes what the API returned into m. prior is what Terraform knew (nil on import): an
// unset description or map stays null rather than becoming empty.
func fromLogMetric(project string, lm *loggingpb.LogMetric, prior *logMetricModel, m *logMetricModel) {
	m.ID = types.StringValue(logMetricName(project, lm.GetName()))
	m.Project = types.StringValue(project)
	m.Name = types.StringValue(lm.GetName())
	m.Filter = types.StringValue(lm.GetFilter())
	m.Description = types.StringValue(lm.GetDescription())
	if lm.GetDescription() == "" && (prior == nil || prior.Description.IsNull()) {
		m.Description = types.StringNull()
	}
	m.Disabled = types.BoolValue(lm.GetDisabled())
	d := lm.GetMetricDescriptor()
	m.MetricKind = types.StringValue(d.GetMetricKind().String())
	m.ValueType = types.StringValue(d.GetValueType().String())
	m.ValueExtractor = types.StringNull()
	if lm.GetValueExtractor() != "" {
		m.ValueExtractor = types.StringValue(lm.GetValueExtractor())
	}
	ex := map[string]attr.Value{}
	for k, v := range lm.GetLabelExtractors() {
		ex[k] = types.StringValue(v)
	}
	m.LabelExtractors = types.MapNull(types.StringType)
	if len(ex) > 0 || (prior != nil && !prior.LabelExtractors.IsNull()) {
		m.LabelExtractors = types.MapValueMust(types.StringType, ex)
	}
	// labels lists the types that are not STRING, and any label the configuration typed explicitly.
	var priorTypes map[string]attr.Value
	if prior != nil && !prior.Labels.IsNull() && !prior.Labels.IsUnknown() {
		priorTypes = prior.Labels.Elements()
	}
	lt := map[string]attr.Value{}
	for _, l := range d.GetLabels() {
		t := l.GetValueType().String()
		if _, typed := priorTypes[l.GetKey()]; typed || t != "STRING" {
			lt[l.GetKey()] = types.StringValue(t)
		}
	}
	m.Labels = types.MapNull(types.StringType)
	if len(lt) > 0 || priorTypes != nil {
		m.Labels = types.MapValueMust(types.StringType, lt)
	}
	m.BucketBounds = types.ListNull(types.Float64Type)
	if e := lm.GetBucketOptions().GetExplicitBuckets(); e != nil {
		vals := make([]attr.Value, 0, len(e.GetBounds()))
		for _, b := range e.GetBounds() {
			vals = append(vals, types.Float64Value(b))
		}
		m.BucketBounds = types.ListValueMust(types.Float64Type, vals)
	}
	m.MetricType = types.StringValue("logging.googleapis.com/user/" + lm.GetName())
	m.PrometheusName = types.StringValue(presets.LogMetricPromQLName(lm.GetName()))
}

func (r *logMetricResource) client(ctx context.Context, diags *diag.Diagnostics) *logAPI {
	if !shared.Require(r.data, logMetricTypeName, shared.BlockGCP, diags) {
		if r.data == nil {
			diags.AddError("Provider not configured", "The alfred provider was not configured before "+logMetricTypeName+" was used.")
		}
		return nil
	}
	a, err := logAPIFor(ctx, r.data)
	if err != nil {
		diags.AddError("Could not build the Cloud Logging client", err.Error())
		return nil
	}
	return a
}

func (r *logMetricResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.write(ctx, req.Plan, &resp.State, &resp.Diagnostics, "create", (*logAPI).create)
}

// write sends the planned metric with send (create or update) and stores what the API returned.
func (r *logMetricResource) write(ctx context.Context, planned tfsdk.Plan, state *tfsdk.State, diags *diag.Diagnostics,
	action string, send func(*logAPI, context.Context, string, *loggingpb.LogMetric) (*loggingpb.LogMetric, error)) {
	var plan logMetricModel
	diags.Append(planned.Get(ctx, &plan)...)
	a := r.client(ctx, diags)
	if diags.HasError() {
		return
	}
	want := toLogMetric(ctx, &plan, diags)
	if diags.HasError() {
		return
	}
	project := plan.Project.ValueString()
	got, err := send(a, ctx, project, want)
	if status.Code(err) == codes.AlreadyExists {
		// Log metrics are named by the user, so an apply killed after the create and before Terraform
		// recorded it leaves one of the same name; so does another configuration. Which it is cannot be told.
		name := logMetricName(project, want.GetName())
		diags.AddAttributeError(path.Root("name"), "Log metric already exists",
			fmt.Sprintf("Could not create log metric %s: it already exists and this resource does not manage it. If an "+
				"apply that was interrupted created it, or it should be managed here, import it: `terraform import <address> %s`; "+
				"otherwise choose another name.", name, name))
		return
	}
	if err != nil {
		diags.AddError("Could not "+action+" the log metric",
			shared.DescribeGRPC(action+" log metric", logMetricName(project, want.GetName()), err))
		return
	}
	var m logMetricModel
	fromLogMetric(project, got, &plan, &m)
	diags.Append(state.Set(ctx, &m)...)
}

func (r *logMetricResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state logMetricModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	project, name := state.Project.ValueString(), state.Name.ValueString()
	got, err := a.get(ctx, logMetricName(project, name))
	if shared.IsNotFound(err) {
		resp.State.RemoveResource(ctx) // deleted outside Terraform: the next plan creates it again
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read the log metric", shared.DescribeGRPC("read log metric", logMetricName(project, name), err))
		return
	}
	prior := &state
	if state.Filter.IsNull() { // just imported: only the id fields are known
		prior = nil
	}
	var m logMetricModel
	fromLogMetric(project, got, prior, &m)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *logMetricResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.write(ctx, req.Plan, &resp.State, &resp.Diagnostics, "update", (*logAPI).update)
}

func (r *logMetricResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state logMetricModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	a := r.client(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	name := logMetricName(state.Project.ValueString(), state.Name.ValueString())
	if err := a.delete(ctx, name); err != nil {
		resp.Diagnostics.AddError("Could not delete the log metric", shared.DescribeGRPC("delete log metric", name, err))
	}
}

// ImportState accepts projects/{project}/metrics/{name} and {project}/{name}; a name may hold slashes
// (auth/failed_logins), so the project is what comes before the first one.
func (r *logMetricResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	var project, name string
	if rest, ok := strings.CutPrefix(req.ID, "projects/"); ok {
		project, name, _ = strings.Cut(rest, "/metrics/")
	} else {
		project, name, _ = strings.Cut(req.ID, "/")
	}
	if project == "" || name == "" || strings.Contains(project, "/") || metricIDProblem(name) != "" {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not a log metric ID. Use the full name "+
			"projects/{project}/metrics/{name} or the short form {project}/{name}.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), logMetricName(project, name))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project"), project)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("name"), name)...)
}
