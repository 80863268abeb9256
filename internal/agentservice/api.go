package agentservice

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// api is the adapter between the resource and the Cloud Run Admin API v2.
type api struct {
	svc     *run.ServicesClient
	rev     *run.RevisionsClient // what a service serves after a failed rollout (rollout.go)
	backoff shared.Backoff
}

// newAPI builds the Cloud Run clients with their own retries turned off: a.retry (shared.Retry) is the one
// retry layer, so that a call is never retried by the client inside a loop that retries it again, and the
// rule that a write is repeated only after checking its effect holds for every attempt.
func newAPI(ctx context.Context, opts ...option.ClientOption) (*api, error) {
	svc, err := run.NewServicesClient(ctx, opts...)
	if err != nil {
		return nil, err
	}
	shared.WithoutClientRetries(svc.CallOptions)
	if svc.LROClient != nil {
		shared.WithoutClientRetries(svc.LROClient.CallOptions)
	}
	rev, err := run.NewRevisionsClient(ctx, opts...)
	if err != nil {
		_ = svc.Close()
		return nil, err
	}
	shared.WithoutClientRetries(rev.CallOptions)
	if rev.LROClient != nil {
		shared.WithoutClientRetries(rev.LROClient.CallOptions)
	}
	return &api{svc: svc, rev: rev, backoff: shared.DefaultBackoff}, nil
}

