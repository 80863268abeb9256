package monitoring_test

import (
	"context"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	mon "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

const project = "projects/alfred-test"

type clients struct {
	alerts   *mon.AlertPolicyClient
	channels *mon.NotificationChannelClient
	metrics  *mon.MetricClient
}

// start runs the emulator on loopback (state in dir, "" for memory) and returns clients of the official
// library pointed at it, plus a function that stops the server (and flushes state).
func start(t *testing.T, dir string) (clients, func()) {
	t.Helper()
	srv, err := monitoring.New(monitoring.Options{Dir: dir, Kit: kit.New(0, 0, 1)})
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
	ctx := context.Background()
	opts := []option.ClientOption{
		option.WithEndpoint(lis.Addr().String()),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
	var c clients
	if c.alerts, err = mon.NewAlertPolicyClient(ctx, opts...); err != nil {
		t.Fatal(err)
	}
	if c.channels, err = mon.NewNotificationChannelClient(ctx, opts...); err != nil {
		t.Fatal(err)
	}
	if c.metrics, err = mon.NewMetricClient(ctx, opts...); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		c.alerts.Close()
		c.channels.Close()
		c.metrics.Close()
		g.Stop()
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	t.Cleanup(stop)
	return c, stop
}

func wantCode(t *testing.T, err error, code codes.Code, what string) {
	t.Helper()
	if status.Code(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

func promql(q string) *monitoringpb.AlertPolicy_Condition {
	return &monitoringpb.AlertPolicy_Condition{
		DisplayName: "c",
		Condition: &monitoringpb.AlertPolicy_Condition_ConditionPrometheusQueryLanguage{
			ConditionPrometheusQueryLanguage: &monitoringpb.AlertPolicy_Condition_PrometheusQueryLanguageCondition{
				Query:              q,
				Duration:           durationpb.New(5 * time.Minute),
				EvaluationInterval: durationpb.New(60 * time.Second),
				// Most tests are not about metric existence (TestAlertPolicy_promQLOnUnwrittenMetric... is).
				DisableMetricValidation: true,
			},
		},
	}
}

func policy(name string, conds ...*monitoringpb.AlertPolicy_Condition) *monitoringpb.AlertPolicy {
	p := &monitoringpb.AlertPolicy{DisplayName: name, Conditions: conds}
	if len(conds) > 1 {
		p.Combiner = monitoringpb.AlertPolicy_OR
	}
	return p
}

func createPolicy(t *testing.T, c clients, p *monitoringpb.AlertPolicy) *monitoringpb.AlertPolicy {
	t.Helper()
	got, err := c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: p})
	if err != nil {
		t.Fatalf("create policy: %v", err)
	}
	return got
}

func emailChannel(t *testing.T, c clients, addr string) *monitoringpb.NotificationChannel {
	t.Helper()
	ch, err := c.channels.CreateNotificationChannel(context.Background(), &monitoringpb.CreateNotificationChannelRequest{
		Name: project,
		NotificationChannel: &monitoringpb.NotificationChannel{
			Type: "email", DisplayName: "oncall", Labels: map[string]string{"email_address": addr},
		},
	})
	if err != nil {
		t.Fatalf("create channel: %v", err)
	}
	return ch
}

func TestAlertPolicy_createAssignsPolicyAndConditionNamesAndRecords(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	before := time.Now().Add(-time.Second)
	in := policy("tasks failing",
		promql(`sum(rate(alfred_tasks_failed_total{service="alfred-bot"}[5m])) > 0.1`),
		promql(`histogram_quantile(0.95, sum by (le) (rate(alfred_task_duration_seconds_bucket[5m]))) > 2`))
	in.Name = "projects/alfred-test/alertPolicies/chosen-by-client" // ignored: the server assigns ids
	got := createPolicy(t, c, in)

	if !regexp.MustCompile(`^projects/alfred-test/alertPolicies/[0-9]+$`).MatchString(got.Name) {
		t.Fatalf("policy name %q is not server-assigned projects/{p}/alertPolicies/{id}", got.Name)
	}
	condRE := regexp.MustCompile("^" + regexp.QuoteMeta(got.Name) + `/conditions/[0-9]+$`)
	if len(got.Conditions) != 2 || !condRE.MatchString(got.Conditions[0].Name) || !condRE.MatchString(got.Conditions[1].Name) ||
		got.Conditions[0].Name == got.Conditions[1].Name {
		t.Fatalf("condition names not assigned as {policy}/conditions/{id}: %v", got.Conditions)
	}
	if got.CreationRecord.GetMutateTime().AsTime().Before(before) || got.CreationRecord.GetMutatedBy() == "" ||
		got.MutationRecord.GetMutateTime() == nil {
		t.Fatalf("creation/mutation records not filled: %v / %v", got.CreationRecord, got.MutationRecord)
	}
	if !got.GetEnabled().GetValue() {
		t.Fatal("enabled must default to true and be populated on read")
	}
	read, err := c.alerts.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: got.Name})
	if err != nil {
		t.Fatal(err)
	}
	if read.Conditions[1].GetConditionPrometheusQueryLanguage().GetQuery() != in.Conditions[1].GetConditionPrometheusQueryLanguage().GetQuery() {
		t.Fatalf("Get returned a different policy: %v", read)
	}
	again := createPolicy(t, c, policy("tasks failing", promql(`up == 0`)))
	if again.Name == got.Name {
		t.Fatal("two creates got the same id")
	}
}

func TestAlertPolicy_malformedPromQLIsInvalidArgument(t *testing.T) {
	c, _ := start(t, "")
	for _, q := range []string{`rate(alfred_tasks_failed_total[5m]`, `sum by (service rate(x[5m]))`, `alfred_tasks_failed_total{service="a"} >`, ``} {
		_, err := c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: policy("bad", promql(q))})
		wantCode(t, err, codes.InvalidArgument, "query "+q)
	}
	createPolicy(t, c, policy("good", promql(`sum by (service) (rate(alfred_tasks_failed_total[5m])) > 0`)))
}

