package cloudrun_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
)

const parent = "projects/p/locations/europe-west1"

type clients struct {
	svc  *run.ServicesClient
	jobs *run.JobsClient
	exec *run.ExecutionsClient
}

func clientOpts(addr string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

func start(t *testing.T, opts cloudrun.Options) (*cloudrun.TestServer, clients) {
	t.Helper()
	if opts.OperationDelay == 0 {
		opts.OperationDelay = 300 * time.Millisecond
	}
	ts := cloudrun.StartTestServer(t, opts)
	ctx := context.Background()
	svc, err := run.NewServicesClient(ctx, clientOpts(ts.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := run.NewJobsClient(ctx, clientOpts(ts.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	exec, err := run.NewExecutionsClient(ctx, clientOpts(ts.Addr)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close(); jobs.Close(); exec.Close() })
	return ts, clients{svc, jobs, exec}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func service(image string) *runpb.Service {
	return &runpb.Service{Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: image}}}}
}

func create(t *testing.T, c clients, id string, s *runpb.Service) *runpb.Service {
	t.Helper()
	op, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: id, Service: s})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	out, err := op.Wait(ctxT(t))
	if err != nil {
		t.Fatalf("wait: %v", err)
	}
	return out
}

func wantCode(t *testing.T, err error, code codes.Code, contains string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("got %v, want code %v", err, code)
	}
	if contains != "" && !strings.Contains(status.Convert(err).Message(), contains) {
		t.Fatalf("message %q does not contain %q", status.Convert(err).Message(), contains)
	}
}

func TestCreateService_operationIsNotDoneOnReturnAndCompletes(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	ctx := ctxT(t)
	op, err := c.svc.CreateService(ctx, &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: service("example.com/agent:v1")})
	if err != nil {
		t.Fatal(err)
	}
	if op.Done() {
		t.Fatal("create operation is done on return; Cloud Run returns a running operation")
	}
	if !strings.HasPrefix(op.Name(), parent+"/operations/") {
		t.Fatalf("operation name %q", op.Name())
	}
	meta, err := op.Metadata()
	if err != nil || meta.GetName() != parent+"/services/agent" || !meta.GetReconciling() {
		t.Fatalf("metadata: %v %v", meta, err)
	}
	if _, err := op.Poll(ctx); err != nil || op.Done() {
		t.Fatalf("first poll: done=%v err=%v", op.Done(), err)
	}
	svc, err := op.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !op.Done() || svc.GetReconciling() {
		t.Fatalf("after wait: done=%v reconciling=%v", op.Done(), svc.GetReconciling())
	}
}

func TestCreateService_fillsOutputOnlyFieldsAndDefaults(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	svc := create(t, c, "agent", &runpb.Service{Labels: map[string]string{"team": "ai"},
		Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "example.com/agent:v1",
			Resources: &runpb.ResourceRequirements{Limits: map[string]string{"memory": "1Gi"}}}}}})
	if svc.GetName() != parent+"/services/agent" || svc.GetUid() == "" || svc.GetGeneration() != 1 || svc.GetObservedGeneration() != 1 {
		t.Fatalf("identity fields: %v", svc)
	}
	if !regexp.MustCompile(`^https://agent-[0-9a-f]{10}-ew\.a\.run\.app$`).MatchString(svc.GetUri()) {
		t.Fatalf("uri %q", svc.GetUri())
	}
	// Revision references are full resource names, as the real service returns them.
	if !regexp.MustCompile(`^projects/p/locations/europe-west1/services/agent/revisions/agent-00001-[a-z]{3}$`).MatchString(svc.GetLatestReadyRevision()) ||
		svc.GetLatestCreatedRevision() != svc.GetLatestReadyRevision() {
		t.Fatalf("revisions %q %q", svc.GetLatestReadyRevision(), svc.GetLatestCreatedRevision())
	}
	// A LATEST target's status carries type and percent, no revision (as captured from the real service).
	if ts := svc.GetTrafficStatuses(); len(ts) != 1 || ts[0].GetPercent() != 100 || ts[0].GetRevision() != "" ||
		ts[0].GetType() != runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST {
		t.Fatalf("traffic statuses %v", ts)
	}
	if tc := svc.GetTerminalCondition(); tc.GetType() != "Ready" || tc.GetState() != runpb.Condition_CONDITION_SUCCEEDED {
		t.Fatalf("terminal condition %v", tc)
	}
	if svc.GetEtag() == "" || svc.GetCreateTime() == nil || svc.GetUpdateTime() == nil || svc.GetCreator() == "" || svc.GetLastModifier() == "" {
		t.Fatalf("etag/times/creator missing: %v", svc)
	}
	ctr := svc.GetTemplate().GetContainers()[0]
	if l := ctr.GetResources().GetLimits(); l["cpu"] != "1000m" || l["memory"] != "1Gi" {
		t.Fatalf("limits %v", l)
	}
	if p := ctr.GetPorts(); len(p) != 1 || p[0].GetContainerPort() != 8080 || p[0].GetName() != "http1" {
		t.Fatalf("ports %v", p)
	}
	if tm := svc.GetTemplate(); tm.GetMaxInstanceRequestConcurrency() != 80 || tm.GetTimeout().AsDuration() != 300*time.Second ||
		!strings.HasSuffix(tm.GetServiceAccount(), "-compute@developer.gserviceaccount.com") {
		t.Fatalf("template defaults %v", tm)
	}
	if svc.GetIngress() != runpb.IngressTraffic_INGRESS_TRAFFIC_ALL {
		t.Fatalf("ingress %v", svc.GetIngress())
	}
	if svc.GetAnnotations()[cloudrun.AnnotationOperationID] == "" || svc.GetLabels()[cloudrun.LabelLocation] != "europe-west1" || svc.GetLabels()["team"] != "ai" {
		t.Fatalf("server metadata: labels %v annotations %v", svc.GetLabels(), svc.GetAnnotations())
	}
}

