package cloudrun

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
)

type jobsAPI struct {
	runpb.UnimplementedJobsServer
	s *Server
}

type executionsAPI struct {
	runpb.UnimplementedExecutionsServer
	s *Server
}

func notFoundJob(name string) error {
	p := strings.Split(name, "/")
	if len(p) == 6 {
		return status.Errorf(codes.NotFound, "Resource '%s' of kind 'JOB' in region '%s' in project '%s' does not exist.", p[5], p[3], p[1])
	}
	return status.Errorf(codes.NotFound, "Resource '%s' does not exist.", name)
}

func notFoundExecution(name string) error {
	return status.Errorf(codes.NotFound, "Execution '%s' does not exist.", name)
}

func defaultTaskTemplate(project string, t *runpb.TaskTemplate) {
	if t.Timeout == nil {
		t.Timeout = durationpb.New(600 * time.Second)
	}
	if t.Retries == nil {
		t.Retries = &runpb.TaskTemplate_MaxRetries{MaxRetries: 3}
	}
	if t.ServiceAccount == "" {
		t.ServiceAccount = projectNumber(project) + "-compute@developer.gserviceaccount.com"
	}
	for _, c := range t.Containers {
		if c.Resources == nil {
			c.Resources = &runpb.ResourceRequirements{}
		}
		if c.Resources.Limits == nil {
			c.Resources.Limits = map[string]string{}
		}
		if _, ok := c.Resources.Limits["cpu"]; !ok {
			c.Resources.Limits["cpu"] = "1000m"
		}
		if _, ok := c.Resources.Limits["memory"]; !ok {
			c.Resources.Limits["memory"] = "512Mi"
		}
	}
}

func validateJob(job *runpb.Job, serverOwned map[string]string) error {
	if err := validateMeta("job", job.GetLabels(), job.GetAnnotations(), serverOwned); err != nil {
		return err
	}
	et := job.GetTemplate()
	if et == nil || et.GetTemplate() == nil || len(et.GetTemplate().GetContainers()) == 0 {
		return invalid("job.template.template.containers", "job.template.template.containers: at least one container is required.")
	}
	if err := validateMeta("job.template", et.GetLabels(), et.GetAnnotations(), nil); err != nil {
		return err
	}
	if et.GetTaskCount() < 0 || et.GetParallelism() < 0 {
		return invalid("job.template.task_count", "task_count and parallelism cannot be negative.")
	}
	if err := checkTaskCount("job.template.task_count", et.GetTaskCount()); err != nil {
		return err
	}
	// "Set maximum retries for jobs": "Specify the number of retries using an integer from 0 to 10."
	if r := et.GetTemplate().GetMaxRetries(); r < 0 || r > 10 {
		return invalid("job.template.template.max_retries", "max_retries must be between 0 and 10, got %d.", r)
	}
	if to := et.GetTemplate().GetTimeout(); to != nil && (to.AsDuration() <= 0 || to.AsDuration() > 168*time.Hour) {
		return invalid("job.template.template.timeout", "timeout must be between 1s and 168h, got %s.", to.AsDuration())
	}
	for i, c := range et.GetTemplate().GetContainers() {
		if len(c.GetPorts()) > 0 {
			return invalid(fmt.Sprintf("job.template.template.containers[%d].ports", i), "Jobs do not support container ports.")
		}
		minMem := 128.0 * (1 << 20)
		if et.GetTemplate().GetExecutionEnvironment() == runpb.ExecutionEnvironment_EXECUTION_ENVIRONMENT_GEN2 {
			minMem = 512 * (1 << 20)
		}
		if err := validateContainer(fmt.Sprintf("job.template.template.containers[%d]", i), c, 1, minMem); err != nil {
			return err
		}
	}
	return nil
}

// maxTasks is the largest task count of a job execution: "Maximum number of tasks in a single job:
// 10,000", not increasable (Cloud Run quotas and limits).
const maxTasks = 10000

func checkTaskCount(field string, n int32) error {
	if n > maxTasks {
		return invalid(field, "task_count %d is above the maximum of %d tasks in a single job.", n, maxTasks)
	}
	return nil
}

