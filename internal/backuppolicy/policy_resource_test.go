package backuppolicy_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/run/apiv2/runpb"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

func argValue(args []string, flag string) string {
	if i := slices.Index(args, flag); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	return ""
}

// Create, update schedule and retention in place, import, drift of each piece repaired, destroy.
func TestAccBackupPolicy_lifecycleDriftAndImport(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var firstUID string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.provider() + e.policy("CRON_TZ=Europe/Berlin 0 3 * * *", 7, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_backup_policy.p", "id", e.jobName()),
					resource.TestCheckNoResourceAttr("alfred_backup_policy.p", "last_success"),
					func(*terraform.State) error {
						j, sj := e.job(), e.schedulerJob()
						firstUID = j.GetUid()
						c := j.GetTemplate().GetTemplate().GetContainers()[0]
						if got := argValue(c.GetArgs(), "--keep-last"); got != "7" {
							return fmt.Errorf("--keep-last %q", got)
						}
						if got := argValue(c.GetArgs(), "--database"); got != e.db {
							return fmt.Errorf("--database %q", got)
						}
						// Secrets never in the arguments.
						if strings.Contains(strings.Join(c.GetArgs(), " "), "postgres://") || strings.Contains(strings.Join(c.GetArgs(), " "), "primaryKeyId") {
							return fmt.Errorf("a secret is in the job's arguments: %v", c.GetArgs())
						}
						if sj.GetSchedule() != "0 3 * * *" || sj.GetTimeZone() != "Europe/Berlin" {
							return fmt.Errorf("scheduler job %q in %q", sj.GetSchedule(), sj.GetTimeZone())
						}
						tok := sj.GetHttpTarget().GetOauthToken()
						if tok.GetServiceAccountEmail() != e.sa || sj.GetHttpTarget().GetUri() != "https://run.googleapis.com/v2/"+e.jobName()+":run" {
							return fmt.Errorf("scheduler target %v", sj.GetHttpTarget())
						}
						if !e.runnerGranted() {
							return fmt.Errorf("the runner holds no roles/run.invoker on the job")
						}
						return nil
					},
				),
			},
			{
				// Schedule and retention change in place: the same job (uid), new arguments and schedule.
				Config: e.provider() + e.policy("30 2 * * 1-5", 14, "720h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					j, sj := e.job(), e.schedulerJob()
					c := j.GetTemplate().GetTemplate().GetContainers()[0]
					if j.GetUid() != firstUID {
						return fmt.Errorf("the job was replaced")
					}
					if argValue(c.GetArgs(), "--keep-last") != "14" || argValue(c.GetArgs(), "--max-age") != "720h" {
						return fmt.Errorf("args %v", c.GetArgs())
					}
					if sj.GetSchedule() != "30 2 * * 1-5" || sj.GetTimeZone() != "Etc/UTC" {
						return fmt.Errorf("scheduler job %q in %q", sj.GetSchedule(), sj.GetTimeZone())
					}
					return nil
				},
			},
			{
				ResourceName:      "alfred_backup_policy.p",
				ImportState:       true,
				ImportStateId:     e.jobName(),
				ImportStateVerify: true,
			},
			{
				// Drift of the scheduler job (schedule changed in the console) is shown and repaired.
				PreConfig: func() {
					if _, err := e.sched.UpdateJob(ctx, &schedulerpb.UpdateJobRequest{Job: &schedulerpb.Job{Name: e.jobName(), Schedule: "0 12 * * *"},
						UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"schedule"}}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: e.provider() + e.policy("30 2 * * 1-5", 14, "720h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if s := e.schedulerJob().GetSchedule(); s != "30 2 * * 1-5" {
						return fmt.Errorf("schedule not repaired: %q", s)
					}
					return nil
				},
			},
			{
				// Drift of the Cloud Run job (retention edited, grant removed) is shown and repaired.
				PreConfig: func() {
					j := e.job()
					c := j.GetTemplate().GetTemplate().GetContainers()[0]
					c.Args[slices.Index(c.Args, "--keep-last")+1] = "1"
					op, err := e.jobs.UpdateJob(ctx, &runpb.UpdateJobRequest{Job: j})
					if err == nil {
						_, err = op.Wait(ctx)
					}
					if err != nil {
						t.Fatal(err)
					}
					if _, err := e.jobs.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: e.jobName(), Policy: &iampb.Policy{}}); err != nil {
						t.Fatal(err)
					}
				},
				Config: e.provider() + e.policy("30 2 * * 1-5", 14, "720h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraform.State) error {
					if got := argValue(e.job().GetTemplate().GetTemplate().GetContainers()[0].GetArgs(), "--keep-last"); got != "14" {
						return fmt.Errorf("--keep-last not repaired: %q", got)
					}
					if !e.runnerGranted() {
						return fmt.Errorf("grant not repaired")
					}
					return nil
				},
			},
			{
				// A deleted Cloud Run job is deployed again (and granted again).
				PreConfig: func() {
					op, err := e.jobs.DeleteJob(ctx, &runpb.DeleteJobRequest{Name: e.jobName()})
					if err == nil {
						_, err = op.Wait(ctx)
					}
					if err != nil {
						t.Fatal(err)
					}
				},
				Config: e.provider() + e.policy("30 2 * * 1-5", 14, "720h"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup_policy.p", plancheck.ResourceActionCreate),
				}},
				Check: func(*terraform.State) error {
					if !e.runnerGranted() {
						return fmt.Errorf("the recreated job has no grant")
					}
					return nil
				},
			},
		},
	})
}

