package alerting

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"
	"unicode/utf8"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

var (
	_ resource.ResourceWithImportState    = (*alertPolicyResource)(nil)
	_ resource.ResourceWithValidateConfig = (*alertPolicyResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*alertPolicyResource)(nil)
)

const policyTypeName = "alfred_alert_policy"

type alertPolicyResource struct {
	data *shared.ProviderData
}

// NewAlertPolicyResource is the constructor the provider registers.
func NewAlertPolicyResource() resource.Resource { return &alertPolicyResource{} }

type alertPolicyModel struct {
	ID                   types.String     `tfsdk:"id"`
	Project              types.String     `tfsdk:"project"`
	DisplayName          types.String     `tfsdk:"display_name"`
	Severity             types.String     `tfsdk:"severity"`
	Enabled              types.Bool       `tfsdk:"enabled"`
	NotificationChannels types.Set        `tfsdk:"notification_channels"`
	Documentation        types.String     `tfsdk:"documentation"`
	DocumentationSubject types.String     `tfsdk:"documentation_subject"`
	Combiner             types.String     `tfsdk:"combiner"`
	UserLabels           types.Map        `tfsdk:"user_labels"`
	Conditions           []conditionModel `tfsdk:"condition"`
}

// alertPolicyPlanModel is the model of configurations and plans, where the condition list (dynamic
// blocks over values not known yet) or one of its elements may be unknown.
type alertPolicyPlanModel struct {
	ID                   types.String `tfsdk:"id"`
	Project              types.String `tfsdk:"project"`
	DisplayName          types.String `tfsdk:"display_name"`
	Severity             types.String `tfsdk:"severity"`
	Enabled              types.Bool   `tfsdk:"enabled"`
	NotificationChannels types.Set    `tfsdk:"notification_channels"`
	Documentation        types.String `tfsdk:"documentation"`
	DocumentationSubject types.String `tfsdk:"documentation_subject"`
	Combiner             types.String `tfsdk:"combiner"`
	UserLabels           types.Map    `tfsdk:"user_labels"`
	Conditions           types.List   `tfsdk:"condition"`
}

// conditionsOf returns the known conditions of a plan or configuration with their positions; all is false
// when the list itself or some element is unknown.
func conditionsOf(ctx context.Context, l types.List, diags *diag.Diagnostics) (conds []conditionModel, idx []int, all bool) {
	if l.IsUnknown() {
		return nil, nil, false
	}
	all = true
	for i, e := range l.Elements() {
		o, ok := e.(types.Object)
		if !ok || o.IsUnknown() {
			all = false
			continue
		}
		var c conditionModel
		diags.Append(o.As(ctx, &c, basetypes.ObjectAsOptions{})...)
		conds = append(conds, c)
		idx = append(idx, i)
	}
	return conds, idx, all
}

func conditionObjectType() types.ObjectType {
	return alertPolicySchema().Blocks["condition"].(schema.ListNestedBlock).NestedObject.Type().(types.ObjectType)
}

func (r *alertPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_alert_policy"
}

var channelNameRE = regexp.MustCompile(`^projects/([^/]+)/notificationChannels/[^/]+$`)

func alertPolicySchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A Cloud Monitoring alert policy with PromQL conditions (Managed Service for Prometheus), each " +
			"either a preset of Alfred's catalogue or raw PromQL. PromQL is parsed at plan time with Prometheus' parser. " +
			"Writes are serialised per project and retried on Cloud Monitoring's \"Too many concurrent edits\" (409 ABORTED).\n\n" +
			"Presets:\n" + presets.Markdown(),
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Full name, `projects/{project}/alertPolicies/{id}`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"project": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project; defaults to the provider's `gcp.project`.",
				Validators:    []validator.String{shared.ProjectID()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()}},
			"display_name": schema.StringAttribute{Required: true, MarkdownDescription: "At most 512 characters." +
				" Cloud Monitoring names policies itself, so create first looks for one that this provider created (it carries the `alfred_id` label) with this display name but is not in this state, as an apply killed before recording it leaves: then it fails naming the `terraform import` command, and creates nothing.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 512)}},
			"severity": schema.StringAttribute{Optional: true, MarkdownDescription: "`CRITICAL`, `ERROR` or `WARNING`.",
				Validators: []validator.String{stringvalidator.OneOf(presets.Severities()...)}},
			"enabled": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether the policy is evaluated. Default `true`."},
			"notification_channels": schema.SetAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "Ids (`projects/{project}/notificationChannels/{id}`) of the channels to notify, e.g. `alfred_notification_channel.x.id`; checked at plan time when known."},
			"documentation": schema.StringAttribute{Optional: true, MarkdownDescription: "Runbook, markdown; at most 8,192 characters (10,240 bytes).",
				Validators: []validator.String{stringvalidator.LengthAtMost(8192)}},
			"documentation_subject": schema.StringAttribute{Optional: true, MarkdownDescription: "Subject line of notifications; at most 10,240 bytes.",
				Validators: []validator.String{stringvalidator.LengthAtMost(10240)}},
			"combiner": schema.StringAttribute{Optional: true, MarkdownDescription: "How conditions combine: `OR`, `AND` or `AND_WITH_MATCHING_RESOURCE`; required with more than one condition.",
				Validators: []validator.String{stringvalidator.OneOf("OR", "AND", "AND_WITH_MATCHING_RESOURCE")}},
			"user_labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "User labels: keys `[a-z][a-z0-9_-]*`, values `[a-z0-9_-]*`, at most 63 characters each. `alfred_id` is reserved."},
		},
		Blocks: map[string]schema.Block{
			"condition": schema.ListNestedBlock{
				MarkdownDescription: "One to six conditions: either `preset` (+ `service`, `threshold`, `duration`, `log_metric` for failed_logins, `task_queue` for task_failures) or `promql` (+ `duration`, `evaluation_interval`).",
				Validators:          []validator.List{listvalidator.SizeBetween(1, 6), listvalidator.IsRequired()},
				NestedObject: schema.NestedBlockObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Computed: true, MarkdownDescription: "The condition's name, assigned by the API and kept on update.",
						PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
					"display_name": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Defaults to the preset's title and service, or `PromQL condition N`."},
					"preset": schema.StringAttribute{Optional: true, MarkdownDescription: "One of " + fmt.Sprint(presets.Names()) + ".",
						Validators: []validator.String{stringvalidator.OneOf(presets.Names()...)}},
					"service":   schema.StringAttribute{Optional: true, MarkdownDescription: "The service (agent) the preset watches."},
					"threshold": schema.Float64Attribute{Optional: true, MarkdownDescription: "The preset's threshold (its default when unset; bounds per preset above)."},
					"log_metric": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`failed_logins` only: name of a Cloud Logging log-based counter (alfred_log_metric) to read instead of `alfred_auth_failed_logins_total`."},
					"task_queue": schema.StringAttribute{Optional: true,
						MarkdownDescription: "`task_failures` only: a task queue's subscription (alfred_task_queue's `subscription`, full or short name) whose dead-letter count (Cloud Monitoring's `pubsub.googleapis.com/subscription/dead_letter_message_count`, PromQL `" + presets.MetricPubSubDeadLetters + "`) to read instead of `alfred_tasks_failed_total`: the tasks the queue gave up on after `max_delivery_attempts`. `service` is then optional (it names the condition)."},
					"promql":   schema.StringAttribute{Optional: true, MarkdownDescription: "Raw PromQL alert expression."},
					"duration": schema.StringAttribute{Optional: true, MarkdownDescription: "How long the expression must hold before the alert fires (Prometheus duration, at most 24h); the preset's default, or 0s."},
					"evaluation_interval": schema.StringAttribute{Optional: true,
						MarkdownDescription: "How often the rule is evaluated: a positive multiple of 30s (the API's default is 30s)."},
					"disable_metric_validation": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
						MarkdownDescription: "Accept a query on metrics not written yet (e.g. a backup-age alert created before the first backup). Default `false`."},
					"query": schema.StringAttribute{Computed: true, MarkdownDescription: "The PromQL sent to Cloud Monitoring (the preset rendered, or `promql`)."},
				}},
			},
		},
	}
}