func (s *Server) finishJobOpLater(op *longrunningpb.Operation, name string, gen int64) {
	s.afterLocked(s.delayLocked(), func() {
		stored := s.ops[op.Name]
		job := s.jobs[name]
		if stored == nil {
			return
		}
		if job != nil && job.Generation == gen {
			now := timestamppb.Now()
			job.Reconciling = false
			job.ObservedGeneration = gen
			job.TerminalCondition = &runpb.Condition{Type: "Ready", State: runpb.Condition_CONDITION_SUCCEEDED, LastTransitionTime: now}
			job.Conditions = nil
			job.Etag = ""
			job.Etag = etagOf(job)
		}
		if job == nil {
			s.finishOpLocked(stored, nil, nil)
			return
		}
		s.finishOpLocked(stored, proto.Clone(job), nil)
	})
}

func (s *Server) stampJobLocked(job *runpb.Job, opID string) {
	stampMeta(job.Name, &job.Labels, &job.Annotations, opID)
	job.Etag = ""
	job.Etag = etagOf(job)
}

func (a *jobsAPI) CreateJob(_ context.Context, req *runpb.CreateJobRequest) (*longrunningpb.Operation, error) {
	s := a.s
	project, _, err := parseParent(req.GetParent())
	if err != nil {
		return nil, err
	}
	if err := validateID("job", req.GetJobId(), 63); err != nil {
		return nil, err
	}
	if req.GetJob() == nil {
		return nil, invalid("job", "job is required.")
	}
	job := proto.Clone(req.GetJob()).(*runpb.Job)
	job.Name = req.GetParent() + "/jobs/" + req.GetJobId()
	if err := validateJob(job, nil); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobs[job.Name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Resource '%s' already exists.", req.GetJobId())
	}
	now := timestamppb.Now()
	job.Uid = s.uuidLocked()
	job.Generation = 1
	job.CreateTime, job.UpdateTime, job.DeleteTime, job.ExpireTime = now, now, nil, nil
	job.Creator, job.LastModifier = s.opts.Principal, s.opts.Principal
	job.ExecutionCount, job.LatestCreatedExecution = 0, nil
	if job.LaunchStage == api.LaunchStage_LAUNCH_STAGE_UNSPECIFIED {
		job.LaunchStage = api.LaunchStage_GA
	}
	if job.Template.TaskCount == 0 {
		job.Template.TaskCount = 1
	}
	defaultTaskTemplate(project, job.Template.Template)
	job.Reconciling = true
	job.TerminalCondition = &runpb.Condition{Type: "Ready", State: runpb.Condition_CONDITION_RECONCILING, LastTransitionTime: now}
	if req.GetValidateOnly() {
		s.stampJobLocked(job, "validate-only")
		return s.validateOnlyOpLocked(req.GetParent(), job), nil
	}
	op := s.newOpLocked(req.GetParent(), "job", job)
	s.stampJobLocked(job, opID(op))
	s.jobs[job.Name] = job
	s.finishJobOpLater(op, job.Name, job.Generation)
	s.save()
	return op, nil
}

func (a *jobsAPI) GetJob(_ context.Context, req *runpb.GetJobRequest) (*runpb.Job, error) {
	if _, _, err := parseName(req.GetName(), "jobs"); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	job, ok := a.s.jobs[req.GetName()]
	if !ok {
		return nil, notFoundJob(req.GetName())
	}
	return proto.Clone(job).(*runpb.Job), nil
}

