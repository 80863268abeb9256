// Package taskqueue manages alfred_task_queue: the Pub/Sub topic an agent takes its tasks from, a push
// subscription to the agent authenticated with an OIDC token, a dead-letter topic and subscription, and the
// IAM grants dead-lettering needs.
package taskqueue

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	pb "cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/boolplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

var (
	_ resource.ResourceWithImportState    = (*taskQueueResource)(nil)
	_ resource.ResourceWithConfigure      = (*taskQueueResource)(nil)
	_ resource.ResourceWithModifyPlan     = (*taskQueueResource)(nil)
	_ resource.ResourceWithValidateConfig = (*taskQueueResource)(nil)
)

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{NewTaskQueueResource}
}

// NewTaskQueueResource returns alfred_task_queue.
func NewTaskQueueResource() resource.Resource { return &taskQueueResource{} }

type taskQueueResource struct{ data *shared.ProviderData }

type model struct {
	ID                     types.String   `tfsdk:"id"`
	Name                   types.String   `tfsdk:"name"`
	Project                types.String   `tfsdk:"project"`
	Agent                  types.String   `tfsdk:"agent"`
	PushServiceAccount     types.String   `tfsdk:"push_service_account"`
	PubSubServiceAgent     types.String   `tfsdk:"pubsub_service_agent"`
	AckDeadline            types.String   `tfsdk:"ack_deadline"`
	MinBackoff             types.String   `tfsdk:"min_backoff"`
	MaxBackoff             types.String   `tfsdk:"max_backoff"`
	MaxDeliveryAttempts    types.Int64    `tfsdk:"max_delivery_attempts"`
	MessageRetention       types.String   `tfsdk:"message_retention"`
	Ordering               types.Bool     `tfsdk:"ordering"`
	Filter                 types.String   `tfsdk:"filter"`
	PushEndpoint           types.String   `tfsdk:"push_endpoint"`
	Topic                  types.String   `tfsdk:"topic"`
	Subscription           types.String   `tfsdk:"subscription"`
	DeadLetterTopic        types.String   `tfsdk:"dead_letter_topic"`
	DeadLetterSubscription types.String   `tfsdk:"dead_letter_subscription"`
	Timeouts               timeouts.Value `tfsdk:"timeouts"`
}

func (r *taskQueueResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_task_queue"
}

var (
	// Resource names: "must start with a letter, and contain only letters, numbers, dashes, periods,
	// underscores, tildes, plus or percent signs; 3-255 characters; must not start with goog" (Pub/Sub
	// resource names). The dead-letter names add 12 characters.
	nameRE       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,242}$`)
	serviceIDRE  = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/services/[^/]+$`)
	emailRE      = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	serviceAgent = regexp.MustCompile(`^service-[0-9]+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$`)
)

// durationIn validates a Go duration string within [lo, hi].
type durationIn struct{ lo, hi time.Duration }

func (d durationIn) Description(context.Context) string {
	return fmt.Sprintf("a duration such as \"10s\" or \"5m\", between %s and %s", d.lo, d.hi)
}
func (d durationIn) MarkdownDescription(ctx context.Context) string { return d.Description(ctx) }
func (d durationIn) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	v, err := time.ParseDuration(req.ConfigValue.ValueString())
	if err != nil || v < d.lo || v > d.hi || v%time.Second != 0 {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid duration",
			fmt.Sprintf("%s must be %s, in whole seconds; got %q.", req.Path, d.Description(ctx), req.ConfigValue.ValueString()))
	}
}

