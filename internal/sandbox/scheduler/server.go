// Package scheduler emulates Cloud Scheduler v1 (google.cloud.scheduler.v1.CloudScheduler) over gRPC with
// the generated definitions of cloud.google.com/go/scheduler/apiv1/schedulerpb, and fires due jobs: a job
// whose HTTP target is a Cloud Run job's run endpoint runs that job through Options.RunJob, a loopback
// target gets a real HTTP request, and any other target records a failed attempt (the sandbox has no
// network beyond loopback). FIDELITY.md lists what is and is not emulated.
package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/robfig/cron/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// Options configure the emulator.
type Options struct {
	// Dir is the state directory; "" keeps state in memory only.
	Dir string
	// Kit is shared by the sandbox's emulators (faults and counts are applied by the gRPC server the
	// caller builds with Kit.ServerOptions).
	Kit *kit.Kit
	// RunJob runs a Cloud Run job, given its name projects/P/locations/L/jobs/J, for a call authenticated
	// as member ("serviceAccount:EMAIL", the service account of the job's OAuth token): the Cloud Run side
	// checks that member may run it (run.jobs.run) and answers PERMISSION_DENIED otherwise. The supervisor
	// wires it to the Cloud Run emulator's RunJobAs. nil: attempts on Cloud Run job targets fail with
	// UNAVAILABLE.
	RunJob func(ctx context.Context, runJobName, member string) error
	// Now returns the current time; nil means time.Now. Tests move the clock to make schedules come due.
	Now func() time.Time
	// Tick is how often the firing loop looks for due jobs; 0 means one second, negative disables the loop
	// (jobs then run only through the RunJob RPC).
	Tick time.Duration
	// HTTPClient sends loopback HTTP targets; nil means a client with no proxy.
	HTTPClient *http.Client
}

// Server implements CloudSchedulerServer.
type Server struct {
	schedulerpb.UnimplementedCloudSchedulerServer

	opts  Options
	store *kit.Store

	mu      sync.Mutex
	rng     *rand.Rand
	jobs    map[string]*schedulerpb.Job
	running map[string]bool // scheduled executions in flight ("never ... two simultaneously outstanding executions")
	// Retries of a failed scheduled attempt (RetryConfig): how many have been made in the current chain,
	// and whether the job's schedule_time is a retry ("this may be a retry of a previously failed attempt").
	retries  map[string]int
	retryDue map[string]bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed bool
}

type persisted struct {
	Jobs map[string]json.RawMessage `json:"jobs"`
}

var (
	parentRE = regexp.MustCompile(`^projects/([A-Za-z0-9:.-]+)/locations/([a-z0-9-]+)$`)
	jobIDRE  = regexp.MustCompile(`^[A-Za-z0-9_-]{1,500}$`)
	emailRE  = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

	// Cloud Run job run endpoints: the v2 API and the v1 (Knative) regional endpoint.
	runV2RE = regexp.MustCompile(`^https://run\.googleapis\.com/v2/projects/([^/]+)/locations/([^/]+)/jobs/([^/:]+):run$`)
	runV1RE = regexp.MustCompile(`^https://([a-z0-9-]+)-run\.googleapis\.com/apis/run\.googleapis\.com/v1/namespaces/([^/]+)/jobs/([^/:]+):run$`)
)

// New loads state and starts the firing loop.
func New(opts Options) (*Server, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Tick == 0 {
		opts.Tick = time.Second
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
	s := &Server{
		opts:     opts,
		store:    kit.NewStore(opts.Dir, "scheduler.json"),
		rng:      rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x7363686564)),
		jobs:     map[string]*schedulerpb.Job{},
		running:  map[string]bool{},
		retries:  map[string]int{},
		retryDue: map[string]bool{},
	}
	var st persisted
	if err := s.store.Load(&st); err != nil {
		return nil, fmt.Errorf("scheduler: load state: %w", err)
	}
	if err := kit.UnmarshalProtoMap("scheduler", st.Jobs, s.jobs, func() *schedulerpb.Job { return &schedulerpb.Job{} }); err != nil {
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.Tick > 0 {
		s.wg.Add(1)
		go s.loop()
	}
	return s, nil
}