func (a *jobsAPI) ListJobs(_ context.Context, req *runpb.ListJobsRequest) (*runpb.ListJobsResponse, error) {
	if _, _, err := parseParent(req.GetParent()); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	items, next, err := newestFirstPage(a.s.jobs, func(name string, _ *runpb.Job) bool {
		return strings.HasPrefix(name, req.GetParent()+"/jobs/")
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &runpb.ListJobsResponse{Jobs: items, NextPageToken: next}, nil
}

func (a *jobsAPI) UpdateJob(ctx context.Context, req *runpb.UpdateJobRequest) (*longrunningpb.Operation, error) {
	s := a.s
	if req.GetJob() == nil {
		return nil, invalid("job", "job is required.")
	}
	parent, id, err := parseName(req.GetJob().GetName(), "jobs")
	if err != nil {
		return nil, err
	}
	if op, missing, err := createIfMissing(s, s.jobs, req.GetJob().GetName(), req.GetAllowMissing(), notFoundJob, func() (*longrunningpb.Operation, error) {
		in := proto.Clone(req.GetJob()).(*runpb.Job)
		in.Name = ""
		return a.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: id, Job: in, ValidateOnly: req.GetValidateOnly()})
	}); missing {
		return op, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.jobs[req.GetJob().GetName()]
	if !ok {
		return nil, notFoundJob(req.GetJob().GetName())
	}
	if err := checkEtag(req.GetJob().GetEtag(), cur.Etag, "job '"+id+"'"); err != nil {
		return nil, err
	}
	in := proto.Clone(req.GetJob()).(*runpb.Job)
	if err := validateJob(in, serverOwnedMeta(cur)); err != nil {
		return nil, err
	}
	next := proto.Clone(cur).(*runpb.Job)
	next.Labels, next.Annotations, next.Client, next.ClientVersion = in.Labels, in.Annotations, in.Client, in.ClientVersion
	next.BinaryAuthorization = in.BinaryAuthorization
	next.Template = in.Template
	if next.Template.TaskCount == 0 {
		next.Template.TaskCount = 1
	}
	defaultTaskTemplate(strings.Split(parent, "/")[1], next.Template.Template)
	next.Generation++
	next.UpdateTime = timestamppb.Now()
	next.LastModifier = s.opts.Principal
	next.Reconciling = true
	if req.GetValidateOnly() {
		s.stampJobLocked(next, "validate-only")
		return s.validateOnlyOpLocked(parent, next), nil
	}
	op := s.newOpLocked(parent, "job", next)
	s.stampJobLocked(next, opID(op))
	s.jobs[next.Name] = next
	s.finishJobOpLater(op, next.Name, next.Generation)
	s.save()
	return op, nil
}

func (a *jobsAPI) DeleteJob(_ context.Context, req *runpb.DeleteJobRequest) (*longrunningpb.Operation, error) {
	s := a.s
	parent, id, err := parseName(req.GetName(), "jobs")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.jobs[req.GetName()]
	if !ok {
		return nil, notFoundJob(req.GetName())
	}
	if err := checkEtag(req.GetEtag(), cur.Etag, "job '"+id+"'"); err != nil {
		return nil, err
	}
	snap := proto.Clone(cur).(*runpb.Job)
	snap.DeleteTime = timestamppb.Now()
	snap.Reconciling = true
	if req.GetValidateOnly() {
		return s.validateOnlyOpLocked(parent, snap), nil
	}
	op := s.newOpLocked(parent, "job", snap)
	s.jobs[req.GetName()] = snap
	name := req.GetName()
	return s.deleteLaterLocked(op, func() proto.Message {
		delete(s.jobs, name)
		delete(s.policies, name)
		for en, ex := range s.execs {
			if ex.Job == id && strings.HasPrefix(en, name+"/") {
				delete(s.execs, en)
			}
		}
		return snap
	})
}

func (a *jobsAPI) RunJob(ctx context.Context, req *runpb.RunJobRequest) (*longrunningpb.Operation, error) {
	if _, _, err := parseName(req.GetName(), "jobs"); err != nil {
		return nil, err
	}
	return a.s.runJob(req)
}

// RunJobByName starts an execution of the job, as RunJob without overrides does. The Cloud Scheduler
// emulator calls it for HTTP targets that point at a job's :run endpoint. It returns once the execution
// has started.
func (s *Server) RunJobByName(_ context.Context, name string) error {
	if _, _, err := parseName(name, "jobs"); err != nil {
		return err
	}
	_, err := s.runJob(&runpb.RunJobRequest{Name: name})
	return err
}

func (s *Server) runJob(req *runpb.RunJobRequest) (*longrunningpb.Operation, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	job, ok := s.jobs[req.GetName()]
	if !ok {
		return nil, notFoundJob(req.GetName())
	}
	if job.DeleteTime != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "Job '%s' is being deleted.", req.GetName())
	}
	if err := checkEtag(req.GetEtag(), job.Etag, "the job"); err != nil {
		return nil, err
	}
	jobID := job.Name[strings.LastIndex(job.Name, "/")+1:]
	tmpl := proto.Clone(job.Template.Template).(*runpb.TaskTemplate)
	taskCount := job.Template.TaskCount
	if o := req.GetOverrides(); o != nil {
		if err := checkTaskCount("overrides.task_count", o.TaskCount); err != nil {
			return nil, err
		}
		if o.TaskCount > 0 {
			taskCount = o.TaskCount
		}
		if o.Timeout != nil {
			tmpl.Timeout = o.Timeout
		}
		for _, co := range o.ContainerOverrides {
			var c *runpb.Container
			for _, cc := range tmpl.Containers {
				if cc.Name == co.Name || co.Name == "" {
					c = cc
					break
				}
			}
			if c == nil {
				return nil, invalid("overrides.container_overrides.name", "No container named %q in job %s.", co.Name, jobID)
			}
			if co.ClearArgs {
				c.Args = nil
			} else if len(co.Args) > 0 {
				c.Args = co.Args
			}
			for _, e := range co.Env {
				replaced := false
				for i, ce := range c.Env {
					if ce.Name == e.Name {
						c.Env[i], replaced = e, true
					}
				}
				if !replaced {
					c.Env = append(c.Env, e)
				}
			}
		}
	}
	now := timestamppb.Now()
	ex := &runpb.Execution{
		Name:        fmt.Sprintf("%s/executions/%s-%s", job.Name, jobID, s.lettersLocked(5)),
		Uid:         s.uuidLocked(),
		Creator:     s.opts.Principal,
		Generation:  1,
		Labels:      map[string]string{"run.googleapis.com/jobUid": job.Uid, LabelLocation: strings.Split(job.Name, "/")[3]},
		Annotations: map[string]string{},
		CreateTime:  now, StartTime: now, UpdateTime: now,
		LaunchStage:  job.LaunchStage,
		Job:          jobID,
		Parallelism:  job.Template.Parallelism,
		TaskCount:    taskCount,
		Template:     tmpl,
		Reconciling:  true,
		RunningCount: taskCount,
		Conditions: []*runpb.Condition{
			{Type: "ResourcesAvailable", State: runpb.Condition_CONDITION_SUCCEEDED, LastTransitionTime: now},
			{Type: "Started", State: runpb.Condition_CONDITION_SUCCEEDED, LastTransitionTime: now},
			{Type: "Completed", State: runpb.Condition_CONDITION_RECONCILING, LastTransitionTime: now},
		},
		ObservedGeneration: 1,
	}
	for k, v := range job.Template.Labels {
		ex.Labels[k] = v
	}
	ex.Etag = etagOf(ex)
	if req.GetValidateOnly() {
		return s.validateOnlyOpLocked(strings.Join(strings.Split(job.Name, "/")[:4], "/"), ex), nil
	}
	s.execs[ex.Name] = ex
	job.ExecutionCount++
	job.LatestCreatedExecution = &runpb.ExecutionReference{Name: ex.Name, CreateTime: now}
	job.Etag = ""
	job.Etag = etagOf(job)
	parent := strings.Join(strings.Split(job.Name, "/")[:4], "/")
	op := s.newOpLocked(parent, "exec", ex)
	s.startExecutionLocked(ex, op.Name)
	s.save()
	return op, nil
}

