package alerting

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sort"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
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
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

var (
	_ resource.ResourceWithImportState    = (*notificationChannelResource)(nil)
	_ resource.ResourceWithValidateConfig = (*notificationChannelResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*notificationChannelResource)(nil)
)

const channelTypeName = "alfred_notification_channel"

type notificationChannelResource struct {
	data *shared.ProviderData
}

// NewNotificationChannelResource is the constructor the provider registers.
func NewNotificationChannelResource() resource.Resource { return &notificationChannelResource{} }

type notificationChannelModel struct {
	ID                 types.String `tfsdk:"id"`
	Project            types.String `tfsdk:"project"`
	Type               types.String `tfsdk:"type"`
	DisplayName        types.String `tfsdk:"display_name"`
	Description        types.String `tfsdk:"description"`
	Labels             types.Map    `tfsdk:"labels"`
	SensitiveLabels    types.Map    `tfsdk:"sensitive_labels"`
	Enabled            types.Bool   `tfsdk:"enabled"`
	UserLabels         types.Map    `tfsdk:"user_labels"`
	ForceDelete        types.Bool   `tfsdk:"force_delete"`
	VerificationStatus types.String `tfsdk:"verification_status"`
}

func (r *notificationChannelResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_notification_channel"
}

func notificationChannelSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "A Cloud Monitoring notification channel, where alert policies send their notifications. " +
			"Secrets (`auth_token` of `slack`, `service_key` of `pagerduty`, `password` of `webhook_basicauth`) go in " +
			"`sensitive_labels`: the API returns them masked, so the provider keeps them from the configuration and never " +
			"writes back what it reads. A secret changed outside Terraform is detected when the masked value's clear " +
			"characters no longer match, and rewritten.\n\nLabels per `type`:\n" +
			"  - `email`: `email_address`\n  - `slack`: `channel_name`, optional `team`; sensitive `auth_token`\n" +
			"  - `pagerduty`: sensitive `service_key`\n  - `webhook_tokenauth`: `url`\n" +
			"  - `webhook_basicauth`: `url`, `username`; sensitive `password`\n  - `pubsub`: `topic` (`projects/{project}/topics/{topic}`)",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Full name, `projects/{project}/notificationChannels/{id}`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"project": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project; defaults to the provider's `gcp.project`.",
				Validators:    []validator.String{shared.ProjectID()},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplaceIfConfigured(), stringplanmodifier.UseStateForUnknown()}},
			"type": schema.StringAttribute{Required: true, MarkdownDescription: "One of `email`, `slack`, `pagerduty`, `webhook_tokenauth`, `webhook_basicauth`, `pubsub`. Changing it replaces the channel (the API cannot change it).",
				Validators:    []validator.String{stringvalidator.OneOf(channelTypeNames()...)},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"display_name": schema.StringAttribute{Required: true, MarkdownDescription: "Name shown in the console and in notifications (at most 512 characters)." +
				" Cloud Monitoring names channels itself, so create first looks for one that this provider created (it carries the `alfred_id` label) with this display name and type but is not in this state, as an apply killed before recording it leaves: then it fails naming the `terraform import` command, and creates nothing.",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 512)}},
			"description": schema.StringAttribute{Optional: true, MarkdownDescription: "At most 1024 characters.",
				Validators: []validator.String{stringvalidator.LengthAtMost(1024)}},
			"labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "The type's non-secret labels (see above)."},
			"sensitive_labels": schema.MapAttribute{Optional: true, Sensitive: true, ElementType: types.StringType,
				MarkdownDescription: "The type's secret labels (see above); kept from the configuration."},
			"enabled": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether notifications are sent to this channel. Default `true`."},
			"user_labels": schema.MapAttribute{Optional: true, ElementType: types.StringType,
				MarkdownDescription: "User labels: keys `[a-z][a-z0-9_-]*`, values `[a-z0-9_-]*`, at most 63 characters each. `alfred_id` is reserved."},
			"force_delete": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Delete the channel even when alert policies use it (the API removes it from them). Default `false`."},
			"verification_status": schema.StringAttribute{Computed: true, MarkdownDescription: "The API's verification status of the channel.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		},
	}
}