// Forcing the scheduler job to run (RunJob) makes Cloud Run execute `alfredctl backup run` with the
// runner's OAuth token; the set it writes passes `alfredctl backup verify`, and last_success follows.
func TestAccBackupPolicy_forcedScheduledRunIsVerifiableAndMovesLastSuccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// SSE-KMS is passed to the store on every write; versitygw accepts the headers (it does not encrypt).
	e.dest = "sse        = \"aws:kms\"\n    kms_key_id = \"alias/alfred-backups\""
	cfg := e.provider() + e.policy("0 3 * * *", 7, "")
	var first string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg, Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckNoResourceAttr("alfred_backup_policy.p", "last_success"),
				func(*terraform.State) error {
					args := e.job().GetTemplate().GetTemplate().GetContainers()[0].GetArgs()
					if argValue(args, "--sse") != "aws:kms" || argValue(args, "--sse-kms-key-id") != "alias/alfred-backups" {
						return fmt.Errorf("the runner does not pass the server-side encryption: %v", args)
					}
					return nil
				},
			)},
			{
				PreConfig: func() {
					ex := e.forceRun()
					if ex.GetSucceededCount() != 1 {
						t.Fatalf("execution: %v", ex.GetConditions())
					}
					sets := e.sets("alfred/")
					if len(sets) != 1 {
						t.Fatalf("%d sets after one run", len(sets))
					}
					if out, err := e.alfredctl("backup", "verify", sets[0].ID, "--prefix", "alfred/"); err != nil {
						t.Fatalf("alfredctl backup verify %s: %v\n%s", sets[0].ID, err, out)
					}
				},
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestMatchResourceAttr("alfred_backup_policy.p", "last_success", regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)),
					func(s *terraform.State) error {
						first = s.RootModule().Resources["alfred_backup_policy.p"].Primary.Attributes["last_success"]
						want := e.sets("alfred/")[0].Manifest.FinishedAt.UTC().Format(time.RFC3339)
						if first != want {
							return fmt.Errorf("last_success %s, the catalogue says %s", first, want)
						}
						return nil
					},
				),
			},
			{
				PreConfig: func() {
					// Cloud Monitoring takes one point per 5 s of a user-defined metric's series; real runs are hours apart.
					time.Sleep(5500 * time.Millisecond)
					if ex := e.forceRun(); ex.GetSucceededCount() != 1 {
						t.Fatalf("second execution: %v", ex.GetConditions())
					}
				},
				Config: cfg,
				Check: func(s *terraform.State) error {
					got := s.RootModule().Resources["alfred_backup_policy.p"].Primary.Attributes["last_success"]
					if got <= first {
						return fmt.Errorf("last_success did not move: %s, then %s", first, got)
					}
					return nil
				},
			},
			{
				// What the runs wrote is what the backup_staleness alert reads: the series carries the policy's
				// name as `service`, and Cloud Monitoring accepts the preset's PromQL with metric validation on
				// (it refuses a query on a metric never written).
				PreConfig: func() { e.checkLastSuccessSeries() },
				Config: cfg + fmt.Sprintf(`
resource "alfred_alert_policy" "stale" {
  display_name = "backups of %[1]s"
  severity     = "CRITICAL"
  condition {
    preset  = "backup_staleness"
    service = %[1]q
  }
}
`, e.name),
				Check: resource.TestCheckResourceAttr("alfred_alert_policy.stale", "condition.0.query",
					`time() - max by (service) (custom_googleapis_com:alfred_backup_last_success_timestamp_seconds{service="`+e.name+`"}) > 93600`),
			},
		},
	})
}