func (r *alertPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = alertPolicySchema()
}

func (r *alertPolicyResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		r.data = d
	}
}

func (r *alertPolicyResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m alertPolicyPlanModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	conds, idx, _ := conditionsOf(ctx, m.Conditions, &resp.Diagnostics)
	for i, c := range conds {
		checkCondition(c, path.Root("condition").AtListIndex(idx[i]), &resp.Diagnostics)
	}
	if n := len(m.Conditions.Elements()); !m.Conditions.IsUnknown() && n > 1 && m.Combiner.IsNull() {
		addAttrError(&resp.Diagnostics, path.Root("combiner"), "Combiner required",
			fmt.Sprintf("With %d conditions, set combiner = \"OR\" (any condition fires), \"AND\" or \"AND_WITH_MATCHING_RESOURCE\".", n))
	}
	checkUserLabels(ctx, m.UserLabels, path.Root("user_labels"), &resp.Diagnostics)
	if !m.Documentation.IsNull() && !m.Documentation.IsUnknown() && len(m.Documentation.ValueString()) > 10240 {
		addAttrError(&resp.Diagnostics, path.Root("documentation"), "Documentation too long",
			fmt.Sprintf("documentation may not exceed 10,240 bytes in UTF-8 (got %d bytes, %d characters).", len(m.Documentation.ValueString()), utf8.RuneCountInString(m.Documentation.ValueString())))
	}
	if !m.NotificationChannels.IsNull() && !m.NotificationChannels.IsUnknown() {
		var chans []types.String
		resp.Diagnostics.Append(m.NotificationChannels.ElementsAs(ctx, &chans, false)...)
		for _, ch := range chans {
			if !ch.IsUnknown() && !channelNameRE.MatchString(ch.ValueString()) {
				addAttrError(&resp.Diagnostics, path.Root("notification_channels"), "Invalid notification channel",
					fmt.Sprintf("%q is not a notification channel id: use projects/{project}/notificationChannels/{id}, e.g. alfred_notification_channel.oncall.id.", ch.ValueString()))
			}
		}
	}
}

func (r *alertPolicyResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	if !shared.Require(r.data, policyTypeName, shared.BlockGCP, &resp.Diagnostics) {
		return
	}
	var plan alertPolicyPlanModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var ok bool
	if plan.Project, ok = defaultProject(ctx, r.data, plan.Project, req, &resp.Diagnostics); !ok {
		return
	}
	conds, _, all := conditionsOf(ctx, plan.Conditions, &resp.Diagnostics)
	for i := range conds {
		if !all {
			break // positions of unknown elements: leave the whole list to the framework
		}
		c := &conds[i]
		if q, ok := renderQuery(*c); ok {
			c.Query = types.StringValue(q)
		} else {
			c.Query = types.StringUnknown()
		}
		if c.DisplayName.IsUnknown() {
			var cfg types.String
			resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("condition").AtListIndex(i).AtName("display_name"), &cfg)...)
			if cfg.IsNull() {
				if n, ok := defaultDisplayName(*c, i); ok {
					c.DisplayName = types.StringValue(n)
				}
			}
		}
	}
	if all {
		l, d := types.ListValueFrom(ctx, conditionObjectType(), conds)
		resp.Diagnostics.Append(d...)
		plan.Conditions = l
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
	// Only a plan that writes the policy sends its channels to the API: a plan that leaves it as it is
	// (the usual refresh of a large platform) looks none up, which saves one read per channel and policy.
	if req.State.Raw.IsNull() || !resp.Plan.Raw.Equal(req.State.Raw) {
		r.checkChannelsExist(ctx, plan.NotificationChannels, plan.Project, &resp.Diagnostics)
	}
}

