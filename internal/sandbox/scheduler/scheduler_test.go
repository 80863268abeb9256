package scheduler_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	sched "cloud.google.com/go/scheduler/apiv1"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/scheduler"
)

const parent = "projects/alfred-test/locations/europe-west1"

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// runRecorder is the fake Cloud Run seam: it records the job names it is asked to run and the principal
// each call is authenticated as.
type runRecorder struct {
	mu      sync.Mutex
	calls   []string
	members []string
	err     error
}

func (r *runRecorder) RunJob(_ context.Context, name, member string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, name)
	r.members = append(r.members, member)
	return r.err
}

func (r *runRecorder) Members() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.members...)
}

func (r *runRecorder) Calls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls...)
}

type env struct {
	client *sched.CloudSchedulerClient
	clock  *clock
	runs   *runRecorder
	stop   func()
}

func start(t *testing.T, dir string, now time.Time) *env {
	t.Helper()
	e := &env{clock: &clock{t: now}, runs: &runRecorder{}}
	srv, err := scheduler.New(scheduler.Options{Dir: dir, Now: e.clock.Now, Tick: 10 * time.Millisecond, RunJob: e.runs.RunJob})
	if err != nil {
		t.Fatal(err)
	}
	k := kit.New(0, 0, 1)
	g := grpc.NewServer(k.ServerOptions()...)
	srv.Register(g)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.Serve(lis) }()
	e.client, err = sched.NewCloudSchedulerClient(context.Background(),
		option.WithEndpoint(lis.Addr().String()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	e.stop = func() {
		if stopped {
			return
		}
		stopped = true
		e.client.Close()
		g.Stop()
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	t.Cleanup(e.stop)
	return e
}

func wantCode(t *testing.T, err error, code codes.Code, what string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func httpJob(id, uri string) *schedulerpb.Job {
	return &schedulerpb.Job{
		Name:     parent + "/jobs/" + id,
		Schedule: "*/5 * * * *",
		TimeZone: "Etc/UTC",
		Target:   &schedulerpb.Job_HttpTarget{HttpTarget: &schedulerpb.HttpTarget{Uri: uri, HttpMethod: schedulerpb.HttpMethod_POST}},
	}
}

const runnerSA = "backup-runner@alfred-test.iam.gserviceaccount.com"

// runJob is a job whose HTTP target is a Cloud Run job's run endpoint, called with an OAuth token of
// runnerSA, as Cloud Run's "execute jobs on a schedule" guide sets it up.
func runJob(id, uri string) *schedulerpb.Job {
	j := httpJob(id, uri)
	j.GetHttpTarget().AuthorizationHeader = &schedulerpb.HttpTarget_OauthToken{OauthToken: &schedulerpb.OAuthToken{ServiceAccountEmail: runnerSA}}
	return j
}

func (e *env) create(t *testing.T, j *schedulerpb.Job) *schedulerpb.Job {
	t.Helper()
	got, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: parent, Job: j})
	if err != nil {
		t.Fatalf("create %s: %v", j.Name, err)
	}
	return got
}

// waitJob polls GetJob until ok(job) or fails after 5 s.
func (e *env) waitJob(t *testing.T, name string, what string, ok func(*schedulerpb.Job) bool) *schedulerpb.Job {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		j, err := e.client.GetJob(context.Background(), &schedulerpb.GetJobRequest{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: job never got there: %v", what, j)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestJob_createFillsOutputFieldsAndNextRunInItsTimeZone(t *testing.T) {
	now := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	e := start(t, "", now)
	j := httpJob("nightly-backup", "https://run.googleapis.com/v2/projects/alfred-test/locations/europe-west1/jobs/backup:run")
	j.Schedule, j.TimeZone = "0 3 * * *", "Europe/Berlin"
	j.State = schedulerpb.Job_PAUSED // output only: ignored
	got := e.create(t, j)
	if got.Name != parent+"/jobs/nightly-backup" || got.State != schedulerpb.Job_ENABLED {
		t.Fatalf("name/state: %s %s", got.Name, got.State)
	}
	// 03:00 in Berlin (UTC+1 in January) is 02:00 UTC the next day.
	if want := time.Date(2026, 1, 11, 2, 0, 0, 0, time.UTC); !got.ScheduleTime.AsTime().Equal(want) {
		t.Fatalf("schedule_time %s, want %s", got.ScheduleTime.AsTime(), want)
	}
	if !got.UserUpdateTime.AsTime().Equal(now) || got.LastAttemptTime != nil {
		t.Fatalf("user_update_time %v last_attempt_time %v", got.UserUpdateTime, got.LastAttemptTime)
	}
	if got.AttemptDeadline.AsDuration() != 3*time.Minute || got.RetryConfig.GetMaxDoublings() != 5 || got.RetryConfig.GetMinBackoffDuration().AsDuration() != 5*time.Second {
		t.Fatalf("documented defaults not reported: deadline %v retry %v", got.AttemptDeadline, got.RetryConfig)
	}
	// In summer the same schedule is 01:00 UTC.
	e.clock.Advance(180 * 24 * time.Hour)
	j2 := httpJob("summer", "http://127.0.0.1:1/")
	j2.Schedule, j2.TimeZone = "0 3 * * *", "Europe/Berlin"
	if h := e.create(t, j2).ScheduleTime.AsTime().UTC().Hour(); h != 1 {
		t.Fatalf("summer schedule hour %d UTC, want 1", h)
	}
	_, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: parent, Job: j})
	wantCode(t, err, codes.AlreadyExists, "same name twice")
	unnamed := httpJob("", "http://127.0.0.1:1/")
	unnamed.Name = ""
	if got := e.create(t, unnamed); !strings.HasPrefix(got.Name, parent+"/jobs/") || len(got.Name) == len(parent+"/jobs/") {
		t.Fatalf("generated name %q", got.Name)
	}
}

func TestJob_invalidScheduleTimeZoneAndTargetsAreInvalidArgument(t *testing.T) {
	e := start(t, "", time.Now())
	create := func(mut func(*schedulerpb.Job)) error {
		j := httpJob("j", "http://127.0.0.1:1/")
		mut(j)
		_, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: parent, Job: j})
		return err
	}
	for _, s := range []string{"", "every 5 minutes", "61 * * * *", "* * * *", "@every 5m", "0 0 30 2 * *", "0 0 30 2 *"} {
		wantCode(t, create(func(j *schedulerpb.Job) { j.Schedule = s }), codes.InvalidArgument, "schedule "+s)
	}
	wantCode(t, create(func(j *schedulerpb.Job) { j.TimeZone = "Mars/Olympus_Mons" }), codes.InvalidArgument, "unknown time zone")
	wantCode(t, create(func(j *schedulerpb.Job) { j.Target = nil }), codes.InvalidArgument, "no target")
	wantCode(t, create(func(j *schedulerpb.Job) { j.GetHttpTarget().Uri = "ftp://127.0.0.1/x" }), codes.InvalidArgument, "ftp uri")
	wantCode(t, create(func(j *schedulerpb.Job) {
		j.GetHttpTarget().HttpMethod, j.GetHttpTarget().Body = schedulerpb.HttpMethod_GET, []byte("x")
	}), codes.InvalidArgument, "body with GET")
	wantCode(t, create(func(j *schedulerpb.Job) { j.RetryConfig = &schedulerpb.RetryConfig{RetryCount: 6} }), codes.InvalidArgument, "retry_count 6")
	wantCode(t, create(func(j *schedulerpb.Job) { j.AttemptDeadline = durationpb.New(5 * time.Second) }), codes.InvalidArgument, "attempt_deadline 5s")
	wantCode(t, create(func(j *schedulerpb.Job) {
		j.Target = &schedulerpb.Job_PubsubTarget{PubsubTarget: &schedulerpb.PubsubTarget{TopicName: "projects/alfred-test/topics/t"}}
	}), codes.InvalidArgument, "empty Pub/Sub message")
	// PubsubTarget.topic_name: "The topic must be in the same project as the Cloud Scheduler job."
	wantCode(t, create(func(j *schedulerpb.Job) {
		j.Target = &schedulerpb.Job_PubsubTarget{PubsubTarget: &schedulerpb.PubsubTarget{TopicName: "projects/other/topics/t", Data: []byte("x")}}
	}), codes.InvalidArgument, "Pub/Sub topic in another project")
	if err := create(func(j *schedulerpb.Job) {
		j.Name = parent + "/jobs/pubsub"
		j.Target = &schedulerpb.Job_PubsubTarget{PubsubTarget: &schedulerpb.PubsubTarget{TopicName: "projects/alfred-test/topics/t", Data: []byte("x")}}
	}); err != nil {
		t.Fatalf("a Pub/Sub topic in the job's project is valid: %v", err)
	}
	wantCode(t, create(func(j *schedulerpb.Job) { j.Name = parent + "/jobs/has space" }), codes.InvalidArgument, "bad job id")
	_, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: "projects/alfred-test", Job: httpJob("x", "http://127.0.0.1:1/")})
	wantCode(t, err, codes.InvalidArgument, "parent without location")
	if err := create(func(j *schedulerpb.Job) { j.TimeZone, j.Schedule = "utc", "30 4 * * 1-5" }); err != nil {
		t.Fatalf("\"utc\" and a weekday range are valid: %v", err)
	}
	ctx := context.Background()
	_, err = e.client.GetJob(ctx, &schedulerpb.GetJobRequest{Name: parent + "/jobs/missing"})
	wantCode(t, err, codes.NotFound, "get unknown")
	wantCode(t, e.client.DeleteJob(ctx, &schedulerpb.DeleteJobRequest{Name: parent + "/jobs/missing"}), codes.NotFound, "delete unknown")
	_, err = e.client.RunJob(ctx, &schedulerpb.RunJobRequest{Name: parent + "/jobs/missing"})
	wantCode(t, err, codes.NotFound, "run unknown")
}

