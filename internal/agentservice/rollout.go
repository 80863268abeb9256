package agentservice

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Plans that tell the truth after a failed rollout. Cloud Run keeps the template of a failed update but
// goes on serving the last ready revision ("If reconciliation failed, traffic_statuses,
// observed_generation, and latest_ready_revision will have the state of the last serving revision"), so
// reading the template back would make the next plan empty while the configuration does not serve. Read
// therefore reports the managed template fields of the revision that serves, and a service whose last
// rollout failed plans an update (its revision attributes unknown) until an apply makes the configured
// template serve.

// conditionFailed is the state of a terminal condition after a failed rollout, as the API spells it.
var conditionFailed = runpb.Condition_CONDITION_FAILED.String()

var terminalConditionAttrTypes = map[string]attr.Type{"state": types.StringType, "message": types.StringType}

func latestCreatedRevisionAttribute() schema.Attribute {
	return schema.StringAttribute{Computed: true,
		MarkdownDescription: "Full resource name of the latest revision created from the service's template " +
			"(`projects/{project}/locations/{region}/services/{name}/revisions/{revision}`). It differs from " +
			"`latest_ready_revision` after a failed rollout: the service then holds the new template but serves the older revision."}
}

func terminalConditionAttribute() schema.Attribute {
	return schema.SingleNestedAttribute{Computed: true,
		MarkdownDescription: "The service's terminal condition (`Ready`) as of the last read: `state` " +
			"(`CONDITION_SUCCEEDED`, `CONDITION_FAILED`, `CONDITION_RECONCILING`, ...) and `message` (why a rollout failed). " +
			"While it is `CONDITION_FAILED`, every plan shows an update of this resource, which rolls the configured template " +
			"out again (as a new revision even when the template did not change, so that a cause fixed outside Terraform, " +
			"such as a missing secret or permission, can be retried).",
		Attributes: map[string]schema.Attribute{
			"state":   schema.StringAttribute{Computed: true, MarkdownDescription: "Condition state, e.g. `CONDITION_SUCCEEDED`."},
			"message": schema.StringAttribute{Computed: true, MarkdownDescription: "Human-readable message; empty on success."},
		}}
}

func deletionProtectionAttribute() schema.Attribute {
	return schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
		MarkdownDescription: "Whether Terraform may delete the service. Default `true`: a destroy, or a change that " +
			"replaces the service (name, project, region), fails at apply until `deletion_protection = false` has been " +
			"applied. Changing it makes no API call. A service that never served (its creation failed) may always be deleted, " +
			"so that a failed create can be replaced."}
}

// terminalConditionValue is svc's terminal condition as the attribute holds it.
func terminalConditionValue(svc *runpb.Service) types.Object {
	tc := svc.GetTerminalCondition()
	if tc == nil {
		return types.ObjectNull(terminalConditionAttrTypes)
	}
	return types.ObjectValueMust(terminalConditionAttrTypes, map[string]attr.Value{
		"state": types.StringValue(tc.GetState().String()), "message": types.StringValue(tc.GetMessage())})
}

// rolloutFailed reports whether the last rollout recorded in m failed: the service does not serve its
// template, so the next apply must roll it out again.
func rolloutFailed(m *agentServiceModel) bool {
	if m.TerminalCondition.IsNull() || m.TerminalCondition.IsUnknown() {
		return false
	}
	st, ok := m.TerminalCondition.Attributes()["state"].(types.String)
	return ok && st.ValueString() == conditionFailed
}

// settledFailed reports whether svc's rollout is over and failed.
func settledFailed(svc *runpb.Service) bool {
	return !svc.GetReconciling() && svc.GetTerminalCondition().GetState() == runpb.Condition_CONDITION_FAILED
}

// servingService returns svc as it serves: when the rollout is over and the latest created revision is
// not the ready one, the template is replaced by the one the ready revision was created from. With no
// ready revision at all (a service whose creation failed), svc is returned as it is; its failed terminal
// condition is what makes the plan show an update then.
func (a *api) servingService(ctx context.Context, svc *runpb.Service) (*runpb.Service, error) {
	ready := svc.GetLatestReadyRevision()
	if svc.GetReconciling() || ready == "" || ready == svc.GetLatestCreatedRevision() {
		return svc, nil
	}
	if !strings.Contains(ready, "/") {
		ready = svc.GetName() + "/revisions/" + ready // a short name, as some API surfaces spell it
	}
	var rev *runpb.Revision
	err := a.retry(ctx, func(ctx context.Context) (err error) {
		rev, err = a.rev.GetRevision(ctx, &runpb.GetRevisionRequest{Name: ready})
		return err
	})
	if shared.IsNotFound(err) {
		return svc, nil
	}
	if err != nil {
		return nil, err
	}
	out := proto.Clone(svc).(*runpb.Service)
	out.Template = templateOfRevision(rev)
	return out, nil
}