// apiFor returns the provider's Cloud Run client, built once per configured provider.
func apiFor(ctx context.Context, data *shared.ProviderData) (*api, error) {
	c, err := data.Client("cloudrun", func() (any, func(), error) {
		a, err := newAPI(ctx, data.GCP.ClientOptions(data.GCP.RunEndpoint)...)
		if err != nil {
			return nil, nil, err
		}
		return a, func() { _ = a.svc.Close(); _ = a.rev.Close() }, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*api), nil
}

var ingressToAPI = map[string]runpb.IngressTraffic{
	"all":                               runpb.IngressTraffic_INGRESS_TRAFFIC_ALL,
	"internal":                          runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_ONLY,
	"internal-and-cloud-load-balancing": runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
}

func ingressFromAPI(v runpb.IngressTraffic) string {
	for k, x := range ingressToAPI {
		if x == v {
			return k
		}
	}
	return "all"
}

func serviceName(project, region, name string) string {
	return fmt.Sprintf("projects/%s/locations/%s/services/%s", project, region, name)
}

func stringList(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

// toService builds the Service the API is sent from a fully known model.
func toService(ctx context.Context, m *agentServiceModel, diags *diag.Diagnostics) *runpb.Service {
	c := &runpb.Container{Resources: &runpb.ResourceRequirements{Limits: map[string]string{}}}
	svc := &runpb.Service{
		Name:     serviceName(m.Project.ValueString(), m.Region.ValueString(), m.Name.ValueString()),
		Ingress:  ingressToAPI[m.Ingress.ValueString()],
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{c}, Scaling: &runpb.RevisionScaling{}},
		Client:   "terraform-provider-alfred",
	}
	for _, a := range templateAttrs {
		a.to(ctx, m, svc, c, diags)
	}
	if !m.Labels.IsNull() && !m.Labels.IsUnknown() {
		labels := map[string]string{}
		diags.Append(m.Labels.ElementsAs(ctx, &labels, false)...)
		svc.Labels = labels
	}
	return svc
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// fromService writes what the API returned into m. prior is what Terraform knew before (state, or the plan
// during create and update): of the labels only those the configuration manages are kept, and an empty
// env or secret_env map stays empty rather than null. cpu, memory and timeout are written in the API's
// spelling; their types' semantic equality keeps prior's spelling when both mean the same.
func fromService(ctx context.Context, svc *runpb.Service, policy *iampb.Policy, prior *agentServiceModel, importing bool, m *agentServiceModel, diags *diag.Diagnostics) {
	parts := strings.Split(svc.GetName(), "/")
	m.ID = types.StringValue(svc.GetName())
	m.Project, m.Region, m.Name = types.StringValue(parts[1]), types.StringValue(parts[3]), types.StringValue(parts[5])
	m.URI = types.StringValue(svc.GetUri())
	m.LatestReadyRevision = types.StringValue(svc.GetLatestReadyRevision())
	m.LatestCreatedRevision = types.StringValue(svc.GetLatestCreatedRevision())
	m.TerminalCondition = terminalConditionValue(svc)
	m.Ingress = types.StringValue(ingressFromAPI(svc.GetIngress()))

	readTemplate(ctx, svc, prior, importing, m, diags)

	// Labels: Google's own (reserved namespaces) are never shown; of the rest, only the keys the
	// configuration manages, except on import where every user label is taken.
	labels := map[string]attr.Value{}
	var managed map[string]attr.Value
	if !prior.Labels.IsNull() && !prior.Labels.IsUnknown() {
		managed = prior.Labels.Elements()
	}
	for k, v := range svc.GetLabels() {
		if reservedKey(k) {
			continue
		}
		if _, ok := managed[k]; ok || importing {
			labels[k] = types.StringValue(v)
		}
	}
	m.Labels = mapOrNull(types.StringType, labels, prior.Labels)

	m.Invokers = invokersFromPolicy(policy, prior.Invokers)
}

func listOrNull(v []string) types.List {
	if len(v) == 0 {
		return types.ListNull(types.StringType)
	}
	el := make([]attr.Value, len(v))
	for i, s := range v {
		el[i] = types.StringValue(s)
	}
	return types.ListValueMust(types.StringType, el)
}

// mapOrNull returns null for no elements unless prior was an empty map (written as `{}`).
func mapOrNull(t attr.Type, el map[string]attr.Value, prior types.Map) types.Map {
	if len(el) == 0 {
		if !prior.IsNull() && !prior.IsUnknown() && len(prior.Elements()) == 0 {
			return prior
		}
		return types.MapNull(t)
	}
	return types.MapValueMust(t, el)
}

// orDefault returns v, or def when the API left the field unset.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ---- calls ----

// retry is the one retry layer of every Cloud Run call (the client's own retries are off, see newAPI):
// transient errors are retried with backoff, waiting at least what a RetryInfo asks.
func (a *api) retry(ctx context.Context, fn func(context.Context) error) error {
	return shared.Retry(ctx, a.backoff, shared.RetryableGRPC, fn)
}

// retrySteps is retry for a change made of a read and a write in each attempt (read-check-write): each
// call has the whole budget of attempts to itself.
func (a *api) retrySteps(ctx context.Context, fn func(ctx context.Context, step *string) error) error {
	return shared.RetrySteps(ctx, a.backoff, shared.RetryableGRPC, fn)
}

// get reads the service and its IAM policy concurrently: two calls, one round trip of latency.
func (a *api) get(ctx context.Context, name string) (*runpb.Service, *iampb.Policy, error) {
	type res struct {
		p   *iampb.Policy
		err error
	}
	ch := make(chan res, 1)
	go func() {
		var p *iampb.Policy
		err := a.retry(ctx, func(ctx context.Context) (err error) {
			p, err = a.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: name})
			return err
		})
		ch <- res{p, err}
	}()
	var svc *runpb.Service
	err := a.retry(ctx, func(ctx context.Context) (err error) {
		svc, err = a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: name})
		return err
	})
	r := <-ch
	if err != nil {
		return nil, nil, err
	}
	if r.err != nil {
		return nil, nil, r.err
	}
	return svc, r.p, nil
}

func (a *api) getService(ctx context.Context, name string) (*runpb.Service, error) {
	var svc *runpb.Service
	err := a.retry(ctx, func(ctx context.Context) (err error) {
		svc, err = a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: name})
		return err
	})
	return svc, err
}

// poller is what the three LRO wrappers of the Services client share.
type poller interface {
	Poll(ctx context.Context, opts ...gax.CallOption) (*runpb.Service, error)
	Done() bool
}

