package backuppolicy_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	scheduler "cloud.google.com/go/scheduler/apiv1"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/jackc/pgx/v5"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

func TestMain(m *testing.M) { acctest.Main(m) }

var seq atomic.Int64

// env is one test's corner of the package's sandbox: its own bucket, database, keyset and names, and
// official clients to look at the control planes "outside Terraform".
type env struct {
	t       *testing.T
	sb      map[string]string
	bucket  string
	db      string // database name in the sandbox cluster, holding table items (3 rows)
	dsn     string // DSN of the cluster (database "postgres")
	keyset  string
	keyFile string
	name    string // policy name
	sa      string
	dest    string   // extra lines of the destination block
	cliEnv  []string // extra KEY=value of the test's alfredctl runs
	jobs    *run.JobsClient
	execs   *run.ExecutionsClient
	sched   *scheduler.CloudSchedulerClient
	s3      *s3.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: this test needs the sandbox, PostgreSQL, versitygw and Terraform")
	}
	sb := acctest.Sandbox(t).Env
	n := seq.Add(1)
	e := &env{t: t, sb: sb, bucket: fmt.Sprintf("bp-%d-%d", os.Getpid(), n), db: fmt.Sprintf("bp_app_%d", n),
		dsn: sb["ALFRED_POSTGRES_DSN"], name: fmt.Sprintf("nightly-%d", n),
		sa: fmt.Sprintf("backup-runner-%d@%s.iam.gserviceaccount.com", n, sb["ALFRED_GCP_PROJECT"])}
	ctx := context.Background()
	e.s3 = s3.New(s3.Options{Region: sb["AWS_REGION"], UsePathStyle: true, BaseEndpoint: aws.String(sb["ALFRED_S3_ENDPOINT"]),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: sb["AWS_ACCESS_KEY_ID"], SecretAccessKey: sb["AWS_SECRET_ACCESS_KEY"]}, nil
		})})
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatalf("creating bucket: %v", err)
	}
	e.exec(e.dsn, "create database "+e.db)
	e.exec(e.dbDSN(e.db), "create table items (id int primary key, name text not null); insert into items select i, 'item '||i from generate_series(1,3) i")
	ks, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	e.keyset = string(ks)
	e.keyFile = filepath.Join(t.TempDir(), "keyset.json")
	if err := os.WriteFile(e.keyFile, ks, 0o600); err != nil {
		t.Fatal(err)
	}
	o := []option.ClientOption{option.WithoutAuthentication(), option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials()))}
	if e.jobs, err = run.NewJobsClient(ctx, append(o, option.WithEndpoint(sb["ALFRED_GCP_RUN_ENDPOINT"]))...); err != nil {
		t.Fatal(err)
	}
	if e.execs, err = run.NewExecutionsClient(ctx, append(o, option.WithEndpoint(sb["ALFRED_GCP_RUN_ENDPOINT"]))...); err != nil {
		t.Fatal(err)
	}
	if e.sched, err = scheduler.NewCloudSchedulerClient(ctx, append(o, option.WithEndpoint(sb["ALFRED_GCP_SCHEDULER_ENDPOINT"]))...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.jobs.Close(); _ = e.execs.Close(); _ = e.sched.Close() })
	return e
}

func (e *env) dbDSN(db string) string {
	u, err := url.Parse(e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	u.Path = "/" + db
	return u.String()
}

func (e *env) exec(dsn, sql string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, sql); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

func (e *env) count(db, table string) int64 {
	e.t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, e.dbDSN(db))
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close(ctx)
	var n int64
	if err := c.QueryRow(ctx, "select count(*) from "+pgx.Identifier{table}.Sanitize()).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) provider() string { return e.providerWith("") }

// providerWith renders the provider with the sandbox's gcp and s3 blocks and extra blocks.
func (e *env) providerWith(extra string) string {
	s := e.sb
	return fmt.Sprintf(`
provider "alfred" {
  gcp {
    project             = %q
    region              = %q
    run_endpoint        = %q
    scheduler_endpoint  = %q
    monitoring_endpoint = %q
    insecure            = true
  }
  s3 {
    endpoint          = %q
    region            = %q
    access_key_id     = %q
    secret_access_key = %q
  }
  %s
}
`, s["ALFRED_GCP_PROJECT"], s["ALFRED_GCP_REGION"], s["ALFRED_GCP_RUN_ENDPOINT"], s["ALFRED_GCP_SCHEDULER_ENDPOINT"],
		s["ALFRED_GCP_MONITORING_ENDPOINT"], s["ALFRED_S3_ENDPOINT"], s["AWS_REGION"], s["AWS_ACCESS_KEY_ID"], s["AWS_SECRET_ACCESS_KEY"], extra)
}