func TestAlertPolicy_refusesDurationsTheAPIRefuses(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	create := func(p *monitoringpb.AlertPolicy) error {
		_, err := c.alerts.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: p})
		return err
	}
	// PromQL evaluation_interval: "Must be a positive multiple of 30 seconds or missing."
	for _, d := range []time.Duration{45 * time.Second, 0, 1500 * time.Millisecond} {
		cond := promql(`up == 0`)
		cond.GetConditionPrometheusQueryLanguage().EvaluationInterval = durationpb.New(d)
		wantCode(t, create(policy("p", cond)), codes.InvalidArgument, "evaluation_interval "+d.String())
	}
	cond := promql(`up == 0`)
	cond.GetConditionPrometheusQueryLanguage().EvaluationInterval = durationpb.New(90 * time.Second)
	if err := create(policy("p", cond)); err != nil {
		t.Fatalf("evaluation_interval 90s is a multiple of 30s: %v", err)
	}
	// PromQL duration: non-negative.
	cond = promql(`up == 0`)
	cond.GetConditionPrometheusQueryLanguage().Duration = durationpb.New(-time.Minute)
	wantCode(t, create(policy("p", cond)), codes.InvalidArgument, "negative duration")

	threshold := func(d, align time.Duration) *monitoringpb.AlertPolicy_Condition {
		return &monitoringpb.AlertPolicy_Condition{DisplayName: "cpu", Condition: &monitoringpb.AlertPolicy_Condition_ConditionThreshold{
			ConditionThreshold: &monitoringpb.AlertPolicy_Condition_MetricThreshold{
				Filter:       `metric.type = "run.googleapis.com/container/cpu/utilizations" AND resource.type = "cloud_run_revision"`,
				Comparison:   monitoringpb.ComparisonType_COMPARISON_GT,
				Duration:     durationpb.New(d),
				Aggregations: []*monitoringpb.Aggregation{{AlignmentPeriod: durationpb.New(align), PerSeriesAligner: monitoringpb.Aggregation_ALIGN_PERCENTILE_99}},
			}}}
	}
	// Threshold duration: "only values that are a multiple of a minute"; alignment_period: "at least 60 seconds".
	wantCode(t, create(policy("t", threshold(90*time.Second, time.Minute))), codes.InvalidArgument, "threshold duration 90s")
	wantCode(t, create(policy("t", threshold(2*time.Minute, 30*time.Second))), codes.InvalidArgument, "alignment_period 30s")
	if err := create(policy("t", threshold(2*time.Minute, time.Minute))); err != nil {
		t.Fatalf("threshold 120s / alignment 60s is valid: %v", err)
	}
}

func TestAlertPolicy_structureRules(t *testing.T) {
	c, _ := start(t, "")
	create := func(p *monitoringpb.AlertPolicy) error {
		_, err := c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: p})
		return err
	}
	wantCode(t, create(policy("", promql(`up == 0`))), codes.InvalidArgument, "missing display_name")
	wantCode(t, create(policy("none")), codes.InvalidArgument, "no conditions")
	var seven []*monitoringpb.AlertPolicy_Condition
	for range 7 {
		seven = append(seven, promql(`up == 0`))
	}
	wantCode(t, create(policy("seven", seven...)), codes.InvalidArgument, "seven conditions")
	if err := create(policy("six", seven[:6]...)); err != nil {
		t.Fatalf("six conditions are allowed: %v", err)
	}
	two := policy("two", promql(`up == 0`), promql(`up == 1`))
	two.Combiner = monitoringpb.AlertPolicy_COMBINE_UNSPECIFIED
	wantCode(t, create(two), codes.InvalidArgument, "two conditions without combiner")
	wantCode(t, create(&monitoringpb.AlertPolicy{DisplayName: "empty condition", Conditions: []*monitoringpb.AlertPolicy_Condition{{DisplayName: "x"}}}),
		codes.InvalidArgument, "condition without a type")
	bad := policy("labels", promql(`up == 0`))
	bad.UserLabels = map[string]string{"Team": "ops"}
	wantCode(t, create(bad), codes.InvalidArgument, "upper-case user label key")
	_, err := c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: "alfred-test", AlertPolicy: policy("p", promql(`up == 0`))})
	wantCode(t, err, codes.InvalidArgument, "parent without projects/")
}

func TestAlertPolicy_updateMaskSetsOnlyListedFields(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	in := policy("v1", promql(`up == 0`))
	in.UserLabels = map[string]string{"team": "ops", "tier": "1"}
	in.Documentation = &monitoringpb.AlertPolicy_Documentation{Content: "runbook", MimeType: "text/markdown"}
	orig := createPolicy(t, c, in)
	time.Sleep(10 * time.Millisecond)

	upd := &monitoringpb.AlertPolicy{
		Name:          orig.Name,
		DisplayName:   "v2",
		UserLabels:    map[string]string{"team": "platform"},
		Documentation: &monitoringpb.AlertPolicy_Documentation{Content: "ignored: not in the mask"},
	}
	got, err := c.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name", "user_labels.team", "user_labels.tier"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "v2" || got.Documentation.GetContent() != "runbook" {
		t.Fatalf("mask not honoured: display_name %q documentation %q", got.DisplayName, got.Documentation.GetContent())
	}
	if got.UserLabels["team"] != "platform" || len(got.UserLabels) != 1 {
		t.Fatalf("user_labels.team set and user_labels.tier (absent in the request) cleared, got %v", got.UserLabels)
	}
	if got.Conditions[0].Name != orig.Conditions[0].Name {
		t.Fatal("conditions not in the mask must keep their names")
	}
	if !got.MutationRecord.GetMutateTime().AsTime().After(orig.MutationRecord.GetMutateTime().AsTime()) ||
		!got.CreationRecord.GetMutateTime().AsTime().Equal(orig.CreationRecord.GetMutateTime().AsTime()) {
		t.Fatalf("mutation_record must advance and creation_record stay: %v %v", got.MutationRecord, got.CreationRecord)
	}
	got, err = c.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: &monitoringpb.AlertPolicy{Name: orig.Name, Documentation: &monitoringpb.AlertPolicy_Documentation{Content: "new runbook"}},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"documentation.content"}},
	})
	if err != nil || got.Documentation.GetContent() != "new runbook" || got.Documentation.GetMimeType() != "text/markdown" {
		t.Fatalf("nested path documentation.content: %v %v", got.GetDocumentation(), err)
	}
	_, err = c.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: upd, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"no_such_field"}},
	})
	wantCode(t, err, codes.InvalidArgument, "unknown mask path")
	// The result of a masked update is validated like a create.
	_, err = c.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: &monitoringpb.AlertPolicy{Name: orig.Name, Conditions: []*monitoringpb.AlertPolicy_Condition{promql(`rate(x[5m]`)}},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"conditions"}},
	})
	wantCode(t, err, codes.InvalidArgument, "update to malformed PromQL")
}