// wait polls the operation with a short, growing interval until it is done or ctx ends. A transient
// failure of a poll is polled again, no sooner than a RetryInfo asks.
func wait(ctx context.Context, op poller) (*runpb.Service, error) {
	interval := 200 * time.Millisecond
	for {
		svc, err := op.Poll(ctx)
		next := interval
		if err != nil && (shared.RetryableGRPC(err) && !op.Done() && ctx.Err() == nil) {
			if d, ok := shared.RetryDelay(err); ok {
				next = max(next, d)
			}
			err = nil // a transient failure of GetOperation: poll again
		}
		if err != nil || op.Done() {
			return svc, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(next):
		}
		interval = min(interval*3/2, 5*time.Second)
	}
}

// reconciled follows a change that an earlier attempt made but whose reply (and so whose operation) was
// lost: it polls the service until the rollout of at least generation gen has settled. A failed rollout
// leaves observed_generation at the last serving generation (0 for a new service), so a settled service
// with a failed terminal condition is done too.
type reconciled struct {
	a    *api
	name string
	gen  int64
	done bool
}

func (r *reconciled) Done() bool { return r.done }

func (r *reconciled) Poll(ctx context.Context, _ ...gax.CallOption) (*runpb.Service, error) {
	svc, err := r.a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: r.name})
	if err != nil {
		return nil, err // wait polls again after a transient failure
	}
	if !svc.GetReconciling() {
		if svc.GetTerminalCondition().GetState() == runpb.Condition_CONDITION_FAILED {
			r.done = true
			return svc, status.Error(codes.FailedPrecondition, svc.GetTerminalCondition().GetMessage())
		}
		if svc.GetObservedGeneration() >= r.gen {
			r.done = true
			return svc, nil
		}
	}
	return nil, nil
}

// gone follows a deletion an earlier attempt started but whose reply was lost: done when the service is
// no longer there.
type gone struct {
	a    *api
	name string
	done bool
}

func (g *gone) Done() bool { return g.done }

func (g *gone) Poll(ctx context.Context, _ ...gax.CallOption) (*runpb.Service, error) {
	_, err := g.a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: g.name})
	if shared.IsNotFound(err) {
		g.done = true
		return nil, nil
	}
	return nil, err
}

// waitReconciled polls the service until the rollout of at least generation gen has settled. It is used
// when a retried create finds the service already there and has no operation to follow.
func (a *api) waitReconciled(ctx context.Context, name string, gen int64) (*runpb.Service, error) {
	return wait(ctx, &reconciled{a: a, name: name, gen: gen})
}

// create sends CreateService. A retry after a transient failure first checks whether the service
// exists (the failed attempt may have reached the API), so a retry never creates twice or fails on
// ALREADY_EXISTS for its own service. It returns the operation, or nil with the service when a previous
// attempt had created it.
func (a *api) create(ctx context.Context, svc *runpb.Service) (*run.CreateServiceOperation, *runpb.Service, error) {
	parts := strings.Split(svc.GetName(), "/")
	parent, id := strings.Join(parts[:4], "/"), parts[5]
	in := cloneForCreate(svc)
	var op *run.CreateServiceOperation
	var existing *runpb.Service
	attempt := 0
	err := a.retrySteps(ctx, func(ctx context.Context, step *string) error {
		attempt++
		if attempt > 1 {
			*step = "get"
			got, err := a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: svc.GetName()})
			if err == nil {
				if createdByUs(got, svc) {
					existing = got
					return nil
				}
				return status.Errorf(codes.AlreadyExists, "service %s already exists and was not created by this apply", id)
			}
			if !shared.IsNotFound(err) {
				return err
			}
		}
		var err error
		*step = "create"
		op, err = a.svc.CreateService(ctx, &runpb.CreateServiceRequest{Parent: parent, ServiceId: id, Service: in})
		return err
	})
	return op, existing, err
}

// findOwnCreate looks, after a create whose every attempt failed, for the service one of them may have
// made (createdByUs); nil when there is none or it cannot be told.
func (a *api) findOwnCreate(ctx context.Context, sent *runpb.Service) *runpb.Service {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var got *runpb.Service
	err := a.retry(rctx, func(ctx context.Context) (err error) {
		got, err = a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: sent.GetName()})
		return err
	})
	if err != nil || !createdByUs(got, sent) {
		return nil
	}
	return got
}

