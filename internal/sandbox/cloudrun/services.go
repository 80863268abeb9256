package cloudrun

import (
	"context"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/genproto/googleapis/api"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Server-owned metadata the emulator adds to every service, as Google does.
const (
	AnnotationOperationID = "run.googleapis.com/operation-id"
	LabelLocation         = "cloud.googleapis.com/location"
)

type servicesAPI struct {
	runpb.UnimplementedServicesServer
	s *Server
}

// regionCodes are the short region codes of run.app URLs for the common regions.
var regionCodes = map[string]string{
	"europe-west1": "ew", "europe-west2": "nw", "europe-west3": "ey", "europe-west4": "ez", "europe-north1": "lz",
	"us-central1": "uc", "us-east1": "ue", "us-east4": "uk", "us-west1": "uw", "asia-northeast1": "an",
	"asia-east1": "de", "australia-southeast1": "ts",
}

func regionCode(region string) string {
	if c, ok := regionCodes[region]; ok {
		return c
	}
	parts := strings.Split(region, "-")
	code := ""
	for _, p := range parts {
		code += p[:1]
	}
	return code
}

func serviceURI(project, region, id string) string {
	h := projectNumber(project + "/" + region)
	return fmt.Sprintf("https://%s-%s-%s.a.run.app", id, strings.ToLower(fmt.Sprintf("%x", h))[:10], regionCode(region))
}

func notFoundService(name string) error {
	p := strings.Split(name, "/")
	if len(p) == 6 {
		return status.Errorf(codes.NotFound, "Resource '%s' of kind 'SERVICE' in region '%s' in project '%s' does not exist.", p[5], p[3], p[1])
	}
	return status.Errorf(codes.NotFound, "Resource '%s' does not exist.", name)
}

// defaultTemplate fills what Cloud Run fills in a revision template when the request leaves it out.
func defaultTemplate(project string, t *runpb.RevisionTemplate) {
	if t.MaxInstanceRequestConcurrency == 0 {
		t.MaxInstanceRequestConcurrency = 80
	}
	if t.Timeout == nil {
		t.Timeout = durationpb.New(300 * time.Second)
	}
	if t.ServiceAccount == "" {
		t.ServiceAccount = projectNumber(project) + "-compute@developer.gserviceaccount.com"
	}
	if t.Scaling == nil {
		t.Scaling = &runpb.RevisionScaling{}
	}
	if t.Scaling.MaxInstanceCount == 0 {
		t.Scaling.MaxInstanceCount = 100
	}
	defaultVPCAccess(t)
	for i, c := range t.Containers {
		defaultResources(c)
		if c.Resources.Limits == nil {
			c.Resources.Limits = map[string]string{}
		}
		if _, ok := c.Resources.Limits["cpu"]; !ok {
			c.Resources.Limits["cpu"] = "1000m"
		}
		if _, ok := c.Resources.Limits["memory"]; !ok {
			c.Resources.Limits["memory"] = "512Mi"
		}
		if i == 0 && len(c.Ports) == 0 {
			c.Ports = []*runpb.ContainerPort{{Name: "http1", ContainerPort: 8080}}
		}
		for _, p := range c.Ports {
			if p.Name == "" {
				p.Name = "http1"
			}
			if p.ContainerPort == 0 {
				p.ContainerPort = 8080
			}
		}
		defaultProbes(c, true)
	}
}

func validateService(svc *runpb.Service, serverOwned map[string]string) error {
	if n := len([]rune(svc.GetDescription())); n > 512 {
		return invalid("service.description", "description has %d characters; it is limited to 512.", n)
	}
	if err := validateMeta("service", svc.GetLabels(), svc.GetAnnotations(), serverOwned); err != nil {
		return err
	}
	t := svc.GetTemplate()
	if t == nil || len(t.GetContainers()) == 0 {
		return invalid("service.template.containers", "service.template.containers: at least one container is required.")
	}
	if err := validateMeta("service.template", t.GetLabels(), t.GetAnnotations(), nil); err != nil {
		return err
	}
	if c := t.GetMaxInstanceRequestConcurrency(); c < 0 || c > 1000 {
		return invalid("service.template.max_instance_request_concurrency", "max_instance_request_concurrency must be between 1 and 1000, got %d.", c)
	}
	if to := t.GetTimeout(); to != nil && (to.AsDuration() <= 0 || to.AsDuration() > time.Hour) {
		return invalid("service.template.timeout", "timeout must be between 1s and 3600s, got %s.", to.AsDuration())
	}
	if sc := t.GetScaling(); sc != nil {
		if sc.GetMinInstanceCount() < 0 || sc.GetMaxInstanceCount() < 0 {
			return invalid("service.template.scaling", "Instance counts cannot be negative.")
		}
		if sc.GetMaxInstanceCount() > 0 && sc.GetMinInstanceCount() > sc.GetMaxInstanceCount() {
			return invalid("service.template.scaling.min_instance_count", "min_instance_count (%d) cannot be greater than max_instance_count (%d).",
				sc.GetMinInstanceCount(), sc.GetMaxInstanceCount())
		}
	}
	concurrency := t.GetMaxInstanceRequestConcurrency()
	if concurrency == 0 {
		concurrency = 80 // the default the server fills
	}
	minMem := 128.0 * (1 << 20)
	if t.GetExecutionEnvironment() == runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN2 {
		minMem = 512 * (1 << 20)
	}
	for i, c := range t.GetContainers() {
		if err := validateContainer(fmt.Sprintf("service.template.containers[%d]", i), c, concurrency, minMem); err != nil {
			return err
		}
	}
	if err := validateTemplateExtras("service.template", t); err != nil {
		return err
	}
	if rev := t.GetRevision(); rev != "" {
		id := svc.GetName()[strings.LastIndex(svc.GetName(), "/")+1:]
		if !strings.HasPrefix(rev, id+"-") {
			return invalid("service.template.revision", "Revision name %q must be prefixed by the service name %q.", rev, id+"-")
		}
	}
	switch svc.GetIngress() {
	case runpb.IngressTraffic_INGRESS_TRAFFIC_UNSPECIFIED, runpb.IngressTraffic_INGRESS_TRAFFIC_ALL,
		runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_ONLY, runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
		runpb.IngressTraffic_INGRESS_TRAFFIC_NONE:
	default:
		return invalid("service.ingress", "Unknown ingress value %d.", svc.GetIngress())
	}
	return nil
}

// serviceEtagOf names service id in the message of checkEtag.
func serviceEtagOf(id string) string {
	return fmt.Sprintf("service '%s': it was changed concurrently. Read it again and retry", id)
}

func condition(typ string, st runpb.Condition_State, msg string, now *timestamppb.Timestamp) *runpb.Condition {
	return &runpb.Condition{Type: typ, State: st, Message: msg, LastTransitionTime: now, Severity: runpb.Condition_ERROR}
}

func (s *Server) stampLocked(svc *runpb.Service, opID string) {
	stampMeta(svc.Name, &svc.Labels, &svc.Annotations, opID)
	svc.Etag = ""
	svc.Etag = etagOf(svc)
}

// rolloutLocked settles the latest created revision: ready, or failed under the sandbox convention
// (an image tagged `fail`). It returns the error of the operation, nil on success.
func (s *Server) rolloutLocked(svc *runpb.Service) *status.Status {
	now := timestamppb.Now()
	svc.Reconciling = false
	rev := svc.LatestCreatedRevision
	var failed bool
	for _, c := range svc.GetTemplate().GetContainers() {
		if imageTag(c.GetImage()) == "fail" {
			failed = true
		}
	}
	var st *status.Status
	if failed {
		port := int32(8080)
		if ps := svc.GetTemplate().GetContainers()[0].GetPorts(); len(ps) > 0 {
			port = ps[0].GetContainerPort()
		}
		msg := fmt.Sprintf("Revision '%s' is not ready and cannot serve traffic. The user-provided container failed to start "+
			"and listen on the port defined provided by the PORT=%d environment variable within the allocated timeout. "+
			"This can happen when the container port is misconfigured or if the timeout is too short. The health check "+
			"timeout can be extended. Logs for this revision might contain more information.", revisionID(rev), port)
		svc.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_FAILED, msg, now)
		svc.Conditions = []*runpb.Condition{
			condition("RoutesReady", runpb.Condition_CONDITION_FAILED, msg, now),
			condition("ConfigurationsReady", runpb.Condition_CONDITION_FAILED, msg, now),
		}
		// "If reconciliation failed, traffic_statuses, observed_generation, and latest_ready_revision will
		// have the state of the last serving revision, or empty for newly created Services."
		st = status.New(codes.FailedPrecondition, msg)
	} else {
		// "If reconciliation succeeded, the following fields will match: traffic and traffic_statuses,
		// observed_generation and generation, latest_ready_revision and latest_created_revision."
		svc.ObservedGeneration = svc.Generation
		svc.LatestReadyRevision = rev
		svc.TerminalCondition = condition("Ready", runpb.Condition_CONDITION_SUCCEEDED, "", now)
		svc.TerminalCondition.Severity = runpb.Condition_SEVERITY_UNSPECIFIED
		svc.Conditions = []*runpb.Condition{
			{Type: "RoutesReady", State: runpb.Condition_CONDITION_SUCCEEDED, LastTransitionTime: now},
			{Type: "ConfigurationsReady", State: runpb.Condition_CONDITION_SUCCEEDED, LastTransitionTime: now},
		}
	}
	s.settleRevisionLocked(rev, failed, svc.TerminalCondition.GetMessage())
	if !failed && svc.LatestReadyRevision != "" {
		// A LATEST target's status names no revision (a response captured from the real service:
		// "trafficStatuses": [{"percent": 100, "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"}]); a
		// REVISION target's status names the revision as the target does.
		var ts []*runpb.TrafficTargetStatus
		for _, t := range svc.Traffic {
			ts = append(ts, &runpb.TrafficTargetStatus{Type: t.Type, Revision: t.Revision, Percent: t.Percent, Tag: t.Tag})
		}
		svc.TrafficStatuses = ts
	}
	svc.Etag = ""
	svc.Etag = etagOf(svc)
	return st
}