func TestAlertPolicy_emptyMaskReplacesPolicyKeepingNamedConditions(t *testing.T) {
	c, _ := start(t, "")
	in := policy("v1", promql(`up == 0`), promql(`up == 2`))
	in.Documentation = &monitoringpb.AlertPolicy_Documentation{Content: "runbook", MimeType: "text/markdown"}
	orig := createPolicy(t, c, in)

	kept := promql(`up == 0`)
	kept.Name = orig.Conditions[0].Name
	got, err := c.alerts.UpdateAlertPolicy(context.Background(), &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: &monitoringpb.AlertPolicy{Name: orig.Name, DisplayName: "v2", Conditions: []*monitoringpb.AlertPolicy_Condition{kept, promql(`up == 3`)}, Combiner: monitoringpb.AlertPolicy_AND},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != orig.Name || got.Documentation != nil || got.DisplayName != "v2" {
		t.Fatalf("empty mask must replace the whole policy (same id, documentation gone): %v", got)
	}
	if got.Conditions[0].Name != orig.Conditions[0].Name {
		t.Fatal("a supplied condition name must be kept")
	}
	if got.Conditions[1].Name == orig.Conditions[1].Name || !strings.HasPrefix(got.Conditions[1].Name, orig.Name+"/conditions/") {
		t.Fatalf("a condition without a name gets a new id, got %q", got.Conditions[1].Name)
	}
	foreign := promql(`up == 0`)
	foreign.Name = "projects/alfred-test/alertPolicies/1/conditions/2"
	_, err = c.alerts.UpdateAlertPolicy(context.Background(), &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: &monitoringpb.AlertPolicy{Name: orig.Name, DisplayName: "v3", Conditions: []*monitoringpb.AlertPolicy_Condition{foreign}},
	})
	wantCode(t, err, codes.InvalidArgument, "condition name of another policy")
}

func TestAlertPolicy_unknownNamesAreNotFound(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	p := createPolicy(t, c, policy("p", promql(`up == 0`)))
	if err := c.alerts.DeleteAlertPolicy(ctx, &monitoringpb.DeleteAlertPolicyRequest{Name: p.Name}); err != nil {
		t.Fatal(err)
	}
	_, err := c.alerts.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: p.Name})
	wantCode(t, err, codes.NotFound, "get deleted")
	wantCode(t, c.alerts.DeleteAlertPolicy(ctx, &monitoringpb.DeleteAlertPolicyRequest{Name: p.Name}), codes.NotFound, "delete twice")
	_, err = c.alerts.UpdateAlertPolicy(ctx, &monitoringpb.UpdateAlertPolicyRequest{AlertPolicy: policy("x", promql(`up`)), UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"display_name"}}})
	wantCode(t, err, codes.InvalidArgument, "update without a name")
	_, err = c.alerts.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: "projects/alfred-test/policies/1"})
	wantCode(t, err, codes.InvalidArgument, "malformed name")
	_, err = c.channels.GetNotificationChannel(ctx, &monitoringpb.GetNotificationChannelRequest{Name: "projects/alfred-test/notificationChannels/42"})
	wantCode(t, err, codes.NotFound, "unknown channel")
}

func TestAlertPolicy_notificationChannelsMustExist(t *testing.T) {
	c, _ := start(t, "")
	ch := emailChannel(t, c, "oncall@example.com")
	p := policy("p", promql(`up == 0`))
	p.NotificationChannels = []string{ch.Name, "projects/alfred-test/notificationChannels/123"}
	_, err := c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: p})
	wantCode(t, err, codes.NotFound, "missing channel")
	p.NotificationChannels = []string{"oncall-email"}
	_, err = c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: p})
	wantCode(t, err, codes.InvalidArgument, "channel that is not a resource name")
	p.NotificationChannels = []string{ch.Name}
	if got := createPolicy(t, c, p); len(got.NotificationChannels) != 1 {
		t.Fatalf("channels: %v", got.NotificationChannels)
	}
}

func TestAlertPolicy_listFiltersAndPages(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	for i := range 5 {
		p := policy("ops-"+string(rune('a'+i)), promql(`up == 0`))
		p.UserLabels = map[string]string{"team": map[bool]string{true: "ops", false: "data"}[i%2 == 0]}
		createPolicy(t, c, p)
	}
	it := c.alerts.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{Name: project, Filter: `user_labels.team = "ops"`})
	n := 0
	for {
		p, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if p.UserLabels["team"] != "ops" {
			t.Fatalf("filter returned %v", p.UserLabels)
		}
		n++
	}
	if n != 3 {
		t.Fatalf("filter user_labels.team = \"ops\" matched %d policies, want 3", n)
	}
	it = c.alerts.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{Name: project, Filter: `display_name = starts_with("ops-") AND user_labels.team != "ops"`})
	var names []string
	for p, err := it.Next(); err != iterator.Done; p, err = it.Next() {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, p.DisplayName)
	}
	if strings.Join(names, ",") != "ops-b,ops-d" && strings.Join(names, ",") != "ops-d,ops-b" {
		t.Fatalf("starts_with / != filter: %v", names)
	}
	var items []*monitoringpb.AlertPolicy
	pager := iterator.NewPager(c.alerts.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{Name: project}), 2, "")
	token, err := pager.NextPage(&items)
	if err != nil || len(items) != 2 || token == "" {
		t.Fatalf("first page of 2: %d items, token %q, %v", len(items), token, err)
	}
	seen := map[string]bool{items[0].Name: true, items[1].Name: true}
	for token != "" {
		items = nil
		if token, err = pager.NextPage(&items); err != nil {
			t.Fatal(err)
		}
		for _, p := range items {
			if seen[p.Name] {
				t.Fatalf("policy %s returned twice across pages", p.Name)
			}
			seen[p.Name] = true
		}
	}
	if len(seen) != 5 {
		t.Fatalf("pages returned %d policies, want 5", len(seen))
	}
	_, err = c.alerts.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{Name: project, Filter: `display_name ~ "x"`}).Next()
	wantCode(t, err, codes.InvalidArgument, "unparseable filter")
}

