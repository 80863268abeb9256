package backuppolicy

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	scheduler "cloud.google.com/go/scheduler/apiv1"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// clients are the Cloud Run Jobs and Cloud Scheduler clients of one configured provider, built without
// their own retries: shared.Retry is the one retry layer.
type clients struct {
	jobs  *run.JobsClient
	execs *run.ExecutionsClient
	sched *scheduler.CloudSchedulerClient
}

func clientsFor(ctx context.Context, data *shared.ProviderData) (*clients, error) {
	c, err := data.Client("backuppolicy", func() (any, func(), error) {
		g := data.GCP
		jobs, err := run.NewJobsClient(ctx, g.ClientOptions(g.RunEndpoint)...)
		if err != nil {
			return nil, nil, err
		}
		shared.WithoutClientRetries(jobs.CallOptions)
		execs, err := run.NewExecutionsClient(ctx, g.ClientOptions(g.RunEndpoint)...)
		if err != nil {
			_ = jobs.Close()
			return nil, nil, err
		}
		shared.WithoutClientRetries(execs.CallOptions)
		sched, err := scheduler.NewCloudSchedulerClient(ctx, g.ClientOptions(g.SchedulerEndpoint)...)
		if err != nil {
			_ = jobs.Close()
			_ = execs.Close()
			return nil, nil, err
		}
		shared.WithoutClientRetries(sched.CallOptions)
		c := &clients{jobs: jobs, execs: execs, sched: sched}
		return c, func() { _ = jobs.Close(); _ = execs.Close(); _ = sched.Close() }, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*clients), nil
}

// within bounds ctx by timeout and returns the provider's clients; nil (with an error in diags) when they
// cannot be built. The caller defers the cancel.
func within(ctx context.Context, data *shared.ProviderData, timeout time.Duration, diags *diag.Diagnostics) (context.Context, context.CancelFunc, *clients) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	c, err := clientsFor(ctx, data)
	if err != nil {
		diags.AddError("Cannot build the Cloud Run and Cloud Scheduler clients", err.Error())
		return ctx, cancel, nil
	}
	return ctx, cancel, c
}

func retry(ctx context.Context, fn func(context.Context) error) error {
	return shared.Retry(ctx, shared.DefaultBackoff, shared.RetryableGRPC, fn)
}

func jobName(project, region, name string) string {
	return fmt.Sprintf("projects/%s/locations/%s/jobs/%s", project, region, name)
}

// runURI is the Cloud Run Admin API v2 jobs.run endpoint that a Cloud Scheduler HTTP target calls
// ("Execute jobs on a schedule": POST https://run.googleapis.com/v2/projects/P/locations/L/jobs/J:run with
// an OAuth token).
func runURI(job string) string { return "https://run.googleapis.com/v2/" + job + ":run" }

const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// jobsRunRoles are the predefined roles that hold run.jobs.run ("Cloud Run roles and permissions",
// https://cloud.google.com/iam/docs/roles-permissions/run), the ones grant_role may name.
var jobsRunRoles = []string{"roles/run.invoker", "roles/run.jobsExecutor", "roles/run.jobsExecutorWithOverrides",
	"roles/run.developer", "roles/run.admin"}

// putJob writes the Cloud Run job: UpdateJob with allow_missing creates it when absent and replaces its
// spec otherwise, so create, update and the repair of drift (or of a deleted job) are one idempotent
// write, safe to repeat after a lost reply.
func (c *clients) putJob(ctx context.Context, job *runpb.Job) (*runpb.Job, error) {
	var op *run.UpdateJobOperation
	if err := retry(ctx, func(ctx context.Context) (err error) {
		op, err = c.jobs.UpdateJob(ctx, &runpb.UpdateJobRequest{Job: job, AllowMissing: true})
		return err
	}); err != nil {
		return nil, err
	}
	return waitOp(ctx, op.Done, func(ctx context.Context) (*runpb.Job, error) { return op.Poll(ctx) })
}