func TestCreateService_alreadyExists(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	create(t, c, "agent", service("example.com/agent:v1"))
	_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: service("example.com/agent:v2")})
	wantCode(t, err, codes.AlreadyExists, "already exists")
}

func TestGetService_notFoundAndMalformedName(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	_, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/missing"})
	wantCode(t, err, codes.NotFound, "does not exist")
	_, err = c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: "services/missing"})
	wantCode(t, err, codes.InvalidArgument, "")
	_, err = c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: "projects/p", ServiceId: "a", Service: service("x")})
	wantCode(t, err, codes.InvalidArgument, "parent")
}

func TestCreateService_invalidServiceID(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	for _, id := range []string{"", "1agent", "Agent", "agent_1", "agent-", strings.Repeat("a", 50)} {
		_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: id, Service: service("x:1")})
		wantCode(t, err, codes.InvalidArgument, "")
	}
	create(t, c, strings.Repeat("a", 49), service("x:1"))
}

func TestCreateService_reservedNamespacesRejected(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	cases := []*runpb.Service{
		{Labels: map[string]string{"run.googleapis.com/owner": "x"}},
		{Annotations: map[string]string{"serving.knative.dev/creator": "x"}},
		{Annotations: map[string]string{"autoscaling.knative.dev/maxScale": "3"}},
		{Labels: map[string]string{"cloud.googleapis.com/location": "europe-west1"}},
	}
	for _, s := range cases {
		s.Template = &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: "x:1"}}}
		_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s})
		wantCode(t, err, codes.InvalidArgument, "reserved namespace")
	}
	s := service("x:1")
	s.Template.Labels = map[string]string{"run.googleapis.com/x": "y"}
	_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s})
	wantCode(t, err, codes.InvalidArgument, "reserved namespace")
}

func TestCreateService_malformedOrUnsupportedResources(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	for _, lim := range []map[string]string{
		{"cpu": "3x"}, {"memory": "512Q"}, {"cpu": "3"}, {"cpu": "1.5"}, {"cpu": "4", "memory": "512Mi"},
		{"memory": "64Mi"}, {"gpu": "1"},
	} {
		s := service("x:1")
		s.Template.Containers[0].Resources = &runpb.ResourceRequirements{Limits: lim}
		_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s})
		wantCode(t, err, codes.InvalidArgument, "")
	}
	s := service("x:1")
	s.Template.Scaling = &runpb.RevisionScaling{MinInstanceCount: 5, MaxInstanceCount: 2}
	_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s})
	wantCode(t, err, codes.InvalidArgument, "min_instance_count")
	s = service("x:1")
	s.Template.Containers[0].Resources = &runpb.ResourceRequirements{Limits: map[string]string{"cpu": "2", "memory": "1Gi"}}
	create(t, c, "agent", s)
}