// Register adds the CloudScheduler service to g.
func (s *Server) Register(g *grpc.Server) { schedulerpb.RegisterCloudSchedulerServer(g, s) }

// Close stops the firing loop, waits for attempts in flight and flushes the state.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *Server) saveLocked() error {
	jobs, err := kit.MarshalProtoMap(s.jobs)
	if err != nil {
		return err
	}
	if err := s.store.Save(&persisted{Jobs: jobs}); err != nil {
		return status.Errorf(codes.Internal, "sandbox: saving scheduler state: %v", err)
	}
	return nil
}

func clone[M proto.Message](m M) M { return proto.Clone(m).(M) }

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func notFound(name string) error {
	return status.Errorf(codes.NotFound, "Job not found: %s", name)
}

// jobLocked is the job called name, after checking the name: INVALID_ARGUMENT for a malformed name,
// NOT_FOUND for a missing job. The caller holds s.mu.
func (s *Server) jobLocked(name string) (*schedulerpb.Job, error) {
	if _, err := parseJobName(name); err != nil {
		return nil, err
	}
	j, ok := s.jobs[name]
	if !ok {
		return nil, notFound(name)
	}
	return j, nil
}

// parseJobName checks projects/P/locations/L/jobs/ID.
func parseJobName(name string) (parent string, err error) {
	parent, id, ok := strings.Cut(name, "/jobs/")
	if !ok || !parentRE.MatchString(parent) || !jobIDRE.MatchString(id) {
		return "", invalid("job name must have the form projects/PROJECT_ID/locations/LOCATION_ID/jobs/JOB_ID (JOB_ID: letters, numbers, hyphens or underscores, at most 500), got %q", name)
	}
	return parent, nil
}

// location resolves a job's time_zone: an IANA tz name, "utc" in any case, or UTC when empty.
func location(tz string) (*time.Location, error) {
	if tz == "" || strings.EqualFold(tz, "utc") {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, invalid("time_zone %q is not a time zone name from the tz database (for example \"Europe/Berlin\" or \"Etc/UTC\")", tz)
	}
	return loc, nil
}

// parseSchedule accepts unix-cron: exactly five fields (minute hour day-of-month month day-of-week).
func parseSchedule(spec string) (cron.Schedule, error) {
	if len(strings.Fields(spec)) != 5 {
		return nil, invalid("schedule %q is not a unix-cron expression (five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\")", spec)
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, invalid("schedule %q is not a valid unix-cron expression: %v", spec, err)
	}
	return sched, nil
}

// nextRun computes the next scheduled time after t in the job's time zone.
func nextRun(j *schedulerpb.Job, after time.Time) (time.Time, error) {
	sched, err := parseSchedule(j.Schedule)
	if err != nil {
		return time.Time{}, err
	}
	loc, err := location(j.TimeZone)
	if err != nil {
		return time.Time{}, err
	}
	next := sched.Next(after.In(loc))
	if next.IsZero() {
		return time.Time{}, invalid("schedule %q never fires (no matching date in the next five years)", j.Schedule)
	}
	return next.UTC(), nil
}

