package cloudrun_test

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
)

func revisionsClient(t *testing.T, addr string) *run.RevisionsClient {
	t.Helper()
	rc, err := run.NewRevisionsClient(context.Background(), clientOpts(addr)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rc.Close() })
	return rc
}

// update sends svc back with change applied and waits; it returns the settled service, or the
// operation's error.
func update(t *testing.T, c clients, svc *runpb.Service, change func(*runpb.Service), force bool) (*runpb.Service, error) {
	t.Helper()
	change(svc)
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: svc, ForceNewRevision: force})
	if err != nil {
		return nil, err
	}
	return op.Wait(ctxT(t))
}

func image(img string) func(*runpb.Service) {
	return func(s *runpb.Service) { s.Template.Containers[0].Image = img }
}

func listRevisions(t *testing.T, rc *run.RevisionsClient, parent string) []*runpb.Revision {
	t.Helper()
	var out []*runpb.Revision
	it := rc.ListRevisions(ctxT(t), &runpb.ListRevisionsRequest{Parent: parent})
	for {
		r, err := it.Next()
		if err == iterator.Done {
			return out
		}
		if err != nil {
			t.Fatalf("ListRevisions %s: %v", parent, err)
		}
		out = append(out, r)
	}
}

func readyState(r *runpb.Revision) runpb.Condition_State {
	for _, c := range r.GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetState()
		}
	}
	return runpb.Condition_STATE_UNSPECIFIED
}