func schemaV0(ctx context.Context) schema.Schema {
	str := func(desc string, def string, v ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Computed: true, Description: desc, Default: stringdefault.StaticString(def), Validators: v}
	}
	computed := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, Description: desc, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}}
	}
	return schema.Schema{
		Description: "A task queue for an agent: a Pub/Sub topic, a push subscription to the agent authenticated with an " +
			"OIDC token of `push_service_account` (which must be one of the agent's invokers: when the agent is an " +
			"`alfred_agent_service` id that exists, the plan warns when it is not one yet and apply refuses it before creating " +
			"anything, after the agent's own changes of the same apply), retries with exponential backoff, and after " +
			"`max_delivery_attempts` failed deliveries a dead-letter topic with its own subscription, plus the grants the " +
			"Pub/Sub service agent needs for dead-lettering (publisher on the dead-letter topic, subscriber on the subscription). " +
			"Dead-lettered messages are counted by Cloud Monitoring's `pubsub.googleapis.com/subscription/dead_letter_message_count`.",
		Attributes: map[string]schema.Attribute{
			"id": computed("The subscription's full name, `projects/{project}/subscriptions/{name}`."),
			"name": schema.StringAttribute{Required: true, Description: "Name of the topic and subscription (3-243 characters: a letter first, then letters, digits, `-_.~+%`; not starting with `goog`). The dead-letter topic and subscription are `{name}-dead-letter`. Changing it replaces the queue.",
				Validators: []validator.String{
					stringvalidator.RegexMatches(nameRE, "must start with a letter and contain 3-243 letters, digits, or - _ . ~ + %"),
					notGoog{}},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"project": schema.StringAttribute{Computed: true, Description: "The project (the provider's `gcp.project`).",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"agent": schema.StringAttribute{Required: true, Description: "The agent: an `alfred_agent_service` id (`projects/{p}/locations/{r}/services/{s}`), whose URI is read from Cloud Run, or the agent's https URI (http only on loopback). Pushes go to that URI with it as the token's audience. Changes in place.",
				Validators: []validator.String{agentValidator{}}},
			"push_service_account": schema.StringAttribute{Required: true, Description: "Email of the service account whose OIDC token authenticates each push; it must hold `roles/run.invoker` on the agent. Changes in place.",
				Validators: []validator.String{stringvalidator.RegexMatches(emailRE, "must be a service account email")}},
			"pubsub_service_agent": schema.StringAttribute{Required: true, Description: "The project's Pub/Sub service agent, `service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`, which is granted `roles/pubsub.publisher` on the dead-letter topic and `roles/pubsub.subscriber` on the subscription. A grant removed outside Terraform shows as a change to this attribute and is restored by apply.",
				Validators: []validator.String{stringvalidator.RegexMatches(serviceAgent, "must be service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com")}},
			"ack_deadline":          str("How long the agent has to answer a push before it is retried: 10s to 600s (default 10s). Changes in place.", "10s", durationIn{10 * time.Second, 600 * time.Second}),
			"min_backoff":           str("Retry policy: delay before the first redelivery, 0s to 600s (default 10s); it doubles with each attempt. Changes in place.", "10s", durationIn{0, 600 * time.Second}),
			"max_backoff":           str("Retry policy: the largest delay between redeliveries, 0s to 600s and not below `min_backoff` (default 600s). Changes in place.", "600s", durationIn{0, 600 * time.Second}),
			"max_delivery_attempts": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(5), Description: "Deliveries before a message goes to the dead-letter topic: 5 to 100 (default 5). Changes in place.", Validators: []validator.Int64{int64validator.Between(5, 100)}},
			"message_retention":     str("How long unacknowledged messages are kept: 10m to 168h (default 604800s, 7 days). Changes in place.", "604800s", durationIn{10 * time.Minute, 7 * 24 * time.Hour}),
			"ordering": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false), Description: "Deliver messages with the same ordering key in order. Set at creation only: changing it replaces the queue.",
				PlanModifiers: []planmodifier.Bool{boolplanmodifier.RequiresReplace()}},
			"filter": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(""), Description: "Pub/Sub filter on message attributes (at most 256 bytes); messages that do not match are acknowledged without delivery. Set at creation only (the API cannot change it): changing it replaces the queue.",
				Validators: []validator.String{stringvalidator.LengthAtMost(256)}, PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"push_endpoint":            schema.StringAttribute{Computed: true, Description: "The URI pushes go to (the agent's)."},
			"topic":                    computed("Full name of the topic tasks are published to."),
			"subscription":             computed("Full name of the push subscription."),
			"dead_letter_topic":        computed("Full name of the dead-letter topic."),
			"dead_letter_subscription": computed("Full name of the pull subscription on the dead-letter topic, where failed tasks can be inspected."),
			"timeouts":                 shared.TimeoutsAttributes(ctx, timeouts.Opts{Create: true, Update: true, Delete: true, Read: true}),
		},
	}
}

