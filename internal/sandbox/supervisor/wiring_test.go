package supervisor_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	pubsubapi "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	scheduler "cloud.google.com/go/scheduler/apiv1"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func clientOpts(endpoint string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(endpoint), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

// A Cloud Scheduler job that targets a Cloud Run job's run endpoint runs that job when its OAuth token's
// service account may run it (here roles/run.invoker on the job, as Cloud Run's guide to running jobs on
// a schedule grants it); the job's image is alfredctl, so its execution runs the local alfredctl binary
// with the job's args, and succeeds. An account without such a role gets PERMISSION_DENIED in the
// scheduler job's status until a project-level grant (the debug API) lets it.
func TestSchedulerJobRunsCloudRunJobThatRunsAlfredctl(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "alfredctl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../../cmd/alfredctl").CombinedOutput(); err != nil {
		t.Fatalf("go build alfredctl: %v\n%s", err, out)
	}
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: t.TempDir(), VersityGWPath: vgw, AlfredctlPath: bin, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	project, region := sb.Env["ALFRED_GCP_PROJECT"], sb.Env["ALFRED_GCP_REGION"]
	parent := "projects/" + project + "/locations/" + region

	jobs, err := run.NewJobsClient(ctx, clientOpts(sb.Env["ALFRED_GCP_RUN_ENDPOINT"])...)
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	op, err := jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "nightly-backup", Job: &runpb.Job{
		Template: &runpb.ExecutionTemplate{Template: &runpb.TaskTemplate{Containers: []*runpb.Container{{
			Image: "local/alfredctl:latest", Args: []string{"--version"},
		}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	job, err := op.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}

	sched, err := scheduler.NewCloudSchedulerClient(ctx, clientOpts(sb.Env["ALFRED_GCP_SCHEDULER_ENDPOINT"])...)
	if err != nil {
		t.Fatal(err)
	}
	defer sched.Close()
	runner := "backup-runner@" + project + ".iam.gserviceaccount.com"
	intruder := "intruder@" + project + ".iam.gserviceaccount.com"
	trigger := func(id, sa string) *schedulerpb.Job {
		t.Helper()
		sj, err := sched.CreateJob(ctx, &schedulerpb.CreateJobRequest{Parent: parent, Job: &schedulerpb.Job{
			Name: parent + "/jobs/" + id, Schedule: "0 3 * * *", TimeZone: "Europe/London",
			Target: &schedulerpb.Job_HttpTarget{HttpTarget: &schedulerpb.HttpTarget{
				Uri:                 "https://run.googleapis.com/v2/" + job.GetName() + ":run",
				HttpMethod:          schedulerpb.HttpMethod_POST,
				AuthorizationHeader: &schedulerpb.HttpTarget_OauthToken{OauthToken: &schedulerpb.OAuthToken{ServiceAccountEmail: sa}},
			}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sched.RunJob(ctx, &schedulerpb.RunJobRequest{Name: sj.GetName()}); err != nil {
			t.Fatal(err)
		}
		return sj
	}
	waitStatus := func(name string, code codes.Code) {
		t.Helper()
		for {
			j, err := sched.GetJob(ctx, &schedulerpb.GetJobRequest{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			if j.GetStatus() != nil && j.GetStatus().GetCode() == int32(code) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("scheduler job %s: status %v, want %s", name, j.GetStatus(), code)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}

	// An account with no role on the job or the project is refused by Cloud Run.
	denied := trigger("intruder-trigger", intruder)
	waitStatus(denied.GetName(), codes.PermissionDenied)

	// roles/run.invoker on the job lets the runner account run it.
	if _, err := jobs.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: job.GetName(), Policy: &iampb.Policy{
		Bindings: []*iampb.Binding{{Role: "roles/run.invoker", Members: []string{"serviceAccount:" + runner}}}}}); err != nil {
		t.Fatal(err)
	}
	sj := trigger("nightly-backup-trigger", runner)
	waitStatus(sj.GetName(), codes.OK)

	execs, err := run.NewExecutionsClient(ctx, clientOpts(sb.Env["ALFRED_GCP_RUN_ENDPOINT"])...)
	if err != nil {
		t.Fatal(err)
	}
	defer execs.Close()
	for {
		var done *runpb.Execution
		it := execs.ListExecutions(ctx, &runpb.ListExecutionsRequest{Parent: job.GetName()})
		for {
			e, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if e.GetCompletionTime() != nil {
				done = e
			}
		}
		if done != nil {
			if done.GetSucceededCount() != 1 || done.GetFailedCount() != 0 {
				t.Fatalf("the alfredctl execution must succeed: succeeded=%d failed=%d conditions=%v",
					done.GetSucceededCount(), done.GetFailedCount(), done.GetConditions())
			}
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the scheduler's run of the Cloud Run job produced no finished execution within 60s")
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The denied account was the only one refused: one execution so far. A project-level grant (debug
	// API) lets it run the job too.
	got, err := jobs.GetJob(ctx, &runpb.GetJobRequest{Name: job.GetName()})
	if err != nil || got.GetExecutionCount() != 1 {
		t.Fatalf("executions after one allowed and one denied attempt: %d %v", got.GetExecutionCount(), err)
	}
	body := strings.NewReader(`{"role": "roles/run.jobsExecutor", "member": "serviceAccount:` + intruder + `"}`)
	resp, err := http.Post(sb.Env["ALFRED_SANDBOX_DEBUG_URL"]+"/gcp/projects/"+project+"/iam/grant", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("project grant: HTTP %d", resp.StatusCode)
	}
	if _, err := sched.RunJob(ctx, &schedulerpb.RunJobRequest{Name: denied.GetName()}); err != nil {
		t.Fatal(err)
	}
	waitStatus(denied.GetName(), codes.OK)
}

// The sandbox serves Cloud Logging's log-based metrics on ALFRED_GCP_LOGGING_ENDPOINT (plaintext gRPC,
// through the kit: its calls are counted on the debug API), and keeps them across a restart.
func TestSandboxServesLogMetricsAndKeepsThemAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	sb := start(t, dir)
	ctx := context.Background()
	c, err := logging.NewMetricsClient(ctx, clientOpts(sb.Env["ALFRED_GCP_LOGGING_ENDPOINT"])...)
	if err != nil {
		t.Fatal(err)
	}
	parent := "projects/" + sb.Env["ALFRED_GCP_PROJECT"]
	if _, err := c.CreateLogMetric(ctx, &loggingpb.CreateLogMetricRequest{Parent: parent, Metric: &loggingpb.LogMetric{
		Name: "failed_logins", Filter: `jsonPayload.event="login_failed"`}}); err != nil {
		t.Fatalf("CreateLogMetric on the sandbox: %v", err)
	}
	resp, err := http.Get(sb.Env["ALFRED_SANDBOX_DEBUG_URL"] + "/calls")
	if err != nil {
		t.Fatal(err)
	}
	var calls map[string]int64
	err = json.NewDecoder(resp.Body).Decode(&calls)
	resp.Body.Close()
	if err != nil || calls["/google.logging.v2.MetricsServiceV2/CreateLogMetric"] != 1 {
		t.Errorf("the debug API counts the Logging emulator's calls: %v %v", calls, err)
	}
	_ = c.Close()
	endpoint := sb.Env["ALFRED_GCP_LOGGING_ENDPOINT"]
	sb.Stop()

	sb2 := start(t, dir)
	defer sb2.Stop()
	if sb2.Env["ALFRED_GCP_LOGGING_ENDPOINT"] != endpoint {
		t.Errorf("a restarted sandbox keeps the Logging port: %s vs %s", sb2.Env["ALFRED_GCP_LOGGING_ENDPOINT"], endpoint)
	}
	c2, err := logging.NewMetricsClient(ctx, clientOpts(sb2.Env["ALFRED_GCP_LOGGING_ENDPOINT"])...)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	m, err := c2.GetLogMetric(ctx, &loggingpb.GetLogMetricRequest{MetricName: parent + "/metrics/failed_logins"})
	if err != nil || m.GetFilter() != `jsonPayload.event="login_failed"` {
		t.Errorf("the metric after a restart: %v %v", m, err)
	}
}

// The sandbox serves Pub/Sub on ALFRED_GCP_PUBSUB_ENDPOINT through the kit (its calls are counted on the
// debug API), and the debug API publishes the JWKS of its push tokens.
func TestSandboxServesPubSubAndPushTokenKeys(t *testing.T) {
	sb := start(t, t.TempDir())
	defer sb.Stop()
	ctx := context.Background()
	tc, err := pubsubapi.NewTopicAdminClient(ctx, clientOpts(sb.Env["ALFRED_GCP_PUBSUB_ENDPOINT"])...)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if _, err := tc.CreateTopic(ctx, &pubsubpb.Topic{Name: "projects/" + sb.Env["ALFRED_GCP_PROJECT"] + "/topics/tasks"}); err != nil {
		t.Fatalf("CreateTopic on the sandbox: %v", err)
	}
	get := func(path string, v any) {
		resp, err := http.Get(sb.Env["ALFRED_SANDBOX_DEBUG_URL"] + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	var calls map[string]int64
	get("/calls", &calls)
	if calls["/google.pubsub.v1.Publisher/CreateTopic"] != 1 {
		t.Errorf("the debug API counts the Pub/Sub emulator's calls: %v", calls)
	}
	var jwks struct {
		Keys []struct{ Kty, Alg, Kid, N, E string } `json:"keys"`
	}
	get("/pubsub/jwks", &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kty != "RSA" || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].N == "" || jwks.Keys[0].Kid == "" {
		t.Errorf("JWKS %+v", jwks)
	}
}