// "Configure CPU limits" / "Configure memory limits": memory required per CPU (1 CPU up to 4 GiB, 2 up
// to 8 GiB, 4: 2-16 GiB, 6: 4-24 GiB, 8: 4-32 GiB), below 1 CPU only in steps of 0.001 with concurrency
// 1 (the default concurrency is 80), more than 512 MiB needs 0.5 CPU and more than 1 GiB needs 1 CPU;
// the second generation execution environment needs at least 512 MiB. Service.description: "This
// field currently has a 512-character limit."
func TestCreateService_cpuMemoryCombinationRules(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	type tc struct {
		lim         map[string]string
		concurrency int32
		gen2        bool
	}
	try := func(x tc) error {
		s := service("x:1")
		s.Template.Containers[0].Resources = &runpb.ResourceRequirements{Limits: x.lim}
		s.Template.MaxInstanceRequestConcurrency = x.concurrency
		if x.gen2 {
			s.Template.ExecutionEnvironment = runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN2
		}
		_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s, ValidateOnly: true})
		return err
	}
	for _, x := range []tc{
		{lim: map[string]string{"cpu": "1", "memory": "8Gi"}},
		{lim: map[string]string{"cpu": "2", "memory": "16Gi"}},
		{lim: map[string]string{"cpu": "4", "memory": "20Gi"}},
		{lim: map[string]string{"cpu": "6", "memory": "32Gi"}},
		{lim: map[string]string{"cpu": "500m"}},                                  // default concurrency 80
		{lim: map[string]string{"cpu": "0.0805"}, concurrency: 1},                // not a multiple of 0.001
		{lim: map[string]string{"cpu": "250m", "memory": "1Gi"}, concurrency: 1}, // > 512Mi needs 0.5 CPU
		{lim: map[string]string{"cpu": "500m", "memory": "2Gi"}, concurrency: 1}, // > 1Gi needs 1 CPU
		{lim: map[string]string{"memory": "256Mi"}, gen2: true},
	} {
		if err := try(x); status.Code(err) != codes.InvalidArgument {
			t.Errorf("limits %v concurrency %d gen2 %v: want INVALID_ARGUMENT, got %v", x.lim, x.concurrency, x.gen2, err)
		}
	}
	for _, x := range []tc{
		{lim: map[string]string{"cpu": "1", "memory": "4Gi"}},
		{lim: map[string]string{"cpu": "2", "memory": "8Gi"}},
		{lim: map[string]string{"cpu": "8", "memory": "32Gi"}},
		{lim: map[string]string{"cpu": "500m", "memory": "1Gi"}, concurrency: 1},
		{lim: map[string]string{"cpu": "0.083", "memory": "128Mi"}, concurrency: 1},
		{lim: map[string]string{"memory": "256Mi"}},
	} {
		if err := try(x); err != nil {
			t.Errorf("limits %v concurrency %d: want accepted, got %v", x.lim, x.concurrency, err)
		}
	}
	s := service("x:1")
	s.Description = strings.Repeat("d", 513)
	_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s})
	wantCode(t, err, codes.InvalidArgument, "512")
}

func TestCreateService_validateOnlyPersistsNothing(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	op, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: service("x:1"), ValidateOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := op.Wait(ctxT(t))
	if err != nil || svc.GetTemplate().GetContainers()[0].GetResources().GetLimits()["cpu"] != "1000m" {
		t.Fatalf("validate-only response %v %v", svc, err)
	}
	_, err = c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/agent"})
	wantCode(t, err, codes.NotFound, "")
}

func TestUpdateService_templateChangeCreatesRevisionMetadataChangeDoesNot(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	v1 := create(t, c, "agent", service("example.com/agent:v1"))
	v1.Template.Containers[0].Image = "example.com/agent:v2"
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: v1})
	if err != nil {
		t.Fatal(err)
	}
	if op.Done() {
		t.Fatal("update operation done on return")
	}
	// While the rollout runs, the operation's metadata (a Service, as UpdateServiceOperation.Metadata
	// decodes it) and GetService show reconciling, the new generation, and observed_generation still at
	// the serving one; latest_created_revision is the new revision, latest_ready_revision the old one.
	meta, err := op.Metadata()
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	mid, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: v1.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*runpb.Service{meta, mid} {
		if !s.GetReconciling() || s.GetGeneration() != 2 || s.GetObservedGeneration() != 1 ||
			s.GetLatestReadyRevision() != v1.GetLatestReadyRevision() || s.GetLatestCreatedRevision() == v1.GetLatestCreatedRevision() ||
			s.GetTerminalCondition().GetState() != runpb.Condition_CONDITION_RECONCILING {
			t.Fatalf("during the rollout: reconciling %v generation %d observed %d ready %q created %q terminal %v",
				s.GetReconciling(), s.GetGeneration(), s.GetObservedGeneration(), s.GetLatestReadyRevision(),
				s.GetLatestCreatedRevision(), s.GetTerminalCondition())
		}
	}
	types := map[string]runpb.Condition_State{}
	for _, cond := range mid.GetConditions() {
		types[cond.GetType()] = cond.GetState()
	}
	if types["RoutesReady"] != runpb.Condition_CONDITION_RECONCILING || types["ConfigurationsReady"] != runpb.Condition_CONDITION_RECONCILING {
		t.Fatalf("conditions during the rollout: %v", mid.GetConditions())
	}
	v2, err := op.Wait(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if v2.GetGeneration() != 2 || v2.GetObservedGeneration() != 2 || v2.GetLatestReadyRevision() == v1.GetLatestReadyRevision() ||
		!strings.HasPrefix(v2.GetLatestReadyRevision(), parent+"/services/agent/revisions/agent-00002-") || v2.GetUri() != v1.GetUri() || v2.GetUid() != v1.GetUid() || v2.GetEtag() == v1.GetEtag() {
		t.Fatalf("after image change: gen %d rev %q (was %q) uri %q", v2.GetGeneration(), v2.GetLatestReadyRevision(), v1.GetLatestReadyRevision(), v2.GetUri())
	}
	v2.Labels["team"] = "ai"
	op, err = c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: v2})
	if err != nil {
		t.Fatal(err)
	}
	v3, err := op.Wait(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if v3.GetGeneration() != 3 || v3.GetLatestReadyRevision() != v2.GetLatestReadyRevision() || v3.GetLabels()["team"] != "ai" {
		t.Fatalf("after label change: gen %d rev %q", v3.GetGeneration(), v3.GetLatestReadyRevision())
	}
}