type notGoog struct{}

func (notGoog) Description(context.Context) string         { return "must not start with \"goog\"" }
func (notGoog) MarkdownDescription(context.Context) string { return "must not start with `goog`" }
func (notGoog) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if strings.HasPrefix(strings.ToLower(req.ConfigValue.ValueString()), "goog") {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid name", fmt.Sprintf("%s must not start with \"goog\" (reserved by Pub/Sub).", req.Path))
	}
}

type agentValidator struct{}

func (agentValidator) Description(context.Context) string {
	return "an agent service id (projects/{p}/locations/{r}/services/{s}) or an https URI"
}
func (a agentValidator) MarkdownDescription(ctx context.Context) string { return a.Description(ctx) }
func (a agentValidator) ValidateString(ctx context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	v := req.ConfigValue.ValueString()
	if serviceIDRE.MatchString(v) {
		return
	}
	if u, err := url.Parse(v); err == nil && u.Host != "" && (u.Scheme == "https" || (u.Scheme == "http" && isLoopbackHost(u.Hostname()))) {
		return
	}
	resp.Diagnostics.AddAttributeError(req.Path, "Invalid agent",
		fmt.Sprintf("%s must be %s (http only for a loopback host); got %q.", req.Path, a.Description(ctx), v))
}

func isLoopbackHost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1" || strings.HasPrefix(h, "127.")
}

func (r *taskQueueResource) Schema(ctx context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schemaV0(ctx)
}

func (r *taskQueueResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.data = shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics)
}

