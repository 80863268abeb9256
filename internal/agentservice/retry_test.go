package agentservice

import (
	"context"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// faultyAPI is the provider's adapter against a Cloud Run emulator that fails every call with kind.
func faultyAPI(t *testing.T, kind kit.FaultKind, b shared.Backoff) (*api, *kit.Kit) {
	t.Helper()
	ts := cloudrun.StartTestServer(t, cloudrun.Options{OperationDelay: 10 * time.Millisecond})
	a, err := newAPI(context.Background(), option.WithEndpoint(ts.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.svc.Close() })
	a.backoff = b
	if err := ts.Kit.SetFaultSettings(kit.FaultSettings{Rate: 1, Seed: 1, Kinds: []kit.FaultKind{kind}}); err != nil {
		t.Fatal(err)
	}
	return a, ts.Kit
}

const getServiceMethod = "/google.cloud.run.v2.Services/GetService"

// The Cloud Run client retries GetService on UNAVAILABLE by itself (1s, 1.3x); with it turned off, the
// provider's retry is the only layer: exactly its attempts reach the API.
func TestRetry_oneLayerAroundTheCloudRunClient(t *testing.T) {
	t.Parallel()
	a, k := faultyAPI(t, kit.FaultUnavailable, shared.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	_, err := a.getService(ctx, serviceName("p", "europe-west1", "one-layer"))
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("getService under UNAVAILABLE: %v", err)
	}
	if n := k.Calls()[getServiceMethod]; n != 3 {
		t.Errorf("3 attempts of one retry layer must make 3 calls, the API saw %d (in %s)", n, time.Since(start))
	}
}

// RESOURCE_EXHAUSTED carries RetryInfo (kit.RetryDelay): the next attempt waits at least that long.
func TestRetry_honoursRetryInfoOfTheAPI(t *testing.T) {
	t.Parallel()
	a, k := faultyAPI(t, kit.FaultRateLimit, shared.Backoff{Initial: time.Millisecond, Max: 2 * time.Millisecond, Attempts: 2})
	start := time.Now()
	_, err := a.getService(context.Background(), serviceName("p", "europe-west1", "limited"))
	if d, ok := shared.RetryDelay(err); status.Code(err) != codes.ResourceExhausted || !ok || d != kit.RetryDelay {
		t.Fatalf("getService under rate limiting: %v", err)
	}
	if d := time.Since(start); d < kit.RetryDelay {
		t.Errorf("two attempts took %s; RetryInfo asked for %s between them", d, kit.RetryDelay)
	}
	if n := k.Calls()[getServiceMethod]; n != 2 {
		t.Errorf("2 attempts, %d calls", n)
	}
}

// cleanAPI is the adapter against an emulator without random faults; single faults are queued with
// Kit.FailNext.
func cleanAPI(t *testing.T) (*api, *kit.Kit) {
	t.Helper()
	a, k := faultyAPI(t, kit.FaultUnavailable, shared.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Attempts: 8})
	k.SetFaults(0, 0, 1)
	return a, k
}

const svcMethod = "/google.cloud.run.v2.Services/"

// testService is a service as toService builds it from a configuration that sets only name and image
// (the resource's defaults filled in).
func testService(id, image string) *runpb.Service {
	return &runpb.Service{
		Name:    serviceName("p", "europe-west1", id),
		Client:  "terraform-provider-alfred",
		Ingress: runpb.IngressTraffic_INGRESS_TRAFFIC_ALL,
		Template: &runpb.RevisionTemplate{
			Containers: []*runpb.Container{{Image: image, Ports: []*runpb.ContainerPort{{Name: "http1", ContainerPort: 8080}},
				Resources: &runpb.ResourceRequirements{Limits: map[string]string{}}}},
			Scaling:                       &runpb.RevisionScaling{MaxInstanceCount: defaultMaxInstances},
			MaxInstanceRequestConcurrency: defaultConcurrency,
			Timeout:                       durationpb.New(5 * time.Minute),
			ServiceAccount:                "agent@p.iam.gserviceaccount.com",
		},
	}
}

func mustCreate(t *testing.T, a *api, svc *runpb.Service) {
	t.Helper()
	ctx := context.Background()
	op, existing, err := a.create(ctx, svc)
	if err == nil && op != nil {
		_, err = wait(ctx, op)
	} else if err == nil {
		_, err = a.waitReconciled(ctx, svc.GetName(), existing.GetGeneration())
	}
	if err != nil {
		t.Fatalf("create %s: %v", svc.GetName(), err)
	}
}

