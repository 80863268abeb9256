package supervisor_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	scheduler "cloud.google.com/go/scheduler/apiv1"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func clientOpts(endpoint string) []option.ClientOption {
	return []option.ClientOption{option.WithEndpoint(endpoint), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
}

// A Cloud Scheduler job that targets a Cloud Run job's run endpoint runs that job; the job's image is
// alfredctl, so its execution runs the local alfredctl binary with the job's args, and succeeds.
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
	sj, err := sched.CreateJob(ctx, &schedulerpb.CreateJobRequest{Parent: parent, Job: &schedulerpb.Job{
		Name: parent + "/jobs/nightly-backup-trigger", Schedule: "0 3 * * *", TimeZone: "Europe/London",
		Target: &schedulerpb.Job_HttpTarget{HttpTarget: &schedulerpb.HttpTarget{
			Uri:        "https://run.googleapis.com/v2/" + job.GetName() + ":run",
			HttpMethod: schedulerpb.HttpMethod_POST,
		}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sched.RunJob(ctx, &schedulerpb.RunJobRequest{Name: sj.GetName()}); err != nil {
		t.Fatal(err)
	}

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
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the scheduler's run of the Cloud Run job produced no finished execution within 60s")
		case <-time.After(200 * time.Millisecond):
		}
	}
}