func (r *taskQueueResource) ValidateConfig(_ context.Context, req resource.ValidateConfigRequest, resp *resource.ValidateConfigResponse) {
	var m model
	resp.Diagnostics.Append(req.Config.Get(context.Background(), &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	lo, hi := m.MinBackoff, m.MaxBackoff
	if lo.IsNull() || lo.IsUnknown() || hi.IsUnknown() {
		return
	}
	l, err1 := time.ParseDuration(lo.ValueString())
	h := 600 * time.Second
	var err2 error
	if !hi.IsNull() {
		h, err2 = time.ParseDuration(hi.ValueString())
	}
	if err1 == nil && err2 == nil && l > h {
		resp.Diagnostics.AddAttributeError(path.Root("max_backoff"), "Invalid retry policy",
			fmt.Sprintf("max_backoff (%s) must not be below min_backoff (%s).", h, l))
	}
}

// ModifyPlan checks, when the agent is a service id that exists, that push_service_account is one of its
// invokers: without roles/run.invoker every push is refused and every task ends dead-lettered. At plan
// time that is a warning, since the same apply may be granting it (an invoker added to the agent next to
// this queue, or an agent an interrupted apply created before it set its invokers): the agent's planned
// invokers cannot be seen from here. Apply, which runs after the agent's own changes, refuses it.
func (r *taskQueueResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if !shared.Require(r.data, "alfred_task_queue", shared.BlockGCP, &resp.Diagnostics) {
		return
	}
	var m model
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !r.data.GCP.ProjectUnknown && r.data.GCP.Project == "" {
		resp.Diagnostics.AddAttributeError(path.Root("name"), "No project", "alfred_task_queue needs the provider's gcp.project (or ALFRED_GCP_PROJECT).")
		return
	}
	if !r.data.GCP.ProjectUnknown {
		n := m.Name.ValueString()
		p := r.data.GCP.Project
		if !m.Name.IsUnknown() {
			var prior types.String
			if !req.State.Raw.IsNull() {
				resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("project"), &prior)...)
				if prior.ValueString() != p {
					// The queue lives in one project: another provider project means a new queue there.
					resp.RequiresReplace = append(resp.RequiresReplace, path.Root("project"))
				}
			}
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("project"), p)...)
			if req.State.Raw.IsNull() {
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("id"), subName(p, n))...)
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("topic"), topicName(p, n))...)
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("subscription"), subName(p, n))...)
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("dead_letter_topic"), topicName(p, n+"-dead-letter"))...)
				resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("dead_letter_subscription"), subName(p, n+"-dead-letter"))...)
			}
		}
	}
	if m.Agent.IsUnknown() || m.PushServiceAccount.IsUnknown() {
		return
	}
	agent := m.Agent.ValueString()
	if !serviceIDRE.MatchString(agent) {
		resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("push_endpoint"), agent)...)
		return
	}
	a, err := apiFor(ctx, r.data)
	if err != nil {
		resp.Diagnostics.AddError("Cannot reach Pub/Sub", err.Error())
		return
	}
	info, err := a.agent(ctx, agent)
	if shared.IsNotFound(err) {
		return // created in the same apply: checked again at apply
	}
	if err != nil {
		resp.Diagnostics.AddAttributeWarning(path.Root("agent"), "Could not read the agent service", describe("reading", agent, err))
		return
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("push_endpoint"), info.URI)...)
	if msg := invokerProblem(info, m.PushServiceAccount.ValueString(), agent); msg != "" {
		resp.Diagnostics.AddAttributeWarning(path.Root("push_service_account"), "Push identity cannot invoke the agent yet",
			msg+" Unless this apply grants it (the agent's invokers change in the same apply), the apply will fail.")
	}
}

// invokerProblem says why email cannot push to the agent, or "" when it is one of the agent's invokers.
func invokerProblem(info *agentInfo, email, agent string) string {
	member := "serviceAccount:" + strings.ToLower(email)
	if slices.Contains(info.Invokers, member) {
		return ""
	}
	return fmt.Sprintf("push_service_account %q is not among the invokers of %s (%s): Cloud Run would refuse every push "+
		"and every task would end in the dead-letter topic. Add %q to the agent's invokers.", email, agent,
		strings.Join(info.Invokers, ", "), member)
}

func topicName(p, n string) string { return "projects/" + p + "/topics/" + n }
func subName(p, n string) string   { return "projects/" + p + "/subscriptions/" + n }

func dur(s string) *durationpb.Duration {
	d, _ := time.ParseDuration(s)
	return durationpb.New(d)
}

// subscriptionFor is the push subscription the plan describes, pushing to endpoint.
func subscriptionFor(m *model, endpoint string) *pb.Subscription {
	p, n := m.Project.ValueString(), m.Name.ValueString()
	ack, _ := time.ParseDuration(m.AckDeadline.ValueString())
	return &pb.Subscription{
		Name: subName(p, n), Topic: topicName(p, n),
		PushConfig: &pb.PushConfig{PushEndpoint: endpoint, AuthenticationMethod: &pb.PushConfig_OidcToken_{OidcToken: &pb.PushConfig_OidcToken{
			ServiceAccountEmail: m.PushServiceAccount.ValueString(), Audience: endpoint}}},
		AckDeadlineSeconds:       int32(ack / time.Second),
		RetryPolicy:              &pb.RetryPolicy{MinimumBackoff: dur(m.MinBackoff.ValueString()), MaximumBackoff: dur(m.MaxBackoff.ValueString())},
		DeadLetterPolicy:         &pb.DeadLetterPolicy{DeadLetterTopic: topicName(p, n+"-dead-letter"), MaxDeliveryAttempts: int32(m.MaxDeliveryAttempts.ValueInt64())},
		MessageRetentionDuration: dur(m.MessageRetention.ValueString()),
		EnableMessageOrdering:    m.Ordering.ValueBool(),
		Filter:                   m.Filter.ValueString(),
	}
}