// A create whose reply is lost (DEADLINE_EXCEEDED) took effect: the retry finds the service it made and
// follows its rollout, instead of failing on ALREADY_EXISTS or giving up with the service orphaned.
func TestCreate_afterALostReplyFindsItsOwnService(t *testing.T) {
	t.Parallel()
	a, k := cleanAPI(t)
	k.FailNext(svcMethod+"CreateService", kit.FaultLostReply)
	svc := testService("lost-create", "example.com/a:v1")
	op, existing, err := a.create(context.Background(), svc)
	if err != nil || op != nil || existing == nil {
		t.Fatalf("create after a lost reply: op %v, existing %v, err %v", op, existing, err)
	}
	if _, err := a.waitReconciled(context.Background(), svc.GetName(), existing.GetGeneration()); err != nil {
		t.Fatal(err)
	}
	if n := k.Calls()[svcMethod+"CreateService"]; n != 1 {
		t.Errorf("CreateService sent %d times", n)
	}
	// Someone else's service of the same name is not taken for ours.
	k.FailNext(svcMethod+"CreateService", kit.FaultUnavailable)
	_, _, err = a.create(context.Background(), testService("lost-create", "example.com/other:v1"))
	if status.Code(err) != codes.AlreadyExists {
		t.Errorf("a service with another image is not the one this create made: %v", err)
	}
}

// An update whose reply is lost took effect: the retry sees the change made and follows that rollout;
// the service is at generation 2, not 3 (the change is not written twice).
func TestUpdate_afterALostReplyIsNotWrittenTwice(t *testing.T) {
	t.Parallel()
	a, k := cleanAPI(t)
	had := testService("lost-update", "example.com/a:v1")
	mustCreate(t, a, had)
	want := testService("lost-update", "example.com/a:v2")
	k.FailNext(svcMethod+"UpdateService", kit.FaultLostReply)
	op, err := a.update(context.Background(), want, had)
	if err == nil {
		_, err = wait(context.Background(), op)
	}
	if err != nil {
		t.Fatalf("update after a lost reply: %v", err)
	}
	got, err := a.getService(context.Background(), want.GetName())
	if err != nil {
		t.Fatal(err)
	}
	if img := got.GetTemplate().GetContainers()[0].GetImage(); img != "example.com/a:v2" || got.GetGeneration() != 2 || got.GetReconciling() {
		t.Errorf("after the update: image %s, generation %d, reconciling %v", img, got.GetGeneration(), got.GetReconciling())
	}
	if n := k.Calls()[svcMethod+"UpdateService"]; n != 1 {
		t.Errorf("UpdateService sent %d times", n)
	}
	// A concurrent edit (ABORTED) is retried as a whole read-modify-write.
	k.FailNext(svcMethod+"UpdateService", kit.FaultConflict)
	op, err = a.update(context.Background(), testService("lost-update", "example.com/a:v3"), want)
	if err == nil {
		_, err = wait(context.Background(), op)
	}
	got, _ = a.getService(context.Background(), want.GetName())
	if err != nil || got.GetTemplate().GetContainers()[0].GetImage() != "example.com/a:v3" || got.GetGeneration() != 3 {
		t.Errorf("update after ABORTED: %v, %v", err, got)
	}
}

// A delete whose reply is lost took effect: the retry waits for that deletion.
func TestDelete_afterALostReplyWaitsForIt(t *testing.T) {
	t.Parallel()
	a, k := cleanAPI(t)
	svc := testService("lost-delete", "example.com/a:v1")
	mustCreate(t, a, svc)
	k.FailNext(svcMethod+"DeleteService", kit.FaultLostReply)
	op, err := a.delete(context.Background(), svc.GetName())
	if err == nil && op != nil {
		_, err = wait(context.Background(), op)
	}
	if err != nil {
		t.Fatalf("delete after a lost reply: %v", err)
	}
	if _, err := a.getService(context.Background(), svc.GetName()); !shared.IsNotFound(err) {
		t.Errorf("the service must be gone when delete returns: %v", err)
	}
	if n := k.Calls()[svcMethod+"DeleteService"]; n != 1 {
		t.Errorf("DeleteService sent %d times", n)
	}
}