func validateJob(j *schedulerpb.Job) error {
	if len([]rune(j.Description)) > 500 {
		return invalid("description must not contain more than 500 characters")
	}
	if strings.TrimSpace(j.Schedule) == "" {
		return invalid("schedule is required")
	}
	if _, err := parseSchedule(j.Schedule); err != nil {
		return err
	}
	if _, err := nextRun(j, time.Now()); err != nil {
		return err
	}
	if rc := j.RetryConfig; rc != nil {
		if rc.RetryCount < 0 || rc.RetryCount > 5 {
			return invalid("retry_config.retry_count must be between 0 and 5, got %d", rc.RetryCount)
		}
		if rc.MaxDoublings < 0 {
			return invalid("retry_config.max_doublings must not be negative")
		}
	}
	switch t := j.Target.(type) {
	case nil:
		return invalid("a target is required: one of http_target, pubsub_target, app_engine_http_target")
	case *schedulerpb.Job_HttpTarget:
		h := t.HttpTarget
		u, err := url.Parse(h.Uri)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid("http_target.uri must begin with \"http://\" or \"https://\", got %q", h.Uri)
		}
		if len(h.Uri) > 2083 {
			return invalid("http_target.uri is longer than 2083 characters")
		}
		if len(h.Body) > 0 {
			switch h.HttpMethod {
			case schedulerpb.HttpMethod_POST, schedulerpb.HttpMethod_PUT, schedulerpb.HttpMethod_PATCH, schedulerpb.HttpMethod_HTTP_METHOD_UNSPECIFIED:
			default:
				return invalid("http_target.body is allowed only with POST, PUT or PATCH, not %s", h.HttpMethod)
			}
		}
		size := 0
		for k, v := range h.Headers {
			size += len(k) + len(v)
		}
		if size >= 80<<10 {
			return invalid("http_target.headers must total less than 80KB")
		}
		// OAuthToken / OidcToken: "Service account email to be used for generating OAuth [OIDC] token."
		if t := h.GetOauthToken(); t != nil && !emailRE.MatchString(t.GetServiceAccountEmail()) {
			return invalid("http_target.oauth_token.service_account_email must be a service account email, got %q", t.GetServiceAccountEmail())
		}
		if t := h.GetOidcToken(); t != nil && !emailRE.MatchString(t.GetServiceAccountEmail()) {
			return invalid("http_target.oidc_token.service_account_email must be a service account email, got %q", t.GetServiceAccountEmail())
		}
		if d := j.AttemptDeadline; d != nil && (d.AsDuration() < 15*time.Second || d.AsDuration() > 30*time.Minute) {
			return invalid("attempt_deadline for an HTTP target must be between 15s and 30m, got %s", d.AsDuration())
		}
	case *schedulerpb.Job_PubsubTarget:
		p := t.PubsubTarget
		if !regexp.MustCompile(`^projects/[^/]+/topics/[^/]+$`).MatchString(p.TopicName) {
			return invalid("pubsub_target.topic_name must have the form projects/PROJECT_ID/topics/TOPIC_ID, got %q", p.TopicName)
		}
		// "The topic must be in the same project as the Cloud Scheduler job."
		if jobProject, topicProject := strings.Split(j.Name, "/")[1], strings.Split(p.TopicName, "/")[1]; jobProject != topicProject {
			return invalid("pubsub_target.topic_name %q must be in the job's project %q", p.TopicName, jobProject)
		}
		if len(p.Data) == 0 && len(p.Attributes) == 0 {
			return invalid("Pubsub message must contain either non-empty data, or at least one attribute")
		}
	case *schedulerpb.Job_AppEngineHttpTarget:
		a := t.AppEngineHttpTarget
		// AppEngineHttpTarget.http_method: "PATCH and OPTIONS are not permitted."
		if a.HttpMethod == schedulerpb.HttpMethod_PATCH || a.HttpMethod == schedulerpb.HttpMethod_OPTIONS {
			return invalid("app_engine_http_target.http_method %s is not permitted (PATCH and OPTIONS are not)", a.HttpMethod)
		}
		// relative_uri: "must begin with "/" ... No spaces are allowed, and the maximum length allowed is
		// 2083 characters." (empty means "/")
		if u := a.RelativeUri; u != "" && (!strings.HasPrefix(u, "/") || strings.ContainsAny(u, " \t\n") || len(u) > 2083) {
			return invalid("app_engine_http_target.relative_uri must begin with \"/\", contain no spaces and have at most 2083 characters, got %q", u)
		}
		// body: "allowed only if the HTTP method is POST or PUT. It will result in invalid argument error to
		// set a body on a job with an incompatible HttpMethod." (unset means POST)
		if len(a.Body) > 0 {
			switch a.HttpMethod {
			case schedulerpb.HttpMethod_POST, schedulerpb.HttpMethod_PUT, schedulerpb.HttpMethod_HTTP_METHOD_UNSPECIFIED:
			default:
				return invalid("app_engine_http_target.body is allowed only with POST or PUT, not %s", a.HttpMethod)
			}
		}
		// "If the request deadline is set, it must be in the interval [15 seconds, 24 hours 15 seconds]."
		if d := j.AttemptDeadline; d != nil && d.AsDuration() != 0 &&
			(d.AsDuration() < 15*time.Second || d.AsDuration() > 24*time.Hour+15*time.Second) {
			return invalid("attempt_deadline for an App Engine HTTP target must be between 15s and 24h15s, got %s", d.AsDuration())
		}
	}
	return nil
}