func (r *notificationChannelResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = notificationChannelSchema()
}

func (r *notificationChannelResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		r.data = d
	}
}

func knownStringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) (map[string]string, bool) {
	if m.IsUnknown() {
		return nil, false
	}
	out := map[string]string{}
	if m.IsNull() {
		return out, true
	}
	var vals map[string]types.String
	diags.Append(m.ElementsAs(ctx, &vals, false)...)
	for k, v := range vals {
		if v.IsUnknown() {
			return nil, false
		}
		out[k] = v.ValueString()
	}
	return out, true
}

var (
	userLabelKeyRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	userLabelValueRE = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

func checkUserLabels(ctx context.Context, m types.Map, p path.Path, diags *diag.Diagnostics) {
	labels, ok := knownStringMap(ctx, m, diags)
	if !ok {
		return
	}
	if len(labels) > 63 {
		addAttrError(diags, p, "Too many user labels", fmt.Sprintf("At most 63 user labels (64 with the provider's %s), got %d.", createIDLabel, len(labels)))
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		switch {
		case k == createIDLabel:
			addAttrError(diags, p.AtMapKey(k), "Reserved user label", fmt.Sprintf("%q is reserved: the provider labels what it creates with it.", k))
		case !userLabelKeyRE.MatchString(k):
			addAttrError(diags, p.AtMapKey(k), "Invalid user label key", fmt.Sprintf("Key %q: keys begin with a lowercase letter and contain only lowercase letters, digits, _ and -, at most 63 characters.", k))
		case !userLabelValueRE.MatchString(v):
			addAttrError(diags, p.AtMapKey(k), "Invalid user label value", fmt.Sprintf("Value %q of %q: values contain only lowercase letters, digits, _ and -, at most 63 characters.", v, k))
		}
	}
}

func (r *notificationChannelResource) ValidateConfig(ctx context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m notificationChannelModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	checkUserLabels(ctx, m.UserLabels, path.Root("user_labels"), &resp.Diagnostics)
	if m.Type.IsUnknown() || m.Type.IsNull() {
		return
	}
	typ := m.Type.ValueString()
	defs, ok := channelTypes[typ]
	if !ok {
		return // the OneOf validator reports it
	}
	labels, labelsKnown := knownStringMap(ctx, m.Labels, &resp.Diagnostics)
	secrets, secretsKnown := knownStringMap(ctx, m.SensitiveLabels, &resp.Diagnostics)
	byKey := map[string]channelLabel{}
	for _, d := range defs {
		byKey[d.key] = d
	}
	if labelsKnown {
		for _, k := range slices.Sorted(maps.Keys(labels)) {
			d, ok := byKey[k]
			switch {
			case !ok:
				addAttrError(&resp.Diagnostics, path.Root("labels").AtMapKey(k), "Unknown label",
					fmt.Sprintf("Channel type %q has no label %q; its labels are %s.", typ, k, labelList(defs)))
			case d.sensitive:
				addAttrError(&resp.Diagnostics, path.Root("labels").AtMapKey(k), "Secret in labels",
					fmt.Sprintf("%q of a %q channel is a secret: put it in sensitive_labels, so that it is not shown in plans.", k, typ))
			case d.check != nil && d.check(labels[k]) != "":
				addAttrError(&resp.Diagnostics, path.Root("labels").AtMapKey(k), "Invalid label value",
					fmt.Sprintf("%s of a %q channel %s, got %q.", k, typ, d.check(labels[k]), labels[k]))
			}
		}
	}
	if secretsKnown {
		for _, k := range slices.Sorted(maps.Keys(secrets)) {
			if d, ok := byKey[k]; !ok || !d.sensitive {
				addAttrError(&resp.Diagnostics, path.Root("sensitive_labels").AtMapKey(k), "Not a secret label",
					fmt.Sprintf("Channel type %q has no secret label %q; secret labels are only %s, other labels go in labels.", typ, k, sensitiveList(defs)))
			}
		}
	}
	for _, d := range defs {
		if !d.required {
			continue
		}
		if d.sensitive && secretsKnown && secrets[d.key] == "" {
			addAttrError(&resp.Diagnostics, path.Root("sensitive_labels"), "Missing secret label",
				fmt.Sprintf("A %q channel needs sensitive_labels.%s.", typ, d.key))
		}
		if !d.sensitive && labelsKnown && labels[d.key] == "" {
			addAttrError(&resp.Diagnostics, path.Root("labels"), "Missing label",
				fmt.Sprintf("A %q channel needs labels.%s.", typ, d.key))
		}
	}
}

func labelList(defs []channelLabel) string {
	var s []string
	for _, d := range defs {
		s = append(s, d.key)
	}
	return fmt.Sprint(s)
}

func sensitiveList(defs []channelLabel) string {
	var s []string
	for _, d := range defs {
		if d.sensitive {
			s = append(s, d.key)
		}
	}
	if len(s) == 0 {
		return "none for this type"
	}
	return fmt.Sprint(s)
}

func (r *notificationChannelResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() || r.data == nil {
		return
	}
	if !shared.Require(r.data, channelTypeName, shared.BlockGCP, &resp.Diagnostics) {
		return
	}
	var project types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("project"), &project)...)
	if p, ok := defaultProject(ctx, r.data, project, req, &resp.Diagnostics); ok && !p.Equal(project) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("project"), p)...)
	}
}