// SetExecutionEnv sets the variables (KEY=value) that every execution of an alfredctl image started from
// now on gets on top of the sandbox's own environment; the job's variables override them. The supervisor
// hands the executions ALFRED_SANDBOX_DEBUG_URL this way, so that alfredctl finds the Qdrant peers the
// emulator runs (whose cluster URIs are not reachable addresses) without the job naming the sandbox.
func (s *Server) SetExecutionEnv(env ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.execEnv = append([]string(nil), env...)
}

// startExecutionLocked runs the execution: the local alfredctl binary for an `*alfredctl` image, a short
// wait for any other image (which fails under the sandbox convention when its tag is `fail`).
func (s *Server) startExecutionLocked(ex *runpb.Execution, opName string) {
	c := ex.Template.Containers[0]
	name := ex.Name
	finish := func(ok bool, msg string) {
		cur := s.execs[name]
		if cur == nil || cur.CompletionTime != nil {
			return
		}
		s.completeExecutionLocked(cur, ok, msg)
		if stored := s.ops[opName]; stored != nil {
			s.finishOpLocked(stored, proto.Clone(cur), nil)
		}
	}
	if !strings.HasSuffix(imageRepo(c.GetImage()), "alfredctl") {
		ok := imageTag(c.GetImage()) != "fail"
		s.afterLocked(s.delayLocked(), func() {
			if ok {
				finish(true, "")
			} else {
				finish(false, "Task "+ex.Job+"-task0 failed: the container exited with code 1 (sandbox convention: the image tag is `fail`).")
			}
		})
		return
	}
	if s.closed {
		return
	}
	timeout := ex.Template.GetTimeout().AsDuration()
	args := append([]string(nil), c.GetArgs()...)
	env := append(os.Environ(), s.execEnv...)
	for _, e := range c.GetEnv() { // the job's own variables win (the last of duplicates is used)
		if _, isRef := e.GetValues().(*runpb.EnvVar_ValueSource); isRef {
			continue // secret references cannot be resolved in the sandbox
		}
		env = append(env, e.GetName()+"="+e.GetValue())
	}
	parts := strings.Split(name, "/")
	env = append(env, "CLOUD_RUN_JOB="+ex.Job, "CLOUD_RUN_EXECUTION="+parts[len(parts)-1],
		fmt.Sprintf("CLOUD_RUN_TASK_COUNT=%d", ex.TaskCount))
	path := s.opts.AlfredctlPath
	logDir := ""
	if s.opts.Dir != "" {
		logDir = filepath.Join(s.opts.Dir, "executions")
	}
	taskCount := int(ex.TaskCount)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	s.cancels()[name] = cancel
	s.procs.Add(1)
	go func() {
		defer s.procs.Done()
		defer cancel()
		succeeded, failed := 0, 0
		var lastMsg string
		for i := 0; i < taskCount; i++ {
			out, err := runTask(ctx, path, args, append(env, fmt.Sprintf("CLOUD_RUN_TASK_INDEX=%d", i)))
			if logDir != "" {
				_ = os.MkdirAll(logDir, 0o755)
				_ = os.WriteFile(filepath.Join(logDir, fmt.Sprintf("%s-task%d.log", parts[len(parts)-1], i)), out, 0o644)
			}
			if err == nil {
				succeeded++
				continue
			}
			failed++
			tail := strings.TrimSpace(string(out))
			if len(tail) > 500 {
				tail = "..." + tail[len(tail)-500:]
			}
			lastMsg = fmt.Sprintf("Task %s-task%d failed: %v. Output: %s", ex.Job, i, err, tail)
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.cancels(), name)
		if cur := s.execs[name]; cur != nil && cur.CompletionTime == nil {
			cur.SucceededCount, cur.FailedCount = int32(succeeded), int32(failed)
		}
		finish(failed == 0, lastMsg)
		if logDir != "" {
			if cur := s.execs[name]; cur != nil {
				cur.LogUri = "file://" + logDir
			}
		}
		s.save()
	}()
}