// fillDefaults sets the values the API reports for fields left unset.
func fillDefaults(j *schedulerpb.Job) {
	if h := j.GetHttpTarget(); h != nil {
		if h.HttpMethod == schedulerpb.HttpMethod_HTTP_METHOD_UNSPECIFIED {
			h.HttpMethod = schedulerpb.HttpMethod_POST
		}
		if j.AttemptDeadline == nil {
			j.AttemptDeadline = durationpb.New(3 * time.Minute) // "For HTTP targets, the default is 3 minutes."
		}
	}
	if j.RetryConfig == nil {
		j.RetryConfig = &schedulerpb.RetryConfig{}
	}
	rc := j.RetryConfig
	if rc.MaxRetryDuration == nil {
		rc.MaxRetryDuration = durationpb.New(0)
	}
	if rc.MinBackoffDuration == nil {
		rc.MinBackoffDuration = durationpb.New(5 * time.Second) // "The default value of this field is 5 seconds."
	}
	if rc.MaxBackoffDuration == nil {
		rc.MaxBackoffDuration = durationpb.New(time.Hour) // "The default value of this field is 1 hour."
	}
	if rc.MaxDoublings == 0 {
		rc.MaxDoublings = 5 // "The default value of this field is 5."
	}
}

func (s *Server) CreateJob(_ context.Context, req *schedulerpb.CreateJobRequest) (*schedulerpb.Job, error) {
	if !parentRE.MatchString(req.GetParent()) {
		return nil, invalid("parent must have the form projects/PROJECT_ID/locations/LOCATION_ID, got %q", req.GetParent())
	}
	if req.GetJob() == nil {
		return nil, invalid("job is required")
	}
	j := clone(req.GetJob())
	if j.Name == "" {
		s.mu.Lock()
		j.Name = req.GetParent() + "/jobs/" + strconv.FormatUint(s.rng.Uint64(), 36)
		s.mu.Unlock()
	} else {
		parent, err := parseJobName(j.Name)
		if err != nil {
			return nil, err
		}
		if parent != req.GetParent() {
			return nil, invalid("job name %q is not under parent %q", j.Name, req.GetParent())
		}
	}
	if err := validateJob(j); err != nil {
		return nil, err
	}
	fillDefaults(j)
	now := s.opts.Now()
	next, err := nextRun(j, now)
	if err != nil {
		return nil, err
	}
	// Output-only fields are set by the server whatever the request says.
	j.State = schedulerpb.Job_ENABLED
	j.UserUpdateTime = timestamppb.New(now)
	j.ScheduleTime = timestamppb.New(next)
	j.LastAttemptTime, j.Status = nil, nil
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobs[j.Name]; ok {
		return nil, status.Errorf(codes.AlreadyExists, "Job %s already exists", j.Name)
	}
	s.jobs[j.Name] = j
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(j), nil
}

func (s *Server) GetJob(_ context.Context, req *schedulerpb.GetJobRequest) (*schedulerpb.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.jobLocked(req.GetName())
	if err != nil {
		return nil, err
	}
	return clone(j), nil
}