func TestNotificationChannel_typeAndRequiredLabels(t *testing.T) {
	c, _ := start(t, "")
	create := func(typ string, labels map[string]string) error {
		_, err := c.channels.CreateNotificationChannel(context.Background(), &monitoringpb.CreateNotificationChannelRequest{
			Name: project, NotificationChannel: &monitoringpb.NotificationChannel{Type: typ, DisplayName: typ, Labels: labels},
		})
		return err
	}
	wantCode(t, create("carrier_pigeon", nil), codes.InvalidArgument, "unknown type")
	wantCode(t, create("email", nil), codes.InvalidArgument, "email without email_address")
	wantCode(t, create("email", map[string]string{"email_address": "not an address"}), codes.InvalidArgument, "bad email_address")
	wantCode(t, create("slack", map[string]string{"channel_name": "#alerts"}), codes.InvalidArgument, "slack without auth_token")
	wantCode(t, create("pagerduty", map[string]string{}), codes.InvalidArgument, "pagerduty without service_key")
	wantCode(t, create("webhook_tokenauth", map[string]string{"url": "not a url"}), codes.InvalidArgument, "webhook with a bad url")
	wantCode(t, create("email", map[string]string{"email_address": "a@example.com", "color": "red"}), codes.InvalidArgument, "unknown label")
	// display_name: at most 512 Unicode characters; description: at most 1024 (characters, not bytes).
	withText := func(display, description string) error {
		_, err := c.channels.CreateNotificationChannel(context.Background(), &monitoringpb.CreateNotificationChannelRequest{
			Name: project, NotificationChannel: &monitoringpb.NotificationChannel{Type: "email", DisplayName: display,
				Description: description, Labels: map[string]string{"email_address": "a@example.com"}},
		})
		return err
	}
	wantCode(t, withText(strings.Repeat("d", 513), ""), codes.InvalidArgument, "display_name of 513 characters")
	wantCode(t, withText("d", strings.Repeat("x", 1025)), codes.InvalidArgument, "description of 1025 characters")
	if err := withText(strings.Repeat("ü", 512), strings.Repeat("é", 1024)); err != nil {
		t.Fatalf("512-character display_name and 1024-character description (more bytes than characters): %v", err)
	}
	for typ, labels := range map[string]map[string]string{
		"email":             {"email_address": "a@example.com"},
		"slack":             {"channel_name": "#alerts", "auth_token": "xoxb-1"},
		"pagerduty":         {"service_key": "abc"},
		"webhook_tokenauth": {"url": "https://hooks.example.com/alfred?token=t"},
	} {
		if err := create(typ, labels); err != nil {
			t.Fatalf("%s with %v: %v", typ, labels, err)
		}
	}
}