// cancels returns the cancel functions of running executions (guarded by s.mu).
func (s *Server) cancels() map[string]context.CancelFunc {
	if s.running == nil {
		s.running = map[string]context.CancelFunc{}
	}
	return s.running
}

func runTask(ctx context.Context, path string, args, env []string) ([]byte, error) {
	if path == "" {
		return nil, errors.New("the sandbox has no alfredctl binary configured (Options.AlfredctlPath)")
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("the task exceeded its timeout")
	}
	return buf.Bytes(), err
}

func (s *Server) completeExecutionLocked(ex *runpb.Execution, ok bool, msg string) {
	now := timestamppb.Now()
	ex.CompletionTime, ex.UpdateTime = now, now
	ex.Reconciling = false
	ex.RunningCount = 0
	if ex.SucceededCount+ex.FailedCount+ex.CancelledCount == 0 {
		if ok {
			ex.SucceededCount = ex.TaskCount
		} else {
			ex.FailedCount = ex.TaskCount
		}
	}
	st := runpb.Condition_CONDITION_SUCCEEDED
	cs := runpb.ExecutionReference_EXECUTION_SUCCEEDED
	if !ok {
		st, cs = runpb.Condition_CONDITION_FAILED, runpb.ExecutionReference_EXECUTION_FAILED
		if ex.CancelledCount > 0 {
			cs = runpb.ExecutionReference_EXECUTION_CANCELLED
		}
	} else {
		msg = fmt.Sprintf("Execution completed successfully in %s.", now.AsTime().Sub(ex.StartTime.AsTime()).Round(time.Millisecond))
	}
	for _, c := range ex.Conditions {
		if c.Type == "Completed" {
			c.State, c.Message, c.LastTransitionTime = st, msg, now
		}
	}
	ex.Etag = ""
	ex.Etag = etagOf(ex)
	jobName := ex.Name[:strings.Index(ex.Name, "/executions/")]
	if job := s.jobs[jobName]; job != nil && job.LatestCreatedExecution.GetName() == ex.Name {
		job.LatestCreatedExecution.CompletionTime = now
		job.LatestCreatedExecution.CompletionStatus = cs
		job.Etag = ""
		job.Etag = etagOf(job)
	}
}