func (s *Server) ListJobs(_ context.Context, req *schedulerpb.ListJobsRequest) (*schedulerpb.ListJobsResponse, error) {
	if !parentRE.MatchString(req.GetParent()) {
		return nil, invalid("parent must have the form projects/PROJECT_ID/locations/LOCATION_ID, got %q", req.GetParent())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []string
	for name := range s.jobs {
		if strings.HasPrefix(name, req.GetParent()+"/jobs/") {
			keys = append(keys, name)
		}
	}
	sort.Strings(keys)
	start := 0
	if tok := req.GetPageToken(); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(keys) {
			return nil, invalid("invalid page_token %q", tok)
		}
		start = n
	}
	size := int(req.GetPageSize())
	if size < 0 {
		return nil, invalid("page_size must not be negative")
	}
	if size == 0 || size > 500 { // "The maximum page size is 500. If unspecified, the page size will be the maximum."
		size = 500
	}
	end := min(start+size, len(keys))
	resp := &schedulerpb.ListJobsResponse{}
	for _, k := range keys[start:end] {
		resp.Jobs = append(resp.Jobs, clone(s.jobs[k]))
	}
	if end < len(keys) {
		resp.NextPageToken = strconv.Itoa(end)
	}
	return resp, nil
}

var jobOutputOnly = map[string]bool{"name": true, "user_update_time": true, "state": true, "status": true, "schedule_time": true, "last_attempt_time": true}

func (s *Server) UpdateJob(_ context.Context, req *schedulerpb.UpdateJobRequest) (*schedulerpb.Job, error) {
	in := req.GetJob()
	if in == nil {
		return nil, invalid("job is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.jobLocked(in.GetName())
	if err != nil {
		return nil, err
	}
	j := clone(old)
	paths := req.GetUpdateMask().GetPaths()
	if len(paths) == 0 {
		// No mask: every field that is not output-only is taken from the request.
		fds := j.ProtoReflect().Descriptor().Fields()
		for i := 0; i < fds.Len(); i++ {
			if name := string(fds.Get(i).Name()); !jobOutputOnly[name] {
				paths = append(paths, name)
			}
		}
	}
	// Output-only paths are ignored: "Any value specified for an output only field will be ignored."
	if err := kit.ApplyMask(j, in, paths, jobOutputOnly); err != nil {
		return nil, err
	}
	if err := validateJob(j); err != nil {
		return nil, err
	}
	fillDefaults(j)
	now := s.opts.Now()
	next, err := nextRun(j, now)
	if err != nil {
		return nil, err
	}
	j.UserUpdateTime = timestamppb.New(now)
	j.ScheduleTime = timestamppb.New(next)
	s.endRetriesLocked(j.Name)
	s.jobs[j.Name] = j
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(j), nil
}

func (s *Server) DeleteJob(_ context.Context, req *schedulerpb.DeleteJobRequest) (*emptypb.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.jobLocked(req.GetName()); err != nil {
		return nil, err
	}
	delete(s.jobs, req.GetName())
	s.endRetriesLocked(req.GetName())
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (s *Server) PauseJob(_ context.Context, req *schedulerpb.PauseJobRequest) (*schedulerpb.Job, error) {
	return s.setState(req.GetName(), schedulerpb.Job_ENABLED, schedulerpb.Job_PAUSED)
}

func (s *Server) ResumeJob(_ context.Context, req *schedulerpb.ResumeJobRequest) (*schedulerpb.Job, error) {
	return s.setState(req.GetName(), schedulerpb.Job_PAUSED, schedulerpb.Job_ENABLED)
}

// setState moves a job from one state to another: "A job must be in ENABLED to be paused", "must be in
// PAUSED to be resumed".
func (s *Server) setState(name string, from, to schedulerpb.Job_State) (*schedulerpb.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.jobLocked(name)
	if err != nil {
		return nil, err
	}
	if j.State != from {
		return nil, status.Errorf(codes.FailedPrecondition, "Job %s is %s; it must be %s to become %s", name, j.State, from, to)
	}
	j.State = to
	s.endRetriesLocked(name)
	if to == schedulerpb.Job_ENABLED {
		// A resumed job runs at its next scheduled time from now, not at the times it missed.
		next, err := nextRun(j, s.opts.Now())
		if err != nil {
			return nil, err
		}
		j.ScheduleTime = timestamppb.New(next)
	}
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(j), nil
}

// RunJob forces a job to run now: "Cloud Scheduler will dispatch the job, even if the job is already
// running." The attempt runs in the background; its outcome shows in last_attempt_time and status.
func (s *Server) RunJob(_ context.Context, req *schedulerpb.RunJobRequest) (*schedulerpb.Job, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j, err := s.jobLocked(req.GetName())
	if err != nil {
		return nil, err
	}
	if s.closed {
		return nil, status.Error(codes.Unavailable, "sandbox: scheduler is shutting down")
	}
	out := clone(j)
	s.startAttemptLocked(j, s.opts.Now(), false)
	return out, nil
}

func (s *Server) loop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			s.fireDue()
		}
	}
}