// waitOp polls an operation until it is done or ctx ends; a transient failure of a poll is polled again.
func waitOp[T any](ctx context.Context, done func() bool, poll func(context.Context) (T, error)) (T, error) {
	interval := 200 * time.Millisecond
	for {
		v, err := poll(ctx)
		if err != nil && shared.RetryableGRPC(err) && !done() && ctx.Err() == nil {
			err = nil
		}
		if err != nil || done() {
			return v, err
		}
		select {
		case <-ctx.Done():
			var zero T
			return zero, fmt.Errorf("waiting for the operation: %w", ctx.Err())
		case <-time.After(interval):
		}
		interval = min(interval*3/2, 3*time.Second)
	}
}

func (c *clients) getJob(ctx context.Context, name string) (*runpb.Job, error) {
	var j *runpb.Job
	err := retry(ctx, func(ctx context.Context) (err error) {
		j, err = c.jobs.GetJob(ctx, &runpb.GetJobRequest{Name: name})
		return err
	})
	return j, err
}

func (c *clients) deleteJob(ctx context.Context, name string) error {
	var op *run.DeleteJobOperation
	err := retry(ctx, func(ctx context.Context) (err error) {
		op, err = c.jobs.DeleteJob(ctx, &runpb.DeleteJobRequest{Name: name})
		return err
	})
	if shared.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = waitOp(ctx, op.Done, func(ctx context.Context) (*runpb.Job, error) { return op.Poll(ctx) })
	if shared.IsNotFound(err) {
		return nil
	}
	return err
}

// retryWrite retries a read-then-write fn on the writes' failures; read (the read, retried on a budget of
// its own) is fn's first step: when its retries are used up, the whole stops (one budget for both would
// let failed reads use up the write's attempts).
func retryWrite(ctx context.Context, fn func(ctx context.Context, read func(error) error) error) error {
	var readErr error
	return shared.Retry(ctx, shared.DefaultBackoff, func(err error) bool { return readErr == nil && shared.RetryableGRPC(err) },
		func(ctx context.Context) error {
			return fn(ctx, func(err error) error { readErr = err; return err })
		})
}

// putSchedulerJob creates the scheduler job or replaces its spec (GetJob first, so a retry after a lost
// reply updates instead of failing on ALREADY_EXISTS).
func (c *clients) putSchedulerJob(ctx context.Context, j *schedulerpb.Job) (*schedulerpb.Job, error) {
	var out *schedulerpb.Job
	err := retryWrite(ctx, func(ctx context.Context, readFailed func(error) error) error {
		_, err := c.getSchedulerJob(ctx, j.GetName())
		switch {
		case shared.IsNotFound(err):
			parent := j.GetName()[:strings.LastIndex(j.GetName(), "/jobs/")]
			out, err = c.sched.CreateJob(ctx, &schedulerpb.CreateJobRequest{Parent: parent, Job: j})
			return err
		case err != nil:
			return readFailed(err)
		}
		out, err = c.sched.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{Job: j})
		return err
	})
	return out, err
}

func (c *clients) getSchedulerJob(ctx context.Context, name string) (*schedulerpb.Job, error) {
	var j *schedulerpb.Job
	err := retry(ctx, func(ctx context.Context) (err error) {
		j, err = c.sched.GetJob(ctx, &schedulerpb.GetJobRequest{Name: name})
		return err
	})
	return j, err
}

func (c *clients) deleteSchedulerJob(ctx context.Context, name string) error {
	err := retry(ctx, func(ctx context.Context) error {
		return c.sched.DeleteJob(ctx, &schedulerpb.DeleteJobRequest{Name: name})
	})
	if shared.IsNotFound(err) {
		return nil
	}
	return err
}