func TestJob_firesWhenDueAndRunsTheCloudRunJob(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)
	e := start(t, "", now)
	j := e.create(t, runJob("backup", "https://run.googleapis.com/v2/projects/alfred-test/locations/europe-west1/jobs/alfred-backup:run"))
	if want := time.Date(2026, 3, 1, 10, 5, 0, 0, time.UTC); !j.ScheduleTime.AsTime().Equal(want) {
		t.Fatalf("schedule_time %s, want %s", j.ScheduleTime.AsTime(), want)
	}
	time.Sleep(50 * time.Millisecond)
	if calls := e.runs.Calls(); len(calls) != 0 {
		t.Fatalf("job ran before it was due: %v", calls)
	}
	e.clock.Advance(3*time.Minute + time.Second) // 10:05:01
	got := e.waitJob(t, j.Name, "first run", func(j *schedulerpb.Job) bool { return j.Status != nil })
	if calls := e.runs.Calls(); len(calls) != 1 || calls[0] != "projects/alfred-test/locations/europe-west1/jobs/alfred-backup" {
		t.Fatalf("RunJob calls %v", calls)
	}
	if got.Status.GetCode() != int32(codes.OK) || got.LastAttemptTime == nil ||
		!got.ScheduleTime.AsTime().Equal(time.Date(2026, 3, 1, 10, 10, 0, 0, time.UTC)) {
		t.Fatalf("after the run: status %v last_attempt %v schedule_time %v", got.Status, got.LastAttemptTime, got.ScheduleTime.AsTime())
	}
	time.Sleep(50 * time.Millisecond)
	if calls := e.runs.Calls(); len(calls) != 1 {
		t.Fatalf("job ran again before its next time: %v", calls)
	}
	// The regional v1 (Knative) endpoint names the same job.
	v1 := e.create(t, runJob("backup-v1", "https://europe-west1-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/alfred-test/jobs/alfred-backup:run"))
	if _, err := e.client.RunJob(context.Background(), &schedulerpb.RunJobRequest{Name: v1.Name}); err != nil {
		t.Fatal(err)
	}
	e.waitJob(t, v1.Name, "v1 run", func(j *schedulerpb.Job) bool { return j.Status != nil })
	if calls := e.runs.Calls(); len(calls) != 2 || calls[1] != "projects/alfred-test/locations/europe-west1/jobs/alfred-backup" {
		t.Fatalf("RunJob calls %v", calls)
	}
}

