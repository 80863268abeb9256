// Package presets is the one catalogue of Alfred's alert presets. Everything that renders alerts (the
// alfred_prometheus_rules and alfred_grafana_dashboard data sources, and the Cloud Monitoring alert policy
// resources) reads its expressions, thresholds, durations and texts from here, so that a self-hosted
// Prometheus, Cloud Monitoring and the dashboard never disagree.
package presets

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
)

// Metric names the agents export (DESIGN section 4), each with a `service` label.
const (
	MetricTasksProcessed     = "alfred_tasks_processed_total"
	MetricTasksFailed        = "alfred_tasks_failed_total" // failures after the last retry
	MetricTaskDuration       = "alfred_task_duration_seconds"
	MetricFailedLogins       = "alfred_auth_failed_logins_total"
	MetricBackupLastSuccess  = "alfred_backup_last_success_timestamp_seconds"
	ServiceLabel             = "service"
	taskDurationBucketSuffix = "_bucket"
)

// Cloud Run's own utilisation metrics, as PromQL sees them in Cloud Monitoring / Managed Service for
// Prometheus. run.googleapis.com/container/cpu/utilizations and .../memory/utilizations are DELTA
// DISTRIBUTION metrics (ratio 0..1) on the cloud_run_revision monitored resource, whose label
// service_name names the service. Cloud Monitoring's PromQL mapping replaces the first "/" with ":" and
// other special characters with "_", and exposes distributions as Prometheus histograms (_bucket, _sum,
// _count): https://cloud.google.com/monitoring/promql/promql-mapping
const (
	MetricRunCPUUtilizations    = "run_googleapis_com:container_cpu_utilizations"
	MetricRunMemoryUtilizations = "run_googleapis_com:container_memory_utilizations"
	RunServiceLabel             = "service_name"
	RunMonitoredResource        = "cloud_run_revision"
)

// Pub/Sub's count of messages forwarded to a dead-letter topic, as PromQL sees it in Cloud Monitoring:
// pubsub.googleapis.com/subscription/dead_letter_message_count (DELTA INT64, "Number of delivery attempts
// of messages ... published to dead letter topic", on the pubsub_subscription monitored resource whose label
// subscription_id is the subscription's short name), named by the PromQL mapping
// (https://cloud.google.com/monitoring/promql/promql-mapping). The subscription is the one with the
// dead-letter policy (alfred_task_queue's `subscription`), not the dead-letter subscription.
const (
	MetricPubSubDeadLetters = "pubsub_googleapis_com:subscription_dead_letter_message_count"
	PubSubMonitoredResource = "pubsub_subscription"
	PubSubSubscriptionLabel = "subscription_id"
)

// Severities, as the alert policy's `severity` takes them. Prometheus rules carry them lower-cased in the
// `severity` label.
const (
	SeverityCritical = "CRITICAL"
	SeverityError    = "ERROR"
	SeverityWarning  = "WARNING"
)

// Severities lists the accepted severities.
func Severities() []string { return []string{SeverityCritical, SeverityError, SeverityWarning} }

// MaxDuration bounds how long a condition must hold before it fires: longer waits hide outages, and
// conditions about long spans belong in the expression (backup_staleness), not in `for`.
const MaxDuration = 24 * time.Hour