// templateOfRevision is the template a revision was created from (a Revision carries the same fields).
func templateOfRevision(r *runpb.Revision) *runpb.RevisionTemplate {
	return &runpb.RevisionTemplate{
		Revision: r.GetName()[strings.LastIndex(r.GetName(), "/")+1:], Labels: r.Labels, Annotations: r.Annotations,
		Scaling: r.Scaling, VpcAccess: r.VpcAccess, Timeout: r.Timeout, ServiceAccount: r.ServiceAccount,
		Containers: r.Containers, Sandboxes: r.Sandboxes, Volumes: r.Volumes, ExecutionEnvironment: r.ExecutionEnvironment,
		EncryptionKey: r.EncryptionKey, MaxInstanceRequestConcurrency: r.MaxInstanceRequestConcurrency,
		ServiceMesh: r.ServiceMesh, EncryptionKeyRevocationAction: r.EncryptionKeyRevocationAction,
		EncryptionKeyShutdownDuration: r.EncryptionKeyShutdownDuration, SessionAffinity: r.SessionAffinity,
		NodeSelector: r.NodeSelector, WorkloadIdentityConfig: r.WorkloadIdentityConfig,
		GpuZonalRedundancyDisabled: r.GpuZonalRedundancyDisabled,
	}
}

// ---- deletion protection ----

// deletionBlocked is the error detail of a delete that deletion_protection forbids, or "".
func deletionBlocked(m *agentServiceModel) string {
	if !m.DeletionProtection.ValueBool() {
		return ""
	}
	if m.LatestReadyRevision.IsNull() || m.LatestReadyRevision.ValueString() == "" {
		return "" // it never served: a failed create is replaced freely
	}
	return fmt.Sprintf("Cloud Run service %s has deletion_protection = true, so Terraform will not delete it (a destroy, "+
		"or a change of name, project or region, which replaces it). To allow it, set deletion_protection = false in the "+
		"configuration and run terraform apply first (that changes only the state, no API call), then destroy or apply "+
		"the replacing change. If the resource is tainted, run terraform untaint on it before that apply.", m.ID.ValueString())
}

// ---- IAM members as Google compares them ----

// emailMemberTypes are the member types whose value IAM compares case-insensitively and returns
// lower-cased; the type itself is case-sensitive, and principal:// identifiers keep their case.
var emailMemberTypes = map[string]bool{"user": true, "serviceAccount": true, "group": true, "domain": true}

// memberKey is the form of an IAM member under which two spellings of the same member are equal.
func memberKey(m string) string {
	typ, rest, ok := strings.Cut(m, ":")
	if !ok {
		return m
	}
	if emailMemberTypes[typ] {
		return typ + ":" + strings.ToLower(rest)
	}
	if typ == "deleted" {
		return typ + ":" + memberKey(rest)
	}
	return m
}