func TestJob_failedCloudRunJobIsRecordedInStatus(t *testing.T) {
	e := start(t, "", time.Now())
	e.runs.mu.Lock()
	e.runs.err = status.Error(codes.NotFound, "job alfred-backup not found")
	e.runs.mu.Unlock()
	j := e.create(t, runJob("backup", "https://run.googleapis.com/v2/projects/alfred-test/locations/europe-west1/jobs/alfred-backup:run"))
	if _, err := e.client.RunJob(context.Background(), &schedulerpb.RunJobRequest{Name: j.Name}); err != nil {
		t.Fatal(err)
	}
	got := e.waitJob(t, j.Name, "failed run", func(j *schedulerpb.Job) bool { return j.Status != nil })
	if got.Status.GetCode() != int32(codes.NotFound) || !strings.Contains(got.Status.GetMessage(), "alfred-backup") {
		t.Fatalf("status %v", got.Status)
	}
}

func TestJob_loopbackHTTPTargetGetsTheJobsRequest(t *testing.T) {
	type seen struct {
		method, body, ctype, custom, ua, marker, jobName string
	}
	got := make(chan seen, 4)
	code := http.StatusOK
	var codeMu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(b), r.Header.Get("Content-Type"), r.Header.Get("X-Alfred"), r.Header.Get("User-Agent"),
			r.Header.Get("X-CloudScheduler"), r.Header.Get("X-CloudScheduler-JobName")}
		codeMu.Lock()
		defer codeMu.Unlock()
		w.WriteHeader(code)
	}))
	defer ts.Close()
	e := start(t, "", time.Now())
	j := httpJob("ping", ts.URL+"/hooks/backup")
	j.GetHttpTarget().HttpMethod = schedulerpb.HttpMethod_PUT
	j.GetHttpTarget().Headers = map[string]string{"X-Alfred": "yes"}
	j.GetHttpTarget().Body = []byte(`{"full":true}`)
	j = e.create(t, j)
	if _, err := e.client.RunJob(context.Background(), &schedulerpb.RunJobRequest{Name: j.Name}); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		want := seen{"PUT", `{"full":true}`, "application/octet-stream", "yes", "Google-Cloud-Scheduler", "true", "ping"}
		if s != want {
			t.Fatalf("request %+v, want %+v", s, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loopback target was never called")
	}
	ok := e.waitJob(t, j.Name, "successful attempt", func(j *schedulerpb.Job) bool { return j.Status != nil })
	if ok.Status.GetCode() != 0 || ok.LastAttemptTime == nil {
		t.Fatalf("status %v", ok.Status)
	}
	codeMu.Lock()
	code = http.StatusServiceUnavailable
	codeMu.Unlock()
	if _, err := e.client.RunJob(context.Background(), &schedulerpb.RunJobRequest{Name: j.Name}); err != nil {
		t.Fatal(err)
	}
	<-got
	e.waitJob(t, j.Name, "503 recorded as UNAVAILABLE", func(j *schedulerpb.Job) bool { return j.Status.GetCode() == int32(codes.Unavailable) })
}