// createdByUs reports whether got, found when a create is retried, is the service an earlier attempt of
// this create made (its reply was lost): written by this provider, never updated since, and running the
// image that was sent. Anything else is someone else's service of the same name.
func createdByUs(got, sent *runpb.Service) bool {
	if got.GetClient() != sent.GetClient() || got.GetGeneration() != 1 {
		return false
	}
	gt, st := got.GetTemplate(), sent.GetTemplate()
	if len(gt.GetContainers()) == 0 || len(st.GetContainers()) == 0 {
		return false
	}
	return gt.GetContainers()[ingressContainer(gt)].GetImage() == st.GetContainers()[ingressContainer(st)].GetImage()
}

func cloneForCreate(svc *runpb.Service) *runpb.Service {
	// The name is composed by the API from parent and service_id.
	return &runpb.Service{Labels: svc.Labels, Annotations: svc.Annotations, Ingress: svc.Ingress, Template: svc.Template, Client: svc.Client}
}

// ingressContainer is the index of the container that serves requests: with sidecars, Cloud Run requires
// exactly one container to declare a port, in any position; a single container is the ingress container.
func ingressContainer(t *runpb.RevisionTemplate) int {
	for i, c := range t.GetContainers() {
		if len(c.GetPorts()) > 0 {
			return i
		}
	}
	return 0
}

// update changes the fields the resource manages and nothing else. UpdateService replaces the whole
// service, so sending only what Terraform knows would wipe what other tools set and the plan never shows
// (other labels and annotations, the description, sidecars, volumes, VPC access, a traffic pin). It
// therefore reads the service, applies want over it (had, the prior state, says which labels Terraform
// stops managing) and writes it back with the etag it read; a concurrent change makes the write fail with
// ABORTED and the whole read-modify-write is repeated. When a repeat finds the service already as wanted,
// an earlier attempt was applied and only its reply was lost: it follows that rollout instead of writing
// (and rolling out) the same change again.
func (a *api) update(ctx context.Context, want, had *runpb.Service) (poller, error) {
	var op poller
	attempt := 0
	err := a.retrySteps(ctx, func(ctx context.Context, step *string) error {
		attempt++
		*step = "get"
		cur, err := a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: want.GetName()})
		if err != nil {
			return err
		}
		next := applyManaged(cur, want, had)
		// Retrying a failed rollout with the template the service already holds must still make a new
		// revision: the cause may have been fixed outside the template (a secret, a permission). Whether
		// the template is "the same" is the server's judgement after it fills its defaults (a startup
		// probe, cpu_idle), so any update of a service whose rollout failed forces one; a changed template
		// makes exactly one revision either way.
		force := settledFailed(cur)
		if attempt > 1 && !force && appliedAlready(ctx, cur, next) {
			op = &reconciled{a: a, name: cur.GetName(), gen: cur.GetGeneration()}
			return nil
		}
		*step = "update"
		op, err = a.svc.UpdateService(ctx, &runpb.UpdateServiceRequest{Service: next, ForceNewRevision: force})
		return err
	})
	return op, err
}

// applyManaged returns cur with the fields the resource manages set as in want.
func applyManaged(cur, want, had *runpb.Service) *runpb.Service {
	next := proto.Clone(cur).(*runpb.Service)
	if next.Labels == nil {
		next.Labels = map[string]string{}
	}
	for k := range had.GetLabels() {
		if _, ok := want.GetLabels()[k]; !ok {
			delete(next.Labels, k)
		}
	}
	maps.Copy(next.Labels, want.GetLabels())
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	next.Ingress, next.Client = want.GetIngress(), want.GetClient()

	if next.Template == nil {
		next.Template = &runpb.RevisionTemplate{}
	}
	t := next.Template
	if len(t.Containers) == 0 {
		t.Containers = []*runpb.Container{{}}
	}
	// A revision name set by another tool would be taken by the revision this update creates.
	t.Revision = ""
	if t.Scaling == nil {
		t.Scaling = &runpb.RevisionScaling{}
	}
	nc := t.Containers[ingressContainer(t)]
	wc := want.GetTemplate().GetContainers()[0]
	for _, a := range templateAttrs {
		a.apply(next, want, nc, wc)
	}
	return next
}

