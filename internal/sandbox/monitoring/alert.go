package monitoring

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

type alertServer struct {
	monitoringpb.UnimplementedAlertPolicyServiceServer
	s *Server
}

// Output-only fields of AlertPolicy: "If provided in a call to create or update, this field will be ignored."
var policyOutputOnly = map[string]bool{"name": true, "creation_record": true, "mutation_record": true, "validity": true}

var (
	userLabelKeyRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]*$`)
	userLabelValueRE = regexp.MustCompile(`^[a-z0-9_-]*$`)
	promLabelRE      = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	promqlParser     = parser.NewParser(parser.Options{})
)

func (a *alertServer) CreateAlertPolicy(_ context.Context, req *monitoringpb.CreateAlertPolicyRequest) (*monitoringpb.AlertPolicy, error) {
	project, err := parseProject(req.GetName(), "name")
	if err != nil {
		return nil, err
	}
	if req.GetAlertPolicy() == nil {
		return nil, status.Error(codes.InvalidArgument, "alert_policy is required")
	}
	s := a.s
	done, err := s.beginPolicyWrite(project)
	if err != nil {
		return nil, err
	}
	defer done()
	s.mu.Lock()
	defer s.mu.Unlock()
	p := clone(req.GetAlertPolicy())
	id := s.newIDLocked()
	p.Name = "projects/" + project + "/alertPolicies/" + id
	// "do not include the name field in the conditions of the requested alerting policy. Monitoring
	// creates the condition identifiers"
	for _, c := range p.Conditions {
		c.Name = ""
	}
	if err := s.finishPolicyLocked(p, project, nil); err != nil {
		return nil, err
	}
	rec := s.record()
	p.CreationRecord, p.MutationRecord = rec, clone(rec)
	s.policies[p.Name] = p
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(p), nil
}

func (a *alertServer) GetAlertPolicy(_ context.Context, req *monitoringpb.GetAlertPolicyRequest) (*monitoringpb.AlertPolicy, error) {
	if _, _, err := parseChild(req.GetName(), "alertPolicies"); err != nil {
		return nil, err
	}
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policies[req.GetName()]
	if !ok {
		return nil, notFound("alert policy", req.GetName())
	}
	return clone(p), nil
}

func (a *alertServer) ListAlertPolicies(_ context.Context, req *monitoringpb.ListAlertPoliciesRequest) (*monitoringpb.ListAlertPoliciesResponse, error) {
	project, f, err := parseList(req.GetName(), req.GetFilter())
	if err != nil {
		return nil, err
	}
	if err := checkOrderBy(req.GetOrderBy()); err != nil {
		return nil, err
	}
	s := a.s
	s.mu.Lock()
	defer s.mu.Unlock()
	policies, next, total, err := listPage(s.policies, "projects/"+project+"/alertPolicies/", f,
		func(p *monitoringpb.AlertPolicy) lookupFunc {
			return protoLookup(p, map[string]string{"user_label": "user_labels"})
		}, req.GetPageSize(), req.GetPageToken(), 1000)
	if err != nil {
		return nil, err
	}
	resp := &monitoringpb.ListAlertPoliciesResponse{NextPageToken: next, TotalSize: int32(total)}
	for _, p := range policies {
		resp.AlertPolicies = append(resp.AlertPolicies, clone(p))
	}
	return resp, nil
}

func (a *alertServer) UpdateAlertPolicy(_ context.Context, req *monitoringpb.UpdateAlertPolicyRequest) (*monitoringpb.AlertPolicy, error) {
	in := req.GetAlertPolicy()
	if in == nil {
		return nil, status.Error(codes.InvalidArgument, "alert_policy is required")
	}
	s := a.s
	project, done, err := s.beginPolicyWriteOn(in.GetName())
	if err != nil {
		return nil, err
	}
	defer done()
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.policies[in.GetName()]
	if !ok {
		return nil, notFound("alert policy", in.GetName())
	}
	var p *monitoringpb.AlertPolicy
	if paths := req.GetUpdateMask().GetPaths(); len(paths) > 0 {
		p = clone(old)
		if err := kit.ApplyMask(p, in, policyMaskPaths(paths), policyOutputOnly); err != nil {
			return nil, err
		}
	} else {
		// An empty mask replaces the whole policy, keeping its id.
		p = clone(in)
	}
	p.Name = old.Name
	if err := s.finishPolicyLocked(p, project, old); err != nil {
		return nil, err
	}
	p.CreationRecord = clone(old.CreationRecord)
	p.MutationRecord = s.record()
	p.Validity = nil
	s.policies[p.Name] = p
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return clone(p), nil
}

func (a *alertServer) DeleteAlertPolicy(_ context.Context, req *monitoringpb.DeleteAlertPolicyRequest) (*emptypb.Empty, error) {
	s := a.s
	_, done, err := s.beginPolicyWriteOn(req.GetName())
	if err != nil {
		return nil, err
	}
	defer done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.policies[req.GetName()]; !ok {
		return nil, notFound("alert policy", req.GetName())
	}
	delete(s.policies, req.GetName())
	if err := s.saveLocked(); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// finishPolicyLocked validates p, names its new conditions and fills defaults. old is the stored policy
// on update (nil on create): conditions that carry one of its condition names keep them.
func (s *Server) finishPolicyLocked(p *monitoringpb.AlertPolicy, project string, old *monitoringpb.AlertPolicy) error {
	if err := s.validatePolicyLocked(p, project); err != nil {
		return err
	}
	known := map[string]bool{}
	if old != nil {
		for _, c := range old.Conditions {
			known[c.Name] = true
		}
	}
	seen := map[string]bool{}
	for i, c := range p.Conditions {
		if c.Name != "" {
			if !known[c.Name] || seen[c.Name] {
				return status.Errorf(codes.InvalidArgument,
					"conditions[%d].name %q is not a condition of %s; omit the name to create a new condition", i, c.Name, p.Name)
			}
		} else {
			c.Name = p.Name + "/conditions/" + s.newIDLocked()
		}
		seen[c.Name] = true
	}
	if p.Enabled == nil {
		// "On write, the default interpretation if unset is that the policy is enabled."
		p.Enabled = wrapperspb.Bool(true)
	}
	return nil
}

// policyMaskPaths rewrites the documented alias `user_label.nameofkey` (UpdateAlertPolicyRequest.update_mask:
// "Examples of valid field masks include ... `user_labels`, `user_label.nameofkey`") to the field's real
// path `user_labels.nameofkey`.
func policyMaskPaths(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if key, ok := strings.CutPrefix(p, "user_label."); ok {
			p = "user_labels." + key
		}
		out[i] = p
	}
	return out
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}

func (s *Server) validatePolicyLocked(p *monitoringpb.AlertPolicy, project string) error {
	if strings.TrimSpace(p.DisplayName) == "" {
		return invalid("alert_policy.display_name is required")
	}
	if utf8.RuneCountInString(p.DisplayName) > 512 {
		return invalid("alert_policy.display_name is limited to 512 characters")
	}
	if err := validateUserLabels("alert_policy.user_labels", p.UserLabels); err != nil {
		return err
	}
	if d := p.Documentation; d != nil {
		if d.MimeType != "" && d.MimeType != "text/markdown" {
			return invalid("alert_policy.documentation.mime_type must be \"text/markdown\", got %q", d.MimeType)
		}
		// "The content may not exceed 8,192 Unicode characters and may not exceed more than 10,240 bytes
		// when encoded in UTF-8 format, whichever is smaller."
		if utf8.RuneCountInString(d.Content) > 8192 || len(d.Content) > 10240 {
			return invalid("alert_policy.documentation.content may not exceed 8,192 Unicode characters or 10,240 bytes (got %d characters, %d bytes)",
				utf8.RuneCountInString(d.Content), len(d.Content))
		}
		// "The subject line may not exceed 10,240 bytes."
		if len(d.Subject) > 10240 {
			return invalid("alert_policy.documentation.subject may not exceed 10,240 bytes (got %d)", len(d.Subject))
		}
		// "This field can contain up to 3 entries."
		if len(d.Links) > 3 {
			return invalid("alert_policy.documentation.links can contain up to 3 entries, got %d", len(d.Links))
		}
	}
	n := len(p.Conditions)
	if n < 1 || n > 6 {
		return invalid("an alert policy must have from one to six conditions, got %d", n)
	}
	if n > 1 && p.Combiner == monitoringpb.AlertPolicy_COMBINE_UNSPECIFIED {
		return invalid("alert_policy.combiner must be specified when there is more than one condition")
	}
	for i, c := range p.Conditions {
		field := fmt.Sprintf("alert_policy.conditions[%d]", i)
		if err := validateCondition(field, c, n); err != nil {
			return err
		}
		if pq := c.GetConditionPrometheusQueryLanguage(); pq != nil && !pq.DisableMetricValidation {
			if err := s.checkMetricsExistLocked(field+".condition_prometheus_query_language", project, pq.Query); err != nil {
				return err
			}
		}
	}
	for i, ch := range p.NotificationChannels {
		chProject, _, err := parseChild(ch, "notificationChannels")
		if err != nil {
			return invalid("alert_policy.notification_channels[%d]: %v", i, status.Convert(err).Message())
		}
		if _, ok := s.channels[ch]; !ok || chProject != project {
			return status.Errorf(codes.NotFound, "Notification channel not found: %s", ch)
		}
	}
	return nil
}

func validateUserLabels(field string, labels map[string]string) error {
	if len(labels) > 64 {
		return invalid("%s can contain up to 64 entries, got %d", field, len(labels))
	}
	for k, v := range labels {
		if !userLabelKeyRE.MatchString(k) || utf8.RuneCountInString(k) > 63 {
			return invalid("%s key %q: keys contain only lowercase letters, numerals, underscores and dashes, begin with a letter and have at most 63 characters", field, k)
		}
		if !userLabelValueRE.MatchString(v) || utf8.RuneCountInString(v) > 63 {
			return invalid("%s[%q] value %q: values contain only lowercase letters, numerals, underscores and dashes and have at most 63 characters", field, k, v)
		}
	}
	return nil
}

func validateCondition(field string, c *monitoringpb.AlertPolicy_Condition, n int) error {
	switch ct := c.Condition.(type) {
	case nil:
		return invalid("%s: exactly one condition type must be set (condition_threshold, condition_absent, condition_matched_log, condition_monitoring_query_language, condition_prometheus_query_language, condition_sql)", field)
	case *monitoringpb.AlertPolicy_Condition_ConditionPrometheusQueryLanguage:
		return validatePromQL(field+".condition_prometheus_query_language", ct.ConditionPrometheusQueryLanguage)
	case *monitoringpb.AlertPolicy_Condition_ConditionThreshold:
		t := ct.ConditionThreshold
		f := field + ".condition_threshold"
		if strings.TrimSpace(t.Filter) == "" {
			return invalid("%s.filter is required", f)
		}
		if err := wholeMinutes(f+".duration", t.Duration, 0); err != nil {
			return err
		}
		if err := validateAggregations(f+".aggregations", t.Aggregations); err != nil {
			return err
		}
		return validateAggregations(f+".denominator_aggregations", t.DenominatorAggregations)
	case *monitoringpb.AlertPolicy_Condition_ConditionAbsent:
		t := ct.ConditionAbsent
		f := field + ".condition_absent"
		if strings.TrimSpace(t.Filter) == "" {
			return invalid("%s.filter is required", f)
		}
		if t.Duration == nil {
			return invalid("%s.duration is required", f)
		}
		// "The Duration.nanos field is ignored."
		d := &durationpb.Duration{Seconds: t.Duration.Seconds}
		if err := wholeMinutes(f+".duration", d, 120*time.Second); err != nil {
			return err
		}
		return validateAggregations(f+".aggregations", t.Aggregations)
	case *monitoringpb.AlertPolicy_Condition_ConditionMonitoringQueryLanguage:
		if n > 1 {
			return invalid("%s: a condition_monitoring_query_language condition must be the only condition", field)
		}
		if strings.TrimSpace(ct.ConditionMonitoringQueryLanguage.Query) == "" {
			return invalid("%s.condition_monitoring_query_language.query is required", field)
		}
	}
	return nil
}

func validatePromQL(f string, c *monitoringpb.AlertPolicy_Condition_PrometheusQueryLanguageCondition) error {
	if strings.TrimSpace(c.Query) == "" {
		return invalid("%s.query must not be empty", f)
	}
	if _, err := promqlParser.ParseExpr(c.Query); err != nil {
		return invalid("%s.query is not valid PromQL: %v", f, err)
	}
	if d := c.Duration; d != nil {
		if err := d.CheckValid(); err != nil || d.AsDuration() < 0 {
			return invalid("%s.duration must be a non-negative duration", f)
		}
	}
	if d := c.EvaluationInterval; d != nil {
		// "Must be a positive multiple of 30 seconds or missing."
		if err := d.CheckValid(); err != nil || d.Nanos != 0 || d.Seconds <= 0 || d.Seconds%30 != 0 {
			return invalid("%s.evaluation_interval must be a positive multiple of 30 seconds, got %s", f, fmtDuration(d))
		}
	}
	for k := range c.Labels {
		if !promLabelRE.MatchString(k) {
			return invalid("%s.labels: %q is not a valid Prometheus label name", f, k)
		}
	}
	if c.AlertRule != "" && (!promLabelRE.MatchString(c.AlertRule) || utf8.RuneCountInString(c.AlertRule) > 2048) {
		return invalid("%s.alert_rule %q must be a valid Prometheus label name of at most 2048 characters", f, c.AlertRule)
	}
	if !utf8.ValidString(c.RuleGroup) || utf8.RuneCountInString(c.RuleGroup) > 2048 {
		return invalid("%s.rule_group must be valid UTF-8 of at most 2048 characters", f)
	}
	return nil
}

// wholeMinutes checks "only values that are a multiple of a minute--e.g., 0, 60, 120, or 300 seconds--are
// supported", with a lower bound.
func wholeMinutes(f string, d *durationpb.Duration, minimum time.Duration) error {
	if d == nil {
		if minimum > 0 {
			return invalid("%s is required", f)
		}
		return nil
	}
	if err := d.CheckValid(); err != nil || d.Nanos != 0 || d.Seconds%60 != 0 || d.AsDuration() < minimum {
		if minimum > 0 {
			return invalid("%s must be a multiple of 60 seconds and at least %s, got %s", f, fmtDuration(durationpb.New(minimum)), fmtDuration(d))
		}
		return invalid("%s must be a non-negative multiple of 60 seconds, got %s", f, fmtDuration(d))
	}
	return nil
}

func validateAggregations(f string, aggs []*monitoringpb.Aggregation) error {
	for i, a := range aggs {
		if a.PerSeriesAligner == monitoringpb.Aggregation_ALIGN_NONE {
			continue
		}
		ap := a.AlignmentPeriod
		if ap == nil {
			return invalid("%s[%d].alignment_period is required with per_series_aligner %s", f, i, a.PerSeriesAligner)
		}
		// "The value must be at least 60 seconds" and at most "90,000 seconds (25 hours) for alerting policies".
		if err := ap.CheckValid(); err != nil || ap.Nanos != 0 || ap.Seconds < 60 || ap.Seconds > 90000 {
			return invalid("%s[%d].alignment_period must be whole seconds between 60s and 90000s, got %s", f, i, fmtDuration(ap))
		}
	}
	return nil
}

func fmtDuration(d *durationpb.Duration) string {
	if d == nil {
		return "unset"
	}
	if d.Nanos == 0 {
		return fmt.Sprintf("%ds", d.Seconds)
	}
	return fmt.Sprintf("%d.%09ds", d.Seconds, d.Nanos)
}

// checkMetricsExistLocked refuses a PromQL query that reads a metric never written in project
// (PrometheusQueryLanguageCondition.disable_metric_validation: "Whether to disable metric existence
// validation for this condition. This allows alerting policies to be defined on metrics that do not yet
// exist"). A metric exists when the project has its descriptor, as writing a first point creates one.
// PromQL names map to Cloud Monitoring types as Managed Service for Prometheus maps them: a name with a
// colon is a Cloud Monitoring metric with '.' and '/' written as '_' and the first '/' as ':'
// (run_googleapis_com:container_cpu_utilizations); a plain name is a Prometheus metric,
// prometheus.googleapis.com/NAME/KIND, histograms and summaries also read as NAME_bucket, _sum, _count.
func (s *Server) checkMetricsExistLocked(field, project, query string) error {
	expr, err := promqlParser.ParseExpr(query)
	if err != nil {
		return invalid("%s.query is not valid PromQL: %v", field, err)
	}
	var missing []string
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name != "" && !s.promMetricExistsLocked(project, name) && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		return nil
	})
	if len(missing) > 0 {
		return invalid("%s.query reads metric %s, which has no data in project %s; write it first, or set disable_metric_validation to define the policy before the metric exists",
			field, strings.Join(missing, ", "), project)
	}
	return nil
}

func promqlName(metricType string) string {
	domain, path, ok := strings.Cut(metricType, "/")
	if !ok {
		return ""
	}
	r := strings.NewReplacer(".", "_", "/", "_")
	return r.Replace(domain) + ":" + r.Replace(path)
}

func (s *Server) promMetricExistsLocked(project, name string) bool {
	prefix := "projects/" + project + "/metricDescriptors/"
	for key, d := range s.descriptors {
		if !strings.HasPrefix(key, prefix) {
			continue
		}
		t := d.GetType()
		if rest, ok := strings.CutPrefix(t, "prometheus.googleapis.com/"); ok {
			base, kind, _ := strings.Cut(rest, "/")
			if base == name {
				return true
			}
			if kind == "histogram" || kind == "summary" {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if base+suf == name {
						return true
					}
				}
			}
			continue
		}
		if strings.Contains(name, ":") {
			if promqlName(t) == name {
				return true
			}
			// Distributions read as Prometheus histograms: NAME_bucket, NAME_sum, NAME_count.
			if d.GetValueType() == metric.MetricDescriptor_DISTRIBUTION {
				for _, suf := range []string{"_bucket", "_sum", "_count"} {
					if promqlName(t)+suf == name {
						return true
					}
				}
			}
		}
	}
	return false
}