// defaultProject returns the project of a plan: when a create leaves it to the provider's default, that
// default, known now rather than after apply. ok is false when there is no project at all (reported).
func defaultProject(ctx context.Context, data *shared.ProviderData, project types.String, req resource.ModifyPlanRequest, diags *diag.Diagnostics) (types.String, bool) {
	if !project.IsUnknown() || !req.State.Raw.IsNull() {
		return project, true
	}
	var cfg types.String
	diags.Append(req.Config.GetAttribute(ctx, path.Root("project"), &cfg)...)
	if !cfg.IsNull() || data.GCP.ProjectUnknown {
		return project, true
	}
	if data.GCP.Project == "" {
		addAttrError(diags, path.Root("project"), "No project", "Set project here, or gcp.project / ALFRED_GCP_PROJECT in the provider.")
		return project, false
	}
	return types.StringValue(data.GCP.Project), true
}

func (r *notificationChannelResource) toChannel(ctx context.Context, m *notificationChannelModel, diags *diag.Diagnostics) *monitoringpb.NotificationChannel {
	labels, _ := knownStringMap(ctx, m.Labels, diags)
	secrets, _ := knownStringMap(ctx, m.SensitiveLabels, diags)
	all := map[string]string{}
	maps.Copy(all, labels)
	maps.Copy(all, secrets)
	user, _ := knownStringMap(ctx, m.UserLabels, diags)
	return &monitoringpb.NotificationChannel{
		Type:        m.Type.ValueString(),
		DisplayName: m.DisplayName.ValueString(),
		Description: m.Description.ValueString(),
		Labels:      all,
		UserLabels:  user,
		Enabled:     wrapperspb.Bool(m.Enabled.ValueBool()),
	}
}

