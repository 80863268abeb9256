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
	if lag, ok := s.iamLag[resource]; ok {
		// Sandbox fault (SetIAMReadLag): the read does not see the last SetIamPolicy yet.
		lag.left--
		if lag.left <= 0 {
			delete(s.iamLag, resource)
		} else {
			s.iamLag[resource] = lag
		}
		return proto.Clone(lag.before).(*iampb.Policy), nil
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
		if !roleSupported(b.GetRole()) {
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
	before := &iampb.Policy{Version: 1, Etag: emptyEtag}
	if ok {
		before = proto.Clone(cur).(*iampb.Policy)
	}
	p := proto.Clone(in).(*iampb.Policy)
	for _, b := range p.Bindings {
		b.Members = normaliseMembers(b.Members)
	}
	if p.Version == 0 {
		p.Version = 1
	}
	etag := make([]byte, 11)
	copy(etag, "BwY")
	binary.BigEndian.PutUint64(etag[3:], serial+1)
	p.Etag = etag
	s.policies[req.GetResource()] = p
	if s.iamLagN > 0 {
		s.iamLag[req.GetResource()] = iamLag{before: before, left: s.iamLagN}
	}
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

// iamLag is a policy that GetIamPolicy still returns, left more times, after a SetIamPolicy.
type iamLag struct {
	before *iampb.Policy
	left   int
}

// SetIAMReadLag makes the next n GetIamPolicy calls on a resource after each SetIamPolicy return the
// policy as it was before the set (0 turns it off). A sandbox fault, not a documented behaviour: IAM
// documents that policy changes take time to propagate, so a client should read until its change is
// visible rather than assume the next read sees it.
func (s *Server) SetIAMReadLag(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.iamLagN = n
	if n == 0 {
		s.iamLag = map[string]iamLag{}
	}
}

// emailMemberTypes are the member types whose value is an email address or a domain, which IAM stores
// and returns lower-cased; principal:// and principalSet:// identifiers keep their case.
var emailMemberTypes = map[string]bool{"user": true, "serviceAccount": true, "group": true, "domain": true}

// normaliseMember lower-cases the email (or domain) part of a member; the type prefix is case-sensitive
// and kept. deleted:{type}:{email}?uid={n} lower-cases the email too.
func normaliseMember(m string) string {
	typ, rest, ok := strings.Cut(m, ":")
	if !ok {
		return m
	}
	if emailMemberTypes[typ] {
		return typ + ":" + strings.ToLower(rest)
	}
	if typ == "deleted" {
		return typ + ":" + normaliseMember(rest)
	}
	return m
}

// normaliseMembers lower-cases the members' emails and returns them sorted, without duplicates.
func normaliseMembers(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range in {
		n := normaliseMember(m)
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// runRoles are the predefined Cloud Run roles ("Cloud Run roles and permissions",
// https://cloud.google.com/iam/docs/roles-permissions/run). Whether each may be granted on a single
// service or job (rather than on the project) is documented only for admin, developer, invoker and
// viewer; the others are accepted on both.
var runRoles = map[string]bool{
	"roles/run.admin": true, "roles/run.builder": true, "roles/run.developer": true, "roles/run.invoker": true,
	"roles/run.jobsExecutor": true, "roles/run.jobsExecutorWithOverrides": true, "roles/run.serviceAgent": true,
	"roles/run.servicesInvoker": true, "roles/run.sourceDeveloper": true, "roles/run.sourceViewer": true,
	"roles/run.viewer": true,
	// Basic roles, which include run.* permissions.
	"roles/owner": true, "roles/editor": true, "roles/viewer": true,
}

// customRoleRE matches custom roles (projects/{p}/roles/{id}, organizations/{o}/roles/{id}); the sandbox
// has no role registry, so their existence is not checked.
var customRoleRE = regexp.MustCompile(`^(projects/[a-z][-a-z0-9]{4,28}[a-z0-9]|organizations/[0-9]+)/roles/[a-zA-Z0-9_.]{3,64}$`)

// roleSupported reports whether role may be bound on a Cloud Run service or job.
func roleSupported(role string) bool {
	return runRoles[role] || customRoleRE.MatchString(role)
}