// fireDue starts an attempt for every enabled job whose schedule_time has passed and that has no
// scheduled attempt in flight.
func (s *Server) fireDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	now := s.opts.Now()
	for name, j := range s.jobs {
		if j.State != schedulerpb.Job_ENABLED || s.running[name] || j.ScheduleTime == nil || j.ScheduleTime.AsTime().After(now) {
			continue
		}
		scheduled := j.ScheduleTime.AsTime()
		next, err := nextRun(j, now)
		if err != nil {
			continue
		}
		if !s.retryDue[name] {
			delete(s.retries, name) // a scheduled run starts a new retry chain
		}
		delete(s.retryDue, name)
		j.ScheduleTime = timestamppb.New(next)
		s.running[name] = true
		s.startAttemptLocked(j, scheduled, true)
	}
}

// startAttemptLocked records the attempt's start and dispatches it in the background.
func (s *Server) startAttemptLocked(j *schedulerpb.Job, scheduled time.Time, fromSchedule bool) {
	name := j.Name
	j.LastAttemptTime = timestamppb.New(s.opts.Now())
	_ = s.saveLocked()
	job := clone(j)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		st := s.dispatch(s.ctx, job, scheduled)
		s.mu.Lock()
		defer s.mu.Unlock()
		if fromSchedule {
			delete(s.running, name)
		}
		if cur, ok := s.jobs[name]; ok {
			cur.Status = st
			if fromSchedule {
				s.retryLocked(cur, st.GetCode() != int32(codes.OK))
			}
			_ = s.saveLocked()
		}
	}()
}

// retryLocked schedules the retry of a failed scheduled attempt as RetryConfig describes: "If retry_count
// is set to a non-zero number then Cloud Scheduler will retry failed attempts, using exponential backoff,
// retry_count times, or until the next scheduled execution time, whichever comes first." The retry time
// becomes the job's schedule_time.
func (s *Server) retryLocked(j *schedulerpb.Job, failed bool) {
	rc := j.GetRetryConfig()
	n := s.retries[j.Name]
	if !failed || j.State != schedulerpb.Job_ENABLED || n >= int(rc.GetRetryCount()) {
		s.endRetriesLocked(j.Name)
		return
	}
	at := s.opts.Now().Add(backoff(rc, n))
	if j.ScheduleTime != nil && !at.Before(j.ScheduleTime.AsTime()) {
		s.endRetriesLocked(j.Name)
		return
	}
	s.retries[j.Name] = n + 1
	s.retryDue[j.Name] = true
	j.ScheduleTime = timestamppb.New(at)
}

func (s *Server) endRetriesLocked(name string) {
	delete(s.retries, name)
	delete(s.retryDue, name)
}