func TestJob_targetOutsideLoopbackRecordsAFailedAttempt(t *testing.T) {
	e := start(t, "", time.Now())
	j := e.create(t, httpJob("external", "https://hooks.example.com/backup"))
	if _, err := e.client.RunJob(context.Background(), &schedulerpb.RunJobRequest{Name: j.Name}); err != nil {
		t.Fatal(err)
	}
	got := e.waitJob(t, j.Name, "failed attempt", func(j *schedulerpb.Job) bool { return j.Status != nil })
	if got.Status.GetCode() != int32(codes.Unavailable) || !strings.Contains(got.Status.GetMessage(), "loopback") || got.LastAttemptTime == nil {
		t.Fatalf("status %v last_attempt %v", got.Status, got.LastAttemptTime)
	}
	if len(e.runs.Calls()) != 0 {
		t.Fatal("a non-Cloud-Run URI must not call RunJob")
	}
}

func TestJob_pausedJobsDoNotFireAndResumeReschedules(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)
	e := start(t, "", now)
	ctx := context.Background()
	j := e.create(t, httpJob("backup", "https://run.googleapis.com/v2/projects/alfred-test/locations/europe-west1/jobs/alfred-backup:run"))
	p, err := e.client.PauseJob(ctx, &schedulerpb.PauseJobRequest{Name: j.Name})
	if err != nil || p.State != schedulerpb.Job_PAUSED {
		t.Fatalf("pause: %v %v", p.GetState(), err)
	}
	_, err = e.client.PauseJob(ctx, &schedulerpb.PauseJobRequest{Name: j.Name})
	wantCode(t, err, codes.FailedPrecondition, "pause a paused job")
	e.clock.Advance(time.Hour)
	time.Sleep(100 * time.Millisecond)
	if calls := e.runs.Calls(); len(calls) != 0 {
		t.Fatalf("paused job ran: %v", calls)
	}
	r, err := e.client.ResumeJob(ctx, &schedulerpb.ResumeJobRequest{Name: j.Name})
	if err != nil || r.State != schedulerpb.Job_ENABLED || !r.ScheduleTime.AsTime().Equal(time.Date(2026, 3, 1, 11, 5, 0, 0, time.UTC)) {
		t.Fatalf("resume: %v %v %v", r.GetState(), r.GetScheduleTime().AsTime(), err)
	}
	_, err = e.client.ResumeJob(ctx, &schedulerpb.ResumeJobRequest{Name: j.Name})
	wantCode(t, err, codes.FailedPrecondition, "resume an enabled job")
	time.Sleep(50 * time.Millisecond)
	if calls := e.runs.Calls(); len(calls) != 0 {
		t.Fatalf("resumed job ran for the times it missed: %v", calls)
	}
}