func TestUpdateService_allowMissing(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	s := service("x:1")
	s.Name = parent + "/services/agent"
	_, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: s})
	wantCode(t, err, codes.NotFound, "")
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: s, AllowMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := op.Wait(ctxT(t))
	if err != nil || out.GetGeneration() != 1 || out.GetLatestReadyRevision() == "" {
		t.Fatalf("allow_missing create: %v %v", out, err)
	}
}

func TestEtagMismatch_abortsUpdateAndDelete(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	v1 := create(t, c, "agent", service("x:1"))
	stale := v1.GetEtag()
	v1.Template.Containers[0].Image = "x:2"
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: v1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	v1.Template.Containers[0].Image = "x:3"
	v1.Etag = stale
	_, err = c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: v1})
	wantCode(t, err, codes.Aborted, "etag")
	_, err = c.svc.DeleteService(ctxT(t), &runpb.DeleteServiceRequest{Name: v1.GetName(), Etag: stale})
	wantCode(t, err, codes.Aborted, "etag")
}

func TestDeleteService_returnsServiceThenNotFound(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	create(t, c, "agent", service("x:1"))
	op, err := c.svc.DeleteService(ctxT(t), &runpb.DeleteServiceRequest{Name: parent + "/services/agent"})
	if err != nil {
		t.Fatal(err)
	}
	if op.Done() {
		t.Fatal("delete operation done on return")
	}
	// While the deletion runs the service is still visible, reconciling.
	during, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/agent"})
	if err != nil || !during.GetReconciling() || during.GetDeleteTime() == nil {
		t.Fatalf("during delete: %v %v", during, err)
	}
	// WaitOperation through the client's own long-running operations client.
	done, err := c.svc.LROClient.WaitOperation(ctxT(t), &longrunningpb.WaitOperationRequest{Name: op.Name(), Timeout: durationpb.New(10 * time.Second)})
	if err != nil || !done.GetDone() {
		t.Fatalf("WaitOperation: %v %v", done, err)
	}
	gone, err := op.Wait(ctxT(t))
	if err != nil || gone.GetName() != parent+"/services/agent" {
		t.Fatalf("delete response %v %v", gone, err)
	}
	_, err = c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/agent"})
	wantCode(t, err, codes.NotFound, "")
	_, err = c.svc.DeleteService(ctxT(t), &runpb.DeleteServiceRequest{Name: parent + "/services/agent"})
	wantCode(t, err, codes.NotFound, "")
}

func TestRollout_imageTaggedFailEndsWithTerminalCondition(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	op, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: service("example.com/agent:fail")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = op.Wait(ctxT(t))
	if err == nil || !strings.Contains(err.Error(), "is not ready and cannot serve traffic") {
		t.Fatalf("want a failed rollout, got %v", err)
	}
	svc, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/agent"})
	if err != nil {
		t.Fatal(err)
	}
	tc := svc.GetTerminalCondition()
	short := svc.GetLatestCreatedRevision()[strings.LastIndex(svc.GetLatestCreatedRevision(), "/")+1:]
	if tc.GetState() != runpb.Condition_CONDITION_FAILED || !strings.Contains(tc.GetMessage(), "Revision '"+short+"' is not ready") ||
		!strings.Contains(tc.GetMessage(), "PORT=8080") || svc.GetLatestReadyRevision() != "" || svc.GetReconciling() {
		t.Fatalf("failed service: %v", svc)
	}
	// Service.reconciling: "If reconciliation failed, traffic_statuses, observed_generation, and
	// latest_ready_revision will have the state of the last serving revision, or empty for newly created
	// Services."
	if svc.GetObservedGeneration() != 0 || len(svc.GetTrafficStatuses()) != 0 || svc.GetGeneration() != 1 {
		t.Fatalf("failed new service: observed_generation %d (want 0), traffic_statuses %v (want none)",
			svc.GetObservedGeneration(), svc.GetTrafficStatuses())
	}
	for _, cond := range svc.GetConditions() {
		if cond.GetState() != runpb.Condition_CONDITION_FAILED {
			t.Fatalf("condition %s is %v after a failed rollout", cond.GetType(), cond.GetState())
		}
	}
	// A good image repairs it.
	svc.Template.Containers[0].Image = "example.com/agent:v1"
	op2, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := op2.Wait(ctxT(t))
	if err != nil || fixed.GetTerminalCondition().GetState() != runpb.Condition_CONDITION_SUCCEEDED || fixed.GetLatestReadyRevision() == "" {
		t.Fatalf("repair: %v %v", fixed, err)
	}
	if fixed.GetObservedGeneration() != fixed.GetGeneration() || fixed.GetLatestReadyRevision() != fixed.GetLatestCreatedRevision() {
		t.Fatalf("repaired service does not match: %v", fixed)
	}
	// A failed update of a serving service keeps the serving state: the last ready revision, its
	// generation and its traffic, while latest_created_revision names the failed revision.
	fixed.Template.Containers[0].Image = "example.com/agent:fail"
	op3, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: fixed})
	if err != nil {
		t.Fatal(err)
	}
	_, err = op3.Wait(ctxT(t))
	wantCode(t, err, codes.FailedPrecondition, "is not ready and cannot serve traffic")
	after, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/agent"})
	if err != nil {
		t.Fatal(err)
	}
	if after.GetGeneration() != fixed.GetGeneration()+1 || after.GetObservedGeneration() != fixed.GetGeneration() ||
		after.GetLatestReadyRevision() != fixed.GetLatestReadyRevision() || after.GetLatestCreatedRevision() == fixed.GetLatestReadyRevision() ||
		len(after.GetTrafficStatuses()) != 1 || after.GetTrafficStatuses()[0].GetPercent() != 100 ||
		after.GetTerminalCondition().GetState() != runpb.Condition_CONDITION_FAILED || after.GetReconciling() {
		t.Fatalf("failed update of a serving service: generation %d observed %d ready %q created %q traffic %v terminal %v",
			after.GetGeneration(), after.GetObservedGeneration(), after.GetLatestReadyRevision(), after.GetLatestCreatedRevision(),
			after.GetTrafficStatuses(), after.GetTerminalCondition())
	}
}