// fromChannel writes what the API returned into m. Sensitive labels are never taken from the API (it
// masks them): prior's values are kept while the mask matches them; a secret changed or removed outside
// Terraform becomes the masked text (or disappears), so that the next plan rewrites the configured one.
func fromChannel(ctx context.Context, ch *monitoringpb.NotificationChannel, prior *notificationChannelModel, m *notificationChannelModel, diags *diag.Diagnostics) {
	m.ID = types.StringValue(ch.Name)
	m.Project = types.StringValue(projectOfName(ch.Name))
	m.Type = types.StringValue(ch.Type)
	m.DisplayName = types.StringValue(ch.DisplayName)
	m.Description = nullIfEmptyString(ch.Description, prior.Description)
	m.Enabled = types.BoolValue(ch.GetEnabled().GetValue())
	m.VerificationStatus = types.StringValue(ch.VerificationStatus.String())
	if m.ForceDelete.IsNull() || m.ForceDelete.IsUnknown() {
		m.ForceDelete = types.BoolValue(false)
	}
	sensitive := map[string]bool{}
	for _, d := range channelTypes[ch.Type] {
		sensitive[d.key] = d.sensitive
	}
	labels := map[string]string{}
	for k, v := range ch.Labels {
		if !sensitive[k] {
			labels[k] = v
		}
	}
	m.Labels = nullIfEmptyMap(ctx, labels, prior.Labels, diags)
	priorSecrets, _ := knownStringMap(ctx, prior.SensitiveLabels, diags)
	secrets := map[string]string{}
	for k, v := range priorSecrets {
		masked, ok := ch.Labels[k]
		switch {
		case !ok:
		case maskMatches(masked, v):
			secrets[k] = v
		default:
			secrets[k] = masked
		}
	}
	m.SensitiveLabels = nullIfEmptyMap(ctx, secrets, prior.SensitiveLabels, diags)
	user := maps.Clone(ch.UserLabels)
	delete(user, createIDLabel)
	m.UserLabels = nullIfEmptyMap(ctx, user, prior.UserLabels, diags)
}

func projectOfName(name string) string {
	var p string
	if m := regexp.MustCompile(`^projects/([^/]+)/`).FindStringSubmatch(name); m != nil {
		p = m[1]
	}
	return p
}

// nullIfEmptyString: an empty value the configuration left null stays null.
func nullIfEmptyString(v string, prior types.String) types.String {
	if v == "" && prior.IsNull() {
		return types.StringNull()
	}
	return types.StringValue(v)
}

// nullIfEmptyMap: an empty map the configuration left null stays null (and an empty configured map stays empty).
func nullIfEmptyMap(ctx context.Context, v map[string]string, prior types.Map, diags *diag.Diagnostics) types.Map {
	if len(v) == 0 && (prior.IsNull() || prior.IsUnknown()) {
		return types.MapNull(types.StringType)
	}
	out, d := types.MapValueFrom(ctx, types.StringType, v)
	diags.Append(d...)
	return out
}

