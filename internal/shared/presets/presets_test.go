package presets

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

func TestCatalogueHasTheDesignPresets(t *testing.T) {
	want := []string{"backup_staleness", "cpu", "failed_logins", "memory", "request_rate_anomaly", "task_failures", "task_latency"}
	if got := strings.Join(Names(), ","); got != strings.Join(want, ",") {
		t.Fatalf("presets %s, want %s", got, strings.Join(want, ","))
	}
	for _, p := range All() {
		if p.Summary == "" || p.Description == "" || p.Title == "" || p.AlertName == "" || p.ThresholdUnit == "" {
			t.Errorf("%s: missing texts: %+v", p.Name, p)
		}
		if p.CheckThreshold(p.DefaultThreshold) != "" {
			t.Errorf("%s: default threshold %v outside its own bounds", p.Name, p.DefaultThreshold)
		}
		if p.DefaultDuration < 0 || p.DefaultDuration > MaxDuration {
			t.Errorf("%s: default duration %s", p.Name, p.DefaultDuration)
		}
	}
}

// Every preset renders, for any service name, an expression that the Prometheus parser accepts, that is an
// instant vector, that reads the preset's metrics, and whose service matcher selects exactly that service.
func TestPresetExpressionsParseAndSelectTheService(t *testing.T) {
	services := []string{"", "alfred-bot", `we"ird\name`, "line\nbreak", "ünï"}
	for _, p := range All() {
		for _, svc := range services {
			for _, th := range []float64{p.ThresholdMin, p.DefaultThreshold, p.ThresholdMax} {
				expr := p.Expr(svc, th)
				if msg := CheckAlertExpr(expr); msg != "" {
					t.Fatalf("%s(%q, %v): %s", p.Name, svc, th, msg)
				}
				e, _ := ParsePromQL(expr)
				seen := map[string]bool{}
				parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
					vs, ok := n.(*parser.VectorSelector)
					if !ok {
						return nil
					}
					seen[vs.Name] = true
					var svcMatcher *labels.Matcher
					for _, m := range vs.LabelMatchers {
						if m.Name == p.Label {
							svcMatcher = m
						}
					}
					switch {
					case svc == "" && svcMatcher != nil:
						t.Errorf("%s: no service given but matcher %s", p.Name, svcMatcher)
					case svc != "" && (svcMatcher == nil || svcMatcher.Type != labels.MatchEqual || svcMatcher.Value != svc):
						t.Errorf("%s: service %q: matcher %v in %s", p.Name, svc, svcMatcher, expr)
					}
					return nil
				})
				for _, m := range p.Metrics {
					if !seen[m] {
						t.Errorf("%s: expression %s does not read %s", p.Name, expr, m)
					}
				}
			}
		}
	}
}

func TestRequestRateAnomalyComparesWithTheSameHourLastWeek(t *testing.T) {
	p, _ := Get("request_rate_anomaly")
	e, _ := ParsePromQL(p.Expr("bot", 3))
	var offsets []time.Duration
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok {
			offsets = append(offsets, vs.OriginalOffset)
		}
		return nil
	})
	if len(offsets) != 4 || offsets[0] != 0 || offsets[1] != 7*24*time.Hour {
		t.Fatalf("offsets %v in %s", offsets, p.Expr("bot", 3))
	}
}

func TestCheckThresholdBounds(t *testing.T) {
	p, _ := Get("cpu")
	for _, v := range []float64{0, 1.5, -1} {
		if msg := p.CheckThreshold(v); !strings.Contains(msg, `threshold of preset "cpu" must be between 0.01 and 1 (ratio)`) {
			t.Errorf("%v: %q", v, msg)
		}
	}
	if msg := p.CheckThreshold(0.75); msg != "" {
		t.Errorf("0.75: %s", msg)
	}
}