// holdsRun reports whether member is bound, unconditionally, to a role that grants run.jobs.run.
func holdsRun(p *iampb.Policy, member string) bool {
	for _, b := range p.GetBindings() {
		if !slices.Contains(jobsRunRoles, b.GetRole()) && b.GetRole() != "roles/owner" && b.GetRole() != "roles/editor" {
			continue
		}
		if b.GetCondition() != nil {
			continue
		}
		for _, m := range b.GetMembers() {
			if strings.EqualFold(m, member) {
				return true
			}
		}
	}
	return false
}

func (c *clients) jobPolicy(ctx context.Context, job string) (*iampb.Policy, error) {
	var p *iampb.Policy
	err := retry(ctx, func(ctx context.Context) (err error) {
		p, err = c.jobs.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: job})
		return err
	})
	return p, err
}

// grant binds role to member on the job's IAM policy (read-modify-write with the policy's etag; a
// concurrent change is ABORTED and retried from a fresh read, a lost reply found done by that read; the
// read has a retry budget of its own), then reads the policy until the binding is
// visible: IAM changes propagate, and a schedule whose account cannot run the job would fail every night
// without anyone noticing, so the apply fails instead.
func (c *clients) grant(ctx context.Context, job, role, member string) error {
	err := retryWrite(ctx, func(ctx context.Context, readFailed func(error) error) error {
		p, err := c.jobPolicy(ctx, job)
		if err != nil {
			return readFailed(err)
		}
		for _, b := range p.GetBindings() {
			if b.GetRole() == role && b.GetCondition() == nil && slices.ContainsFunc(b.GetMembers(), func(m string) bool { return strings.EqualFold(m, member) }) {
				return nil
			}
		}
		var b *iampb.Binding
		for _, have := range p.GetBindings() {
			if have.GetRole() == role && have.GetCondition() == nil {
				b = have
			}
		}
		if b == nil {
			b = &iampb.Binding{Role: role}
			p.Bindings = append(p.Bindings, b)
		}
		b.Members = append(b.Members, member)
		_, err = c.jobs.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: job, Policy: p})
		return err
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		p, err := c.jobPolicy(ctx, job)
		if err != nil {
			return err
		}
		if holdsRun(p, member) {
			return nil
		}
		if time.Now().After(deadline) {
			return status.Errorf(codes.PermissionDenied, "%s was granted %s on %s, but after 30 s the job's IAM policy still does not show it", member, role, job)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// noGrant is grant_role's value for "the account already holds run.jobs.run (e.g. a project-level role)".
const noGrant = "none"

// proveScheduledRun makes Cloud Scheduler run its job now (RunJob) and waits for the attempt's status:
// Cloud Run answers the scheduler's call with the runner's OAuth token, so a refusal (PERMISSION_DENIED for
// an account without run.jobs.run, on the job or the project) shows here, where a grant made elsewhere
// cannot be read (project policies belong to Resource Manager). The run it starts is a real backup.
func (c *clients) proveScheduledRun(ctx context.Context, name string) error {
	before, err := c.getSchedulerJob(ctx, name)
	if err != nil {
		return err
	}
	prev := before.GetLastAttemptTime().AsTime()
	// Not retried: a lost reply may have started the attempt; the poll below sees it either way.
	if _, err := c.sched.RunJob(ctx, &schedulerpb.RunJobRequest{Name: name}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for {
		j, err := c.getSchedulerJob(ctx, name)
		if err != nil {
			return err
		}
		if j.GetLastAttemptTime().AsTime().After(prev) && j.GetStatus() != nil {
			if st := j.GetStatus(); st.GetCode() != int32(codes.OK) {
				return status.Error(codes.Code(st.GetCode()), st.GetMessage())
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no attempt reported by Cloud Scheduler within 5 minutes: %w", ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// runOnce runs the job now with the given argument overrides and waits for the execution: a failed
// execution fails the operation, as on Cloud Run, and the error carries the execution's message. marker is
// an argument no other execution has (the run's own prefix): a run whose reply was lost may have started
// an execution, so before it is sent again the job's executions are searched for the marker, and the one
// found is waited for instead of taking a second backup.
func (c *clients) runOnce(ctx context.Context, job string, args []string, marker string) (*runpb.Execution, error) {
	var op *run.RunJobOperation
	var found *runpb.Execution
	attempt := 0
	err := retryWrite(ctx, func(ctx context.Context, readFailed func(error) error) error {
		if attempt++; attempt > 1 {
			ex, err := c.findExecution(ctx, job, marker)
			if err != nil {
				return readFailed(err)
			}
			if found = ex; found != nil {
				return nil
			}
		}
		var err error
		op, err = c.jobs.RunJob(ctx, &runpb.RunJobRequest{Name: job, Overrides: &runpb.RunJobRequest_Overrides{
			ContainerOverrides: []*runpb.RunJobRequest_Overrides_ContainerOverride{{Args: args}},
		}})
		return err
	})
	if err != nil {
		return nil, err
	}
	var ex *runpb.Execution
	if found != nil {
		ex, err = c.waitExecution(ctx, found.GetName())
	} else {
		ex, err = waitOp(ctx, op.Done, func(ctx context.Context) (*runpb.Execution, error) { return op.Poll(ctx) })
	}
	if err != nil {
		return ex, err
	}
	if ex.GetSucceededCount() < ex.GetTaskCount() || ex.GetFailedCount() > 0 {
		msg := "the execution did not succeed"
		for _, cnd := range ex.GetConditions() {
			if cnd.GetState() == runpb.Condition_CONDITION_FAILED && cnd.GetMessage() != "" {
				msg = cnd.GetMessage()
			}
		}
		return ex, errors.New(msg)
	}
	return ex, nil
}

// findExecution returns the execution of job whose container arguments hold marker, or nil. Cloud Run
// applies a run's overrides to the execution's spec ("overrides will be applied to update the execution
// or task spec", jobs.run in the Admin API v2 reference), so its arguments show them.
func (c *clients) findExecution(ctx context.Context, job, marker string) (*runpb.Execution, error) {
	var found *runpb.Execution
	err := retry(ctx, func(ctx context.Context) error {
		found = nil
		it := c.execs.ListExecutions(ctx, &runpb.ListExecutionsRequest{Parent: job})
		for {
			ex, err := it.Next()
			if errors.Is(err, iterator.Done) {
				return nil
			}
			if err != nil {
				return err
			}
			for _, ctr := range ex.GetTemplate().GetContainers() {
				if slices.Contains(ctr.GetArgs(), marker) {
					found = ex
					return nil
				}
			}
		}
	})
	return found, err
}

// waitExecution polls the execution until it has completed.
func (c *clients) waitExecution(ctx context.Context, name string) (*runpb.Execution, error) {
	var ex *runpb.Execution
	return waitOp(ctx, func() bool { return ex.GetCompletionTime() != nil }, func(ctx context.Context) (*runpb.Execution, error) {
		var err error
		ex, err = c.execs.GetExecution(ctx, &runpb.GetExecutionRequest{Name: name})
		return ex, err
	})
}

// taskTimeout bounds one scheduled run: Cloud Run's default task timeout is 10 minutes, too short for a
// dump of a real database; 3 hours, under the 24 h maximum.
var taskTimeout = durationpb.New(3 * time.Hour)

// storeFor opens the policy's bucket at prefix with the provider's S3 settings; writes use sse.
func storeFor(data *shared.ProviderData, bucket, prefix, sse, kmsKeyID string) (*backup.Store, error) {
	s3 := data.S3
	return backup.NewStore(backup.StoreConfig{Bucket: bucket, Prefix: prefix, Endpoint: s3.Endpoint, Region: s3.Region,
		AccessKeyID: s3.AccessKeyID, SecretAccessKey: s3.SecretAccessKey, SSE: sse, KMSKeyID: kmsKeyID})
}