// checkChannelsExist looks up (reads only) every known channel of the plan, so that a reference to a
// channel that does not exist, or lives in another project, fails the plan rather than the apply.
func (r *alertPolicyResource) checkChannelsExist(ctx context.Context, channels types.Set, project types.String, diags *diag.Diagnostics) {
	if channels.IsNull() || channels.IsUnknown() {
		return
	}
	var chans []types.String
	diags.Append(channels.ElementsAs(ctx, &chans, false)...)
	var a *monAPI
	for _, ch := range chans {
		if ch.IsUnknown() {
			continue
		}
		m := channelNameRE.FindStringSubmatch(ch.ValueString())
		if m == nil {
			continue // ValidateConfig reported it
		}
		if !project.IsUnknown() && m[1] != project.ValueString() {
			addAttrError(diags, path.Root("notification_channels"), "Channel of another project",
				fmt.Sprintf("%s belongs to project %s; an alert policy of project %s can only use that project's channels.", ch.ValueString(), m[1], project.ValueString()))
			continue
		}
		if a == nil {
			if a = monClientFor(ctx, r.data, policyTypeName, diags); a == nil {
				return
			}
		}
		if _, err := a.getChannel(ctx, ch.ValueString()); shared.IsNotFound(err) {
			addAttrError(diags, path.Root("notification_channels"), "Notification channel not found",
				fmt.Sprintf("%s does not exist: create it (alfred_notification_channel) or correct the id.", ch.ValueString()))
		} else if err != nil {
			addAttrError(diags, path.Root("notification_channels"), "Could not check notification channel", shared.DescribeGRPC("read", ch.ValueString(), err))
		}
	}
}

var combinerToAPI = map[string]monitoringpb.AlertPolicy_ConditionCombinerType{
	"OR": monitoringpb.AlertPolicy_OR, "AND": monitoringpb.AlertPolicy_AND, "AND_WITH_MATCHING_RESOURCE": monitoringpb.AlertPolicy_AND_WITH_MATCHING_RESOURCE,
}

func (r *alertPolicyResource) toPolicy(ctx context.Context, m *alertPolicyModel, diags *diag.Diagnostics) *monitoringpb.AlertPolicy {
	p := &monitoringpb.AlertPolicy{
		DisplayName: m.DisplayName.ValueString(),
		Enabled:     wrapperspb.Bool(m.Enabled.ValueBool()),
		Combiner:    combinerToAPI[m.Combiner.ValueString()],
	}
	if !m.Severity.IsNull() {
		p.Severity = monitoringpb.AlertPolicy_Severity(monitoringpb.AlertPolicy_Severity_value[m.Severity.ValueString()])
	}
	if !m.Documentation.IsNull() || !m.DocumentationSubject.IsNull() {
		p.Documentation = &monitoringpb.AlertPolicy_Documentation{Content: m.Documentation.ValueString(), Subject: m.DocumentationSubject.ValueString(), MimeType: "text/markdown"}
	}
	if !m.NotificationChannels.IsNull() {
		var chans []string
		diags.Append(m.NotificationChannels.ElementsAs(ctx, &chans, false)...)
		sort.Strings(chans)
		p.NotificationChannels = chans
	}
	p.UserLabels, _ = knownStringMap(ctx, m.UserLabels, diags)
	for _, c := range m.Conditions {
		p.Conditions = append(p.Conditions, toCondition(c))
	}
	return p
}