func (r *notificationChannelResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan notificationChannelModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	a := monClientFor(ctx, r.data, channelTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	project := plan.Project.ValueString()
	ch := r.toChannel(ctx, &plan, &resp.Diagnostics)
	ch.UserLabels = withCreateID(ch.UserLabels)
	left, err := a.unrecordedChannel(ctx, project, ch.Type, ch.DisplayName)
	if !noneUnrecorded(left, err, "Notification channel", ch.Type+" notification channel", fmt.Sprintf("%s channels named %q in project %s", ch.Type, ch.DisplayName, project),
		ch.DisplayName, project, &resp.Diagnostics) {
		return
	}
	tflog.Debug(ctx, "creating notification channel", map[string]any{"project": project, "type": ch.Type})
	got, err := a.createChannel(ctx, project, ch)
	if err != nil {
		resp.Diagnostics.AddError("Could not create notification channel", shared.DescribeGRPC("create", fmt.Sprintf("%s channel %q in project %s", ch.Type, ch.DisplayName, project), err))
		return
	}
	var m notificationChannelModel
	m.ForceDelete = plan.ForceDelete
	fromChannel(ctx, got, &plan, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *notificationChannelResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var st notificationChannelModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	a := monClientFor(ctx, r.data, channelTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	got, err := a.getChannel(ctx, st.ID.ValueString())
	if shared.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not read notification channel", shared.DescribeGRPC("read", st.ID.ValueString(), err))
		return
	}
	m := notificationChannelModel{ForceDelete: st.ForceDelete}
	fromChannel(ctx, got, &st, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *notificationChannelResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, st notificationChannelModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	a := monClientFor(ctx, r.data, channelTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	ch := r.toChannel(ctx, &plan, &resp.Diagnostics)
	ch.Name = st.ID.ValueString()
	// Only what changed is sent: an unchanged secret is not sent at all, a changed one is the configured
	// value; never what the API returned.
	var paths []string
	if !plan.DisplayName.Equal(st.DisplayName) {
		paths = append(paths, "display_name")
	}
	if !plan.Description.Equal(st.Description) {
		paths = append(paths, "description")
	}
	if !plan.Enabled.Equal(st.Enabled) {
		paths = append(paths, "enabled")
	}
	for _, pair := range []struct{ now, before types.Map }{{plan.Labels, st.Labels}, {plan.SensitiveLabels, st.SensitiveLabels}} {
		now, _ := knownStringMap(ctx, pair.now, &resp.Diagnostics)
		before, _ := knownStringMap(ctx, pair.before, &resp.Diagnostics)
		keys := map[string]bool{}
		for k := range now {
			keys[k] = true
		}
		for k := range before {
			keys[k] = true
		}
		for _, k := range slices.Sorted(maps.Keys(keys)) {
			if v, ok := now[k]; !ok || v != before[k] {
				paths = append(paths, "labels."+k)
			}
		}
	}
	userNow, _ := knownStringMap(ctx, plan.UserLabels, &resp.Diagnostics)
	userBefore, _ := knownStringMap(ctx, st.UserLabels, &resp.Diagnostics)
	for k := range userBefore {
		if _, ok := userNow[k]; !ok {
			paths = append(paths, "user_labels."+k)
		}
	}
	for k, v := range userNow {
		if userBefore[k] != v {
			paths = append(paths, "user_labels."+k)
		}
	}
	sort.Strings(paths)
	got := (*monitoringpb.NotificationChannel)(nil)
	var err error
	if len(paths) == 0 {
		got, err = a.getChannel(ctx, ch.Name)
	} else {
		tflog.Debug(ctx, "updating notification channel", map[string]any{"name": ch.Name, "paths": paths})
		got, err = a.updateChannel(ctx, ch, paths)
	}
	if err != nil {
		resp.Diagnostics.AddError("Could not update notification channel", shared.DescribeGRPC("update", ch.Name, err))
		return
	}
	m := notificationChannelModel{ForceDelete: plan.ForceDelete}
	fromChannel(ctx, got, &plan, &m, &resp.Diagnostics)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *notificationChannelResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var st notificationChannelModel
	resp.Diagnostics.Append(req.State.Get(ctx, &st)...)
	a := monClientFor(ctx, r.data, channelTypeName, &resp.Diagnostics)
	if resp.Diagnostics.HasError() || a == nil {
		return
	}
	if err := a.deleteChannel(ctx, st.ID.ValueString(), st.ForceDelete.ValueBool()); err != nil {
		resp.Diagnostics.AddError("Could not delete notification channel", shared.DescribeGRPC("delete", st.ID.ValueString(), err)+
			" If alert policies still use it, remove it from them first, or set force_delete = true.")
	}
}

func (r *notificationChannelResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if importByName(ctx, req.ID, "a notification channel", "notificationChannels", resp) {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("force_delete"), false)...)
	}
}

var shortIDRE = regexp.MustCompile(`^([^/]+)/([^/]+)$`)

// importByName imports an object Monitoring names projects/{project}/{collection}/{id}, from that full
// name or the short form {project}/{id}: it sets id and project, and reports whether the ID was one.
func importByName(ctx context.Context, id, kind, collection string, resp *resource.ImportStateResponse) bool {
	m := regexp.MustCompile(`^projects/([^/]+)/` + collection + `/([^/]+)$`).FindStringSubmatch(id)
	if m == nil {
		m = shortIDRE.FindStringSubmatch(id)
	}
	if m == nil {
		resp.Diagnostics.AddError("Invalid import ID", fmt.Sprintf("%q is not %s ID. Use the full name "+
			"projects/{project}/%s/{id} or the short form {project}/{id}.", id, kind, collection))
		return false
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), fmt.Sprintf("projects/%s/%s/%s", m[1], collection, m[2]))...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("project"), m[1])...)
	return true
}
