package alerting_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/label"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbl "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/logging"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

// logSandbox is one Logging emulator on loopback and an official client to look at it, or change it
// "outside Terraform".
type logSandbox struct {
	*sbl.TestServer
	c *logging.MetricsClient
}

func newLogSandbox(t *testing.T) *logSandbox {
	t.Helper()
	ts := sbl.StartTestServer(t, sbl.Options{})
	c, err := logging.NewMetricsClient(context.Background(), option.WithEndpoint(ts.Addr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &logSandbox{TestServer: ts, c: c}
}

func (s *logSandbox) provider() string {
	return fmt.Sprintf(`
provider "alfred" {
  gcp {
    project          = "p"
    logging_endpoint = %q
    insecure         = true
  }
}
`, s.Addr)
}

func (s *logSandbox) get(t *testing.T, name string) *loggingpb.LogMetric {
	t.Helper()
	m, err := s.c.GetLogMetric(context.Background(), &loggingpb.GetLogMetricRequest{MetricName: name})
	if err != nil {
		t.Fatalf("GetLogMetric %s: %v", name, err)
	}
	return m
}

func (s *logSandbox) checkDestroyed(st *terraform.State) error {
	for _, rs := range st.RootModule().Resources {
		if rs.Type != "alfred_log_metric" {
			continue
		}
		_, err := s.c.GetLogMetric(context.Background(), &loggingpb.GetLogMetricRequest{MetricName: rs.Primary.ID})
		if status.Code(err) != codes.NotFound {
			return fmt.Errorf("%s still exists after destroy (err=%v)", rs.Primary.ID, err)
		}
	}
	return nil
}

const fullName = "projects/p/metrics/auth/failed_logins"

func logMetricConfig(filter, description, extractors, extra string) string {
	return fmt.Sprintf(`
resource "alfred_log_metric" "m" {
  name        = "auth/failed_logins"
  filter      = %q
  description = %q
  label_extractors = {
%s
  }
%s
}
`, filter, description, extractors, extra)
}

const (
	filter1 = `resource.type="cloud_run_revision" AND jsonPayload.event="login_failed"`
	filter2 = `resource.type="cloud_run_revision" AND (jsonPayload.event="login_failed" OR jsonPayload.event="login_locked")`
	svcEx   = `    service = "EXTRACT(resource.labels.service_name)"`
	moreEx  = svcEx + "\n" + `    user = "REGEXP_EXTRACT(jsonPayload.message, \"user=([a-z0-9_]+)\")"` + "\n" + `    attempt = "EXTRACT(jsonPayload.attempt)"`
)

func TestAccLogMetric_lifecycle(t *testing.T) {
	sb := newLogSandbox(t)
	var created string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: sb.provider() + logMetricConfig(filter1, "failed logins", svcEx, ""),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("alfred_log_metric.m", "id", fullName),
					resource.TestCheckResourceAttr("alfred_log_metric.m", "project", "p"),
					resource.TestCheckResourceAttr("alfred_log_metric.m", "metric_kind", "DELTA"),
					resource.TestCheckResourceAttr("alfred_log_metric.m", "value_type", "INT64"),
					resource.TestCheckResourceAttr("alfred_log_metric.m", "metric_type", "logging.googleapis.com/user/auth/failed_logins"),
					// The same name the failed_logins preset reads, from the one catalogue.
					resource.TestCheckResourceAttr("alfred_log_metric.m", "prometheus_name", "logging_googleapis_com:user_auth_failed_logins"),
					resource.TestCheckResourceAttr("alfred_log_metric.m", "prometheus_name", presets.LogMetricPromQLName("auth/failed_logins")),
					func(*terraform.State) error {
						m := sb.get(t, fullName)
						if m.GetFilter() != filter1 || m.GetDescription() != "failed logins" ||
							len(m.GetMetricDescriptor().GetLabels()) != 1 || m.GetMetricDescriptor().GetLabels()[0].GetKey() != "service" {
							return fmt.Errorf("the API holds %v", m)
						}
						created = m.GetCreateTime().AsTime().String()
						return nil
					},
				),
			},
			{
				// Filter, description and new labels (one typed INT64) change in place.
				Config: sb.provider() + logMetricConfig(filter2, "failed or locked logins", moreEx, `  labels = { attempt = "INT64" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_log_metric.m", plancheck.ResourceActionUpdate)}},
				Check: func(*terraform.State) error {
					m := sb.get(t, fullName)
					if m.GetFilter() != filter2 || m.GetDescription() != "failed or locked logins" || m.GetCreateTime().AsTime().String() != created {
						return fmt.Errorf("update in place: %v", m)
					}
					types := map[string]label.LabelDescriptor_ValueType{}
					for _, l := range m.GetMetricDescriptor().GetLabels() {
						types[l.GetKey()] = l.GetValueType()
					}
					if len(types) != 3 || types["attempt"] != label.LabelDescriptor_INT64 || types["user"] != label.LabelDescriptor_STRING {
						return fmt.Errorf("labels: %v", types)
					}
					return nil
				},
			},
			{
				ResourceName: "alfred_log_metric.m", ImportState: true, ImportStateVerify: true, ImportStateId: fullName,
			},
			{
				ResourceName: "alfred_log_metric.m", ImportState: true, ImportStateVerify: true, ImportStateId: "p/auth/failed_logins",
			},
			{
				// Drift: the filter changed outside Terraform; the plan puts it back in place.
				PreConfig: func() {
					m := sb.get(t, fullName)
					m.Filter = "severity>=ERROR"
					if _, err := sb.c.UpdateLogMetric(context.Background(), &loggingpb.UpdateLogMetricRequest{MetricName: fullName, Metric: m}); err != nil {
						t.Fatal(err)
					}
				},
				Config: sb.provider() + logMetricConfig(filter2, "failed or locked logins", moreEx, `  labels = { attempt = "INT64" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_log_metric.m", plancheck.ResourceActionUpdate)}},
				Check: func(*terraform.State) error {
					if f := sb.get(t, fullName).GetFilter(); f != filter2 {
						return fmt.Errorf("drifted filter not repaired: %s", f)
					}
					return nil
				},
			},
			{
				// Drift: deleted outside Terraform; the plan creates it again.
				PreConfig: func() {
					if err := sb.c.DeleteLogMetric(context.Background(), &loggingpb.DeleteLogMetricRequest{MetricName: fullName}); err != nil {
						t.Fatal(err)
					}
				},
				Config: sb.provider() + logMetricConfig(filter2, "failed or locked logins", moreEx, `  labels = { attempt = "INT64" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_log_metric.m", plancheck.ResourceActionCreate)}},
				Check: func(*terraform.State) error { sb.get(t, fullName); return nil },
			},
			{
				// The API cannot change an existing label's type: the plan replaces the metric.
				Config: sb.provider() + logMetricConfig(filter2, "failed or locked logins", moreEx, `  labels = { attempt = "BOOL" }`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_log_metric.m", plancheck.ResourceActionReplace)}},
				Check: func(*terraform.State) error {
					for _, l := range sb.get(t, fullName).GetMetricDescriptor().GetLabels() {
						if l.GetKey() == "attempt" && l.GetValueType() != label.LabelDescriptor_BOOL {
							return fmt.Errorf("attempt is %s", l.GetValueType())
						}
					}
					return nil
				},
			},
			{
				// Nor delete a label (the emulator refuses it as the API does): dropping extractors replaces.
				Config: sb.provider() + logMetricConfig(filter2, "failed or locked logins", svcEx, ""),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_log_metric.m", plancheck.ResourceActionReplace)}},
				Check: func(*terraform.State) error {
					if ls := sb.get(t, fullName).GetMetricDescriptor().GetLabels(); len(ls) != 1 || ls[0].GetKey() != "service" {
						return fmt.Errorf("labels after dropping two: %v", ls)
					}
					return nil
				},
			},
		},
	})
}

func TestAccLogMetric_distribution(t *testing.T) {
	sb := newLogSandbox(t)
	cfg := sb.provider() + `
resource "alfred_log_metric" "latency" {
  name            = "task_latency"
  filter          = "jsonPayload.event=\"task_done\""
  value_type      = "DISTRIBUTION"
  value_extractor = "EXTRACT(jsonPayload.seconds)"
  bucket_bounds   = [0.5, 1, 5, 30]
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: cfg, Check: func(*terraform.State) error {
				m := sb.get(t, "projects/p/metrics/task_latency")
				if m.GetMetricDescriptor().GetValueType().String() != "DISTRIBUTION" || len(m.GetBucketOptions().GetExplicitBuckets().GetBounds()) != 4 {
					return fmt.Errorf("distribution: %v", m)
				}
				return nil
			}},
			{ResourceName: "alfred_log_metric.latency", ImportState: true, ImportStateVerify: true, ImportStateId: "p/task_latency"},
		},
	})
}

// Faults of every kind the kit injects on writes leave a converged apply: a create whose reply was lost
// (the metric it made is read and found before any second create), an update refused as a concurrent edit, a
// delete whose reply was lost (the retry meets NOT_FOUND).
func TestAccLogMetric_writesConvergeUnderFaults(t *testing.T) {
	sb := newLogSandbox(t)
	const svc = "/google.logging.v2.MetricsServiceV2/"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(st *terraform.State) error {
			if n := sb.Kit.Calls()[svc+"DeleteLogMetric"]; n != 2 {
				return fmt.Errorf("the delete whose reply was lost is retried once: %d calls", n)
			}
			return sb.checkDestroyed(st)
		},
		Steps: []resource.TestStep{
			{
				PreConfig: func() {
					sb.Kit.FailNext(svc+"CreateLogMetric", kit.FaultLostReply)
					sb.Kit.FailNext(svc+"GetLogMetric", kit.FaultRateLimit)
				},
				Config: sb.provider() + logMetricConfig(filter1, "", svcEx, ""),
				Check: func(*terraform.State) error {
					// The reply of the first create is lost; the read of the metric there is rate limited, then
					// retried on its own and finds the metric that create made: no second create.
					if n := sb.Kit.Calls()[svc+"CreateLogMetric"]; n != 1 {
						return fmt.Errorf("create calls: %d", n)
					}
					return nil
				},
			},
			{
				PreConfig: func() {
					sb.Kit.FailNext(svc+"UpdateLogMetric", kit.FaultConflict)
					sb.Kit.FailNext(svc+"UpdateLogMetric", kit.FaultUnavailable)
				},
				Config: sb.provider() + logMetricConfig(filter2, "", svcEx, ""),
				Check: func(*terraform.State) error {
					if f := sb.get(t, fullName).GetFilter(); f != filter2 {
						return fmt.Errorf("filter %s", f)
					}
					return nil
				},
			},
			{
				PreConfig: func() { sb.Kit.FailNext(svc+"DeleteLogMetric", kit.FaultLostReply) },
				Config:    sb.provider(),
			},
		},
	})
}