// endpointFor resolves where pushes go, checking the invoker grant when the agent is a service.
func (r *taskQueueResource) endpointFor(ctx context.Context, a *api, m *model, diags *diag.Diagnostics) string {
	agent := m.Agent.ValueString()
	if !serviceIDRE.MatchString(agent) {
		return agent
	}
	info, err := a.agent(ctx, agent)
	if err != nil {
		diags.AddAttributeError(path.Root("agent"), "Cannot read the agent service", describe("reading", agent, err))
		return ""
	}
	if msg := invokerProblem(info, m.PushServiceAccount.ValueString(), agent); msg != "" {
		diags.AddAttributeError(path.Root("push_service_account"), "Push identity cannot invoke the agent", msg)
	}
	return info.URI
}

// apply creates whatever of the queue is missing and brings the subscription and grants to the plan.
func (r *taskQueueResource) apply(ctx context.Context, a *api, m *model, diags *diag.Diagnostics, create bool, state func()) {
	p, n := m.Project.ValueString(), m.Name.ValueString()
	ep := r.endpointFor(ctx, a, m, diags)
	if diags.HasError() {
		return
	}
	m.PushEndpoint = types.StringValue(ep)
	dlTopic, dlSub := topicName(p, n+"-dead-letter"), subName(p, n+"-dead-letter")
	if create {
		for _, t := range []string{topicName(p, n), dlTopic} {
			if err := a.createTopic(ctx, t); err != nil {
				diags.AddError("Cannot create the task queue", describe("creating topic", t, err))
				return
			}
		}
		state() // the topics exist: from here a failure leaves something the next apply finishes
		if err := a.ensureSub(ctx, &pb.Subscription{Name: dlSub, Topic: dlTopic, MessageRetentionDuration: dur("168h")}); err != nil {
			diags.AddError("Cannot create the task queue", describe("creating subscription", dlSub, err))
			return
		}
	}
	want := subscriptionFor(m, ep)
	var err error
	if create {
		err = a.ensureSub(ctx, want)
	} else {
		err = a.updateSub(ctx, want)
	}
	if err != nil {
		diags.AddError("Cannot write the task queue's subscription", describe("writing subscription", want.Name, err))
		return
	}
	agentMember := "serviceAccount:" + m.PubSubServiceAgent.ValueString()
	for _, g := range [][2]string{{dlTopic, rolePublisher}, {want.Name, roleSubscriber}} {
		if err := a.grant(ctx, g[0], g[1], agentMember, true); err != nil {
			diags.AddError("Cannot grant the Pub/Sub service agent", describe("granting "+g[1]+" to "+agentMember+" on", g[0], err))
			return
		}
	}
}

