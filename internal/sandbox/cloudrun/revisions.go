package cloudrun

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Revisions: every template change of a service creates one (runpb Revision: "an immutable snapshot of
// code and configuration ... only created by updates to its parent Service"). A revision keeps the
// template it was made from, its service and its Ready condition, so that a client can tell what a
// service actually serves when its latest rollout failed.

type revisionsAPI struct {
	runpb.UnimplementedRevisionsServer
	s *Server
}

// revisionName is the full resource name of revision id of service svcName
// (projects/{project}/locations/{location}/services/{service}/revisions/{revision}), which the real API
// returns in latest_ready_revision and latest_created_revision.
func revisionName(svcName, id string) string { return svcName + "/revisions/" + id }

// revisionID is the last segment of a revision name ("" stays "").
func revisionID(name string) string { return name[strings.LastIndex(name, "/")+1:] }

// parseRevisionName splits projects/P/locations/L/services/S/revisions/R into the service name and R.
// service may be "-" only where allowDash (ListRevisions' parent).
func parseRevisionName(name string) (svcName, id string, err error) {
	p := strings.Split(name, "/")
	if len(p) != 8 || p[6] != "revisions" || p[7] == "" {
		return "", "", status.Errorf(codes.InvalidArgument, "Invalid resource name %q: expected "+
			"projects/{project}/locations/{location}/services/{service}/revisions/{revision}.", name)
	}
	svcName = strings.Join(p[:6], "/")
	if _, _, err := parseName(svcName, "services"); err != nil {
		return "", "", err
	}
	return svcName, p[7], nil
}

func notFoundRevision(name string) error {
	return status.Errorf(codes.NotFound, "Revision '%s' does not exist.", revisionID(name))
}

// sameTemplate reports whether two templates describe the same revision (the revision name aside).
func sameTemplate(a, b *runpb.RevisionTemplate) bool {
	x := proto.Clone(a).(*runpb.RevisionTemplate)
	y := proto.Clone(b).(*runpb.RevisionTemplate)
	x.Revision, y.Revision = "", ""
	return proto.Equal(x, y)
}

// templateOfRevision is the template a revision was created from.
func templateOfRevision(r *runpb.Revision) *runpb.RevisionTemplate {
	return &runpb.RevisionTemplate{
		Revision: revisionID(r.GetName()), Labels: r.Labels, Annotations: r.Annotations, Scaling: r.Scaling,
		VpcAccess: r.VpcAccess, Timeout: r.Timeout, ServiceAccount: r.ServiceAccount, Containers: r.Containers,
		Sandboxes: r.Sandboxes, Volumes: r.Volumes, ExecutionEnvironment: r.ExecutionEnvironment,
		EncryptionKey: r.EncryptionKey, MaxInstanceRequestConcurrency: r.MaxInstanceRequestConcurrency,
		ServiceMesh: r.ServiceMesh, EncryptionKeyRevocationAction: r.EncryptionKeyRevocationAction,
		EncryptionKeyShutdownDuration: r.EncryptionKeyShutdownDuration, SessionAffinity: r.SessionAffinity,
		NodeSelector: r.NodeSelector, WorkloadIdentityConfig: r.WorkloadIdentityConfig,
		GpuZonalRedundancyDisabled: r.GpuZonalRedundancyDisabled,
	}
}

// checkRevisionReuseLocked refuses a template that names an existing revision of svcName while it
// describes another configuration: revisions are immutable, so the name cannot be given to a new one.
func (s *Server) checkRevisionReuseLocked(svcName string, t *runpb.RevisionTemplate) error {
	if t.GetRevision() == "" {
		return nil
	}
	r, ok := s.revisions[revisionName(svcName, t.GetRevision())]
	if !ok || sameTemplate(templateOfRevision(r), t) {
		return nil
	}
	return status.Errorf(codes.AlreadyExists, "Revision named '%s' with different configuration already exists.", t.GetRevision())
}

// checkTrafficLocked validates the traffic targets of svc (its template already defaulted): percents
// add up to 100 and every revision named is one of the service's, or the one this request creates.
func (s *Server) checkTrafficLocked(svc *runpb.Service, creating string) error {
	sum := int32(0)
	for i, t := range svc.GetTraffic() {
		if t.GetPercent() < 0 || t.GetPercent() > 100 {
			return invalid(fmt.Sprintf("service.traffic[%d].percent", i), "Traffic percent must be between 0 and 100, got %d.", t.GetPercent())
		}
		sum += t.GetPercent()
		switch t.GetType() {
		case runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST:
			if t.GetRevision() != "" {
				return invalid(fmt.Sprintf("service.traffic[%d].revision", i), "A traffic target of type LATEST cannot name a revision.")
			}
		case runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION:
			id := revisionID(t.GetRevision())
			if id == "" {
				return invalid(fmt.Sprintf("service.traffic[%d].revision", i), "A traffic target of type REVISION must name a revision.")
			}
			if _, ok := s.revisions[revisionName(svc.GetName(), id)]; !ok && id != creating {
				return invalid(fmt.Sprintf("service.traffic[%d].revision", i), "Revision '%s' does not exist or is deleted. "+
					"Update all traffic to route to currently available revisions.", id)
			}
		default:
			return invalid(fmt.Sprintf("service.traffic[%d].type", i), "Traffic target type must be LATEST or REVISION.")
		}
	}
	if len(svc.GetTraffic()) > 0 && sum != 100 {
		return invalid("service.traffic", "Traffic targets sum to %d, want 100.", sum)
	}
	return nil
}

// storeRevisionLocked records the latest created revision of svc, made from its template, unless it
// exists already.
func (s *Server) storeRevisionLocked(svc *runpb.Service) {
	name := svc.GetLatestCreatedRevision()
	if name == "" {
		return
	}
	if _, ok := s.revisions[name]; ok {
		return
	}
	t := proto.Clone(svc.GetTemplate()).(*runpb.RevisionTemplate)
	now := timestamppb.Now()
	r := &runpb.Revision{
		Name: name, Uid: s.uuidLocked(), Generation: 1, Labels: t.Labels, Annotations: t.Annotations,
		CreateTime: now, UpdateTime: now, LaunchStage: svc.GetLaunchStage(), Service: svc.GetName(),
		Scaling: t.Scaling, VpcAccess: t.VpcAccess, MaxInstanceRequestConcurrency: t.MaxInstanceRequestConcurrency,
		Timeout: t.Timeout, ServiceAccount: t.ServiceAccount, Containers: t.Containers, Sandboxes: t.Sandboxes,
		Volumes: t.Volumes, ExecutionEnvironment: t.ExecutionEnvironment, EncryptionKey: t.EncryptionKey,
		ServiceMesh: t.ServiceMesh, EncryptionKeyRevocationAction: t.EncryptionKeyRevocationAction,
		EncryptionKeyShutdownDuration: t.EncryptionKeyShutdownDuration, SessionAffinity: t.SessionAffinity,
		NodeSelector: t.NodeSelector, WorkloadIdentityConfig: t.WorkloadIdentityConfig,
		GpuZonalRedundancyDisabled: t.GpuZonalRedundancyDisabled, Creator: s.opts.Principal,
		Client: t.Client, ClientVersion: t.ClientVersion, Reconciling: true,
		Conditions: []*runpb.Condition{{Type: "Ready", State: runpb.Condition_CONDITION_RECONCILING, LastTransitionTime: now}},
	}
	r.Etag = etagOf(r)
	s.revisions[name] = r
}

// settleRevisionLocked ends the reconciliation of revision name: ready, or failed with msg.
func (s *Server) settleRevisionLocked(name string, failed bool, msg string) {
	r, ok := s.revisions[name]
	if !ok {
		return
	}
	now := timestamppb.Now()
	r.Reconciling = false
	r.ObservedGeneration = r.Generation
	r.UpdateTime = now
	if failed {
		r.Conditions = []*runpb.Condition{condition("Ready", runpb.Condition_CONDITION_FAILED, msg, now)}
	} else {
		r.Conditions = []*runpb.Condition{{Type: "Ready", State: runpb.Condition_CONDITION_SUCCEEDED, LastTransitionTime: now}}
	}
	r.Etag = ""
	r.Etag = etagOf(r)
}

// deleteRevisionsOfLocked removes every revision of the service called svcName.
func (s *Server) deleteRevisionsOfLocked(svcName string) {
	for name, r := range s.revisions {
		if r.GetService() == svcName {
			delete(s.revisions, name)
		}
	}
}

// servingLocked reports why revision name of svc cannot be deleted, or "" when it can.
func servingLocked(svc *runpb.Service, name string) string {
	id := revisionID(name)
	if svc.GetLatestCreatedRevision() == name {
		return "it is the service's latest created revision"
	}
	for _, t := range svc.GetTraffic() {
		if t.GetType() == runpb.TrafficTargetAllocationType_TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST && svc.GetLatestReadyRevision() == name {
			return "it serves the service's LATEST traffic"
		}
		if revisionID(t.GetRevision()) == id {
			return "a traffic target of the service names it"
		}
	}
	return ""
}

func (a *revisionsAPI) GetRevision(_ context.Context, req *runpb.GetRevisionRequest) (*runpb.Revision, error) {
	if _, _, err := parseRevisionName(req.GetName()); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	r, ok := a.s.revisions[req.GetName()]
	if !ok {
		return nil, notFoundRevision(req.GetName())
	}
	return proto.Clone(r).(*runpb.Revision), nil
}

// ListRevisions lists the revisions of a service (or of every service of a location with service "-"),
// newest first.
func (a *revisionsAPI) ListRevisions(_ context.Context, req *runpb.ListRevisionsRequest) (*runpb.ListRevisionsResponse, error) {
	p := strings.Split(req.GetParent(), "/")
	if len(p) != 6 || p[4] != "services" || p[5] == "" {
		return nil, status.Errorf(codes.InvalidArgument, "Invalid parent %q: expected projects/{project}/locations/{location}/services/{service}.", req.GetParent())
	}
	if _, _, err := parseParent(strings.Join(p[:4], "/")); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if p[5] != "-" {
		if _, ok := a.s.services[req.GetParent()]; !ok {
			return nil, notFoundService(req.GetParent())
		}
	}
	items, next, err := newestFirstPage(a.s.revisions, func(_ string, r *runpb.Revision) bool {
		return r.GetService() == req.GetParent() || (p[5] == "-" && strings.HasPrefix(r.GetService(), strings.Join(p[:4], "/")+"/services/"))
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &runpb.ListRevisionsResponse{Revisions: items, NextPageToken: next}, nil
}

// DeleteRevision deletes a retired revision ("Only retired revisions can be deleted with this API"): one
// that no traffic target can reach and that is not the latest created.
func (a *revisionsAPI) DeleteRevision(_ context.Context, req *runpb.DeleteRevisionRequest) (*longrunningpb.Operation, error) {
	s := a.s
	svcName, _, err := parseRevisionName(req.GetName())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.revisions[req.GetName()]
	if !ok {
		return nil, notFoundRevision(req.GetName())
	}
	if err := checkEtag(req.GetEtag(), r.GetEtag(), "revision '"+revisionID(r.GetName())+"'"); err != nil {
		return nil, err
	}
	if svc, ok := s.services[svcName]; ok {
		if why := servingLocked(svc, req.GetName()); why != "" {
			return nil, status.Errorf(codes.FailedPrecondition, "Revision '%s' cannot be deleted: %s. Only retired revisions can be deleted.",
				revisionID(r.GetName()), why)
		}
	}
	snap := proto.Clone(r).(*runpb.Revision)
	snap.DeleteTime = timestamppb.Now()
	parent := strings.Join(strings.Split(svcName, "/")[:4], "/")
	if req.GetValidateOnly() {
		return s.validateOnlyOpLocked(parent, snap), nil
	}
	op := s.newOpLocked(parent, "rev", snap)
	name := req.GetName()
	return s.deleteLaterLocked(op, func() proto.Message {
		delete(s.revisions, name)
		return snap
	})
}