// Each template change makes a revision that keeps its template, its service and its Ready condition;
// after a failed rollout the service's latest_ready_revision names the revision that still serves, and
// GetRevision tells what it runs.
func TestRevisions_keepTheirTemplateServiceAndCondition(t *testing.T) {
	ts, c := start(t, cloudrun.Options{})
	rc := revisionsClient(t, ts.Addr)
	v1 := create(t, c, "agent", service("example.com/agent:v1"))
	v2, err := update(t, c, v1, image("example.com/agent:v2"), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = update(t, c, v2, image("example.com/agent:fail"), false)
	wantCode(t, err, codes.FailedPrecondition, "is not ready")
	svc, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: v1.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if svc.GetLatestReadyRevision() != v2.GetLatestReadyRevision() || svc.GetLatestCreatedRevision() == svc.GetLatestReadyRevision() {
		t.Fatalf("after the failed rollout: ready %q created %q", svc.GetLatestReadyRevision(), svc.GetLatestCreatedRevision())
	}
	ready, err := rc.GetRevision(ctxT(t), &runpb.GetRevisionRequest{Name: svc.GetLatestReadyRevision()})
	if err != nil {
		t.Fatal(err)
	}
	if ready.GetService() != v1.GetName() || ready.GetContainers()[0].GetImage() != "example.com/agent:v2" ||
		readyState(ready) != runpb.Condition_CONDITION_SUCCEEDED || ready.GetReconciling() || ready.GetUid() == "" ||
		ready.GetTimeout().AsDuration().Seconds() != 300 || ready.GetMaxInstanceRequestConcurrency() != 80 {
		t.Fatalf("the serving revision: %v", ready)
	}
	failed, err := rc.GetRevision(ctxT(t), &runpb.GetRevisionRequest{Name: svc.GetLatestCreatedRevision()})
	if err != nil {
		t.Fatal(err)
	}
	if failed.GetContainers()[0].GetImage() != "example.com/agent:fail" || readyState(failed) != runpb.Condition_CONDITION_FAILED {
		t.Fatalf("the failed revision: %v", failed)
	}
	revs := listRevisions(t, rc, v1.GetName())
	if len(revs) != 3 || revs[0].GetName() != svc.GetLatestCreatedRevision() || revs[2].GetName() != v1.GetLatestCreatedRevision() {
		t.Fatalf("ListRevisions (newest first): %v", revs)
	}
	if all := listRevisions(t, rc, parent+"/services/-"); len(all) != 3 {
		t.Fatalf("ListRevisions of services/-: %d", len(all))
	}
	_, err = rc.GetRevision(ctxT(t), &runpb.GetRevisionRequest{Name: v1.GetName() + "/revisions/agent-99999-zzz"})
	wantCode(t, err, codes.NotFound, "agent-99999-zzz")
	_, err = rc.GetRevision(ctxT(t), &runpb.GetRevisionRequest{Name: "agent-00001-abc"})
	wantCode(t, err, codes.InvalidArgument, "")
}

// force_new_revision makes a revision of an unchanged template: what a client sends to retry a rollout
// whose cause was fixed outside the template.
func TestUpdateService_forceNewRevisionRetriesTheSameTemplate(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	v1 := create(t, c, "agent", service("example.com/agent:v1"))
	same, err := update(t, c, v1, func(*runpb.Service) {}, false)
	if err != nil || same.GetLatestCreatedRevision() != v1.GetLatestCreatedRevision() {
		t.Fatalf("unchanged template: created %q, want %q (%v)", same.GetLatestCreatedRevision(), v1.GetLatestCreatedRevision(), err)
	}
	forced, err := update(t, c, same, func(*runpb.Service) {}, true)
	if err != nil || forced.GetLatestCreatedRevision() == v1.GetLatestCreatedRevision() || forced.GetLatestReadyRevision() != forced.GetLatestCreatedRevision() {
		t.Fatalf("force_new_revision: created %q (before %q) %v", forced.GetLatestCreatedRevision(), v1.GetLatestCreatedRevision(), err)
	}
}

// Only retired revisions can be deleted: not the latest created one, not one that traffic reaches.
func TestDeleteRevision_onlyRetiredRevisions(t *testing.T) {
	ts, c := start(t, cloudrun.Options{})
	rc := revisionsClient(t, ts.Addr)
	v1 := create(t, c, "agent", service("example.com/agent:v1"))
	v2, err := update(t, c, v1, image("example.com/agent:v2"), false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rc.DeleteRevision(ctxT(t), &runpb.DeleteRevisionRequest{Name: v2.GetLatestReadyRevision()})
	wantCode(t, err, codes.FailedPrecondition, "latest created revision")
	// Pin the traffic to v1: it cannot be deleted either.
	pinned, err := update(t, c, v2, func(s *runpb.Service) {
		s.Traffic = []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION,
			Revision: v1.GetLatestCreatedRevision()[strings.LastIndex(v1.GetLatestCreatedRevision(), "/")+1:], Percent: 100}}
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rc.DeleteRevision(ctxT(t), &runpb.DeleteRevisionRequest{Name: v1.GetLatestCreatedRevision()})
	wantCode(t, err, codes.FailedPrecondition, "traffic target")
	// Back to LATEST: v1 is retired and goes.
	if _, err := update(t, c, pinned, func(s *runpb.Service) {
		s.Traffic = []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}}
	}, false); err != nil {
		t.Fatal(err)
	}
	op, err := rc.DeleteRevision(ctxT(t), &runpb.DeleteRevisionRequest{Name: v1.GetLatestCreatedRevision()})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := op.Wait(ctxT(t))
	if err != nil || gone.GetName() != v1.GetLatestCreatedRevision() {
		t.Fatalf("DeleteRevision: %v %v", gone, err)
	}
	_, err = rc.GetRevision(ctxT(t), &runpb.GetRevisionRequest{Name: v1.GetLatestCreatedRevision()})
	wantCode(t, err, codes.NotFound, "")
	// Deleting the service deletes its revisions.
	dop, err := c.svc.DeleteService(ctxT(t), &runpb.DeleteServiceRequest{Name: v1.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dop.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if left := listRevisions(t, rc, parent+"/services/-"); len(left) != 0 {
		t.Fatalf("revisions left after the service was deleted: %v", left)
	}
}

// Traffic targets add up to 100 and name revisions of the service (Knative's route validation, whose
// API Cloud Run serves: "Traffic targets sum to %d, want 100").
func TestUpdateService_trafficMustSumTo100AndNameExistingRevisions(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	v1 := create(t, c, "agent", service("example.com/agent:v1"))
	rev1 := v1.GetLatestCreatedRevision()[strings.LastIndex(v1.GetLatestCreatedRevision(), "/")+1:]
	latest := runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST
	byRev := runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION
	_, err := update(t, c, v1, func(s *runpb.Service) {
		s.Traffic = []*runpb.TrafficTarget{{Type: latest, Percent: 50}}
	}, false)
	wantCode(t, err, codes.InvalidArgument, "sum to 50, want 100")
	_, err = update(t, c, v1, func(s *runpb.Service) {
		s.Traffic = []*runpb.TrafficTarget{{Type: latest, Percent: 50}, {Type: byRev, Revision: "agent-99999-zzz", Percent: 50}}
	}, false)
	wantCode(t, err, codes.InvalidArgument, "Revision 'agent-99999-zzz' does not exist")
	// A split between an existing revision and the new one is accepted and shown in traffic_statuses.
	split, err := update(t, c, v1, func(s *runpb.Service) {
		s.Template.Containers[0].Image = "example.com/agent:v2"
		s.Traffic = []*runpb.TrafficTarget{{Type: latest, Percent: 90}, {Type: byRev, Revision: rev1, Percent: 10, Tag: "old"}}
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	if st := split.GetTrafficStatuses(); len(st) != 2 || st[0].GetPercent() != 90 || st[1].GetRevision() != rev1 || st[1].GetTag() != "old" {
		t.Fatalf("traffic statuses: %v", st)
	}
	// The same rules on create.
	_, err = c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "other", Service: &runpb.Service{
		Template: service("x:1").Template, Traffic: []*runpb.TrafficTarget{{Type: latest, Percent: 120}}}})
	wantCode(t, err, codes.InvalidArgument, "between 0 and 100")
}

// A revision name given in the template is that revision's for good: reusing it with another template
// is refused (terraform-provider-google#14569: "Error 409 revision named '<rev>' already exists").
func TestUpdateService_explicitRevisionNameReusedWithChangedTemplateIsRefused(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	in := service("example.com/agent:v1")
	in.Template.Revision = "agent-blue"
	v1 := create(t, c, "agent", in)
	if v1.GetLatestCreatedRevision() != parent+"/services/agent/revisions/agent-blue" {
		t.Fatalf("latest created revision %q", v1.GetLatestCreatedRevision())
	}
	_, err := update(t, c, v1, image("example.com/agent:v2"), false)
	wantCode(t, err, codes.AlreadyExists, "agent-blue")
	v2, err := update(t, c, v1, func(s *runpb.Service) {
		s.Template.Containers[0].Image = "example.com/agent:v2"
		s.Template.Revision = "agent-green"
	}, false)
	if err != nil || v2.GetLatestReadyRevision() != parent+"/services/agent/revisions/agent-green" {
		t.Fatalf("a new name: %v %v", v2.GetLatestReadyRevision(), err)
	}
}

// IAM stores and returns the email part of user:, serviceAccount:, group: and domain: members
// lower-cased (the behaviour terraform-provider-google#3880 and #5646 report, which made Google's provider
// compare members case-insensitively, magic-modules#1957/#2180); principal:// identifiers keep their case
// (magic-modules#4595). Only roles that exist for Cloud Run, or basic roles, may be bound.
func TestIamPolicy_emailsLowerCasedAndOnlyCloudRunRoles(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	svc := create(t, c, "agent", service("x:1"))
	ctx := ctxT(t)
	set := func(role string, members ...string) (*iampb.Policy, error) {
		p, err := c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: svc.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		p.Bindings = []*iampb.Binding{{Role: role, Members: members}}
		return c.svc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: svc.GetName(), Policy: p})
	}
	const wif = "principal://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/Pool/subject/Alice"
	if _, err := set("roles/run.invoker", "user:Alice@Example.com", "serviceAccount:Bot@P.iam.gserviceaccount.com",
		"group:Ops@Example.COM", "user:alice@example.com", wif); err != nil {
		t.Fatal(err)
	}
	got, err := c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: svc.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	want := "group:ops@example.com," + wif + ",serviceAccount:bot@p.iam.gserviceaccount.com,user:alice@example.com"
	if m := strings.Join(got.GetBindings()[0].GetMembers(), ","); m != want {
		t.Fatalf("members %s, want %s", m, want)
	}
	for _, role := range []string{"roles/run.viewer", "roles/run.developer", "roles/viewer", "roles/owner", "projects/my-project/roles/runCaller"} {
		if _, err := set(role, "group:ops@example.com"); err != nil {
			t.Fatalf("role %s refused: %v", role, err)
		}
	}
	for _, role := range []string{"roles/storage.admin", "roles/run.inventor", "run.invoker", "roles/"} {
		_, err := set(role, "group:ops@example.com")
		wantCode(t, err, codes.InvalidArgument, "Role "+role+" is not supported")
	}
}