// SetIamPolicy: a lost reply is not written again; ABORTED (a stale etag) re-reads the policy and retries.
func TestSetInvokers_lostReplyAndConflict(t *testing.T) {
	t.Parallel()
	a, k := cleanAPI(t)
	svc := testService("iam", "example.com/a:v1")
	mustCreate(t, a, svc)
	members := []string{"group:ops@example.com", "serviceAccount:gw@p.iam.gserviceaccount.com"}
	k.FailNext(svcMethod+"SetIamPolicy", kit.FaultLostReply)
	if err := a.setInvokers(context.Background(), svc.GetName(), members); err != nil {
		t.Fatalf("setInvokers after a lost reply: %v", err)
	}
	if n := k.Calls()[svcMethod+"SetIamPolicy"]; n != 1 {
		t.Errorf("SetIamPolicy sent %d times after a lost reply", n)
	}
	k.ResetCalls()
	k.FailNext(svcMethod+"SetIamPolicy", kit.FaultConflict)
	if err := a.setInvokers(context.Background(), svc.GetName(), members[:1]); err != nil {
		t.Fatalf("setInvokers after ABORTED: %v", err)
	}
	c := k.Calls()
	// Two reads by the read-modify-write, one by the wait until the change is visible.
	if c[svcMethod+"SetIamPolicy"] != 2 || c[svcMethod+"GetIamPolicy"] != 3 {
		t.Errorf("ABORTED must re-read the policy and write again: %v", c)
	}
	_, p, err := a.get(context.Background(), svc.GetName())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range p.GetBindings() {
		if b.GetRole() == invokerRole {
			got = append(got, b.GetMembers()...)
		}
	}
	if !sameMemberList(got, members[:1]) {
		t.Errorf("invokers: %v", got)
	}
}

// A create whose every attempt fails, the first after it took effect, leaves a service that
// findOwnCreate finds, so Create keeps it in state (tainted) instead of orphaning it; a create that never
// reached the API leaves nothing to find.
func TestCreate_allAttemptsFailedAfterTheWriteFindsTheOrphan(t *testing.T) {
	t.Parallel()
	a, k := cleanAPI(t)
	ctx := context.Background()
	svc := testService("lost-all", "example.com/a:v1")
	k.FailNext(svcMethod+"CreateService", kit.FaultLostReply)
	for range a.backoff.Attempts { // the check of every retry fails, until the read's budget is spent
		k.FailNext(svcMethod+"GetService", kit.FaultUnavailable)
	}
	if _, _, err := a.create(ctx, svc); status.Code(err) != codes.Unavailable {
		t.Fatalf("create with every attempt failing: %v", err)
	}
	if got := a.findOwnCreate(ctx, svc); got == nil || got.GetName() != svc.GetName() {
		t.Fatalf("the service the lost create made was not found: %v", got)
	}

	never := testService("never-made", "example.com/a:v1")
	for range a.backoff.Attempts {
		k.FailNext(svcMethod+"CreateService", kit.FaultUnavailable)
	}
	if _, _, err := a.create(ctx, never); status.Code(err) != codes.Unavailable {
		t.Fatalf("create refused every time: %v", err)
	}
	if got := a.findOwnCreate(ctx, never); got != nil {
		t.Fatalf("nothing was created, yet found %v", got.GetName())
	}
}

// The read and the write of one change each have the whole retry budget: with 8 attempts, 7 refused reads
// and 7 refused writes (15 calls failed or not, more than 8) still make the change. Under one budget for
// both, the change would give up after 8 failures of either.
func TestRetry_readAndWriteOfAChangeEachHaveTheWholeBudget(t *testing.T) {
	t.Parallel()
	a, k := cleanAPI(t)
	ctx := context.Background()
	failEach := func(methods ...string) {
		for _, m := range methods {
			for range a.backoff.Attempts - 1 {
				k.FailNext(svcMethod+m, kit.FaultUnavailable)
			}
		}
	}
	svc := testService("budgets", "example.com/a:v1")
	failEach("CreateService", "GetService")
	mustCreate(t, a, svc)

	want := testService("budgets", "example.com/a:v2")
	failEach("GetService", "UpdateService")
	op, err := a.update(ctx, want, svc)
	if err == nil {
		_, err = wait(ctx, op)
	}
	if err != nil {
		t.Fatalf("update with 7 refused reads and 7 refused writes: %v", err)
	}

	failEach("GetIamPolicy", "SetIamPolicy")
	if err := a.setInvokers(ctx, want.GetName(), []string{"group:ops@example.com"}); err != nil {
		t.Fatalf("setInvokers with 7 refused reads and 7 refused writes: %v", err)
	}

	failEach("DeleteService", "GetService")
	op, err = a.delete(ctx, want.GetName())
	if err == nil && op != nil {
		_, err = wait(ctx, op)
	}
	if err != nil {
		t.Fatalf("delete with 7 refused deletes and 7 refused reads: %v", err)
	}
	if _, err := a.getService(ctx, want.GetName()); !shared.IsNotFound(err) {
		t.Errorf("the service must be gone: %v", err)
	}
	if n := k.Calls()[svcMethod+"UpdateService"]; n != int64(a.backoff.Attempts) {
		t.Errorf("UpdateService called %d times, want %d (7 refused, then the one that took effect)", n, a.backoff.Attempts)
	}
}