// policy renders the test's policy with a schedule and retention.
func (e *env) policy(schedule string, keepLast int, maxAge string) string {
	ma := ""
	if maxAge != "" {
		ma = fmt.Sprintf("max_age = %q", maxAge)
	}
	return fmt.Sprintf(`
resource "alfred_backup_policy" "p" {
  name           = %q
  schedule       = %q
  encryption_key = %q
  retention {
    keep_last = %d
    %s
  }
  postgres {
    dsn       = %q
    databases = [%q]
  }
  destination {
    bucket = %q
    %s
  }
  runner {
    image           = "europe-docker.pkg.dev/alfred/tools/alfredctl:1.0"
    service_account = %q
  }
}
`, e.name, schedule, e.keyset, keepLast, ma, e.dsn, e.db, e.bucket, e.dest, e.sa)
}

func (e *env) jobName() string {
	return fmt.Sprintf("projects/%s/locations/%s/jobs/%s", e.sb["ALFRED_GCP_PROJECT"], e.sb["ALFRED_GCP_REGION"], e.name)
}

func (e *env) job() *runpb.Job {
	e.t.Helper()
	j, err := e.jobs.GetJob(context.Background(), &runpb.GetJobRequest{Name: e.jobName()})
	if err != nil {
		e.t.Fatalf("GetJob: %v", err)
	}
	return j
}

func (e *env) schedulerJob() *schedulerpb.Job {
	e.t.Helper()
	j, err := e.sched.GetJob(context.Background(), &schedulerpb.GetJobRequest{Name: e.jobName()})
	if err != nil {
		e.t.Fatalf("scheduler GetJob: %v", err)
	}
	return j
}

func (e *env) runnerGranted() bool {
	e.t.Helper()
	p, err := e.jobs.GetIamPolicy(context.Background(), &iampb.GetIamPolicyRequest{Resource: e.jobName()})
	if err != nil {
		e.t.Fatalf("GetIamPolicy: %v", err)
	}
	for _, b := range p.GetBindings() {
		for _, m := range b.GetMembers() {
			if b.GetRole() == "roles/run.invoker" && strings.EqualFold(m, "serviceAccount:"+e.sa) {
				return true
			}
		}
	}
	return false
}

// checkDestroyed asks both APIs that the jobs are gone.
func (e *env) checkDestroyed(*terraform.State) error {
	ctx := context.Background()
	if _, err := e.jobs.GetJob(ctx, &runpb.GetJobRequest{Name: e.jobName()}); status.Code(err) != codes.NotFound {
		return fmt.Errorf("Cloud Run job %s still there after destroy (err=%v)", e.jobName(), err)
	}
	if _, err := e.sched.GetJob(ctx, &schedulerpb.GetJobRequest{Name: e.jobName()}); status.Code(err) != codes.NotFound {
		return fmt.Errorf("scheduler job %s still there after destroy (err=%v)", e.jobName(), err)
	}
	return nil
}

// forceRun makes Cloud Scheduler run the job now (RunJob) and waits for the attempt's status and the
// Cloud Run execution it started to complete; it returns the execution.
func (e *env) forceRun() *runpb.Execution {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	before := e.job().GetExecutionCount()
	prev := e.schedulerJob().GetLastAttemptTime().AsTime()
	if _, err := e.sched.RunJob(ctx, &schedulerpb.RunJobRequest{Name: e.jobName()}); err != nil {
		e.t.Fatalf("scheduler RunJob: %v", err)
	}
	for {
		sj := e.schedulerJob()
		if sj.GetLastAttemptTime().AsTime().After(prev) && sj.GetStatus() != nil {
			if sj.GetStatus().GetCode() != int32(codes.OK) {
				e.t.Fatalf("the scheduler's attempt failed: %v", sj.GetStatus())
			}
			break
		}
		e.sleep(ctx)
	}
	for {
		j := e.job()
		if j.GetExecutionCount() > before && j.GetLatestCreatedExecution().GetCompletionTime() != nil {
			ex, err := e.execs.GetExecution(ctx, &runpb.GetExecutionRequest{Name: j.GetLatestCreatedExecution().GetName()})
			if err != nil {
				e.t.Fatal(err)
			}
			return ex
		}
		e.sleep(ctx)
	}
}