// A metric of the same name that Terraform did not create is an error that says to import it, not a
// silent takeover.
func TestAccLogMetric_existingMetricIsNotTakenOver(t *testing.T) {
	sb := newLogSandbox(t)
	if _, err := sb.c.CreateLogMetric(context.Background(), &loggingpb.CreateLogMetricRequest{Parent: "projects/p",
		Metric: &loggingpb.LogMetric{Name: "auth/failed_logins", Filter: "severity>=ERROR"}}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: sb.provider() + logMetricConfig(filter1, "", svcEx, ""),
			ExpectError: regexp.MustCompile(`(?s)already\s+exists\s+and\s+this\s+resource\s+does\s+not\s+manage\s+it.*` +
				"`terraform\\s+import\\s+<address>\\s+projects/p/metrics/auth/failed_logins`"),
		}},
	})
	if f := sb.get(t, fullName).GetFilter(); f != "severity>=ERROR" {
		t.Errorf("the existing metric was changed: %s", f)
	}
}

// Bad inputs fail the plan with a message at the attribute, and no call reaches the API.
func TestAccLogMetric_badInputsFailAtPlanWithoutAPICalls(t *testing.T) {
	sb := newLogSandbox(t)
	res := func(body string) string {
		return sb.provider() + "resource \"alfred_log_metric\" \"bad\" {\n" + body + "\n}\n"
	}
	for _, c := range []struct{ name, body, want string }{
		{"name with a space", `name = "failed logins"
filter = "severity>=ERROR"`, `(?s)Invalid log metric name.*name = "failed logins".*may contain only`},
		{"name starting with a slash", `name = "/auth"
filter = "severity>=ERROR"`, `(?s)cannot be its first character`},
		{"name too long", `name = "` + strings.Repeat("a", 101) + `"
filter = "severity>=ERROR"`, `(?s)at most 100 are allowed`},
		{"empty filter", `name = "x"
filter = ""`, `(?s)Invalid Logging query language filter.*filter = "".*the filter is\s+empty`},
		{"unbalanced filter", `name = "x"
filter = "severity>=ERROR AND (resource.type=\"x\""`, `(?s)filter = .*column 21: unbalanced parentheses`},
		{"unterminated string", `name = "x"
filter = "jsonPayload.event=\"login_failed"`, `(?s)filter = .*unterminated string`},
		{"comparison without value", `name = "x"
filter = "severity>="`, `(?s)comparison operator '>=' has no value`},
		{"bad extractor syntax", `name = "x"
filter = "severity>=ERROR"
label_extractors = { service = "resource.labels.service_name" }`, `(?s)Invalid extractor expression.*label_extractors = .*is not an extractor`},
		{"regex with two groups", `name = "x"
filter = "severity>=ERROR"
label_extractors = { user = "REGEXP_EXTRACT(textPayload, \"(a)(b)\")" }`, `(?s)2 capture groups`},
		{"bad label name", `name = "x"
filter = "severity>=ERROR"
label_extractors = { "9lives" = "EXTRACT(jsonPayload.x)" }`, `(?s)Invalid label name.*starts with a letter`},
		{"typed label without extractor", `name = "x"
filter = "severity>=ERROR"
label_extractors = { service = "EXTRACT(resource.labels.service_name)" }
labels = { attempt = "INT64" }`, `(?s)Label without an extractor.*"attempt"`},
		{"unknown label type", `name = "x"
filter = "severity>=ERROR"
label_extractors = { attempt = "EXTRACT(jsonPayload.attempt)" }
labels = { attempt = "DOUBLE" }`, `(?s)labels\["attempt"\].*STRING.*BOOL.*INT64`},
		{"value extractor on a counter", `name = "x"
filter = "severity>=ERROR"
value_extractor = "EXTRACT(jsonPayload.seconds)"`, `(?s)value_extractor needs value_type = "DISTRIBUTION"`},
		{"distribution without extractor", `name = "x"
filter = "severity>=ERROR"
value_type = "DISTRIBUTION"
bucket_bounds = [1, 2]`, `(?s)Missing value_extractor`},
		{"decreasing buckets", `name = "x"
filter = "severity>=ERROR"
value_type = "DISTRIBUTION"
value_extractor = "EXTRACT(jsonPayload.seconds)"
bucket_bounds = [1, 5, 2]`, `(?s)bucket_bounds\[2\] = 2 is not greater than bucket_bounds\[1\] = 5`},
		{"gauge", `name = "x"
filter = "severity>=ERROR"
metric_kind = "GAUGE"`, `(?s)metric_kind.*DELTA`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				Steps:                    []resource.TestStep{{Config: res(c.body), PlanOnly: true, ExpectError: regexp.MustCompile(c.want)}},
			})
		})
	}
	if calls := sb.Kit.Calls(); len(calls) != 0 {
		t.Errorf("bad inputs must fail before any API call, got %v", calls)
	}
}