func TestUpdateService_serverMetadataMayBeSentBack(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	v1 := create(t, c, "agent", service("x:1"))
	// Read-modify-write with what the server added is accepted; a new reserved key is not.
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: v1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	v2, _ := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: v1.GetName()})
	v2.Annotations["run.googleapis.com/invented"] = "1"
	_, err = c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: v2})
	wantCode(t, err, codes.InvalidArgument, "reserved namespace")
}

func TestIamPolicy_getSetEtagAndMembers(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	svc := create(t, c, "agent", service("x:1"))
	ctx := ctxT(t)
	p, err := c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: svc.GetName()})
	if err != nil || len(p.GetBindings()) != 0 || len(p.GetEtag()) == 0 {
		t.Fatalf("empty policy: %v %v", p, err)
	}
	p.Bindings = []*iampb.Binding{{Role: "roles/run.invoker", Members: []string{"allUsers", "serviceAccount:bot@p.iam.gserviceaccount.com"}}}
	set, err := c.svc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: svc.GetName(), Policy: p})
	if err != nil || string(set.GetEtag()) == string(p.GetEtag()) {
		t.Fatalf("set: %v %v", set, err)
	}
	got, err := c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: svc.GetName()})
	if err != nil || len(got.GetBindings()) != 1 || len(got.GetBindings()[0].GetMembers()) != 2 {
		t.Fatalf("get after set: %v %v", got, err)
	}
	// The stale etag of the first read is refused.
	_, err = c.svc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: svc.GetName(), Policy: p})
	wantCode(t, err, codes.Aborted, "concurrent policy changes")
	bad := &iampb.Policy{Bindings: []*iampb.Binding{{Role: "roles/run.invoker", Members: []string{"bob@example.com"}}}}
	_, err = c.svc.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: svc.GetName(), Policy: bad})
	wantCode(t, err, codes.InvalidArgument, "principal")
	perms, err := c.svc.TestIamPermissions(ctx, &iampb.TestIamPermissionsRequest{Resource: svc.GetName(), Permissions: []string{"run.routes.invoke", "storage.objects.get"}})
	if err != nil || len(perms.GetPermissions()) != 1 || perms.GetPermissions()[0] != "run.routes.invoke" {
		t.Fatalf("TestIamPermissions: %v %v", perms, err)
	}
	_, err = c.svc.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: parent + "/services/missing"})
	wantCode(t, err, codes.NotFound, "")
}

func TestListServices_newestFirstWithPages(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	for _, id := range []string{"a", "b", "c"} {
		create(t, c, id, service("x:1"))
	}
	it := c.svc.ListServices(ctxT(t), &runpb.ListServicesRequest{Parent: parent, PageSize: 2})
	var names []string
	for {
		s, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, s.GetName()[strings.LastIndex(s.GetName(), "/")+1:])
	}
	if strings.Join(names, ",") != "c,b,a" {
		t.Fatalf("list order %v", names)
	}
}

func TestState_survivesRestart(t *testing.T) {
	dir := t.TempDir()
	ts, c := start(t, cloudrun.Options{Dir: dir})
	v1 := create(t, c, "agent", service("x:1"))
	if err := ts.Server.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cloudrun.json")); err != nil {
		t.Fatal(err)
	}
	_, c2 := start(t, cloudrun.Options{Dir: dir})
	got, err := c2.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: v1.GetName()})
	if err != nil || got.GetUid() != v1.GetUid() || got.GetLatestReadyRevision() != v1.GetLatestReadyRevision() {
		t.Fatalf("after restart: %v %v", got, err)
	}
}

func job(image string, args ...string) *runpb.Job {
	return &runpb.Job{Template: &runpb.ExecutionTemplate{Template: &runpb.TaskTemplate{Containers: []*runpb.Container{{
		Image: image, Args: args, Env: []*runpb.EnvVar{{Name: "GREETING", Values: &runpb.EnvVar_Value{Value: "hello"}}}}}}}}
}