// begin starts an operation: it reads the model with get, bounds ctx by the operation's timeout (op of the
// model's timeouts, def by default) and returns the Pub/Sub adapter, or nil after an error. cancel is
// always to be called.
func (r *taskQueueResource) begin(ctx context.Context, get func(context.Context, any) diag.Diagnostics, m *model,
	op func(timeouts.Value, context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration,
	diags *diag.Diagnostics) (context.Context, context.CancelFunc, *api) {
	diags.Append(get(ctx, m)...)
	if diags.HasError() || !shared.Require(r.data, "alfred_task_queue", shared.BlockGCP, diags) {
		return ctx, func() {}, nil
	}
	to, d := op(m.Timeouts, ctx, def)
	diags.Append(d...)
	ctx, cancel := context.WithTimeout(ctx, to)
	a, err := apiFor(ctx, r.data)
	if err != nil {
		diags.AddError("Cannot reach Pub/Sub", err.Error())
		return ctx, cancel, nil
	}
	return ctx, cancel, a
}

func (r *taskQueueResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m model
	ctx, cancel, a := r.begin(ctx, req.Plan.Get, &m, timeouts.Value.Create, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if a == nil {
		return
	}
	r.setNames(&m)
	r.apply(ctx, a, &m, &resp.Diagnostics, true, func() {
		resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
	})
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *taskQueueResource) setNames(m *model) {
	p, n := r.data.GCP.Project, m.Name.ValueString()
	m.Project = types.StringValue(p)
	m.ID = types.StringValue(subName(p, n))
	m.Topic = types.StringValue(topicName(p, n))
	m.Subscription = types.StringValue(subName(p, n))
	m.DeadLetterTopic = types.StringValue(topicName(p, n+"-dead-letter"))
	m.DeadLetterSubscription = types.StringValue(subName(p, n+"-dead-letter"))
	if m.PushEndpoint.IsUnknown() {
		m.PushEndpoint = types.StringValue("")
	}
}

func (r *taskQueueResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var m model
	ctx, cancel, a := r.begin(ctx, req.Plan.Get, &m, timeouts.Value.Update, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if a == nil {
		return
	}
	r.setNames(&m)
	// create=true re-creates whatever was removed outside Terraform (a Read that finds a piece missing
	// drops the resource, so Update only sees complete queues; creating again is harmless).
	r.apply(ctx, a, &m, &resp.Diagnostics, true, func() {})
	if resp.Diagnostics.HasError() {
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// sameDuration keeps the state's spelling when the API's value is the same duration; otherwise (after an
// import, or a change outside Terraform) it is written in seconds, as the API returns it ("60s").
func sameDuration(prior types.String, got time.Duration) types.String {
	if d, err := time.ParseDuration(prior.ValueString()); err == nil && d == got && !prior.IsNull() {
		return prior
	}
	return types.StringValue(fmt.Sprintf("%ds", got/time.Second))
}

func (r *taskQueueResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m model
	ctx, cancel, a := r.begin(ctx, req.State.Get, &m, timeouts.Value.Read, 2*time.Minute, &resp.Diagnostics)
	defer cancel()
	if a == nil {
		return
	}
	found, err := r.read(ctx, a, &m)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the task queue", describe("reading", m.ID.ValueString(), err))
		return
	}
	if !found {
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// read fills m from the API; false when any of the four pieces is gone, so the plan shows the queue to
// be created (which creates only what is missing).
func (r *taskQueueResource) read(ctx context.Context, a *api, m *model) (bool, error) {
	for _, t := range []string{m.Topic.ValueString(), m.DeadLetterTopic.ValueString()} {
		if _, err := a.getTopic(ctx, t); shared.IsNotFound(err) {
			return false, nil
		} else if err != nil {
			return false, err
		}
	}
	if _, err := a.getSub(ctx, m.DeadLetterSubscription.ValueString()); shared.IsNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	s, err := a.getSub(ctx, m.Subscription.ValueString())
	if shared.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	pc := s.GetPushConfig()
	m.PushEndpoint = types.StringValue(pc.GetPushEndpoint())
	if m.Agent.IsNull() || !serviceIDRE.MatchString(m.Agent.ValueString()) {
		m.Agent = types.StringValue(pc.GetPushEndpoint())
	}
	m.PushServiceAccount = types.StringValue(pc.GetOidcToken().GetServiceAccountEmail())
	m.AckDeadline = sameDuration(m.AckDeadline, time.Duration(s.GetAckDeadlineSeconds())*time.Second)
	m.MinBackoff = sameDuration(m.MinBackoff, s.GetRetryPolicy().GetMinimumBackoff().AsDuration())
	m.MaxBackoff = sameDuration(m.MaxBackoff, s.GetRetryPolicy().GetMaximumBackoff().AsDuration())
	m.MaxDeliveryAttempts = types.Int64Value(int64(s.GetDeadLetterPolicy().GetMaxDeliveryAttempts()))
	m.MessageRetention = sameDuration(m.MessageRetention, s.GetMessageRetentionDuration().AsDuration())
	m.Ordering = types.BoolValue(s.GetEnableMessageOrdering())
	m.Filter = types.StringValue(s.GetFilter())
	if s.GetDeadLetterPolicy().GetDeadLetterTopic() != m.DeadLetterTopic.ValueString() {
		m.MaxDeliveryAttempts = types.Int64Value(0) // dead-letter policy removed or pointed elsewhere: apply restores it
	}
	// After an import the service agent is found among the members that hold the subscriber role.
	if m.PubSubServiceAgent.IsNull() {
		p, err := a.policy(ctx, m.Subscription.ValueString())
		if err != nil {
			return false, err
		}
		for _, b := range p.GetBindings() {
			for _, mem := range b.GetMembers() {
				if e := strings.TrimPrefix(mem, "serviceAccount:"); b.GetRole() == roleSubscriber && serviceAgent.MatchString(e) {
					m.PubSubServiceAgent = types.StringValue(e)
				}
			}
		}
	}
	// The grants: when one is missing the service agent is recorded as absent, so the plan restores it.
	if agent := m.PubSubServiceAgent.ValueString(); agent != "" {
		member := "serviceAccount:" + strings.ToLower(agent)
		for _, g := range [][2]string{{m.DeadLetterTopic.ValueString(), rolePublisher}, {m.Subscription.ValueString(), roleSubscriber}} {
			ok, err := a.hasGrant(ctx, g[0], g[1], member)
			if err != nil {
				return false, err
			}
			if !ok {
				m.PubSubServiceAgent = types.StringValue("")
				break
			}
		}
	}
	return true, nil
}

func (r *taskQueueResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m model
	ctx, cancel, a := r.begin(ctx, req.State.Get, &m, timeouts.Value.Delete, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if a == nil {
		return
	}
	for _, s := range []string{m.Subscription.ValueString(), m.DeadLetterSubscription.ValueString()} {
		if err := a.deleteSub(ctx, s); err != nil {
			resp.Diagnostics.AddError("Cannot delete the task queue", describe("deleting subscription", s, err))
			return
		}
	}
	for _, t := range []string{m.Topic.ValueString(), m.DeadLetterTopic.ValueString()} {
		if err := a.deleteTopic(ctx, t); err != nil {
			resp.Diagnostics.AddError("Cannot delete the task queue", describe("deleting topic", t, err))
			return
		}
	}
}

// ImportState takes the subscription's full name or `{project}/{name}` or `{name}`. The Pub/Sub service
// agent is not recorded by the API; it is read back from the grants only once configuration names it, so
// an import is followed by a plan that sets it.
func (r *taskQueueResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	id := req.ID
	p := ""
	if r.data != nil && r.data.GCP != nil {
		p = r.data.GCP.Project
	}
	var n string
	switch parts := strings.Split(id, "/"); {
	case len(parts) == 4 && parts[0] == "projects" && parts[2] == "subscriptions":
		p, n = parts[1], parts[3]
	case len(parts) == 2:
		p, n = parts[0], parts[1]
	case len(parts) == 1:
		n = parts[0]
	default:
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("Expected projects/{project}/subscriptions/{name}, {project}/{name} or {name}; got %q.", id))
		return
	}
	for k, v := range map[string]string{
		"id": subName(p, n), "name": n, "project": p, "topic": topicName(p, n), "subscription": subName(p, n),
		"dead_letter_topic": topicName(p, n+"-dead-letter"), "dead_letter_subscription": subName(p, n+"-dead-letter"),
	} {
		resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root(k), v)...)
	}
}