func fromPolicy(ctx context.Context, p *monitoringpb.AlertPolicy, prior *alertPolicyModel, m *alertPolicyModel, diags *diag.Diagnostics) {
	m.ID = types.StringValue(p.Name)
	m.Project = types.StringValue(projectOfName(p.Name))
	m.DisplayName = types.StringValue(p.DisplayName)
	m.Enabled = types.BoolValue(p.GetEnabled().GetValue())
	if p.Severity == monitoringpb.AlertPolicy_SEVERITY_UNSPECIFIED {
		m.Severity = types.StringNull()
	} else {
		m.Severity = types.StringValue(p.Severity.String())
	}
	if p.Combiner == monitoringpb.AlertPolicy_COMBINE_UNSPECIFIED {
		m.Combiner = types.StringNull()
	} else {
		m.Combiner = types.StringValue(p.Combiner.String())
	}
	m.Documentation = nullIfEmptyString(p.GetDocumentation().GetContent(), prior.Documentation)
	m.DocumentationSubject = nullIfEmptyString(p.GetDocumentation().GetSubject(), prior.DocumentationSubject)
	if len(p.NotificationChannels) == 0 && prior.NotificationChannels.IsNull() {
		m.NotificationChannels = types.SetNull(types.StringType)
	} else {
		s, d := types.SetValueFrom(ctx, types.StringType, p.NotificationChannels)
		diags.Append(d...)
		m.NotificationChannels = s
	}
	user := maps.Clone(p.UserLabels)
	delete(user, createIDLabel)
	m.UserLabels = nullIfEmptyMap(ctx, user, prior.UserLabels, diags)
	m.Conditions = nil
	for i, c := range p.Conditions {
		var pc *conditionModel
		if i < len(prior.Conditions) {
			pc = &prior.Conditions[i]
		}
		m.Conditions = append(m.Conditions, fromCondition(c, pc))
	}
}

func (r *alertPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan alertPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	a := monClientFor(ctx, r.data, policyTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	project := plan.Project.ValueString()
	p := r.toPolicy(ctx, &plan, &resp.Diagnostics)
	p.UserLabels = withCreateID(p.UserLabels)
	left, err := a.unrecordedPolicy(ctx, project, p.DisplayName)
	if !noneUnrecorded(left, err, "Alert policy", "alert policy", fmt.Sprintf("alert policies named %q in project %s", p.DisplayName, project),
		p.DisplayName, project, &resp.Diagnostics) {
		return
	}
	tflog.Debug(ctx, "creating alert policy", map[string]any{"project": project, "display_name": p.DisplayName})
	got, err := a.createPolicy(ctx, project, p)
	if err != nil {
		resp.Diagnostics.AddError("Could not create alert policy", shared.DescribeGRPC("create", fmt.Sprintf("alert policy %q in project %s", p.DisplayName, project), err))
		return
	}
	var m alertPolicyModel
	fromPolicy(ctx, got, &plan, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *alertPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st alertPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	a := monClientFor(ctx, r.data, policyTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	got, err := a.getPolicy(ctx, st.ID.ValueString())
	if shared.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read alert policy", shared.DescribeGRPC("read", st.ID.ValueString(), err))
		return
	}
	var m alertPolicyModel
	fromPolicy(ctx, got, &st, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *alertPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, st alertPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	a := monClientFor(ctx, r.data, policyTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	p := r.toPolicy(ctx, &plan, &resp.Diagnostics)
	p.Name = st.ID.ValueString()
	// Every field the resource manages is listed; user labels by key, so that the provider's alfred_id
	// label stays. Conditions carry their names from state, so they keep them.
	paths := []string{"display_name", "documentation", "combiner", "enabled", "notification_channels", "severity", "conditions"}
	before, _ := knownStringMap(ctx, st.UserLabels, &resp.Diagnostics)
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range p.UserLabels {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		paths = append(paths, "user_labels."+k)
	}
	got, err := a.updatePolicy(ctx, plan.Project.ValueString(), p, paths)
	if err != nil {
		resp.Diagnostics.AddError("Could not update alert policy", shared.DescribeGRPC("update", p.Name, err))
		return
	}
	var m alertPolicyModel
	fromPolicy(ctx, got, &plan, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *alertPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st alertPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	a := monClientFor(ctx, r.data, policyTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	if err := a.deletePolicy(ctx, st.Project.ValueString(), st.ID.ValueString()); err != nil {
		resp.Diagnostics.AddError("Could not delete alert policy", shared.DescribeGRPC("delete", st.ID.ValueString(), err))
	}
}

func (r *alertPolicyResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	importByName(ctx, req.ID, "an alert policy", "alertPolicies", resp)
}