func (e *env) sleep(ctx context.Context) {
	select {
	case <-ctx.Done():
		e.t.Fatal("timed out")
	case <-time.After(200 * time.Millisecond):
	}
}

// alfredctl runs the sandbox's alfredctl with the test's S3 settings and keyset.
func (e *env) alfredctl(args ...string) (string, error) {
	cmd := exec.Command(acctest.SandboxAlfredctl(e.t), args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.sb["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY="+e.sb["AWS_SECRET_ACCESS_KEY"],
		"ALFRED_S3_ENDPOINT="+e.sb["ALFRED_S3_ENDPOINT"], "AWS_REGION="+e.sb["AWS_REGION"], "ALFRED_BACKUP_KEYSET_FILE="+e.keyFile,
		"ALFRED_POSTGRES_DSN="+e.dsn, "ALFRED_BACKUP_BUCKET="+e.bucket)
	cmd.Env = append(cmd.Env, e.cliEnv...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// sets lists the good sets under prefix.
func (e *env) sets(prefix string) []backup.SetInfo {
	e.t.Helper()
	st, err := backup.NewStore(backup.StoreConfig{Bucket: e.bucket, Prefix: prefix, Endpoint: e.sb["ALFRED_S3_ENDPOINT"], Region: e.sb["AWS_REGION"],
		AccessKeyID: e.sb["AWS_ACCESS_KEY_ID"], SecretAccessKey: e.sb["AWS_SECRET_ACCESS_KEY"]})
	if err != nil {
		e.t.Fatal(err)
	}
	all, err := st.Sets(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	var good []backup.SetInfo
	for _, s := range all {
		if s.Manifest != nil {
			good = append(good, s)
		}
	}
	return good
}

func validKeyset(t *testing.T) string {
	t.Helper()
	ks, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	return string(ks)
}

// checkLastSuccessSeries asks Cloud Monitoring for the runs' last-success series of this policy.
func (e *env) checkLastSuccessSeries() {
	e.t.Helper()
	ctx := context.Background()
	c, err := monitoring.NewMetricClient(ctx, option.WithEndpoint(e.sb["ALFRED_GCP_MONITORING_ENDPOINT"]), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	it := c.ListTimeSeries(ctx, &monitoringpb.ListTimeSeriesRequest{
		Name:     "projects/" + e.sb["ALFRED_GCP_PROJECT"],
		Filter:   fmt.Sprintf(`metric.type = %q AND metric.labels.service = %q`, backup.LastSuccessMetric, e.name),
		Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(time.Now().Add(-time.Hour)), EndTime: timestamppb.Now()},
	})
	n := 0
	for {
		ts, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			e.t.Fatalf("ListTimeSeries: %v", err)
		}
		n += len(ts.GetPoints())
	}
	if n < 2 {
		e.t.Fatalf("%d points of %s{service=%q} after two runs, want 2", n, backup.LastSuccessMetric, e.name)
	}
}

// grantOnProject binds role to the runner on the project through the sandbox's debug API (Resource
// Manager is not emulated).
func (e *env) grantOnProject(role string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"role": %q, "member": "serviceAccount:%s"}`, role, e.sa)
	resp, err := http.Post(e.sb["ALFRED_SANDBOX_DEBUG_URL"]+"/gcp/projects/"+e.sb["ALFRED_GCP_PROJECT"]+"/iam/grant", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("project grant: HTTP %d", resp.StatusCode)
	}
}

// waitExecution waits until the job's latest execution has completed, and fails the test unless it succeeded.
func (e *env) waitExecution() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		if ref := e.job().GetLatestCreatedExecution(); ref.GetCompletionTime() != nil {
			if ref.GetCompletionStatus() != runpb.ExecutionReference_EXECUTION_SUCCEEDED {
				e.t.Fatalf("execution %s: %s", ref.GetName(), ref.GetCompletionStatus())
			}
			return
		}
		e.sleep(ctx)
	}
}