// SetIAMReadLag (a sandbox fault) makes reads after a SetIamPolicy return the previous policy for a while.
func TestIamPolicy_readLagServesThePreviousPolicy(t *testing.T) {
	ts, c := start(t, cloudrun.Options{})
	svc := create(t, c, "agent", service("x:1"))
	ts.Server.SetIAMReadLag(2)
	ctx := ctxT(t)
	p, _ := c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: svc.GetName()})
	p.Bindings = []*iampb.Binding{{Role: "roles/run.invoker", Members: []string{"group:ops@example.com"}}}
	if _, err := c.svc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: svc.GetName(), Policy: p}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{0, 0, 1} {
		got, err := c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: svc.GetName()})
		if err != nil || len(got.GetBindings()) != want {
			t.Fatalf("read %d after the set: %d bindings (want %d) %v", i+1, len(got.GetBindings()), want, err)
		}
	}
}

func TestState_revisionsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ts, c := start(t, cloudrun.Options{Dir: dir})
	v1 := create(t, c, "agent", service("x:1"))
	if err := ts.Server.Close(); err != nil {
		t.Fatal(err)
	}
	ts2, _ := start(t, cloudrun.Options{Dir: dir})
	r, err := revisionsClient(t, ts2.Addr).GetRevision(ctxT(t), &runpb.GetRevisionRequest{Name: v1.GetLatestReadyRevision()})
	if err != nil || r.GetContainers()[0].GetImage() != "x:1" {
		t.Fatalf("after restart: %v %v", r, err)
	}
}