// backoff is the wait before retry i (0-based): "A job's retry interval starts at min_backoff_duration,
// then doubles max_doublings times, then increases linearly, and finally retries at intervals of
// max_backoff_duration" (min 10s, max 300s, 3 doublings: 10s, 20s, 40s, 80s, 160s, 240s, 300s, 300s).
func backoff(rc *schedulerpb.RetryConfig, i int) time.Duration {
	lo, hi, d := 5*time.Second, time.Hour, int(rc.GetMaxDoublings())
	if rc.GetMinBackoffDuration() != nil {
		lo = rc.GetMinBackoffDuration().AsDuration()
	}
	if rc.GetMaxBackoffDuration() != nil {
		hi = rc.GetMaxBackoffDuration().AsDuration()
	}
	var b time.Duration
	if i <= d {
		b = lo << i
	} else {
		b = (lo << d) * time.Duration(i-d+1)
	}
	if b > hi || b < 0 {
		b = hi
	}
	return b
}

// dispatch delivers one attempt and returns its status.
func (s *Server) dispatch(ctx context.Context, j *schedulerpb.Job, scheduled time.Time) *rpcstatus.Status {
	deadline := 3 * time.Minute
	if d := j.GetAttemptDeadline(); d != nil && d.AsDuration() > 0 {
		deadline = d.AsDuration()
	}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	h := j.GetHttpTarget()
	if h == nil {
		return &rpcstatus.Status{Code: int32(codes.Unavailable), Message: "sandbox: Pub/Sub and App Engine targets are not delivered (there is no Pub/Sub or App Engine in the sandbox)"}
	}
	if runJob, ok := cloudRunJob(h.Uri); ok {
		if s.opts.RunJob == nil {
			return &rpcstatus.Status{Code: int32(codes.Unavailable), Message: "sandbox: no Cloud Run emulator is connected to run " + runJob}
		}
		member, st := googleAPICredentials(h)
		if st != nil {
			return st
		}
		if err := s.opts.RunJob(ctx, runJob, member); err != nil {
			st := status.Convert(err)
			if st.Code() == codes.Unknown && errors.Is(err, context.DeadlineExceeded) {
				st = status.New(codes.DeadlineExceeded, err.Error())
			}
			return st.Proto()
		}
		return &rpcstatus.Status{}
	}
	u, err := url.Parse(h.Uri)
	if err != nil || !loopback(u.Hostname()) {
		return &rpcstatus.Status{Code: int32(codes.Unavailable),
			Message: "sandbox: the sandbox reaches only loopback (http://127.0.0.1:PORT/...) and Cloud Run job run endpoints; " + h.Uri + " was not called"}
	}
	return s.sendHTTP(ctx, j, h, scheduled)
}

// cloudPlatformScope is the OAuth scope Cloud Scheduler uses when OAuthToken.scope is empty ("If not
// specified, "https://www.googleapis.com/auth/cloud-platform" will be used"), and the one the Cloud Run
// Admin API accepts.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// googleAPICredentials is what the attempt's Authorization header amounts to for a Google API such as
// run.googleapis.com: only an OAuth access token is accepted there ("This type of authorization should
// generally only be used when calling Google APIs hosted on *.googleapis.com"); no token, or an OIDC ID
// token (what Cloud Run *services* take), is answered with 401; a token without the cloud-platform scope
// with 403. It returns the IAM principal of an acceptable token, or the failed attempt's status.
func googleAPICredentials(h *schedulerpb.HttpTarget) (string, *rpcstatus.Status) {
	fail := func(code codes.Code, http int, msg string) (string, *rpcstatus.Status) {
		return "", &rpcstatus.Status{Code: int32(code), Message: fmt.Sprintf("HTTP %d from %s: %s", http, h.Uri, msg)}
	}
	switch {
	case h.GetOidcToken() != nil:
		return fail(codes.Unauthenticated, http.StatusUnauthorized, "Request had invalid authentication credentials. "+
			"Expected OAuth 2 access token, login cookie or other valid authentication credential. "+
			"(An OIDC token is for Cloud Run services and endpoints that verify it; a Google API such as the "+
			"Cloud Run jobs:run endpoint needs http_target.oauth_token.)")
	case h.GetOauthToken() == nil:
		return fail(codes.Unauthenticated, http.StatusUnauthorized, "Request is missing required authentication credential. "+
			"Expected OAuth 2 access token, login cookie or other valid authentication credential. "+
			"(Set http_target.oauth_token with a service account allowed to run the job.)")
	}
	if scope := h.GetOauthToken().GetScope(); scope != "" && !strings.Contains(" "+scope+" ", " "+cloudPlatformScope+" ") {
		return fail(codes.PermissionDenied, http.StatusForbidden, "Request had insufficient authentication scopes.")
	}
	return "serviceAccount:" + h.GetOauthToken().GetServiceAccountEmail(), nil
}