func TestJobs_createGetListUpdateDelete(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	ctx := ctxT(t)
	op, err := c.jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "backup", Job: job("example.com/backup:v1")})
	if err != nil {
		t.Fatal(err)
	}
	if op.Done() {
		t.Fatal("create job operation done on return")
	}
	j, err := op.Wait(ctx)
	if err != nil || j.GetGeneration() != 1 || j.GetTerminalCondition().GetState() != runpb.Condition_CONDITION_SUCCEEDED ||
		j.GetTemplate().GetTaskCount() != 1 || j.GetTemplate().GetTemplate().GetMaxRetries() != 3 || j.GetTemplate().GetTemplate().GetTimeout().AsDuration() != 10*time.Minute {
		t.Fatalf("job: %v %v", j, err)
	}
	_, err = c.jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "backup", Job: job("x:1")})
	wantCode(t, err, codes.AlreadyExists, "")
	if it := c.jobs.ListJobs(ctx, &runpb.ListJobsRequest{Parent: parent}); true {
		first, err := it.Next()
		if err != nil || first.GetName() != j.GetName() {
			t.Fatalf("list: %v %v", first, err)
		}
	}
	j.Template.Template.Containers[0].Image = "example.com/backup:v2"
	uop, err := c.jobs.UpdateJob(ctx, &runpb.UpdateJobRequest{Job: j})
	if err != nil {
		t.Fatal(err)
	}
	j2, err := uop.Wait(ctx)
	if err != nil || j2.GetGeneration() != 2 || j2.GetTemplate().GetTemplate().GetContainers()[0].GetImage() != "example.com/backup:v2" {
		t.Fatalf("update: %v %v", j2, err)
	}
	dop, err := c.jobs.DeleteJob(ctx, &runpb.DeleteJobRequest{Name: j.GetName()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dop.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = c.jobs.GetJob(ctx, &runpb.GetJobRequest{Name: j.GetName()})
	wantCode(t, err, codes.NotFound, "")
}

// fakeAlfredctl writes a stand-in for the alfredctl binary: a shell script that records its arguments and
// environment and exits with the status given in its first argument. The emulator runs whatever binary
// AlfredctlPath names; the real binary is exercised by the sandbox end-to-end tests.
func fakeAlfredctl(t *testing.T) (path, record string) {
	dir := t.TempDir()
	record = filepath.Join(dir, "record")
	path = filepath.Join(dir, "alfredctl")
	script := "#!/bin/sh\necho \"args=$*\" >> " + record + "\necho \"greeting=$GREETING task=$CLOUD_RUN_TASK_INDEX debug=$ALFRED_SANDBOX_DEBUG_URL\" >> " + record + "\nexit $1\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, record
}

func TestRunJob_alfredctlImageRunsLocalBinaryWithArgsAndEnv(t *testing.T) {
	bin, record := fakeAlfredctl(t)
	ts, c := start(t, cloudrun.Options{AlfredctlPath: bin})
	// The sandbox's execution variables are seen, under the job's own (GREETING).
	ts.Server.SetExecutionEnv("ALFRED_SANDBOX_DEBUG_URL=http://127.0.0.1:9", "GREETING=from-sandbox")
	ctx := ctxT(t)
	op, err := c.jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "backup", Job: job("local/alfredctl:latest", "0", "backup", "run")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rop, err := c.jobs.RunJob(ctx, &runpb.RunJobRequest{Name: parent + "/jobs/backup"})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := rop.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ex.GetSucceededCount() != 1 || ex.GetFailedCount() != 0 || ex.GetCompletionTime() == nil {
		t.Fatalf("execution: %v", ex)
	}
	b, _ := os.ReadFile(record)
	if !strings.Contains(string(b), "args=0 backup run") || !strings.Contains(string(b), "greeting=hello task=0 debug=http://127.0.0.1:9") {
		t.Fatalf("binary was not run with the job's args and env: %q", b)
	}
	// Overrides: the exit status becomes the execution's outcome.
	rop, err = c.jobs.RunJob(ctx, &runpb.RunJobRequest{Name: parent + "/jobs/backup", Overrides: &runpb.RunJobRequest_Overrides{
		ContainerOverrides: []*runpb.RunJobRequest_Overrides_ContainerOverride{{Args: []string{"3", "backup", "verify"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ex2, err := rop.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var completed *runpb.Condition
	for _, cnd := range ex2.GetConditions() {
		if cnd.GetType() == "Completed" {
			completed = cnd
		}
	}
	if ex2.GetFailedCount() != 1 || ex2.GetSucceededCount() != 0 || completed.GetState() != runpb.Condition_CONDITION_FAILED || !strings.Contains(completed.GetMessage(), "exit status 3") {
		t.Fatalf("failed execution: %v", ex2)
	}
	got, err := c.exec.GetExecution(ctx, &runpb.GetExecutionRequest{Name: ex2.GetName()})
	if err != nil || got.GetFailedCount() != 1 {
		t.Fatalf("GetExecution: %v %v", got, err)
	}
	j, _ := c.jobs.GetJob(ctx, &runpb.GetJobRequest{Name: parent + "/jobs/backup"})
	if j.GetExecutionCount() != 2 || j.GetLatestCreatedExecution().GetName() != ex2.GetName() ||
		j.GetLatestCreatedExecution().GetCompletionStatus() != runpb.ExecutionReference_EXECUTION_FAILED {
		t.Fatalf("job after runs: %v", j)
	}
}

func TestRunJobByName_startsExecutionVisibleThroughAPI(t *testing.T) {
	ts, c := start(t, cloudrun.Options{})
	ctx := ctxT(t)
	op, err := c.jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "nightly", Job: job("example.com/task:v1")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ts.Server.RunJobByName(ctx, parent+"/jobs/nightly"); err != nil {
		t.Fatal(err)
	}
	if err := ts.Server.RunJobByName(ctx, parent+"/jobs/missing"); status.Code(err) != codes.NotFound {
		t.Fatalf("missing job: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		it := c.exec.ListExecutions(ctx, &runpb.ListExecutionsRequest{Parent: parent + "/jobs/nightly"})
		ex, err := it.Next()
		if err != nil {
			t.Fatalf("list executions: %v", err)
		}
		if ex.GetCompletionTime() != nil {
			if ex.GetSucceededCount() != 1 {
				t.Fatalf("execution: %v", ex)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("execution did not complete")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestKit_countsCallsPerMethod(t *testing.T) {
	ts, c := start(t, cloudrun.Options{})
	create(t, c, "agent", service("x:1"))
	ts.Kit.ResetCalls()
	for i := 0; i < 3; i++ {
		if _, err := c.svc.GetService(ctxT(t), &runpb.GetServiceRequest{Name: parent + "/services/agent"}); err != nil {
			t.Fatal(err)
		}
	}
	if n := ts.Kit.Calls()["/google.cloud.run.v2.Services/GetService"]; n != 3 {
		t.Fatalf("GetService counted %d times", n)
	}
}

// "Set maximum retries for jobs": an integer from 0 to 10, default 3; "Set task timeout for jobs": up to
// 168 hours, default 10 minutes.
func TestCreateJob_maxRetriesAndTimeoutBounds(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	try := func(mut func(*runpb.TaskTemplate)) (*runpb.Job, error) {
		j := job("example.com/worker:v1")
		mut(j.Template.Template)
		op, err := c.jobs.CreateJob(ctxT(t), &runpb.CreateJobRequest{Parent: parent, JobId: "worker", Job: j, ValidateOnly: true})
		if err != nil {
			return nil, err
		}
		return op.Wait(ctxT(t))
	}
	for what, mut := range map[string]func(*runpb.TaskTemplate){
		"max_retries 11": func(tt *runpb.TaskTemplate) { tt.Retries = &runpb.TaskTemplate_MaxRetries{MaxRetries: 11} },
		"max_retries -1": func(tt *runpb.TaskTemplate) { tt.Retries = &runpb.TaskTemplate_MaxRetries{MaxRetries: -1} },
		"timeout 169h":   func(tt *runpb.TaskTemplate) { tt.Timeout = durationpb.New(169 * time.Hour) },
	} {
		if _, err := try(mut); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: want INVALID_ARGUMENT, got %v", what, err)
		}
	}
	got, err := try(func(tt *runpb.TaskTemplate) { tt.Retries = nil; tt.Timeout = nil })
	if err != nil {
		t.Fatal(err)
	}
	if tt := got.GetTemplate().GetTemplate(); tt.GetMaxRetries() != 3 || tt.GetTimeout().AsDuration() != 10*time.Minute {
		t.Fatalf("defaults: max_retries %d timeout %s", tt.GetMaxRetries(), tt.GetTimeout().AsDuration())
	}
	if _, err := try(func(tt *runpb.TaskTemplate) {
		tt.Retries = &runpb.TaskTemplate_MaxRetries{MaxRetries: 10}
		tt.Timeout = durationpb.New(168 * time.Hour)
	}); err != nil {
		t.Fatalf("max_retries 10 and timeout 168h are allowed: %v", err)
	}
}

// Google Cloud label requirements (which Service.labels and Job.labels link to): "No more than 64 labels
// can be associated with a given resource", keys and values "must both be under 128 bytes". The
// server-owned cloud.googleapis.com/location label does not count against the 64.
func TestCreate_labelCountAndBytesLimits(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	labels := func(n int) map[string]string {
		m := map[string]string{}
		for i := 0; i < n; i++ {
			m["k"+strings.Repeat("x", i%5)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
		}
		return m
	}
	for name, l := range map[string]map[string]string{
		"65 labels":          labels(65),
		"key of 129 bytes":   {strings.Repeat("日", 43): "v"}, // 43 characters (at most 63 are allowed)
		"value of 129 bytes": {"k": strings.Repeat("日", 43)},
		"template 65 labels": nil,
	} {
		s := service("x:1")
		s.Labels = l
		if l == nil {
			s.Template.Labels = labels(65)
		}
		_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s, ValidateOnly: true})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("service, %s: %v, want InvalidArgument", name, err)
		}
		job := &runpb.Job{Labels: l, Template: &runpb.ExecutionTemplate{Template: &runpb.TaskTemplate{Containers: []*runpb.Container{{Image: "x:1"}}}}}
		if l == nil {
			job.Template.Labels = labels(65)
		}
		_, err = c.jobs.CreateJob(ctxT(t), &runpb.CreateJobRequest{Parent: parent, JobId: "job", Job: job, ValidateOnly: true})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("job, %s: %v, want InvalidArgument", name, err)
		}
	}
	s := service("x:1")
	s.Labels = labels(64)
	svc := create(t, c, "agent", s)
	if len(svc.GetLabels()) != 65 || svc.GetLabels()["cloud.googleapis.com/location"] == "" {
		t.Fatalf("64 user labels and the location label: got %d labels", len(svc.GetLabels()))
	}
	// Sending back the resource with its server-owned label and 64 user labels is accepted.
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: svc})
	if err != nil {
		t.Fatalf("update with 64 user labels: %v", err)
	}
	if _, err := op.Wait(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// UpdateServiceRequest.update_mask ("The list of fields to be updated"): the listed fields come from the
// request and the others stay; an unknown path is INVALID_ARGUMENT; an output-only path is ignored.
func TestUpdateService_updateMaskSetsOnlyListedFieldsAndRefusesUnknownPaths(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	s := service("x:1")
	s.Description = "first"
	svc := create(t, c, "agent", s)
	for _, p := range []string{"no_such_field", "template.no_such_field", "template.containers.image", "labels.a.b", ""} {
		_, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{Service: &runpb.Service{Name: svc.Name},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{p}}})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("mask path %q: %v, want InvalidArgument", p, err)
		}
	}
	op, err := c.svc.UpdateService(ctxT(t), &runpb.UpdateServiceRequest{
		Service:    &runpb.Service{Name: svc.Name, Labels: map[string]string{"team": "ai"}, Uri: "https://elsewhere", Description: "ignored"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"labels.team", "uri"}}})
	if err != nil {
		t.Fatalf("labels-only update without a template: %v", err)
	}
	got, err := op.Wait(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.GetLabels()["team"] != "ai" || got.GetDescription() != "first" || got.GetUri() != svc.GetUri() ||
		got.GetTemplate().GetContainers()[0].GetImage() != "x:1" || got.GetLatestCreatedRevision() != svc.GetLatestCreatedRevision() {
		t.Fatalf("after a labels.team mask: labels %v, description %q, uri %q, image %q, revision %q (was %q)", got.GetLabels(),
			got.GetDescription(), got.GetUri(), got.GetTemplate().GetContainers()[0].GetImage(), got.GetLatestCreatedRevision(), svc.GetLatestCreatedRevision())
	}
}

// Container.name: "Name of the container specified as a DNS_LABEL (RFC 1123)": lowercase letters, digits
// and '-', starting and ending with a letter or digit, at most 63 characters; an unnamed container is fine.
func TestCreate_containerNameIsADNSLabel(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	for _, name := range []string{"Agent", "agent_1", "-agent", "agent-", "a.b", strings.Repeat("a", 64)} {
		s := service("x:1")
		s.Template.Containers[0].Name = name
		_, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s, ValidateOnly: true})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("service container %q: %v, want InvalidArgument", name, err)
		}
		job := &runpb.Job{Template: &runpb.ExecutionTemplate{Template: &runpb.TaskTemplate{Containers: []*runpb.Container{{Name: name, Image: "x:1"}}}}}
		_, err = c.jobs.CreateJob(ctxT(t), &runpb.CreateJobRequest{Parent: parent, JobId: "job", Job: job, ValidateOnly: true})
		if status.Code(err) != codes.InvalidArgument {
			t.Errorf("job container %q: %v, want InvalidArgument", name, err)
		}
	}
	for _, name := range []string{"", "agent", "gmp-collector", "1st", strings.Repeat("a", 63)} {
		s := service("x:1")
		s.Template.Containers[0].Name = name
		if _, err := c.svc.CreateService(ctxT(t), &runpb.CreateServiceRequest{Parent: parent, ServiceId: "agent", Service: s, ValidateOnly: true}); err != nil {
			t.Errorf("service container %q: %v", name, err)
		}
	}
}

// Cloud Run quotas and limits: "Maximum number of tasks in a single job: 10,000" (cannot be increased),
// for the job's task_count and for a run's task_count override.
func TestJob_taskCountAtMostTenThousand(t *testing.T) {
	_, c := start(t, cloudrun.Options{})
	j := job("example.com/worker:v1")
	j.Template.TaskCount = 10001
	_, err := c.jobs.CreateJob(ctxT(t), &runpb.CreateJobRequest{Parent: parent, JobId: "worker", Job: j, ValidateOnly: true})
	wantCode(t, err, codes.InvalidArgument, "10000")
	j.Template.TaskCount = 10000
	op, err := c.jobs.CreateJob(ctxT(t), &runpb.CreateJobRequest{Parent: parent, JobId: "worker", Job: j})
	if err != nil {
		t.Fatal(err)
	}
	created, err := op.Wait(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.jobs.RunJob(ctxT(t), &runpb.RunJobRequest{Name: created.GetName(), Overrides: &runpb.RunJobRequest_Overrides{TaskCount: 10001}})
	wantCode(t, err, codes.InvalidArgument, "10000")
}