func TestJob_updateMaskChangesOnlyListedFields(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)
	e := start(t, "", now)
	ctx := context.Background()
	in := httpJob("backup", "http://127.0.0.1:1/")
	in.Description = "nightly"
	j := e.create(t, in)
	if _, err := e.client.PauseJob(ctx, &schedulerpb.PauseJobRequest{Name: j.Name}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Minute)
	got, err := e.client.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{
		Job:        &schedulerpb.Job{Name: j.Name, Schedule: "0 * * * *", Description: "not in the mask"},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"schedule"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Schedule != "0 * * * *" || got.Description != "nightly" || got.GetHttpTarget().GetUri() != "http://127.0.0.1:1/" {
		t.Fatalf("mask not honoured: %v", got)
	}
	if !got.ScheduleTime.AsTime().Equal(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)) || !got.UserUpdateTime.AsTime().Equal(now.Add(time.Minute)) {
		t.Fatalf("schedule_time %v user_update_time %v", got.ScheduleTime.AsTime(), got.UserUpdateTime.AsTime())
	}
	if got.State != schedulerpb.Job_PAUSED {
		t.Fatalf("update must not change state, got %s", got.State)
	}
	got, err = e.client.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{
		Job:        &schedulerpb.Job{Name: j.Name, Target: &schedulerpb.Job_HttpTarget{HttpTarget: &schedulerpb.HttpTarget{Uri: "http://127.0.0.1:2/x"}}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"http_target.uri"}},
	})
	if err != nil || got.GetHttpTarget().GetUri() != "http://127.0.0.1:2/x" || got.GetHttpTarget().GetHttpMethod() != schedulerpb.HttpMethod_POST {
		t.Fatalf("nested mask path: %v %v", got.GetHttpTarget(), err)
	}
	_, err = e.client.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{
		Job: &schedulerpb.Job{Name: j.Name, Schedule: "not cron"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"schedule"}},
	})
	wantCode(t, err, codes.InvalidArgument, "update to an invalid schedule")
	_, err = e.client.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{
		Job: &schedulerpb.Job{Name: j.Name}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"no_such_field"}},
	})
	wantCode(t, err, codes.InvalidArgument, "unknown mask path")
	// A path into a field neither the job nor the request sets is still checked against the schema.
	_, err = e.client.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{
		Job: &schedulerpb.Job{Name: j.Name}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"app_engine_http_target.no_such_field"}},
	})
	wantCode(t, err, codes.InvalidArgument, "unknown nested mask path under an unset field")
	_, err = e.client.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{
		Job: &schedulerpb.Job{Name: parent + "/jobs/missing", Schedule: "0 * * * *"}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"schedule"}},
	})
	wantCode(t, err, codes.NotFound, "update unknown")
}