// Preset is one entry of the catalogue.
type Preset struct {
	Name string
	// Title is a short human title, used for panel titles and policy display names.
	Title string
	// AlertName is the Prometheus alert name (CamelCase).
	AlertName string
	// Severity is the default severity.
	Severity string
	// Summary and Description are annotation texts; they may use Prometheus' alert templating
	// ({{ $labels.service }}, {{ $value }}) and are rendered into Cloud Monitoring documentation as well.
	Summary     string
	Description string
	// DefaultThreshold, ThresholdMin and ThresholdMax (inclusive) in ThresholdUnit.
	DefaultThreshold float64
	ThresholdMin     float64
	ThresholdMax     float64
	ThresholdUnit    string
	// ThresholdDoc explains what the threshold compares against.
	ThresholdDoc string
	// DefaultDuration is the default `for` (Prometheus) / `duration` (Cloud Monitoring).
	DefaultDuration time.Duration
	// PerService presets need a service; the others alert per service over all services when none is set.
	PerService bool
	// Label is the label that names the service in the preset's series (`service`, or Cloud Run's
	// `service_name`).
	Label string
	// Metrics are the metric names the expression reads.
	Metrics []string
	// CloudMetric, when set, is the name Cloud Monitoring's PromQL knows Metrics[0] by: the metric is
	// written to Cloud Monitoring as a user-defined metric (custom.googleapis.com/...), not scraped by
	// Managed Service for Prometheus (CloudExpr).
	CloudMetric string
	// AcceptsLogMetric presets can read a Cloud Logging log-based counter instead of their metric (ExprOver).
	AcceptsLogMetric bool
	// AcceptsDeadLetters presets can read a Pub/Sub subscription's dead-letter count instead of their
	// metric (ExprDeadLetters): for task_failures, the tasks that a task queue gave up on.
	AcceptsDeadLetters bool

	// expr renders the expression over a metric (Metrics[0] unless overridden), label matchers and a threshold.
	expr func(metric, sel, threshold string) string
}

// Selector returns the label matchers (without braces) that select a service's series: empty for all
// services. The value is escaped as a PromQL string literal.
func (p Preset) Selector(service string) string {
	var m []string
	if p.Label == RunServiceLabel {
		m = append(m, `monitored_resource="`+RunMonitoredResource+`"`)
	}
	if service != "" {
		m = append(m, p.Label+"="+QuoteLabelValue(service))
	}
	return strings.Join(m, ",")
}

// Expr renders the preset's alert expression for a service ("" = all services) and a threshold. The
// threshold must be within the preset's bounds (see CheckThreshold); the result always parses.
func (p Preset) Expr(service string, threshold float64) string {
	return p.expr(p.Metrics[0], p.Selector(service), FormatFloat(threshold))
}

// CloudExpr renders the expression as an alert policy in Cloud Monitoring evaluates it: over CloudMetric
// when the preset has one (backup_staleness reads what `alfredctl backup run --record-metric` writes), else
// as Expr. The Prometheus rules for a self-hosted Prometheus keep Expr's names; the labels are the same.
func (p Preset) CloudExpr(service string, threshold float64) string {
	if p.CloudMetric == "" {
		return p.Expr(service, threshold)
	}
	return p.expr(p.CloudMetric, p.Selector(service), FormatFloat(threshold))
}

// ExprOver renders the expression over another counter of the same meaning: for failed_logins, a Cloud
// Logging log-based counter (see LogMetricPromQLName) whose label extractors put the service name in a
// `service` label. Presets that cannot read another metric return an error.
func (p Preset) ExprOver(metric, service string, threshold float64) (string, error) {
	if !p.AcceptsLogMetric {
		return "", fmt.Errorf("preset %q reads %s only", p.Name, strings.Join(p.Metrics, ", "))
	}
	if !metricNameRE.MatchString(metric) {
		return "", fmt.Errorf("%q is not a PromQL metric name", metric)
	}
	return p.expr(metric, p.Selector(service), FormatFloat(threshold)), nil
}

// ExprDeadLetters renders the expression over the dead-letter count of a Pub/Sub subscription (its short
// name or its full name projects/P/subscriptions/NAME): tasks the queue gave up on after
// max_delivery_attempts. Presets that cannot read it return an error.
func (p Preset) ExprDeadLetters(subscription string, threshold float64) (string, error) {
	if !p.AcceptsDeadLetters {
		return "", fmt.Errorf("preset %q reads %s only", p.Name, strings.Join(p.Metrics, ", "))
	}
	id := subscription
	if i := strings.LastIndex(subscription, "/subscriptions/"); i >= 0 {
		id = subscription[i+len("/subscriptions/"):]
	}
	if !subscriptionIDRE.MatchString(id) {
		return "", fmt.Errorf("%q is not a Pub/Sub subscription name", subscription)
	}
	matchers := `monitored_resource="` + PubSubMonitoredResource + `",` + PubSubSubscriptionLabel + "=" + QuoteLabelValue(id)
	return fmt.Sprintf("sum by (%s) (increase(%s[5m])) > %s", PubSubSubscriptionLabel, sel(MetricPubSubDeadLetters, matchers), FormatFloat(threshold)), nil
}