func TestCheckAlertExprNamesThePosition(t *testing.T) {
	cases := map[string]string{
		`sum(rate(alfred_tasks_failed_total[5m]) > 0`:            "PromQL does not parse at 1:",
		"rate(alfred_tasks_failed_total[5m])\n  > > 1":           "PromQL does not parse at 2:5",
		`alfred_tasks_failed_total[5m]`:                          "is a range vector; an alert needs an instant vector",
		`sum by (service) (rate(alfred_tasks_failed_total[5m]))`: "",
		`vector(1)`: "",
	}
	for expr, want := range cases {
		got := CheckAlertExpr(expr)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("%q: got %q, want %q", expr, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"0s": 0, "30s": 30 * time.Second, "1h30m": 90 * time.Minute, "1d": 24 * time.Hour} {
		if d, msg := ParseDuration(s); msg != "" || d != want {
			t.Errorf("%s: %v %q", s, d, msg)
		}
	}
	for _, s := range []string{"5 minutes", "-5m", "5", "2d", ""} {
		if _, msg := ParseDuration(s); msg == "" {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestRegexAlternationMatchesExactlyTheServices(t *testing.T) {
	re := RegexAlternation([]string{"a.b", "c|d", "e"})
	m, err := labels.NewMatcher(labels.MatchRegexp, "service", re)
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]bool{"a.b": true, "c|d": true, "e": true, "axb": false, "c": false, "ee": false, "": false} {
		if m.Matches(v) != want {
			t.Errorf("%q: %v", v, !want)
		}
	}
}

func TestFailedLoginsCanReadALogBasedCounter(t *testing.T) {
	if got := LogMetricPromQLName("auth/failed-logins.v1"); got != "logging_googleapis_com:user_auth_failed_logins_v1" {
		t.Fatalf("PromQL name %s", got)
	}
	p, _ := Get("failed_logins")
	expr, err := p.ExprOver(LogMetricPromQLName("failed-logins"), "alfred-bot", 5)
	if err != nil {
		t.Fatal(err)
	}
	if want := `sum by (service) (increase(logging_googleapis_com:user_failed_logins{service="alfred-bot"}[5m])) > 5`; expr != want {
		t.Fatalf("got %s, want %s", expr, want)
	}
	if msg := CheckAlertExpr(expr); msg != "" {
		t.Fatal(msg)
	}
	if _, err := p.ExprOver("not a metric", "", 5); err == nil {
		t.Fatal("a malformed metric name was accepted")
	}
	cpu, _ := Get("cpu")
	if _, err := cpu.ExprOver(LogMetricPromQLName("x"), "a", 0.5); err == nil {
		t.Fatal("cpu accepted a log-based metric")
	}
}

func TestTaskFailuresCanReadATaskQueuesDeadLetters(t *testing.T) {
	p, _ := Get("task_failures")
	for _, sub := range []string{"alfred-bot-tasks", "projects/p/subscriptions/alfred-bot-tasks"} {
		expr, err := p.ExprDeadLetters(sub, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := `sum by (subscription_id) (increase(pubsub_googleapis_com:subscription_dead_letter_message_count{monitored_resource="pubsub_subscription",subscription_id="alfred-bot-tasks"}[5m])) > 0`
		if expr != want {
			t.Fatalf("got %s, want %s", expr, want)
		}
		if msg := CheckAlertExpr(expr); msg != "" {
			t.Fatal(msg)
		}
	}
	if _, err := p.ExprDeadLetters("projects/p/subscriptions/x\"}", 0); err == nil {
		t.Fatal("a malformed subscription name was accepted")
	}
	if lat, _ := Get("task_latency"); lat.AcceptsDeadLetters {
		t.Fatal("task_latency claims to read dead letters")
	} else if _, err := lat.ExprDeadLetters("tasks", 1); err == nil {
		t.Fatal("task_latency rendered a dead-letter expression")
	}
	// The default reading is unchanged.
	if got := p.DefaultExpr("alfred-bot"); got != `sum by (service) (increase(alfred_tasks_failed_total{service="alfred-bot"}[5m])) > 0` {
		t.Fatalf("default task_failures expression changed: %s", got)
	}
}

// The documented examples of Cloud Monitoring's PromQL mapping, and the name backup_staleness reads there.
func TestMonitoringPromQLNameFollowsTheDocumentedMapping(t *testing.T) {
	for typ, want := range map[string]string{
		"kubernetes.io/container/cpu/limit_cores":                                            "kubernetes_io:container_cpu_limit_cores",
		"compute.googleapis.com/instance/cpu/utilization":                                    "compute_googleapis_com:instance_cpu_utilization",
		"custom.googleapis.com/opencensus/opencensus.io/http/server/request_count_by_method": "custom_googleapis_com:opencensus_opencensus_io_http_server_request_count_by_method",
		CustomMetricBackupLastSuccess:                                                        "custom_googleapis_com:alfred_backup_last_success_timestamp_seconds",
	} {
		if got := MonitoringPromQLName(typ); got != want {
			t.Errorf("%s: %s, want %s", typ, got, want)
		}
	}
	p, _ := Get("backup_staleness")
	if got, want := p.CloudExpr("nightly", 93600), `time() - max by (service) (custom_googleapis_com:alfred_backup_last_success_timestamp_seconds{service="nightly"}) > 93600`; got != want {
		t.Errorf("CloudExpr %s, want %s", got, want)
	}
	if got, want := p.Expr("nightly", 93600), `time() - max by (service) (alfred_backup_last_success_timestamp_seconds{service="nightly"}) > 93600`; got != want {
		t.Errorf("Expr %s, want %s", got, want)
	}
	if msg := CheckAlertExpr(p.CloudExpr("", 93600)); msg != "" {
		t.Error(msg)
	}
}