// Plan-time errors name the attribute, before anything is called.
func TestAccBackupPolicy_planTimeErrors(t *testing.T) {
	t.Parallel()
	e := &env{sb: map[string]string{"ALFRED_GCP_PROJECT": "p", "ALFRED_GCP_REGION": "europe-west1", "ALFRED_GCP_RUN_ENDPOINT": "127.0.0.1:1",
		"ALFRED_GCP_SCHEDULER_ENDPOINT": "127.0.0.1:1", "ALFRED_GCP_MONITORING_ENDPOINT": "127.0.0.1:1", "ALFRED_S3_ENDPOINT": "http://127.0.0.1:1",
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"},
		name: "nightly", bucket: "backups", db: "app", dsn: "postgres://u@127.0.0.1:1/postgres", sa: "runner@p.iam.gserviceaccount.com", keyset: `{"not":"a keyset"}`}
	good := e.policy("0 3 * * *", 7, "")
	cases := []struct{ name, config, want string }{
		{"bad cron", strings.Replace(good, `"0 3 * * *"`, `"0 25 * * *"`, 1), `(?s)schedule.*not a unix-cron schedule`},
		{"descriptor", strings.Replace(good, `"0 3 * * *"`, `"@daily"`, 1), `(?s)schedule.*cron descriptor`},
		{"never fires", strings.Replace(good, `"0 3 * * *"`, `"0 0 30 2 *"`, 1), `(?s)schedule.*never fires`},
		{"bad zone", strings.Replace(good, `"0 3 * * *"`, `"CRON_TZ=Mars/Olympus 0 3 * * *"`, 1), `(?s)schedule.*not a unix-cron schedule`},
		{"zero retention", strings.Replace(good, "keep_last = 7", "keep_last = 0", 1), `(?s)retention.keep_last.*between 1 and 10000`},
		{"retention too long", strings.Replace(good, "keep_last = 7", "keep_last = 1000000", 1), `(?s)retention.keep_last.*between 1 and 10000`},
		{"dsn not a connection string", strings.Replace(good, `"postgres://u@127.0.0.1:1/postgres"`, `"NOT_A_VALUE"`, 1), `(?s)postgres.dsn.*keyword=value pairs`},
		{"qdrant collection name", strings.Replace(good, "  destination {", "  qdrant {\n    collections = [\"docs/v1\"]\n  }\n  destination {", 1), `(?s)qdrant.collections.*letters, digits, '_', '-' or '.'`},
		{"runner region", strings.Replace(good, "service_account =", "region = \"Europe West\"\n    service_account =", 1), `(?s)runner.region.*must be a region`},
		{"runner image", strings.Replace(good, "europe-docker.pkg.dev/alfred/tools/alfredctl:1.0", "Alfredctl Latest", 1), `(?s)Invalid container image.*image = "Alfredctl Latest".*not a container image reference`},
		{"negative timeout", strings.Replace(good, "  retention {", "  timeouts = { create = \"-5m\" }\n  retention {", 1), `(?s)Timeout must be positive.*"-5m" is not a positive duration`},
		{"no retention", strings.Replace(good, "keep_last = 7", "", 1), `(?s)Missing retention.keep_last`},
		{"missing key", regexp.MustCompile(`(?m)^\s*encryption_key.*$`).ReplaceAllString(good, ""), `(?s)"encryption_key" is required`},
		{"not a keyset", good, `(?s)encryption_key.*Tink keyset`},
		{"bucket name", strings.Replace(good, `bucket = "backups"`, `bucket = "Backups_2"`, 1), `(?s)bucket.*not an S3 bucket name`},
		{"prefix", strings.Replace(good, `bucket = "backups"`, "bucket = \"backups\"\n    prefix = \"/abs\"", 1), `(?s)prefix.*ending in "/"`},
		{"role without run.jobs.run", strings.Replace(good, "service_account =", "grant_role = \"roles/run.servicesInvoker\"\n    service_account =", 1), `(?s)grant_role.*value must be one of`},
		{"two zones", strings.Replace(good, `"0 3 * * *"`, `"CRON_TZ=Europe/Berlin 0 3 * * *"`+"\n  time_zone = \"Europe/Paris\"", 1), `(?s)Two time zones.*time_zone`},
		{"kms key without sse-kms", strings.Replace(good, `bucket = "backups"`, "bucket = \"backups\"\n    sse = \"AES256\"\n    kms_key_id = \"k\"", 1), `(?s)KMS key without SSE-KMS`},
		{"unknown sse", strings.Replace(good, `bucket = "backups"`, "bucket = \"backups\"\n    sse = \"aws:kms:dsse\"", 1), `(?s)sse.*value must be one of`},
		{"nothing to back up", regexp.MustCompile(`(?s)postgres \{.*?\}`).ReplaceAllString(good, ""), `(?s)Nothing to back up`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := e.provider() + c.config
			if c.name != "not a keyset" {
				// a valid keyset, so that only the case's error shows
				cfg = strings.Replace(cfg, `"{\"not\":\"a keyset\"}"`, fmt.Sprintf("%q", validKeyset(t)), 1)
			}
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps: []resource.TestStep{{Config: cfg, PlanOnly: true,
					ExpectError: regexp.MustCompile(strings.ReplaceAll(c.want, " ", `\s+`))}},
			})
		})
	}
}