func cloudRunJob(uri string) (string, bool) {
	if m := runV2RE.FindStringSubmatch(uri); m != nil {
		return "projects/" + m[1] + "/locations/" + m[2] + "/jobs/" + m[3], true
	}
	if m := runV1RE.FindStringSubmatch(uri); m != nil {
		return "projects/" + m[2] + "/locations/" + m[1] + "/jobs/" + m[3], true
	}
	return "", false
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) sendHTTP(ctx context.Context, j *schedulerpb.Job, h *schedulerpb.HttpTarget, scheduled time.Time) *rpcstatus.Status {
	method := h.HttpMethod.String()
	if h.HttpMethod == schedulerpb.HttpMethod_HTTP_METHOD_UNSPECIFIED {
		method = http.MethodPost
	}
	req, err := http.NewRequestWithContext(ctx, method, h.Uri, bytes.NewReader(h.Body))
	if err != nil {
		return &rpcstatus.Status{Code: int32(codes.InvalidArgument), Message: err.Error()}
	}
	for k, v := range h.Headers {
		switch strings.ToLower(k) {
		case "host", "content-length", "user-agent":
			continue // computed by Cloud Scheduler
		}
		if strings.HasPrefix(strings.ToLower(k), "x-google-") || strings.HasPrefix(strings.ToLower(k), "x-appengine-") {
			continue
		}
		req.Header.Set(k, v)
	}
	if len(h.Body) > 0 && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("User-Agent", "Google-Cloud-Scheduler")
	req.Header.Set("X-CloudScheduler", "true")
	req.Header.Set("X-CloudScheduler-JobName", j.Name[strings.LastIndex(j.Name, "/")+1:])
	req.Header.Set("X-CloudScheduler-ScheduleTime", scheduled.UTC().Format(time.RFC3339))
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return &rpcstatus.Status{Code: int32(codes.DeadlineExceeded), Message: "attempt_deadline exceeded: " + err.Error()}
		}
		return &rpcstatus.Status{Code: int32(codes.Unavailable), Message: err.Error()}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return &rpcstatus.Status{}
	}
	return &rpcstatus.Status{Code: int32(httpToCode(resp.StatusCode)), Message: fmt.Sprintf("HTTP %d from %s", resp.StatusCode, h.Uri)}
}

// httpToCode maps an HTTP status to the canonical gRPC code, as google.rpc.Code documents the mapping.
func httpToCode(c int) codes.Code {
	switch c {
	case 400:
		return codes.InvalidArgument
	case 401:
		return codes.Unauthenticated
	case 403:
		return codes.PermissionDenied
	case 404:
		return codes.NotFound
	case 409:
		return codes.Aborted
	case 429:
		return codes.ResourceExhausted
	case 499:
		return codes.Canceled
	case 501:
		return codes.Unimplemented
	case 503:
		return codes.Unavailable
	case 504:
		return codes.DeadlineExceeded
	}
	if c >= 500 {
		return codes.Internal
	}
	return codes.FailedPrecondition
}