// startRolloutLocked marks svc as reconciling for its current generation, and schedules the end of the
// rollout and of op.
func (s *Server) startRolloutLocked(svc *runpb.Service, op *longrunningpb.Operation) {
	gen := svc.Generation
	name := svc.Name
	s.afterLocked(s.delayLocked(), func() {
		cur, ok := s.services[name]
		stored := s.ops[op.Name]
		if stored == nil {
			return
		}
		if !ok || cur.Generation != gen {
			// Superseded by a later change: this operation ends with the state it was for.
			s.finishOpLocked(stored, cur, status.New(codes.Aborted, "The operation was superseded by a later change to the service."))
			return
		}
		st := s.rolloutLocked(cur)
		s.finishOpLocked(stored, proto.Clone(cur), st)
	})
}

func (s *Server) newRevisionLocked(svc *runpb.Service) {
	id := svc.Name[strings.LastIndex(svc.Name, "/")+1:]
	rev := svc.Template.Revision
	if rev == "" {
		rev = fmt.Sprintf("%s-%05d-%s", id, svc.Generation, s.lettersLocked(3))
	}
	// Output fields name revisions in full (latestCreatedRevision "projects/.../services/{s}/revisions/{r}"
	// in responses captured from the real service); template.revision stays the short id.
	svc.LatestCreatedRevision = revisionName(svc.Name, rev)
	now := timestamppb.Now()
	svc.Reconciling = true
	svc.TerminalCondition = &runpb.Condition{Type: "Ready", State: runpb.Condition_CONDITION_RECONCILING,
		Message: fmt.Sprintf("Deploying revision %s.", rev), LastTransitionTime: now}
	svc.Conditions = []*runpb.Condition{
		{Type: "RoutesReady", State: runpb.Condition_CONDITION_RECONCILING, LastTransitionTime: now},
		{Type: "ConfigurationsReady", State: runpb.Condition_CONDITION_RECONCILING, LastTransitionTime: now},
	}
}