// A policy whose account may not run the job is an apply error, not a schedule that never runs: with
// grant_role = "none" (the grant is made elsewhere) the apply proves the schedule through Cloud Scheduler,
// whose call Cloud Run refuses without run.jobs.run; once the account holds roles/run.invoker on the
// project, the same configuration applies.
func TestAccBackupPolicy_accountWithoutTheGrantIsAnApplyError(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := e.provider() + strings.Replace(e.policy("0 3 * * *", 7, ""), "service_account =", "grant_role      = \"none\"\n    service_account =", 1)
	ctx := context.Background()
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg, ExpectError: regexp.MustCompile(`(?s)The schedule could not run the backup job.*run\.jobs\.run`)},
			{
				PreConfig: func() {
					if _, err := e.sched.GetJob(ctx, &schedulerpb.GetJobRequest{Name: e.jobName()}); status.Code(err) != codes.NotFound {
						t.Fatalf("a refused schedule must not stay deployed: GetJob err=%v", err)
					}
					if e.runnerGranted() {
						t.Fatal("grant_role = none must not grant anything")
					}
					e.grantOnProject("roles/run.invoker")
				},
				Config: cfg,
				Check: func(*terraform.State) error {
					e.schedulerJob()
					e.waitExecution()
					return nil
				},
			},
		},
	})
}