// delete sends DeleteService; NOT_FOUND (already gone, or deleted by an earlier attempt) is success. A
// repeat first reads the service: when an earlier attempt's deletion is under way (its reply was lost), it
// waits for that one rather than deleting again.
func (a *api) delete(ctx context.Context, name string) (poller, error) {
	var op poller
	attempt := 0
	err := a.retrySteps(ctx, func(ctx context.Context, step *string) error {
		attempt++
		if attempt > 1 {
			*step = "get"
			cur, err := a.svc.GetService(ctx, &runpb.GetServiceRequest{Name: name})
			if err != nil {
				return err
			}
			if cur.GetDeleteTime() != nil {
				op = &gone{a: a, name: name}
				return nil
			}
		}
		*step = "delete"
		o, err := a.svc.DeleteService(ctx, &runpb.DeleteServiceRequest{Name: name})
		if err != nil {
			return err
		}
		op = o
		return nil
	})
	if shared.IsNotFound(err) {
		return nil, nil
	}
	return op, err
}

// setInvokers makes the members of the unconditional roles/run.invoker binding exactly members, keeping
// every other binding, by read-modify-write with the policy's etag (retried when another writer raced).
func (a *api) setInvokers(ctx context.Context, name string, members []string) error {
	err := a.retrySteps(ctx, func(ctx context.Context, step *string) error {
		*step = "get"
		p, err := a.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: name})
		if err != nil {
			return err
		}
		var kept []*iampb.Binding
		var had []string
		for _, b := range p.GetBindings() {
			if b.GetRole() == invokerRole && b.GetCondition() == nil {
				had = append(had, b.GetMembers()...)
				continue
			}
			kept = append(kept, b)
		}
		if sameMemberList(memberKeys(had), memberKeys(members)) {
			return nil // already so (possibly by an earlier attempt whose reply was lost)
		}
		if len(members) > 0 {
			sorted := append([]string(nil), members...)
			sort.Strings(sorted)
			kept = append(kept, &iampb.Binding{Role: invokerRole, Members: sorted})
		}
		if len(kept) == len(p.GetBindings()) && len(members) == 0 {
			return nil // nothing to remove
		}
		p.Bindings = kept
		*step = "set"
		_, err = a.svc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: name, Policy: p})
		return err
	})
	if err != nil {
		return err
	}
	return a.waitInvokersVisible(ctx, name, members, time.Minute)
}

// sameMemberList reports whether two lists of IAM members hold the same members, in any order.
func sameMemberList(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	x, y := append([]string(nil), a...), append([]string(nil), b...)
	sort.Strings(x)
	sort.Strings(y)
	return slices.Equal(x, y)
}

// rolloutError turns a failed operation into the message a person can act on, quoting the service's
// terminal condition when the rollout itself failed.
func (a *api) rolloutError(ctx context.Context, action, name string, err error) string {
	if errors.Is(err, context.DeadlineExceeded) || status.Code(err) == codes.DeadlineExceeded {
		return fmt.Sprintf("Timed out while waiting to %s Cloud Run service %s. The operation may still finish; "+
			"raise the resource's `timeouts` if rollouts are expected to take longer.", action, name)
	}
	if status.Code(err) == codes.FailedPrecondition || status.Code(err) == codes.Unknown {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if svc, gerr := a.getService(rctx, name); gerr == nil && svc.GetTerminalCondition().GetState() == runpb.Condition_CONDITION_FAILED {
			return fmt.Sprintf("The rollout of Cloud Run service %s failed: %s", name, svc.GetTerminalCondition().GetMessage())
		}
	}
	return shared.DescribeGRPC(action, "Cloud Run service "+name, err)
}
