package cloudrun

import (
	"context"
	"sort"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Authorization of jobs.run for callers other than the sandbox user: the Cloud Scheduler emulator runs a
// job on behalf of the service account of its job's OAuth token, and Cloud Run lets it only when that
// account holds run.jobs.run on the job (its IAM policy) or on the project.

// runJobsRunRoles are the predefined roles that contain run.jobs.run, from "Cloud Run roles and
// permissions" (https://cloud.google.com/iam/docs/roles-permissions/run): Cloud Run Admin (run.*), Cloud
// Run Developer, Cloud Run Invoker ("Can invoke Cloud Run services and execute Cloud Run jobs"), Cloud Run
// Jobs Executor ("Can execute and cancel Cloud Run jobs") and Jobs Executor With Overrides; plus the basic
// roles Owner and Editor. Cloud Run Service Invoker (roles/run.servicesInvoker) and the viewer roles do
// not grant it.
var runJobsRunRoles = map[string]bool{
	"roles/run.admin":                     true,
	"roles/run.developer":                 true,
	"roles/run.invoker":                   true,
	"roles/run.jobsExecutor":              true,
	"roles/run.jobsExecutorWithOverrides": true,
	"roles/owner":                         true,
	"roles/editor":                        true,
}

// projectPolicyKey is where a project's sandbox-granted bindings are kept among the resource policies
// (no service or job name has this form, and the IAM RPCs never address it).
func projectPolicyKey(project string) string { return "projects/" + project }

// GrantProjectRole binds role to member on the project, as a project-level IAM grant would (in Google
// Cloud that policy belongs to Resource Manager, which the sandbox does not emulate; the supervisor's
// debug API calls this). Cloud Run permission checks of RunJobAs consult it.
func (s *Server) GrantProjectRole(project, role, member string) error {
	if project == "" || strings.Contains(project, "/") {
		return status.Errorf(codes.InvalidArgument, "invalid project %q", project)
	}
	if !strings.HasPrefix(role, "roles/") {
		return status.Errorf(codes.InvalidArgument, "role %q must be roles/...", role)
	}
	if !memberRE.MatchString(member) {
		return status.Errorf(codes.InvalidArgument, "invalid principal %q", member)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := projectPolicyKey(project)
	p := s.policies[key]
	if p == nil {
		p = &iampb.Policy{Version: 1}
	} else {
		p = proto.Clone(p).(*iampb.Policy)
	}
	var b *iampb.Binding
	for _, have := range p.Bindings {
		if have.Role == role && have.Condition == nil {
			b = have
		}
	}
	if b == nil {
		b = &iampb.Binding{Role: role}
		p.Bindings = append(p.Bindings, b)
	}
	for _, m := range b.Members {
		if strings.EqualFold(m, member) {
			return nil
		}
	}
	b.Members = append(b.Members, member)
	sort.Strings(b.Members)
	s.policies[key] = p
	return s.saveLocked()
}

// RunJobAs runs the job (as RunJobByName) for a call authenticated as member (for example
// "serviceAccount:runner@p.iam.gserviceaccount.com"), after checking that member holds run.jobs.run on
// the job or its project. Without it the call fails as Google APIs fail it: PERMISSION_DENIED
// "Permission 'run.jobs.run' denied on resource '...' (or it may not exist)." A job that does not exist is
// NOT_FOUND only for a member allowed at the project level (a job-level grant cannot exist without the job).
func (s *Server) RunJobAs(ctx context.Context, name, member string) error {
	parent, _, err := parseName(name, "jobs")
	if err != nil {
		return err
	}
	project := strings.Split(parent, "/")[1]
	if !s.mayRunJob(project, name, member) {
		return status.Errorf(codes.PermissionDenied, "Permission 'run.jobs.run' denied on resource '%s' (or it may not exist).", name)
	}
	return s.RunJobByName(ctx, name)
}

// MayRunJob reports whether member holds run.jobs.run on the job (its IAM policy) or on its project.
func (s *Server) MayRunJob(name, member string) bool {
	parent, _, err := parseName(name, "jobs")
	if err != nil {
		return false
	}
	return s.mayRunJob(strings.Split(parent, "/")[1], name, member)
}

func (s *Server) mayRunJob(project, name, member string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []string{name, projectPolicyKey(project)} {
		p := s.policies[key]
		if key == name {
			if _, ok := s.jobs[name]; !ok {
				continue // a deleted job's policy grants nothing
			}
		}
		for _, b := range p.GetBindings() {
			// Conditional bindings are not evaluated by the sandbox: they grant nothing here.
			if !runJobsRunRoles[b.GetRole()] || b.GetCondition() != nil {
				continue
			}
			for _, m := range b.GetMembers() {
				// allUsers and allAuthenticatedUsers include any authenticated caller; IAM compares
				// emails case-insensitively.
				if m == "allUsers" || m == "allAuthenticatedUsers" || strings.EqualFold(m, member) {
					return true
				}
			}
		}
	}
	return false
}