func (a *servicesAPI) CreateService(_ context.Context, req *runpb.CreateServiceRequest) (*longrunningpb.Operation, error) {
	s := a.s
	project, region, err := parseParent(req.GetParent())
	if err != nil {
		return nil, err
	}
	if err := validateID("service", req.GetServiceId(), 49); err != nil {
		return nil, err
	}
	if req.GetService() == nil {
		return nil, invalid("service", "service is required.")
	}
	svc := proto.Clone(req.GetService()).(*runpb.Service)
	svc.Name = req.GetParent() + "/services/" + req.GetServiceId()
	if err := validateService(svc, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.services[svc.Name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Resource '%s' already exists.", req.GetServiceId())
	}
	now := timestamppb.Now()
	// Output-only fields sent by the client are ignored.
	svc.Uid = s.uuidLocked()
	svc.Generation = 1
	svc.CreateTime, svc.UpdateTime, svc.DeleteTime, svc.ExpireTime = now, now, nil, nil
	svc.Creator, svc.LastModifier = s.opts.Principal, s.opts.Principal
	svc.LatestReadyRevision, svc.TrafficStatuses = "", nil
	if svc.Ingress == runpb.IngressTraffic_INGRESS_TRAFFIC_UNSPECIFIED {
		svc.Ingress = runpb.IngressTraffic_INGRESS_TRAFFIC_ALL
	}
	if svc.LaunchStage == api.LaunchStage_LAUNCH_STAGE_UNSPECIFIED {
		svc.LaunchStage = api.LaunchStage_GA
	}
	if len(svc.Traffic) == 0 {
		svc.Traffic = []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}}
	}
	defaultTemplate(project, svc.Template)
	svc.Uri = serviceURI(project, region, req.GetServiceId())
	svc.Urls = []string{svc.Uri}
	s.newRevisionLocked(svc)
	if err := s.checkTrafficLocked(svc, revisionID(svc.LatestCreatedRevision)); err != nil {
		return nil, err
	}
	if req.GetValidateOnly() {
		s.stampLocked(svc, "validate-only")
		return s.validateOnlyOpLocked(req.GetParent(), svc), nil
	}
	s.storeRevisionLocked(svc)
	op := s.newOpLocked(req.GetParent(), "svc", svc)
	s.stampLocked(svc, opID(op))
	s.ops[op.Name].Metadata = mustAny(svc)
	op.Metadata = mustAny(svc)
	s.services[svc.Name] = svc
	s.startRolloutLocked(svc, op)
	s.save()
	return op, nil
}