// Pub/Sub resource names: a letter, then letters, digits, - _ . ~ + %, 3-255 characters.
var subscriptionIDRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)

var (
	metricNameRE  = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	nonMetricChar = regexp.MustCompile(`[^a-zA-Z0-9_]`)
)

// CustomMetricBackupLastSuccess is the Cloud Monitoring metric type each successful backup run writes
// (internal/backup.LastSuccessMetric), with a `service` label naming the backup policy.
const CustomMetricBackupLastSuccess = "custom.googleapis.com/" + MetricBackupLastSuccess

// MonitoringPromQLName maps a Cloud Monitoring metric type to its PromQL name: the first "/" becomes ":"
// and every other character PromQL does not allow (".", "/", ...) becomes "_"
// (https://cloud.google.com/monitoring/promql/promql-mapping: custom.googleapis.com/opencensus/opencensus.io/http/server/request_count_by_method
// is custom_googleapis_com:opencensus_opencensus_io_http_server_request_count_by_method).
func MonitoringPromQLName(metricType string) string {
	domain, path, _ := strings.Cut(metricType, "/")
	return nonMetricChar.ReplaceAllString(domain, "_") + ":" + nonMetricChar.ReplaceAllString(path, "_")
}

// LogMetricPromQLName returns the PromQL name of a user-defined log-based metric NAME, whose Cloud
// Monitoring type is logging.googleapis.com/user/NAME: the first "/" becomes ":" and every other
// character PromQL does not allow becomes "_" (https://cloud.google.com/monitoring/promql/promql-mapping).
func LogMetricPromQLName(name string) string {
	return "logging_googleapis_com:user_" + nonMetricChar.ReplaceAllString(name, "_")
}

// DefaultExpr renders the expression with the default threshold.
func (p Preset) DefaultExpr(service string) string { return p.Expr(service, p.DefaultThreshold) }

// CheckThreshold returns a sentence when the threshold is outside the preset's bounds.
func (p Preset) CheckThreshold(v float64) string {
	if v != v || v < p.ThresholdMin || v > p.ThresholdMax { // v != v: NaN
		return fmt.Sprintf("threshold of preset %q must be between %s and %s (%s), got %s.",
			p.Name, FormatFloat(p.ThresholdMin), FormatFloat(p.ThresholdMax), p.ThresholdUnit, FormatFloat(v))
	}
	return ""
}

// Doc is a markdown paragraph describing the preset for documentation and runbooks.
func (p Preset) Doc() string {
	svc := "optional (all services when unset)"
	if p.PerService {
		svc = "required"
	}
	return fmt.Sprintf("`%s`: %s Threshold: %s, in %s, between %s and %s (default %s). Default duration %s. Severity %s. Service: %s.",
		p.Name, p.Description, p.ThresholdDoc, p.ThresholdUnit, FormatFloat(p.ThresholdMin), FormatFloat(p.ThresholdMax),
		FormatFloat(p.DefaultThreshold), model.Duration(p.DefaultDuration), p.Severity, svc)
}

// FormatFloat prints a number the way PromQL and YAML read it back exactly.
func FormatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// QuoteLabelValue quotes a label value as a PromQL string literal. PromQL strings follow Go's escaping
// rules (https://prometheus.io/docs/prometheus/latest/querying/basics/#string-literals), so Go's quoting
// round-trips through the parser for every string, including quotes, backslashes and newlines.
func QuoteLabelValue(v string) string { return strconv.Quote(v) }

// RegexAlternation returns a PromQL regex (for =~) that matches exactly the given values: each is escaped
// with RE2 quoting, and PromQL anchors the regex at both ends.
func RegexAlternation(values []string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = regexp.QuoteMeta(v)
	}
	return strings.Join(q, "|")
}