// memberKeys returns the keys of members, sorted and without duplicates.
func memberKeys(members []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range members {
		if k := memberKey(m); !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// invokersFromPolicy is the set of members of the unconditional roles/run.invoker binding, each in the
// spelling prior (the configuration's, through the plan or the state) uses for it when it has one.
func invokersFromPolicy(policy *iampb.Policy, prior types.Set) types.Set {
	spelled := map[string]string{}
	if !prior.IsNull() && !prior.IsUnknown() {
		for _, v := range prior.Elements() {
			if s, ok := v.(types.String); ok && !s.IsUnknown() && !s.IsNull() {
				spelled[memberKey(s.ValueString())] = s.ValueString()
			}
		}
	}
	members := []attr.Value{}
	seen := map[string]bool{}
	for _, b := range policy.GetBindings() {
		if b.GetRole() != invokerRole || b.GetCondition() != nil {
			continue
		}
		for _, mem := range b.GetMembers() {
			k := memberKey(mem)
			if seen[k] {
				continue
			}
			seen[k] = true
			if s, ok := spelled[k]; ok {
				mem = s
			}
			members = append(members, types.StringValue(mem))
		}
	}
	return types.SetValueMust(types.StringType, members)
}

func knownStrings(s types.Set) ([]string, bool) {
	if s.IsNull() || s.IsUnknown() {
		return nil, false
	}
	var out []string
	for _, v := range s.Elements() {
		str, ok := v.(types.String)
		if !ok || str.IsUnknown() || str.IsNull() {
			return nil, false
		}
		out = append(out, str.ValueString())
	}
	return out, true
}

// sameMembers reports whether two sets name the same members as IAM compares them.
func sameMembers(a, b types.Set) bool {
	x, ok1 := knownStrings(a)
	y, ok2 := knownStrings(b)
	return ok1 && ok2 && strings.Join(memberKeys(x), "\n") == strings.Join(memberKeys(y), "\n")
}

// keepEquivalentMembers plans the state's invokers when the configuration names the same members in
// another spelling (an imported `user:alice@example.com` under `user:Alice@Example.com`).
func keepEquivalentMembers() planmodifier.Set { return equivalentMembers{} }

type equivalentMembers struct{}

func (equivalentMembers) Description(context.Context) string {
	return "Keeps the invokers in state when the configuration spells the same members with other letter case."
}

func (m equivalentMembers) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (equivalentMembers) PlanModifySet(_ context.Context, req planmodifier.SetRequest, resp *planmodifier.SetResponse) {
	if req.StateValue.Equal(req.PlanValue) {
		return
	}
	if sameMembers(req.StateValue, req.PlanValue) {
		resp.PlanValue = req.StateValue
	}
}

// distinctMembersValidator refuses two spellings of one member: IAM would keep one, and the set in
// state could never match the configuration.
type distinctMembersValidator struct{}

func (distinctMembersValidator) Description(context.Context) string {
	return "members are distinct when emails are compared case-insensitively"
}

func (v distinctMembersValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}

func (distinctMembersValidator) ValidateSet(_ context.Context, req validator.SetRequest, resp *validator.SetResponse) {
	members, ok := knownStrings(req.ConfigValue)
	if !ok {
		return
	}
	seen := map[string]string{}
	for _, m := range members {
		k := memberKey(m)
		if other, dup := seen[k]; dup {
			resp.Diagnostics.AddAttributeError(req.Path, "Duplicate invoker",
				fmt.Sprintf("invokers names %q and %q, which are the same principal: IAM compares emails case-insensitively. "+
					"Keep one of them.", other, m))
			return
		}
		seen[k] = m
	}
}

// waitInvokersVisible reads the policy of name until its invoker binding holds exactly members (as IAM
// compares them), so that the read that follows an apply sees the change. IAM documents that policy
// changes take time to propagate; the wait is bounded by ctx and by limit.
func (a *api) waitInvokersVisible(ctx context.Context, name string, members []string, limit time.Duration) error {
	want := strings.Join(memberKeys(members), "\n")
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	interval := 100 * time.Millisecond
	for {
		var p *iampb.Policy
		err := a.retry(ctx, func(ctx context.Context) (err error) {
			p, err = a.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: name})
			return err
		})
		if err == nil {
			var got []string
			for _, b := range p.GetBindings() {
				if b.GetRole() == invokerRole && b.GetCondition() == nil {
					got = append(got, b.GetMembers()...)
				}
			}
			if strings.Join(memberKeys(got), "\n") == want {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return err
			}
			return fmt.Errorf("the IAM policy of %s did not show the invokers set by this apply within %s; "+
				"the change may still propagate: run terraform apply again to check", name, limit)
		case <-time.After(interval):
		}
		interval = min(interval*3/2, 2*time.Second)
	}
}

// planRevisionAttributes plans latest_ready_revision, latest_created_revision and terminal_condition:
// known (the state's) when the apply rolls nothing out, unknown when the template changes or the last
// rollout failed (then the apply rolls the configured template out again). changing says whether the
// plan changes anything else: an update of a service read while another rollout was still running may
// end with another terminal condition, so it is planned unknown then.
func planRevisionAttributes(plan, state *agentServiceModel, sameTemplate, changing bool) {
	settled := false
	if !state.TerminalCondition.IsNull() && !state.TerminalCondition.IsUnknown() {
		st, ok := state.TerminalCondition.Attributes()["state"].(types.String)
		settled = ok && st.ValueString() == runpb.Condition_CONDITION_SUCCEEDED.String()
	}
	if sameTemplate && !rolloutFailed(state) && (settled || !changing) {
		plan.LatestReadyRevision = state.LatestReadyRevision
		plan.LatestCreatedRevision = state.LatestCreatedRevision
		plan.TerminalCondition = state.TerminalCondition
		return
	}
	plan.LatestReadyRevision = types.StringUnknown()
	plan.LatestCreatedRevision = types.StringUnknown()
	plan.TerminalCondition = types.ObjectUnknown(terminalConditionAttrTypes)
}