func (a *servicesAPI) GetService(_ context.Context, req *runpb.GetServiceRequest) (*runpb.Service, error) {
	if _, _, err := parseName(req.GetName(), "services"); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	svc, ok := a.s.services[req.GetName()]
	if !ok {
		return nil, notFoundService(req.GetName())
	}
	return proto.Clone(svc).(*runpb.Service), nil
}

func (a *servicesAPI) ListServices(_ context.Context, req *runpb.ListServicesRequest) (*runpb.ListServicesResponse, error) {
	p := strings.Split(req.GetParent(), "/")
	if !(len(p) == 4 && p[3] == "-" && p[0] == "projects" && p[2] == "locations") {
		if _, _, err := parseParent(req.GetParent()); err != nil {
			return nil, err
		}
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	// Sorted by creation time, descending.
	items, next, err := newestFirstPage(a.s.services, func(name string, _ *runpb.Service) bool {
		q := strings.Split(name, "/")
		return q[1] == p[1] && (p[3] == "-" || q[3] == p[3])
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &runpb.ListServicesResponse{Services: items, NextPageToken: next}, nil
}

func (a *servicesAPI) UpdateService(ctx context.Context, req *runpb.UpdateServiceRequest) (*longrunningpb.Operation, error) {
	s := a.s
	if req.GetService() == nil {
		return nil, invalid("service", "service is required.")
	}
	parent, id, err := parseName(req.GetService().GetName(), "services")
	if err != nil {
		return nil, err
	}
	if op, missing, err := createIfMissing(s, s.services, req.GetService().GetName(), req.GetAllowMissing(), notFoundService, func() (*longrunningpb.Operation, error) {
		in := proto.Clone(req.GetService()).(*runpb.Service)
		in.Name = ""
		return a.CreateService(ctx, &runpb.CreateServiceRequest{Parent: parent, ServiceId: id, Service: in, ValidateOnly: req.GetValidateOnly()})
	}); missing {
		return op, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.services[req.GetService().GetName()]
	if !ok {
		return nil, notFoundService(req.GetService().GetName())
	}
	if cur.DeleteTime != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "Service '%s' is being deleted.", id)
	}
	if err := checkEtag(req.GetService().GetEtag(), cur.Etag, serviceEtagOf(id)); err != nil {
		return nil, err
	}
	in := proto.Clone(req.GetService()).(*runpb.Service)
	if paths := req.GetUpdateMask().GetPaths(); len(paths) > 0 {
		// "The list of fields to be updated": the listed fields come from the request, the others stay as
		// they are (AIP-134); output-only fields named are ignored, unknown paths refused.
		merged := proto.Clone(cur).(*runpb.Service)
		if err := kit.ApplyMask(merged, in, paths, kit.OutputOnly(merged)); err != nil {
			return nil, err
		}
		in = merged
	}
	if err := validateService(in, serverOwnedMeta(cur)); err != nil {
		return nil, err
	}
	project := strings.Split(parent, "/")[1]
	next := proto.Clone(cur).(*runpb.Service)
	// Fields the caller controls.
	next.Description, next.Labels, next.Annotations = in.Description, in.Labels, in.Annotations
	next.Client, next.ClientVersion = in.Client, in.ClientVersion
	next.Ingress = in.Ingress
	if next.Ingress == runpb.IngressTraffic_INGRESS_TRAFFIC_UNSPECIFIED {
		next.Ingress = runpb.IngressTraffic_INGRESS_TRAFFIC_ALL
	}
	if in.LaunchStage != api.LaunchStage_LAUNCH_STAGE_UNSPECIFIED {
		next.LaunchStage = in.LaunchStage
	}
	next.BinaryAuthorization, next.Scaling, next.InvokerIamDisabled = in.BinaryAuthorization, in.Scaling, in.InvokerIamDisabled
	next.DefaultUriDisabled, next.CustomAudiences = in.DefaultUriDisabled, in.CustomAudiences
	next.Traffic = in.Traffic
	if len(next.Traffic) == 0 {
		next.Traffic = []*runpb.TrafficTarget{{Type: runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST, Percent: 100}}
	}
	tmpl := proto.Clone(in.Template).(*runpb.RevisionTemplate)
	defaultTemplate(project, tmpl)
	oldT := proto.Clone(cur.Template).(*runpb.RevisionTemplate)
	newT := proto.Clone(tmpl).(*runpb.RevisionTemplate)
	oldT.Revision, newT.Revision = "", ""
	templateChanged := !proto.Equal(oldT, newT) || req.GetForceNewRevision() ||
		(tmpl.Revision != "" && tmpl.Revision != revisionID(cur.LatestCreatedRevision))
	if err := s.checkRevisionReuseLocked(cur.Name, tmpl); err != nil {
		return nil, err
	}
	if templateChanged && tmpl.Revision != "" && tmpl.Revision == revisionID(cur.LatestCreatedRevision) {
		// force_new_revision with the latest revision's own name: a new revision needs a new name.
		return nil, status.Errorf(codes.AlreadyExists, "Revision named '%s' already exists.", tmpl.Revision)
	}
	next.Template = tmpl
	next.Generation = cur.Generation + 1
	next.UpdateTime = timestamppb.Now()
	next.LastModifier = s.opts.Principal
	creating := ""
	if templateChanged {
		s.newRevisionLocked(next)
		creating = revisionID(next.LatestCreatedRevision)
	} else {
		next.Reconciling = true
	}
	if err := s.checkTrafficLocked(next, creating); err != nil {
		return nil, err
	}
	if req.GetValidateOnly() {
		s.stampLocked(next, "validate-only")
		return s.validateOnlyOpLocked(parent, next), nil
	}
	s.storeRevisionLocked(next)
	op := s.newOpLocked(parent, "svc", next)
	s.stampLocked(next, opID(op))
	s.ops[op.Name].Metadata = mustAny(next)
	op.Metadata = mustAny(next)
	s.services[next.Name] = next
	s.startRolloutLocked(next, op)
	s.save()
	return op, nil
}

func (a *servicesAPI) DeleteService(_ context.Context, req *runpb.DeleteServiceRequest) (*longrunningpb.Operation, error) {
	s := a.s
	parent, id, err := parseName(req.GetName(), "services")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.services[req.GetName()]
	if !ok {
		return nil, notFoundService(req.GetName())
	}
	if err := checkEtag(req.GetEtag(), cur.Etag, serviceEtagOf(id)); err != nil {
		return nil, err
	}
	snap := proto.Clone(cur).(*runpb.Service)
	snap.DeleteTime = timestamppb.Now()
	snap.Reconciling = true
	if req.GetValidateOnly() {
		return s.validateOnlyOpLocked(parent, snap), nil
	}
	op := s.newOpLocked(parent, "svc", snap)
	snap.Etag = ""
	snap.Etag = etagOf(snap)
	s.services[req.GetName()] = snap
	name := req.GetName()
	return s.deleteLaterLocked(op, func() proto.Message {
		last := s.services[name]
		delete(s.services, name)
		delete(s.policies, name)
		s.deleteRevisionsOfLocked(name)
		if last == nil {
			last = snap
		}
		return proto.Clone(last)
	})
}

// ---- IAM (shared by services and jobs) ----

func (a *servicesAPI) GetIamPolicy(_ context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	return a.s.getPolicy(req.GetResource(), "services")
}

func (a *servicesAPI) SetIamPolicy(_ context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	return a.s.setPolicy(req, "services")
}

func (a *servicesAPI) TestIamPermissions(_ context.Context, req *iampb.TestIamPermissionsRequest) (*iampb.TestIamPermissionsResponse, error) {
	return a.s.testPermissions(req, "services")
}