func TestJob_listPagesAndStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := start(t, dir, time.Now())
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		e.create(t, httpJob(id, "http://127.0.0.1:1/"))
	}
	if _, err := e.client.PauseJob(ctx, &schedulerpb.PauseJobRequest{Name: parent + "/jobs/b"}); err != nil {
		t.Fatal(err)
	}
	var page []*schedulerpb.Job
	pager := iterator.NewPager(e.client.ListJobs(ctx, &schedulerpb.ListJobsRequest{Parent: parent}), 2, "")
	tok, err := pager.NextPage(&page)
	if err != nil || len(page) != 2 || tok == "" {
		t.Fatalf("first page: %d jobs, token %q, %v", len(page), tok, err)
	}
	e.stop()

	e2 := start(t, dir, time.Now())
	var names []string
	it := e2.client.ListJobs(ctx, &schedulerpb.ListJobsRequest{Parent: parent})
	for j, err := it.Next(); err != iterator.Done; j, err = it.Next() {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, j.Name[strings.LastIndex(j.Name, "/")+1:]+"="+j.State.String())
	}
	if strings.Join(names, ",") != "a=ENABLED,b=PAUSED,c=ENABLED" {
		t.Fatalf("after restart: %v", names)
	}
	if err := e2.client.DeleteJob(ctx, &schedulerpb.DeleteJobRequest{Name: parent + "/jobs/a"}); err != nil {
		t.Fatal(err)
	}
	_, err = e2.client.GetJob(ctx, &schedulerpb.GetJobRequest{Name: parent + "/jobs/a"})
	wantCode(t, err, codes.NotFound, "deleted job")
	other, err := e2.client.ListJobs(ctx, &schedulerpb.ListJobsRequest{Parent: "projects/alfred-test/locations/us-central1"}).Next()
	if err != iterator.Done {
		t.Fatalf("another location lists nothing, got %v %v", other, err)
	}
}

// RetryConfig: "If retry_count is set to a non-zero number then Cloud Scheduler will retry failed
// attempts, using exponential backoff, retry_count times, or until the next scheduled execution time,
// whichever comes first"; the interval starts at min_backoff_duration and doubles; Job.schedule_time
// "may be a retry of a previously failed attempt".
func TestJob_failedScheduledAttemptIsRetriedWithBackoff(t *testing.T) {
	var hits int
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer ts.Close()
	count := func() int { mu.Lock(); defer mu.Unlock(); return hits }
	now := time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)
	e := start(t, "", now)
	j := httpJob("flaky", ts.URL+"/hook")
	j.RetryConfig = &schedulerpb.RetryConfig{RetryCount: 2, MinBackoffDuration: durationpb.New(10 * time.Second)}
	j = e.create(t, j)
	at := func(h, m, s int) time.Time { return time.Date(2026, 3, 1, h, m, s, 0, time.UTC) }
	waitFor := func(what string, attempts int, next time.Time) {
		t.Helper()
		e.waitJob(t, j.Name, what, func(j *schedulerpb.Job) bool {
			return count() == attempts && j.Status.GetCode() == int32(codes.Unavailable) && j.ScheduleTime.AsTime().Equal(next)
		})
	}
	e.clock.Advance(3*time.Minute + time.Second) // 10:05:01: the scheduled attempt fails
	waitFor("first retry scheduled after min_backoff", 1, at(10, 5, 11))
	e.clock.Advance(10 * time.Second) // 10:05:11: retry 1 fails, the interval doubles
	waitFor("second retry scheduled after twice min_backoff", 2, at(10, 5, 31))
	e.clock.Advance(20 * time.Second) // 10:05:31: retry 2 fails, retry_count is spent
	waitFor("back to the schedule after retry_count retries", 3, at(10, 10, 0))
	time.Sleep(50 * time.Millisecond)
	if count() != 3 {
		t.Fatalf("%d attempts, want 3 (one run and retry_count = 2 retries)", count())
	}

	// A retry that would come after the next scheduled time is not made.
	late := httpJob("late", ts.URL+"/hook")
	late.RetryConfig = &schedulerpb.RetryConfig{RetryCount: 5, MinBackoffDuration: durationpb.New(6 * time.Minute)}
	late = e.create(t, late)                        // next run 10:10
	e.clock.Advance(4*time.Minute + 30*time.Second) // 10:10:01
	e.waitJob(t, late.Name, "no retry past the next run", func(j *schedulerpb.Job) bool {
		return j.Status.GetCode() == int32(codes.Unavailable) && j.ScheduleTime.AsTime().Equal(at(10, 15, 0))
	})

	// retry_count 0 (the default): no retry.
	none := e.create(t, httpJob("once", ts.URL+"/hook")) // next run 10:15
	e.clock.Advance(5 * time.Minute)                     // 10:15:01; "flaky" and "late" fire too
	e.waitJob(t, none.Name, "no retry with retry_count 0", func(j *schedulerpb.Job) bool {
		return j.Status.GetCode() == int32(codes.Unavailable) && j.ScheduleTime.AsTime().Equal(at(10, 20, 0))
	})
}

