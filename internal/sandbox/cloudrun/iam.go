package cloudrun

import (
	"encoding/binary"
	"regexp"
	"sort"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// memberRE matches the IAM principal formats Cloud Run accepts in role bindings.
var memberRE = regexp.MustCompile(`^(allUsers|allAuthenticatedUsers|(user|serviceAccount|group):[^@\s]+@[^@\s]+\.[^@\s]+|domain:[a-z0-9.-]+\.[a-z]{2,}|principal(Set)?://\S+|deleted:(user|serviceAccount|group):\S+)$`)

// emptyEtag is the etag of a policy that was never set ("ACAB", as Google returns).
var emptyEtag = []byte{0x00, 0x20, 0x01}

func (s *Server) resourceExistsLocked(name, collection string) error {
	if _, _, err := parseName(name, collection); err != nil {
		return err
	}
	switch collection {
	case "services":
		if _, ok := s.services[name]; !ok {
			return notFoundService(name)
		}
	case "jobs":
		if _, ok := s.jobs[name]; !ok {
			return notFoundJob(name)
		}
	}
	return nil
}

func (s *Server) getPolicy(resource, collection string) (*iampb.Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.resourceExistsLocked(resource, collection); err != nil {
		return nil, err
	}
	if p, ok := s.policies[resource]; ok {
		return proto.Clone(p).(*iampb.Policy), nil
	}
	return &iampb.Policy{Version: 1, Etag: emptyEtag}, nil
}

func (s *Server) setPolicy(req *iampb.SetIamPolicyRequest, collection string) (*iampb.Policy, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.resourceExistsLocked(req.GetResource(), collection); err != nil {
		return nil, err
	}
	in := req.GetPolicy()
	if in == nil {
		return nil, invalid("policy", "policy is required.")
	}
	cur, ok := s.policies[req.GetResource()]
	curEtag := emptyEtag
	var serial uint64
	if ok {
		curEtag = cur.Etag
		if len(cur.Etag) >= 8 {
			serial = binary.BigEndian.Uint64(cur.Etag[len(cur.Etag)-8:])
		}
	}
	if len(in.Etag) > 0 && string(in.Etag) != string(curEtag) {
		return nil, status.Error(codes.Aborted, "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.")
	}
	for _, b := range in.GetBindings() {
		if !strings.HasPrefix(b.GetRole(), "roles/") {
			return nil, invalid("policy.bindings.role", "Role %s is not supported for this resource.", b.GetRole())
		}
		if len(b.GetMembers()) == 0 {
			return nil, invalid("policy.bindings.members", "Binding for %s has no members.", b.GetRole())
		}
		for _, m := range b.GetMembers() {
			if !memberRE.MatchString(m) {
				return nil, invalid("policy.bindings.members", "Invalid principal %q: use allUsers, allAuthenticatedUsers, "+
					"user:EMAIL, serviceAccount:EMAIL, group:EMAIL or domain:DOMAIN.", m)
			}
		}
	}
	p := proto.Clone(in).(*iampb.Policy)
	for _, b := range p.Bindings {
		sort.Strings(b.Members)
	}
	if p.Version == 0 {
		p.Version = 1
	}
	etag := make([]byte, 11)
	copy(etag, "BwY")
	binary.BigEndian.PutUint64(etag[3:], serial+1)
	p.Etag = etag
	s.policies[req.GetResource()] = p
	s.save()
	return proto.Clone(p).(*iampb.Policy), nil
}

func (s *Server) testPermissions(req *iampb.TestIamPermissionsRequest, collection string) (*iampb.TestIamPermissionsResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.resourceExistsLocked(req.GetResource(), collection); err != nil {
		return nil, err
	}
	// The sandbox caller holds every Cloud Run permission; others are not reported.
	resp := &iampb.TestIamPermissionsResponse{}
	for _, p := range req.GetPermissions() {
		if strings.HasPrefix(p, "run.") {
			resp.Permissions = append(resp.Permissions, p)
		}
	}
	return resp, nil
}