func sel(metric, matchers string) string {
	if matchers == "" {
		return metric
	}
	return metric + "{" + matchers + "}"
}

var catalogue = map[string]Preset{
	"task_failures": {
		Name: "task_failures", Title: "Task failures", AlertName: "AlfredTaskFailures", Severity: SeverityError,
		Summary:      "{{ $labels.service }}: tasks failing after retries",
		Description:  "Tasks of the service failed after their last retry (counter `alfred_tasks_failed_total`, increase over 5 minutes).",
		ThresholdDoc: "failed tasks in 5 minutes above which the alert fires", ThresholdUnit: "tasks",
		DefaultThreshold: 0, ThresholdMin: 0, ThresholdMax: 1e6, DefaultDuration: time.Minute, PerService: true,
		Label: ServiceLabel, Metrics: []string{MetricTasksFailed}, AcceptsDeadLetters: true,
		expr: func(m, s, t string) string {
			return fmt.Sprintf("sum by (service) (increase(%s[5m])) > %s", sel(m, s), t)
		},
	},
	"task_latency": {
		Name: "task_latency", Title: "Task latency (p95)", AlertName: "AlfredTaskLatencyHigh", Severity: SeverityWarning,
		Summary:      "{{ $labels.service }}: p95 task processing time is {{ $value | humanizeDuration }}",
		Description:  "The 95th percentile of task processing time (histogram `alfred_task_duration_seconds`, over 5 minutes) is above the threshold.",
		ThresholdDoc: "p95 processing time above which the alert fires", ThresholdUnit: "seconds",
		DefaultThreshold: 30, ThresholdMin: 0.001, ThresholdMax: 86400, DefaultDuration: 5 * time.Minute, PerService: true,
		Label: ServiceLabel, Metrics: []string{MetricTaskDuration + taskDurationBucketSuffix},
		expr: func(m, s, t string) string {
			return fmt.Sprintf("histogram_quantile(0.95, sum by (service, le) (rate(%s[5m]))) > %s", sel(m, s), t)
		},
	},
	"cpu": {
		Name: "cpu", Title: "CPU utilisation (p99)", AlertName: "AlfredCPUHigh", Severity: SeverityWarning,
		Summary:      "{{ $labels.service_name }}: CPU utilisation {{ $value | humanizePercentage }}",
		Description:  "The 99th percentile of Cloud Run container CPU utilisation (`run.googleapis.com/container/cpu/utilizations`, over 5 minutes) is above the threshold.",
		ThresholdDoc: "utilisation ratio (0.8 = 80%) above which the alert fires", ThresholdUnit: "ratio",
		DefaultThreshold: 0.8, ThresholdMin: 0.01, ThresholdMax: 1, DefaultDuration: 5 * time.Minute, PerService: true,
		Label: RunServiceLabel, Metrics: []string{MetricRunCPUUtilizations + "_bucket"},
		expr: func(m, s, t string) string {
			return fmt.Sprintf("histogram_quantile(0.99, sum by (service_name, le) (rate(%s[5m]))) > %s", sel(m, s), t)
		},
	},
	"memory": {
		Name: "memory", Title: "Memory utilisation (p99)", AlertName: "AlfredMemoryHigh", Severity: SeverityWarning,
		Summary:      "{{ $labels.service_name }}: memory utilisation {{ $value | humanizePercentage }}",
		Description:  "The 99th percentile of Cloud Run container memory utilisation (`run.googleapis.com/container/memory/utilizations`, over 5 minutes) is above the threshold.",
		ThresholdDoc: "utilisation ratio (0.9 = 90%) above which the alert fires", ThresholdUnit: "ratio",
		DefaultThreshold: 0.9, ThresholdMin: 0.01, ThresholdMax: 1, DefaultDuration: 5 * time.Minute, PerService: true,
		Label: RunServiceLabel, Metrics: []string{MetricRunMemoryUtilizations + "_bucket"},
		expr: func(m, s, t string) string {
			return fmt.Sprintf("histogram_quantile(0.99, sum by (service_name, le) (rate(%s[5m]))) > %s", sel(m, s), t)
		},
	},
	"failed_logins": {
		Name: "failed_logins", Title: "Failed logins", AlertName: "AlfredFailedLogins", Severity: SeverityCritical,
		Summary:      "{{ $labels.service }}: {{ $value }} failed logins in 5 minutes",
		Description:  "Failed login attempts (counter `alfred_auth_failed_logins_total`, increase over 5 minutes) are above the threshold: a possible brute-force attempt.",
		ThresholdDoc: "failed logins in 5 minutes above which the alert fires", ThresholdUnit: "attempts",
		DefaultThreshold: 10, ThresholdMin: 0, ThresholdMax: 1e6, DefaultDuration: 0, PerService: false,
		Label: ServiceLabel, Metrics: []string{MetricFailedLogins}, AcceptsLogMetric: true,
		expr: func(m, s, t string) string {
			return fmt.Sprintf("sum by (service) (increase(%s[5m])) > %s", sel(m, s), t)
		},
	},
	"request_rate_anomaly": {
		Name: "request_rate_anomaly", Title: "Task rate against last week", AlertName: "AlfredRequestRateAnomaly", Severity: SeverityWarning,
		Summary:      "{{ $labels.service }}: task rate unusual against the same hour last week",
		Description:  "The rate of processed tasks over the last hour (`alfred_tasks_processed_total`) is more than threshold times higher, or threshold times lower, than over the same hour a week earlier (`offset 1w`). No alert without data a week old.",
		ThresholdDoc: "factor between this hour's rate and last week's", ThresholdUnit: "factor",
		DefaultThreshold: 3, ThresholdMin: 1.1, ThresholdMax: 1000, DefaultDuration: 15 * time.Minute, PerService: true,
		Label: ServiceLabel, Metrics: []string{MetricTasksProcessed},
		expr: func(m, s, t string) string {
			now := fmt.Sprintf("sum by (service) (rate(%s[1h]))", sel(m, s))
			week := fmt.Sprintf("sum by (service) (rate(%s[1h] offset 1w))", sel(m, s))
			return fmt.Sprintf("(%s > %s * %s) or (%s < %s / %s)", now, t, week, now, week, t)
		},
	},
	"backup_staleness": {
		Name: "backup_staleness", Title: "Backup age", AlertName: "AlfredBackupStale", Severity: SeverityCritical,
		Summary:      "{{ $labels.service }}: last successful backup {{ $value | humanizeDuration }} ago",
		Description:  "The last successful backup (gauge `alfred_backup_last_success_timestamp_seconds`, Unix seconds) is older than the threshold.",
		ThresholdDoc: "age of the last successful backup above which the alert fires", ThresholdUnit: "seconds",
		DefaultThreshold: 26 * 3600, ThresholdMin: 60, ThresholdMax: 90 * 86400, DefaultDuration: 10 * time.Minute, PerService: false,
		Label: ServiceLabel, Metrics: []string{MetricBackupLastSuccess}, CloudMetric: MonitoringPromQLName(CustomMetricBackupLastSuccess),
		expr: func(m, s, t string) string {
			return fmt.Sprintf("time() - max by (service) (%s) > %s", sel(m, s), t)
		},
	},
}

// Get returns a preset by name.
func Get(name string) (Preset, bool) {
	p, ok := catalogue[name]
	return p, ok
}

// Names lists the presets, sorted.
func Names() []string {
	out := make([]string, 0, len(catalogue))
	for n := range catalogue {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// All returns every preset, sorted by name.
func All() []Preset {
	var out []Preset
	for _, n := range Names() {
		out = append(out, catalogue[n])
	}
	return out
}

// Markdown documents the whole catalogue (one bullet per preset) for schema descriptions.
func Markdown() string {
	var b strings.Builder
	for _, p := range All() {
		b.WriteString("  - " + p.Doc() + "\n")
	}
	return b.String()
}