// Job.attempt_deadline: for App Engine HTTP targets "If the request deadline is set, it must be in the
// interval [15 seconds, 24 hours 15 seconds]"; 0 means the default.
func TestJob_appEngineAttemptDeadlineBounds(t *testing.T) {
	e := start(t, "", time.Now())
	ae := func(id string, d time.Duration) *schedulerpb.Job {
		return &schedulerpb.Job{Name: parent + "/jobs/" + id, Schedule: "0 * * * *", AttemptDeadline: durationpb.New(d),
			Target: &schedulerpb.Job_AppEngineHttpTarget{AppEngineHttpTarget: &schedulerpb.AppEngineHttpTarget{RelativeUri: "/cron"}}}
	}
	for _, d := range []time.Duration{10 * time.Second, 24*time.Hour + 16*time.Second} {
		_, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: parent, Job: ae("bad", d)})
		wantCode(t, err, codes.InvalidArgument, "App Engine attempt_deadline "+d.String())
	}
	e.create(t, ae("day", 24*time.Hour))
	e.create(t, ae("default", 0))
}

// AppEngineHttpTarget: "PATCH and OPTIONS are not permitted"; relative_uri "must begin with "/" ... No
// spaces are allowed, and the maximum length allowed is 2083 characters"; a body "is allowed only if the
// HTTP method is POST or PUT. It will result in invalid argument error ..." (PATCH is fine for HttpTarget).
func TestJob_appEngineTargetMethodURIAndBodyRules(t *testing.T) {
	e := start(t, "", time.Now())
	ae := func(id string, a *schedulerpb.AppEngineHttpTarget) *schedulerpb.Job {
		return &schedulerpb.Job{Name: parent + "/jobs/" + id, Schedule: "0 * * * *",
			Target: &schedulerpb.Job_AppEngineHttpTarget{AppEngineHttpTarget: a}}
	}
	for name, a := range map[string]*schedulerpb.AppEngineHttpTarget{
		"PATCH":             {HttpMethod: schedulerpb.HttpMethod_PATCH},
		"OPTIONS":           {HttpMethod: schedulerpb.HttpMethod_OPTIONS},
		"relative uri":      {RelativeUri: "cron"},
		"space in uri":      {RelativeUri: "/cron job"},
		"uri of 2084 chars": {RelativeUri: "/" + strings.Repeat("a", 2083)},
		"body with GET":     {HttpMethod: schedulerpb.HttpMethod_GET, Body: []byte("x")},
		"body with DELETE":  {HttpMethod: schedulerpb.HttpMethod_DELETE, Body: []byte("x")},
	} {
		_, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: parent, Job: ae("bad", a)})
		wantCode(t, err, codes.InvalidArgument, "App Engine target, "+name)
	}
	e.create(t, ae("root", &schedulerpb.AppEngineHttpTarget{}))
	e.create(t, ae("put", &schedulerpb.AppEngineHttpTarget{HttpMethod: schedulerpb.HttpMethod_PUT, RelativeUri: "/cron?x=1#f", Body: []byte("x")}))
	e.create(t, ae("long", &schedulerpb.AppEngineHttpTarget{RelativeUri: "/" + strings.Repeat("a", 2082)}))
}