func TestNotificationChannel_lifecycleMaskingAndForcedDelete(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	ch, err := c.channels.CreateNotificationChannel(ctx, &monitoringpb.CreateNotificationChannelRequest{
		Name: project,
		NotificationChannel: &monitoringpb.NotificationChannel{Type: "slack", DisplayName: "alerts",
			Labels: map[string]string{"channel_name": "#alerts", "auth_token": "xoxb-secret"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^projects/alfred-test/notificationChannels/[0-9]+$`).MatchString(ch.Name) || !ch.GetEnabled().GetValue() ||
		ch.CreationRecord.GetMutateTime() == nil || len(ch.MutationRecords) != 1 {
		t.Fatalf("server-filled fields: %v", ch)
	}
	if ch.Labels["auth_token"] == "xoxb-secret" || ch.Labels["channel_name"] != "#alerts" {
		t.Fatalf("sensitive label must not be returned in clear: %v", ch.Labels)
	}
	upd, err := c.channels.UpdateNotificationChannel(ctx, &monitoringpb.UpdateNotificationChannelRequest{
		NotificationChannel: &monitoringpb.NotificationChannel{Name: ch.Name, DisplayName: "alerts v2", Labels: map[string]string{"channel_name": "#ops"}},
		UpdateMask:          &fieldmaskpb.FieldMask{Paths: []string{"display_name", "labels.channel_name"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if upd.DisplayName != "alerts v2" || upd.Labels["channel_name"] != "#ops" || upd.Labels["auth_token"] == "" || len(upd.MutationRecords) != 2 {
		t.Fatalf("masked update: %v", upd)
	}
	_, err = c.channels.UpdateNotificationChannel(ctx, &monitoringpb.UpdateNotificationChannelRequest{
		NotificationChannel: &monitoringpb.NotificationChannel{Name: ch.Name}, UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"labels.auth_token"}},
	})
	wantCode(t, err, codes.InvalidArgument, "clearing a required label")

	p := policy("p", promql(`up == 0`))
	p.NotificationChannels = []string{ch.Name}
	pol := createPolicy(t, c, p)
	wantCode(t, c.channels.DeleteNotificationChannel(ctx, &monitoringpb.DeleteNotificationChannelRequest{Name: ch.Name}),
		codes.FailedPrecondition, "delete a channel in use without force")
	if err := c.channels.DeleteNotificationChannel(ctx, &monitoringpb.DeleteNotificationChannelRequest{Name: ch.Name, Force: true}); err != nil {
		t.Fatal(err)
	}
	got, err := c.alerts.GetAlertPolicy(ctx, &monitoringpb.GetAlertPolicyRequest{Name: pol.Name})
	if err != nil || len(got.NotificationChannels) != 0 {
		t.Fatalf("forced delete must remove the channel from policies: %v %v", got.GetNotificationChannels(), err)
	}
	_, err = c.channels.GetNotificationChannel(ctx, &monitoringpb.GetNotificationChannelRequest{Name: ch.Name})
	wantCode(t, err, codes.NotFound, "deleted channel")
}

func TestNotificationChannelDescriptors_listTheKnownTypes(t *testing.T) {
	c, _ := start(t, "")
	it := c.channels.ListNotificationChannelDescriptors(context.Background(), &monitoringpb.ListNotificationChannelDescriptorsRequest{Name: project})
	labels := map[string][]string{}
	for d, err := it.Next(); err != iterator.Done; d, err = it.Next() {
		if err != nil {
			t.Fatal(err)
		}
		if d.Name != "projects/alfred-test/notificationChannelDescriptors/"+d.Type {
			t.Fatalf("descriptor name %q", d.Name)
		}
		for _, l := range d.Labels {
			labels[d.Type] = append(labels[d.Type], l.Key)
		}
	}
	want := map[string]string{"email": "email_address", "slack": "auth_token", "pagerduty": "service_key", "webhook_tokenauth": "url", "webhook_basicauth": "password", "pubsub": "topic"}
	for typ, key := range want {
		if !strings.Contains(strings.Join(labels[typ], ","), key) {
			t.Fatalf("descriptor %s lacks label %s: %v", typ, key, labels)
		}
	}
	if len(labels) != len(want) {
		t.Fatalf("descriptors: %v", labels)
	}
}

func gaugePoint(metricType string, lbls map[string]string, at time.Time, v float64) *monitoringpb.TimeSeries {
	return &monitoringpb.TimeSeries{
		Metric:   &metric.Metric{Type: metricType, Labels: lbls},
		Resource: &monitoredres.MonitoredResource{Type: "global", Labels: map[string]string{"project_id": "alfred-test"}},
		Points: []*monitoringpb.Point{{
			Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(at)},
			Value:    &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: v}},
		}},
	}
}

func listSeries(t *testing.T, c clients, filter string, from, to time.Time) []*monitoringpb.TimeSeries {
	t.Helper()
	it := c.metrics.ListTimeSeries(context.Background(), &monitoringpb.ListTimeSeriesRequest{
		Name: project, Filter: filter,
		Interval: &monitoringpb.TimeInterval{StartTime: timestamppb.New(from), EndTime: timestamppb.New(to)},
		View:     monitoringpb.ListTimeSeriesRequest_FULL,
	})
	var out []*monitoringpb.TimeSeries
	for ts, err := it.Next(); err != iterator.Done; ts, err = it.Next() {
		if err != nil {
			t.Fatalf("list %s: %v", filter, err)
		}
		out = append(out, ts)
	}
	return out
}

func TestTimeSeries_writtenPointsAreListedByFilterAndInterval(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	const mt = "custom.googleapis.com/alfred/backup_last_success"
	t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Second)
	for i := range 3 {
		err := c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{
			gaugePoint(mt, map[string]string{"service": "alfred-bot"}, t0.Add(time.Duration(i)*time.Minute), float64(i)),
			gaugePoint(mt, map[string]string{"service": "social-intel"}, t0.Add(time.Duration(i)*time.Minute), float64(10+i)),
		}})
		if err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	all := listSeries(t, c, `metric.type = "`+mt+`"`, t0.Add(-time.Minute), time.Now())
	if len(all) != 2 {
		t.Fatalf("want 2 series, got %d", len(all))
	}
	bot := listSeries(t, c, `metric.type = "`+mt+`" AND metric.labels.service = "alfred-bot"`, t0.Add(-time.Minute), time.Now())
	if len(bot) != 1 || len(bot[0].Points) != 3 {
		t.Fatalf("want 1 series with 3 points, got %v", bot)
	}
	// Points come newest first, with the values written.
	if v := bot[0].Points[0].GetValue().GetDoubleValue(); v != 2 || bot[0].MetricKind != metric.MetricDescriptor_GAUGE || bot[0].ValueType != metric.MetricDescriptor_DOUBLE {
		t.Fatalf("newest point %v kind %v type %v", v, bot[0].MetricKind, bot[0].ValueType)
	}
	// The interval selects points.
	mid := listSeries(t, c, `metric.type = "`+mt+`" AND metric.labels.service = "alfred-bot"`, t0.Add(30*time.Second), t0.Add(90*time.Second))
	if len(mid) != 1 || len(mid[0].Points) != 1 || mid[0].Points[0].GetValue().GetDoubleValue() != 1 {
		t.Fatalf("interval filter: %v", mid)
	}
	if got := listSeries(t, c, `metric.type = "custom.googleapis.com/other"`, t0, time.Now()); len(got) != 0 {
		t.Fatalf("other metric: %v", got)
	}
	_, err := c.metrics.ListTimeSeries(ctx, &monitoringpb.ListTimeSeriesRequest{Name: project, Filter: `metric.labels.service = "x"`,
		Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.Now()}}).Next()
	wantCode(t, err, codes.InvalidArgument, "filter without metric.type")
	// Writing created the metric descriptor.
	d, err := c.metrics.GetMetricDescriptor(ctx, &monitoringpb.GetMetricDescriptorRequest{Name: "projects/alfred-test/metricDescriptors/" + mt})
	if err != nil || d.MetricKind != metric.MetricDescriptor_GAUGE || d.ValueType != metric.MetricDescriptor_DOUBLE {
		t.Fatalf("auto-created descriptor: %v %v", d, err)
	}
}

func TestTimeSeries_pointOlderThanTheLastIsInvalidArgument(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	const mt = "workload.googleapis.com/alfred_tasks_processed"
	now := time.Now().Truncate(time.Second)
	write := func(at time.Time) error {
		return c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project,
			TimeSeries: []*monitoringpb.TimeSeries{gaugePoint(mt, map[string]string{"service": "a"}, at, 1)}})
	}
	if err := write(now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, write(now.Add(-2*time.Minute)), codes.InvalidArgument, "older point")
	wantCode(t, write(now.Add(-time.Minute)), codes.InvalidArgument, "same end time")
	if err := write(now); err != nil {
		t.Fatalf("newer point: %v", err)
	}
	// Another series of the same metric has its own order.
	err := c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project,
		TimeSeries: []*monitoringpb.TimeSeries{gaugePoint(mt, map[string]string{"service": "b"}, now.Add(-5*time.Minute), 1)}})
	if err != nil {
		t.Fatalf("older point in another series: %v", err)
	}
}

func TestTimeSeries_rejectsWhatTheAPIRejects(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	now := time.Now()
	write := func(ts ...*monitoringpb.TimeSeries) error {
		return c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: ts})
	}
	wantCode(t, write(gaugePoint("run.googleapis.com/container/cpu/utilizations", nil, now, 1)), codes.InvalidArgument, "Google metric")
	two := gaugePoint("custom.googleapis.com/x", nil, now, 1)
	two.Points = append(two.Points, gaugePoint("custom.googleapis.com/x", nil, now.Add(-time.Minute), 1).Points[0])
	wantCode(t, write(two), codes.InvalidArgument, "two points")
	none := gaugePoint("custom.googleapis.com/x", nil, now, 1)
	none.Points = nil
	wantCode(t, write(none), codes.InvalidArgument, "no points")
	wantCode(t, write(gaugePoint("custom.googleapis.com/x", nil, now, 1), gaugePoint("custom.googleapis.com/x", nil, now, 2)), codes.InvalidArgument, "same series twice")
	wantCode(t, write(gaugePoint("custom.googleapis.com/x", nil, now.Add(time.Hour), 1)), codes.InvalidArgument, "future point")
	wantCode(t, write(gaugePoint("custom.googleapis.com/x", nil, now.Add(-26*time.Hour), 1)), codes.InvalidArgument, "point older than 25h")
	noRes := gaugePoint("custom.googleapis.com/x", nil, now, 1)
	noRes.Resource = nil
	wantCode(t, write(noRes), codes.InvalidArgument, "no resource")
	// Value type must match the metric's descriptor.
	if err := write(gaugePoint("custom.googleapis.com/typed", nil, now.Add(-time.Minute), 1)); err != nil {
		t.Fatal(err)
	}
	str := gaugePoint("custom.googleapis.com/typed", nil, now, 0)
	str.Points[0].Value = &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_StringValue{StringValue: "x"}}
	wantCode(t, write(str), codes.InvalidArgument, "value type change")
}

func TestMetricDescriptor_createGetListDelete(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	_, err := c.metrics.CreateMetricDescriptor(ctx, &monitoringpb.CreateMetricDescriptorRequest{Name: project, MetricDescriptor: &metric.MetricDescriptor{
		Type: "compute.googleapis.com/mine", MetricKind: metric.MetricDescriptor_GAUGE, ValueType: metric.MetricDescriptor_DOUBLE}})
	wantCode(t, err, codes.InvalidArgument, "non user-defined type")
	_, err = c.metrics.CreateMetricDescriptor(ctx, &monitoringpb.CreateMetricDescriptorRequest{Name: project, MetricDescriptor: &metric.MetricDescriptor{
		Type: "custom.googleapis.com/delta", MetricKind: metric.MetricDescriptor_DELTA, ValueType: metric.MetricDescriptor_INT64}})
	wantCode(t, err, codes.InvalidArgument, "DELTA custom metric")
	d, err := c.metrics.CreateMetricDescriptor(ctx, &monitoringpb.CreateMetricDescriptorRequest{Name: project, MetricDescriptor: &metric.MetricDescriptor{
		Type: "custom.googleapis.com/alfred/tasks", MetricKind: metric.MetricDescriptor_CUMULATIVE, ValueType: metric.MetricDescriptor_INT64, Unit: "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "projects/alfred-test/metricDescriptors/custom.googleapis.com/alfred/tasks" {
		t.Fatalf("descriptor name %q", d.Name)
	}
	if _, err := c.metrics.GetMetricDescriptor(ctx, &monitoringpb.GetMetricDescriptorRequest{Name: d.Name}); err != nil {
		t.Fatal(err)
	}
	it := c.metrics.ListMetricDescriptors(ctx, &monitoringpb.ListMetricDescriptorsRequest{Name: project, Filter: `metric.type = starts_with("custom.googleapis.com/alfred/")`})
	got, err := it.Next()
	if err != nil || got.Type != d.Type {
		t.Fatalf("list: %v %v", got, err)
	}
	if _, err := it.Next(); err != iterator.Done {
		t.Fatalf("list returned more than one descriptor: %v", err)
	}
	if err := c.metrics.DeleteMetricDescriptor(ctx, &monitoringpb.DeleteMetricDescriptorRequest{Name: d.Name}); err != nil {
		t.Fatal(err)
	}
	_, err = c.metrics.GetMetricDescriptor(ctx, &monitoringpb.GetMetricDescriptorRequest{Name: d.Name})
	wantCode(t, err, codes.NotFound, "deleted descriptor")
}

func TestState_survivesRestart(t *testing.T) {
	dir := t.TempDir()
	c, stop := start(t, dir)
	ch := emailChannel(t, c, "oncall@example.com")
	p := policy("persisted", promql(`up == 0`))
	p.NotificationChannels = []string{ch.Name}
	pol := createPolicy(t, c, p)
	at := time.Now().Add(-time.Minute)
	if err := c.metrics.CreateTimeSeries(context.Background(), &monitoringpb.CreateTimeSeriesRequest{Name: project,
		TimeSeries: []*monitoringpb.TimeSeries{gaugePoint("custom.googleapis.com/persisted", nil, at, 7)}}); err != nil {
		t.Fatal(err)
	}
	stop()

	c2, _ := start(t, dir)
	got, err := c2.alerts.GetAlertPolicy(context.Background(), &monitoringpb.GetAlertPolicyRequest{Name: pol.Name})
	if err != nil || got.Conditions[0].Name != pol.Conditions[0].Name || got.NotificationChannels[0] != ch.Name {
		t.Fatalf("policy after restart: %v %v", got, err)
	}
	if _, err := c2.channels.GetNotificationChannel(context.Background(), &monitoringpb.GetNotificationChannelRequest{Name: ch.Name}); err != nil {
		t.Fatalf("channel after restart: %v", err)
	}
	ts := listSeries(t, c2, `metric.type = "custom.googleapis.com/persisted"`, at.Add(-time.Second), time.Now())
	if len(ts) != 1 || ts[0].Points[0].GetValue().GetDoubleValue() != 7 {
		t.Fatalf("time series after restart: %v", ts)
	}
}

// UpdateAlertPolicyRequest.update_mask lists `user_label.nameofkey` among the valid masks: it names one
// key of user_labels.
func TestAlertPolicy_userLabelMaskAlias(t *testing.T) {
	c, _ := start(t, "")
	in := policy("p", promql(`up == 0`))
	in.UserLabels = map[string]string{"team": "ops", "tier": "1"}
	orig := createPolicy(t, c, in)
	got, err := c.alerts.UpdateAlertPolicy(context.Background(), &monitoringpb.UpdateAlertPolicyRequest{
		AlertPolicy: &monitoringpb.AlertPolicy{Name: orig.Name, UserLabels: map[string]string{"team": "platform", "tier": "9"}},
		UpdateMask:  &fieldmaskpb.FieldMask{Paths: []string{"user_label.team"}},
	})
	if err != nil {
		t.Fatalf("user_label.team is a documented mask path: %v", err)
	}
	if got.UserLabels["team"] != "platform" || got.UserLabels["tier"] != "1" {
		t.Fatalf("only user_labels[team] must change, got %v", got.UserLabels)
	}
}

// AlertPolicy.Documentation: content at most 8,192 characters and 10,240 bytes, subject at most 10,240
// bytes, at most 3 links.
func TestAlertPolicy_documentationLimits(t *testing.T) {
	c, _ := start(t, "")
	create := func(d *monitoringpb.AlertPolicy_Documentation) error {
		p := policy("doc", promql(`up == 0`))
		p.Documentation = d
		_, err := c.alerts.CreateAlertPolicy(context.Background(), &monitoringpb.CreateAlertPolicyRequest{Name: project, AlertPolicy: p})
		return err
	}
	md := "text/markdown"
	if err := create(&monitoringpb.AlertPolicy_Documentation{MimeType: md, Content: strings.Repeat("a", 8192)}); err != nil {
		t.Fatalf("8192 characters are allowed: %v", err)
	}
	wantCode(t, create(&monitoringpb.AlertPolicy_Documentation{MimeType: md, Content: strings.Repeat("a", 8193)}),
		codes.InvalidArgument, "8193 characters")
	// 4000 three-byte characters: under 8,192 characters but over 10,240 bytes.
	wantCode(t, create(&monitoringpb.AlertPolicy_Documentation{MimeType: md, Content: strings.Repeat("€", 4000)}),
		codes.InvalidArgument, "content over 10,240 bytes")
	wantCode(t, create(&monitoringpb.AlertPolicy_Documentation{MimeType: md, Subject: strings.Repeat("s", 10241)}),
		codes.InvalidArgument, "subject over 10,240 bytes")
	link := &monitoringpb.AlertPolicy_Documentation_Link{DisplayName: "runbook", Url: "https://example.com/runbook"}
	if err := create(&monitoringpb.AlertPolicy_Documentation{MimeType: md, Links: []*monitoringpb.AlertPolicy_Documentation_Link{link, link, link}}); err != nil {
		t.Fatalf("three links are allowed: %v", err)
	}
	wantCode(t, create(&monitoringpb.AlertPolicy_Documentation{MimeType: md, Links: []*monitoringpb.AlertPolicy_Documentation_Link{link, link, link, link}}),
		codes.InvalidArgument, "four links")
}

// summaryOf returns the CreateTimeSeriesSummary carried in a write error's details.
func summaryOf(t *testing.T, err error) *monitoringpb.CreateTimeSeriesSummary {
	t.Helper()
	for _, d := range status.Convert(err).Details() {
		if sum, ok := d.(*monitoringpb.CreateTimeSeriesSummary); ok {
			return sum
		}
	}
	t.Fatalf("no CreateTimeSeriesSummary in the error details of %v", err)
	return nil
}

// "The response is empty if all time series in the request were written. If any time series could not be
// written, a corresponding failure message is included in the error response": the valid series of a
// request are written, the invalid ones are reported (INVALID_ARGUMENT "One or more TimeSeries could not
// be written: ...: timeSeries[i]", with a CreateTimeSeriesSummary: total_point_count,
// success_point_count, errors per status code).
func TestTimeSeries_writeIsPartialAndSummarized(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	older := gaugePoint("custom.googleapis.com/ordered", nil, now.Add(-time.Minute), 1)
	if err := c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{older}}); err != nil {
		t.Fatal(err)
	}
	req := &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{
		gaugePoint("custom.googleapis.com/y", map[string]string{"service": "a"}, now, 1),                  // 0 ok
		gaugePoint("compute.googleapis.com/z", nil, now, 1),                                               // 1 not user-defined
		gaugePoint("custom.googleapis.com/y", map[string]string{"service": "b"}, now, 2),                  // 2 ok
		gaugePoint("custom.googleapis.com/ordered", nil, now.Add(-2*time.Minute), 3),                      // 3 older than the last point
		gaugePoint("custom.googleapis.com/y", map[string]string{"service": "a"}, now.Add(time.Second), 4), // 4 duplicate of 0
	}}
	err := c.metrics.CreateTimeSeries(ctx, req)
	wantCode(t, err, codes.InvalidArgument, "partly invalid write")
	msg := status.Convert(err).Message()
	for _, want := range []string{"One or more TimeSeries could not be written: ", "timeSeries[1]", "timeSeries[3]",
		"Duplicate TimeSeries encountered. Only one point can be written per TimeSeries per request.: timeSeries[4]"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("message %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "timeSeries[0]") || strings.Contains(msg, "timeSeries[2]") {
		t.Fatalf("message names series that were written: %q", msg)
	}
	sum := summaryOf(t, err)
	if sum.GetTotalPointCount() != 5 || sum.GetSuccessPointCount() != 2 || len(sum.GetErrors()) != 1 ||
		sum.GetErrors()[0].GetStatus().GetCode() != int32(codes.InvalidArgument) || sum.GetErrors()[0].GetPointCount() != 3 {
		t.Fatalf("summary %v", sum)
	}
	// The valid series were written, the invalid ones not.
	got := listSeries(t, c, `metric.type = "custom.googleapis.com/y"`, now.Add(-time.Minute), now.Add(time.Minute))
	if len(got) != 2 {
		t.Fatalf("written series of custom.googleapis.com/y: %v", got)
	}
	for _, ts := range got {
		if len(ts.GetPoints()) != 1 || (ts.GetMetric().GetLabels()["service"] == "a" && ts.GetPoints()[0].GetValue().GetDoubleValue() != 1) {
			t.Fatalf("series %v", ts)
		}
	}
	if got := listSeries(t, c, `metric.type = "custom.googleapis.com/ordered"`, now.Add(-time.Hour), now.Add(time.Minute)); len(got) != 1 || len(got[0].GetPoints()) != 1 {
		t.Fatalf("the out-of-order point was written: %v", got)
	}
	// Nothing valid: nothing written, success_point_count 0; series failing for the same reason are
	// listed once, consecutive indexes as a range ("...: timeSeries[0-2]").
	three := func(at time.Time) []*monitoringpb.TimeSeries {
		var out []*monitoringpb.TimeSeries
		for _, n := range []string{"1", "2", "3"} {
			out = append(out, gaugePoint("custom.googleapis.com/three", map[string]string{"n": n}, at, 1))
		}
		return out
	}
	if err := c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: three(now.Add(-time.Minute))}); err != nil {
		t.Fatal(err)
	}
	err = c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: three(now.Add(-2 * time.Minute))})
	if sum := summaryOf(t, err); sum.GetTotalPointCount() != 3 || sum.GetSuccessPointCount() != 0 || sum.GetErrors()[0].GetPointCount() != 3 {
		t.Fatalf("summary %v", sum)
	}
	if want := "One or more TimeSeries could not be written: Points must be written in order. One or more of the points specified had an older start time than the most recent point.: timeSeries[0-2]"; status.Convert(err).Message() != want {
		t.Fatalf("message %q, want %q", status.Convert(err).Message(), want)
	}
	// A request-level error (more than 200 series) refuses everything, without a summary.
	var many []*monitoringpb.TimeSeries
	for i := 0; i < 201; i++ {
		many = append(many, gaugePoint("custom.googleapis.com/many", map[string]string{"i": strconv.Itoa(i)}, now, 1))
	}
	wantCode(t, c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: many}), codes.InvalidArgument, "201 series")
	if got := listSeries(t, c, `metric.type = "custom.googleapis.com/many"`, now.Add(-time.Minute), now.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("a refused request wrote %d series", len(got))
	}
}

// CreateServiceTimeSeries writes metrics of Google services and "rejects writes to user-defined metrics",
// with the same partial success.
func TestTimeSeries_serviceWriteRejectsUserDefinedMetrics(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	now := time.Now().Truncate(time.Second)
	const cpu = "run.googleapis.com/container/cpu/utilizations"
	err := c.metrics.CreateServiceTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{
		gaugePoint(cpu, map[string]string{"service_name": "alfred-bot"}, now, 0.4),
		gaugePoint("custom.googleapis.com/mine", nil, now, 1),
	}})
	wantCode(t, err, codes.InvalidArgument, "service write with a user-defined metric")
	if sum := summaryOf(t, err); sum.GetTotalPointCount() != 2 || sum.GetSuccessPointCount() != 1 {
		t.Fatalf("summary %v", sum)
	}
	if got := listSeries(t, c, `metric.type = "`+cpu+`"`, now.Add(-time.Minute), now.Add(time.Minute)); len(got) != 1 {
		t.Fatalf("service series written: %v", got)
	}
	if got := listSeries(t, c, `metric.type = "custom.googleapis.com/mine"`, now.Add(-time.Minute), now.Add(time.Minute)); len(got) != 0 {
		t.Fatalf("user-defined series written through CreateServiceTimeSeries: %v", got)
	}
}

func TestTimeSeries_customMetricRefusesResourceTypesAndWritesFasterThanFiveSeconds(t *testing.T) {
	c, _ := start(t, "")
	ctx := context.Background()
	const mt = "custom.googleapis.com/alfred_backup_last_success_timestamp_seconds"
	now := time.Now().Truncate(time.Second)
	write := func(resource string, at time.Time) error {
		ts := gaugePoint(mt, nil, at, float64(at.Unix()))
		ts.Resource.Type = resource
		return c.metrics.CreateTimeSeries(ctx, &monitoringpb.CreateTimeSeriesRequest{Name: project, TimeSeries: []*monitoringpb.TimeSeries{ts}})
	}
	wantCode(t, write("cloud_run_revision", now.Add(-time.Minute)), codes.InvalidArgument, "cloud_run_revision does not accept user-defined metrics")
	if err := write("generic_task", now.Add(-time.Minute)); err != nil {
		t.Fatalf("generic_task: %v", err)
	}
	wantCode(t, write("generic_task", now.Add(-time.Minute+2*time.Second)), codes.InvalidArgument, "a point 2s after the last")
	if err := write("generic_task", now.Add(-time.Minute+5*time.Second)); err != nil {
		t.Fatalf("a point 5s after the last: %v", err)
	}
}