func TestAccLogMetric_importRejectsMalformedIDs(t *testing.T) {
	sb := newLogSandbox(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config:        sb.provider() + logMetricConfig(filter1, "", svcEx, ""),
			ResourceName:  "alfred_log_metric.m",
			ImportState:   true,
			ImportStateId: "failed_logins",
			ExpectError:   regexp.MustCompile(`(?s)not a log metric ID.*projects/\{project\}/metrics/\{name\}`),
		}},
	})
}

// The documented example applies as written against the emulator, configured from the environment as
// the sandbox's sandbox.env configures it, and leaves an empty plan.
func TestAccLogMetric_exampleApplies(t *testing.T) {
	sb := newLogSandbox(t)
	hcl, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "resources", "alfred_log_metric", "resource.tf"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("ALFRED_GCP_PROJECT", "p")
	t.Setenv("ALFRED_GCP_LOGGING_ENDPOINT", sb.Addr)
	t.Setenv("ALFRED_GCP_INSECURE", "true")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: string(hcl),
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckOutput("failed_logins_promql_name", "logging_googleapis_com:user_auth_failed_logins"),
				func(*terraform.State) error {
					sb.get(t, "projects/p/metrics/tasks/duration_seconds")
					return nil
				},
			),
		}},
	})
}

// Without the gcp block the plan fails naming the block and its variables; without a project, naming
// the project attribute.
func TestAccLogMetric_missingGCPBlockOrProjectFailsAtPlan(t *testing.T) {
	for _, v := range []string{"ALFRED_GCP_PROJECT", "GOOGLE_CLOUD_PROJECT", "ALFRED_GCP_REGION", "ALFRED_GCP_RUN_ENDPOINT",
		"ALFRED_GCP_MONITORING_ENDPOINT", "ALFRED_GCP_LOGGING_ENDPOINT", "ALFRED_GCP_SCHEDULER_ENDPOINT", "ALFRED_GCP_INSECURE"} {
		t.Setenv(v, "")
	}
	res := `
resource "alfred_log_metric" "m" {
  name   = "x"
  filter = "severity>=ERROR"
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: `provider "alfred" {}` + res, PlanOnly: true,
				ExpectError: regexp.MustCompile(`(?s)Provider block "gcp" is not configured.*ALFRED_GCP_LOGGING_ENDPOINT`)},
			{Config: "provider \"alfred\" {\n  gcp {\n    logging_endpoint = \"127.0.0.1:1\"\n    insecure = true\n  }\n}\n" + res,
				PlanOnly: true, ExpectError: regexp.MustCompile(`(?s)No project for the log metric.*ALFRED_GCP_PROJECT`)},
		},
	})
}

// An extractor or a label type known only after apply (here: from another resource) plans (it was a
// "Value Conversion Error"): an extractor's key is what plans check; a label type that may change an
// existing label's replaces the metric, as the API cannot change it in place.
func TestAccLogMetric_valuesKnownOnlyAfterApplyPlan(t *testing.T) {
	t.Parallel()
	sb := newLogSandbox(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: sb.provider() + `
resource "terraform_data" "field" {
  input = "service"
}
` + logMetricConfig(filter1, "", `    service = "EXTRACT(jsonPayload.${terraform_data.field.output})"`, ""),
			Check: func(*terraform.State) error {
				if ex := sb.get(t, fullName).GetLabelExtractors()["service"]; ex != "EXTRACT(jsonPayload.service)" {
					return fmt.Errorf("extractor %q", ex)
				}
				return nil
			},
		}, {
			Config: sb.provider() + `
resource "terraform_data" "field" {
  input = "service"
}
resource "terraform_data" "kind" {
  input = "INT64"
}
` + logMetricConfig(filter1, "", `    service = "EXTRACT(jsonPayload.${terraform_data.field.output})"`, `  labels = { service = terraform_data.kind.output }`),
			ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
				plancheck.ExpectResourceAction("alfred_log_metric.m", plancheck.ResourceActionReplace)}},
			Check: func(*terraform.State) error {
				if l := sb.get(t, fullName).GetMetricDescriptor().GetLabels(); len(l) != 1 || l[0].GetValueType().String() != "INT64" {
					return fmt.Errorf("labels %v", l)
				}
				return nil
			},
		}},
	})
}