// A Cloud Run job's run endpoint is a Google API: the attempt carries an OAuth access token of the job's
// oauth_token service account (HttpTarget.oauth_token: "should generally only be used when calling Google
// APIs hosted on *.googleapis.com"), and Cloud Run is asked to run the job as that account. Without a
// token, or with an OIDC token (what Cloud Run services take), the API answers 401 and the job is not
// run; a token without the cloud-platform scope gets 403.
func TestJob_cloudRunJobTargetNeedsAnOAuthTokenOfItsServiceAccount(t *testing.T) {
	e := start(t, "", time.Now())
	const uri = "https://run.googleapis.com/v2/projects/alfred-test/locations/europe-west1/jobs/alfred-backup:run"
	attempt := func(j *schedulerpb.Job) *schedulerpb.Job {
		t.Helper()
		j = e.create(t, j)
		if _, err := e.client.RunJob(context.Background(), &schedulerpb.RunJobRequest{Name: j.Name}); err != nil {
			t.Fatal(err)
		}
		return e.waitJob(t, j.Name, j.Name, func(j *schedulerpb.Job) bool { return j.Status != nil })
	}
	if got := attempt(httpJob("no-token", uri)); got.Status.GetCode() != int32(codes.Unauthenticated) ||
		!strings.Contains(got.Status.GetMessage(), "401") {
		t.Fatalf("without a token: status %v", got.Status)
	}
	oidc := httpJob("oidc", uri)
	oidc.GetHttpTarget().AuthorizationHeader = &schedulerpb.HttpTarget_OidcToken{OidcToken: &schedulerpb.OidcToken{ServiceAccountEmail: runnerSA}}
	if got := attempt(oidc); got.Status.GetCode() != int32(codes.Unauthenticated) {
		t.Fatalf("with an OIDC token: status %v", got.Status)
	}
	narrow := runJob("narrow-scope", uri)
	narrow.GetHttpTarget().GetOauthToken().Scope = "https://www.googleapis.com/auth/userinfo.email"
	if got := attempt(narrow); got.Status.GetCode() != int32(codes.PermissionDenied) {
		t.Fatalf("with a token lacking the cloud-platform scope: status %v", got.Status)
	}
	if calls := e.runs.Calls(); len(calls) != 0 {
		t.Fatalf("Cloud Run was asked to run the job without acceptable credentials: %v", calls)
	}
	if got := attempt(runJob("oauth", uri)); got.Status.GetCode() != int32(codes.OK) {
		t.Fatalf("with an OAuth token: status %v", got.Status)
	}
	if m := e.runs.Members(); len(m) != 1 || m[0] != "serviceAccount:"+runnerSA {
		t.Fatalf("the job ran as %v, want the oauth_token's service account", m)
	}
	// A token needs a service account email.
	bad := runJob("bad", uri)
	bad.GetHttpTarget().GetOauthToken().ServiceAccountEmail = ""
	_, err := e.client.CreateJob(context.Background(), &schedulerpb.CreateJobRequest{Parent: parent, Job: bad})
	wantCode(t, err, codes.InvalidArgument, "oauth_token without service_account_email")
}

// Cloud Run refusing the account (403, PERMISSION_DENIED) is a failed attempt: recorded in status and
// retried per RetryConfig like any failure.
func TestJob_cloudRunJobDeniedToTheAccountIsRecordedAndRetried(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 2, 0, 0, time.UTC)
	e := start(t, "", now)
	e.runs.mu.Lock()
	e.runs.err = status.Error(codes.PermissionDenied, "Permission 'run.jobs.run' denied on resource 'projects/alfred-test/locations/europe-west1/jobs/alfred-backup' (or it may not exist).")
	e.runs.mu.Unlock()
	j := runJob("denied", "https://run.googleapis.com/v2/projects/alfred-test/locations/europe-west1/jobs/alfred-backup:run")
	j.RetryConfig = &schedulerpb.RetryConfig{RetryCount: 1, MinBackoffDuration: durationpb.New(10 * time.Second)}
	j = e.create(t, j)
	e.clock.Advance(3*time.Minute + time.Second) // 10:05:01
	e.waitJob(t, j.Name, "denied attempt, retry scheduled", func(j *schedulerpb.Job) bool {
		return j.Status.GetCode() == int32(codes.PermissionDenied) && strings.Contains(j.Status.GetMessage(), "run.jobs.run") &&
			j.ScheduleTime.AsTime().Equal(time.Date(2026, 3, 1, 10, 5, 11, 0, time.UTC))
	})
	e.clock.Advance(10 * time.Second) // 10:05:11: the retry is denied too; retry_count is spent
	e.waitJob(t, j.Name, "retry spent", func(j *schedulerpb.Job) bool {
		return len(e.runs.Calls()) == 2 && j.ScheduleTime.AsTime().Equal(time.Date(2026, 3, 1, 10, 10, 0, 0, time.UTC))
	})
}