func (a *jobsAPI) GetIamPolicy(_ context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	return a.s.getPolicy(req.GetResource(), "jobs")
}

func (a *jobsAPI) SetIamPolicy(_ context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	return a.s.setPolicy(req, "jobs")
}

func (a *jobsAPI) TestIamPermissions(_ context.Context, req *iampb.TestIamPermissionsRequest) (*iampb.TestIamPermissionsResponse, error) {
	return a.s.testPermissions(req, "jobs")
}

// ---- executions ----

func (a *executionsAPI) GetExecution(_ context.Context, req *runpb.GetExecutionRequest) (*runpb.Execution, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	ex, ok := a.s.execs[req.GetName()]
	if !ok {
		return nil, notFoundExecution(req.GetName())
	}
	return proto.Clone(ex).(*runpb.Execution), nil
}

func (a *executionsAPI) ListExecutions(_ context.Context, req *runpb.ListExecutionsRequest) (*runpb.ListExecutionsResponse, error) {
	if _, _, err := parseName(req.GetParent(), "jobs"); err != nil {
		p := strings.Split(req.GetParent(), "/")
		if !(len(p) == 6 && p[5] == "-") {
			return nil, err
		}
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	prefix := req.GetParent() + "/executions/"
	all := strings.HasSuffix(req.GetParent(), "/jobs/-")
	if all {
		prefix = strings.TrimSuffix(req.GetParent(), "-")
	}
	items, next, err := newestFirstPage(a.s.execs, func(n string, _ *runpb.Execution) bool {
		return strings.HasPrefix(n, prefix) && (!all || strings.Contains(n, "/executions/"))
	}, req.GetPageSize(), req.GetPageToken())
	if err != nil {
		return nil, err
	}
	return &runpb.ListExecutionsResponse{Executions: items, NextPageToken: next}, nil
}

func (a *executionsAPI) DeleteExecution(_ context.Context, req *runpb.DeleteExecutionRequest) (*longrunningpb.Operation, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.execs[req.GetName()]
	if !ok {
		return nil, notFoundExecution(req.GetName())
	}
	if err := checkEtag(req.GetEtag(), ex.Etag, "the execution"); err != nil {
		return nil, err
	}
	snap := proto.Clone(ex).(*runpb.Execution)
	snap.DeleteTime = timestamppb.Now()
	parent := strings.Join(strings.Split(ex.Name, "/")[:4], "/")
	if req.GetValidateOnly() {
		return s.validateOnlyOpLocked(parent, snap), nil
	}
	if cancel, ok := s.cancels()[ex.Name]; ok {
		cancel()
	}
	op := s.newOpLocked(parent, "exec", snap)
	name := ex.Name
	return s.deleteLaterLocked(op, func() proto.Message {
		delete(s.execs, name)
		return snap
	})
}

func (a *executionsAPI) CancelExecution(_ context.Context, req *runpb.CancelExecutionRequest) (*longrunningpb.Operation, error) {
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	ex, ok := s.execs[req.GetName()]
	if !ok {
		return nil, notFoundExecution(req.GetName())
	}
	parent := strings.Join(strings.Split(ex.Name, "/")[:4], "/")
	if req.GetValidateOnly() {
		return s.validateOnlyOpLocked(parent, ex), nil
	}
	if ex.CompletionTime != nil {
		return nil, status.Errorf(codes.FailedPrecondition, "Execution '%s' has already completed and cannot be cancelled.", req.GetName())
	}
	if cancel, ok := s.cancels()[ex.Name]; ok {
		cancel()
		delete(s.cancels(), ex.Name)
	}
	ex.CancelledCount = ex.RunningCount
	s.completeExecutionLocked(ex, false, "The execution was cancelled.")
	op := s.newOpLocked(parent, "exec", ex)
	s.finishOpLocked(s.ops[op.Name], proto.Clone(ex), nil)
	// The RunJob operation of this execution ends too.
	for _, o := range s.ops {
		if !o.Done && opTarget(o) == ex.Name {
			s.finishOpLocked(o, proto.Clone(ex), nil)
		}
	}
	s.save()
	return proto.Clone(s.ops[op.Name]).(*longrunningpb.Operation), nil
}
