package cloudrun_test

import (
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
)

// RunJobAs (what the Cloud Scheduler emulator calls with the service account of a job's OAuth token)
// runs the job only for a principal holding run.jobs.run on the job or the project: roles/run.invoker,
// roles/run.jobsExecutor, roles/run.developer, roles/run.admin, ... but not roles/run.servicesInvoker
// (https://cloud.google.com/iam/docs/roles-permissions/run).
func TestRunJobAs_needsARoleGrantingRunJobsRun(t *testing.T) {
	ts, c := start(t, cloudrun.Options{})
	ctx := ctxT(t)
	op, err := c.jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "nightly", Job: job("example.com/task:v1")})
	if err != nil {
		t.Fatal(err)
	}
	j, err := op.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const sa = "serviceAccount:runner@p.iam.gserviceaccount.com"
	denied := func(name, member, what string) {
		t.Helper()
		err := ts.Server.RunJobAs(ctx, name, member)
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("%s: %v, want PERMISSION_DENIED", what, err)
		}
		if want := "Permission 'run.jobs.run' denied on resource '" + name + "' (or it may not exist)."; status.Convert(err).Message() != want {
			t.Fatalf("%s: message %q", what, status.Convert(err).Message())
		}
	}
	executions := func() int {
		got, err := c.jobs.GetJob(ctx, &runpb.GetJobRequest{Name: j.GetName()})
		if err != nil {
			t.Fatal(err)
		}
		return int(got.GetExecutionCount())
	}
	setPolicy := func(role string, members ...string) {
		t.Helper()
		if _, err := c.jobs.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: j.GetName(),
			Policy: &iampb.Policy{Bindings: []*iampb.Binding{{Role: role, Members: members}}}}); err != nil {
			t.Fatal(err)
		}
	}
	denied(j.GetName(), sa, "no grant")
	setPolicy("roles/run.servicesInvoker", sa)
	denied(j.GetName(), sa, "a role for services only")
	setPolicy("roles/run.viewer", sa)
	denied(j.GetName(), sa, "viewer")
	if executions() != 0 {
		t.Fatal("a denied call started an execution")
	}
	for _, role := range []string{"roles/run.invoker", "roles/run.jobsExecutor", "roles/run.developer", "roles/run.admin"} {
		setPolicy(role, "serviceAccount:Runner@P.iam.gserviceaccount.com") // IAM compares emails case-insensitively
		if err := ts.Server.RunJobAs(ctx, j.GetName(), sa); err != nil {
			t.Fatalf("%s on the job: %v", role, err)
		}
		denied(j.GetName(), "serviceAccount:other@p.iam.gserviceaccount.com", role+" granted to another account")
	}
	if n := executions(); n != 4 {
		t.Fatalf("%d executions, want 4", n)
	}

	// A project-level grant covers every job of the project, and only that project.
	setPolicy("roles/run.viewer", sa)
	const other = "serviceAccount:ops@p.iam.gserviceaccount.com"
	denied(j.GetName(), other, "before the project grant")
	if err := ts.Server.GrantProjectRole("p", "roles/run.jobsExecutor", other); err != nil {
		t.Fatal(err)
	}
	if err := ts.Server.RunJobAs(ctx, j.GetName(), other); err != nil {
		t.Fatalf("project-level roles/run.jobsExecutor: %v", err)
	}
	// Allowed on the project, a missing job is NOT_FOUND; without any grant it is the same 403.
	if err := ts.Server.RunJobAs(ctx, parent+"/jobs/missing", other); status.Code(err) != codes.NotFound {
		t.Fatalf("missing job for a project-level runner: %v", err)
	}
	denied(parent+"/jobs/missing", sa, "missing job without a grant")
	denied("projects/q/locations/europe-west1/jobs/nightly", other, "another project")
}
