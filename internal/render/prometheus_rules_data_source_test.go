package render_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"gopkg.in/yaml.v3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

type renderedRules struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

const allPresetsConfig = `
data "alfred_prometheus_rules" "all" {
  group_name = "alfred-presets"
  rule {
    preset      = "task_failures"
    service     = "alfred-bot"
    runbook_url = "https://runbooks.example.com/task-failures"
  }
  rule {
    preset  = "task_latency"
    service = "alfred-bot"
  }
  rule {
    preset  = "cpu"
    service = "alfred-bot"
  }
  rule {
    preset  = "memory"
    service = "alfred-bot"
  }
  rule {
    preset = "failed_logins"
  }
  rule {
    preset  = "request_rate_anomaly"
    service = "alfred-bot"
  }
  rule {
    preset = "backup_staleness"
  }
}
`

func rulesYAML(st *terraform.State, name string) string {
	return st.RootModule().Resources["data.alfred_prometheus_rules."+name].Primary.Attributes["yaml"]
}

// TestAccPrometheusRules_presetsPassPromtoolCheck: the rendered file passes promtool check rules, with every
// preset's expression, default duration, severity label and texts from the catalogue; raw PromQL, labels,
// annotations and a service name that needs escaping render too.
func TestAccPrometheusRules_presetsPassPromtoolCheck(t *testing.T) {
	tool := promtool(t)
	cfg := allPresetsConfig + `
data "alfred_prometheus_rules" "custom" {
  group_name = "custom"
  interval   = "30s"
  rule {
    name        = "QueueBacklog"
    promql      = "sum by (subscription_id) (pubsub_googleapis_com:subscription_num_undelivered_messages) > 1000"
    duration    = "10m"
    severity    = "CRITICAL"
    labels      = { team = "agents" }
    annotations = { summary = "{{ $labels.subscription_id }} has {{ $value }} undelivered messages" }
  }
  rule {
    preset    = "task_latency"
    service   = "we\"ird\\bot"
    threshold = 12.5
    duration  = "90s"
    severity  = "CRITICAL"
  }
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				dir := t.TempDir()
				var files []string
				for _, n := range []string{"all", "custom"} {
					f := filepath.Join(dir, n+".yml")
					if err := os.WriteFile(f, []byte(rulesYAML(st, n)), 0o644); err != nil {
						return err
					}
					files = append(files, f)
				}
				res, err := exec.Command(tool, append([]string{"check", "rules"}, files...)...).CombinedOutput()
				if err != nil {
					return fmt.Errorf("promtool check rules: %v\n%s\n---\n%s", err, res, rulesYAML(st, "all")+rulesYAML(st, "custom"))
				}
				if !strings.Contains(string(res), "SUCCESS: 7 rules found") || !strings.Contains(string(res), "SUCCESS: 2 rules found") {
					return fmt.Errorf("promtool: %s", res)
				}
				return checkRulesContent(rulesYAML(st, "all"), rulesYAML(st, "custom"))
			},
		}},
	})
}

func checkRulesContent(all, custom string) error {
	var a, c renderedRules
	if err := yaml.Unmarshal([]byte(all), &a); err != nil {
		return err
	}
	if err := yaml.Unmarshal([]byte(custom), &c); err != nil {
		return err
	}
	if len(a.Groups) != 1 || a.Groups[0].Name != "alfred-presets" || a.Groups[0].Interval != "" || len(a.Groups[0].Rules) != 7 {
		return fmt.Errorf("group: %+v", a.Groups)
	}
	order := []string{"task_failures", "task_latency", "cpu", "memory", "failed_logins", "request_rate_anomaly", "backup_staleness"}
	for i, name := range order {
		p, _ := presets.Get(name)
		r := a.Groups[0].Rules[i]
		svc := "alfred-bot"
		if !p.PerService {
			svc = ""
		}
		wantName := p.AlertName
		if svc != "" {
			wantName += "_alfred_bot"
		}
		wantFor := presets.FormatDuration(p.DefaultDuration)
		if wantFor == "0s" {
			wantFor = ""
		}
		if r.Alert != wantName || r.Expr != p.DefaultExpr(svc) || r.For != wantFor ||
			r.Labels["severity"] != strings.ToLower(p.Severity) || r.Labels["preset"] != name ||
			r.Annotations["summary"] != p.Summary || r.Annotations["description"] != p.Description {
			return fmt.Errorf("rule %s: %+v", name, r)
		}
	}
	if got := a.Groups[0].Rules[0].Annotations["runbook_url"]; got != "https://runbooks.example.com/task-failures" {
		return fmt.Errorf("runbook_url %q", got)
	}
	g := c.Groups[0]
	if g.Interval != "30s" || g.Rules[0].Alert != "QueueBacklog" || g.Rules[0].For != "10m" || g.Rules[0].Labels["severity"] != "critical" ||
		g.Rules[0].Labels["team"] != "agents" || g.Rules[0].Annotations["summary"] == "" {
		return fmt.Errorf("custom rule: %+v", g)
	}
	lat, _ := presets.Get("task_latency")
	r := g.Rules[1]
	if r.Alert != "AlfredTaskLatencyHigh_we_ird_bot" || r.Expr != lat.Expr(`we"ird\bot`, 12.5) || r.For != "1m30s" || r.Labels["severity"] != "critical" {
		return fmt.Errorf("escaped service rule: %+v", r)
	}
	if !strings.Contains(r.Expr, `service="we\"ird\\bot"`) || !strings.Contains(r.Expr, "> 12.5") {
		return fmt.Errorf("escaping or threshold: %s", r.Expr)
	}
	return nil
}

// A promtool unit test of one preset: series that breach it must fire the alert with the preset's labels,
// series that do not must keep it quiet.
type presetCase struct {
	preset   string
	labels   string // the expected alert's labels besides alertname, severity and preset
	evalTime string
	breach   [][]string // each a set of input series (name{labels}, values)
	quiet    [][]string
}

const bot = `service="alfred-bot"`
const runBot = `monitored_resource="cloud_run_revision",service_name="alfred-bot"`

func histogram(metric, sel string, counts map[string]string) []string {
	var out []string
	for _, le := range []string{"0.5", "0.9", "1", "10", "60", "+Inf"} {
		if v, ok := counts[le]; ok {
			out = append(out, fmt.Sprintf("%s_bucket{%s,le=%q}", metric, sel, le), v)
		}
	}
	return out
}

var presetCases = []presetCase{
	{preset: "task_failures", labels: bot, evalTime: "20m",
		breach: [][]string{{`alfred_tasks_failed_total{` + bot + `}`, "0+1x30"}},
		quiet:  [][]string{{`alfred_tasks_failed_total{` + bot + `}`, "7+0x30"}, {`alfred_tasks_failed_total{service="other"}`, "0+1x30"}}},
	{preset: "task_latency", labels: bot, evalTime: "20m",
		// p95 between 10s and 60s (above 30s) ...
		breach: [][]string{histogram(presets.MetricTaskDuration, bot, map[string]string{"1": "0x30", "10": "0x30", "60": "0+10x30", "+Inf": "0+10x30"})},
		// ... and below 1s.
		quiet: [][]string{histogram(presets.MetricTaskDuration, bot, map[string]string{"1": "0+10x30", "10": "0+10x30", "60": "0+10x30", "+Inf": "0+10x30"})}},
	{preset: "cpu", labels: `service_name="alfred-bot"`, evalTime: "20m",
		breach: [][]string{histogram(presets.MetricRunCPUUtilizations, runBot, map[string]string{"0.5": "0x30", "0.9": "0x30", "1": "0+10x30", "+Inf": "0+10x30"})},
		quiet:  [][]string{histogram(presets.MetricRunCPUUtilizations, runBot, map[string]string{"0.5": "0+10x30", "0.9": "0+10x30", "1": "0+10x30", "+Inf": "0+10x30"})}},
	{preset: "memory", labels: `service_name="alfred-bot"`, evalTime: "20m",
		breach: [][]string{histogram(presets.MetricRunMemoryUtilizations, runBot, map[string]string{"0.5": "0x30", "0.9": "0x30", "1": "0+10x30", "+Inf": "0+10x30"})},
		quiet:  [][]string{histogram(presets.MetricRunMemoryUtilizations, runBot, map[string]string{"0.5": "0+10x30", "0.9": "0+10x30", "1": "0+10x30", "+Inf": "0+10x30"})}},
	{preset: "failed_logins", labels: bot, evalTime: "20m",
		// 25 failed logins in 5 minutes (above 10) against 5.
		breach: [][]string{{`alfred_auth_failed_logins_total{` + bot + `}`, "0+5x30"}},
		quiet:  [][]string{{`alfred_auth_failed_logins_total{` + bot + `}`, "0+1x30"}}},
	{preset: "request_rate_anomaly", labels: bot, evalTime: "171h",
		// A week at one task per 10 minutes, then ten times more, or ten times fewer; quiet: the same rate.
		breach: [][]string{
			{`alfred_tasks_processed_total{` + bot + `}`, "0+1x1008 1018+10x30"},
			{`alfred_tasks_processed_total{` + bot + `}`, "0+10x1008 10081+1x30"},
		},
		quiet: [][]string{{`alfred_tasks_processed_total{` + bot + `}`, "0+1x1040"}, {`alfred_tasks_processed_total{` + bot + `}`, "0+1x1008 1010+2x30"}}},
	{preset: "backup_staleness", labels: bot, evalTime: "30h",
		// The last success at time 0, 30 hours ago (over 26h); quiet: a success every minute.
		breach: [][]string{{`alfred_backup_last_success_timestamp_seconds{` + bot + `}`, "0x1800"}},
		quiet:  [][]string{{`alfred_backup_last_success_timestamp_seconds{` + bot + `}`, "0+60x1800"}}},
}

// promtoolTestFile builds a promtool unit-test file for one preset case.
func promtoolTestFile(c presetCase, interval, evalInterval string) (string, error) {
	p, ok := presets.Get(c.preset)
	if !ok {
		return "", fmt.Errorf("no preset %s", c.preset)
	}
	alert := p.AlertName
	if p.PerService {
		alert += "_alfred_bot"
	}
	lbls := map[string]string{"severity": strings.ToLower(p.Severity), "preset": p.Name}
	for _, kv := range strings.Split(c.labels, ",") {
		k, v, _ := strings.Cut(kv, "=")
		lbls[k] = strings.Trim(v, `"`)
	}
	type series struct {
		Series string `yaml:"series"`
		Values string `yaml:"values"`
	}
	type expAlert struct {
		ExpLabels map[string]string `yaml:"exp_labels"`
	}
	type alertTest struct {
		EvalTime  string     `yaml:"eval_time"`
		Alertname string     `yaml:"alertname"`
		ExpAlerts []expAlert `yaml:"exp_alerts"`
	}
	type test struct {
		Interval      string      `yaml:"interval"`
		InputSeries   []series    `yaml:"input_series"`
		AlertRuleTest []alertTest `yaml:"alert_rule_test"`
	}
	var tests []test
	add := func(in []string, fires bool) {
		t := test{Interval: interval}
		for i := 0; i < len(in); i += 2 {
			t.InputSeries = append(t.InputSeries, series{Series: in[i], Values: in[i+1]})
		}
		at := alertTest{EvalTime: c.evalTime, Alertname: alert, ExpAlerts: []expAlert{}}
		if fires {
			at.ExpAlerts = []expAlert{{ExpLabels: lbls}}
		}
		t.AlertRuleTest = []alertTest{at}
		tests = append(tests, t)
	}
	for _, in := range c.breach {
		add(in, true)
	}
	for _, in := range c.quiet {
		add(in, false)
	}
	b, err := yaml.Marshal(map[string]any{"rule_files": []string{"rules.yml"}, "evaluation_interval": evalInterval, "tests": tests})
	return string(b), err
}

// TestAccPrometheusRules_presetsFireOnBreachAndStayQuietOtherwise runs promtool test rules on the
// rendered rules, one generated test file per preset. The annotations (templated texts, checked by
// promtool check rules above) are dropped from the copy under test, since promtool compares them
// verbatim and they quote computed values.
func TestAccPrometheusRules_presetsFireOnBreachAndStayQuietOtherwise(t *testing.T) {
	tool := promtool(t)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: allPresetsConfig,
			Check: func(st *terraform.State) error {
				var doc map[string]any
				if err := yaml.Unmarshal([]byte(rulesYAML(st, "all")), &doc); err != nil {
					return err
				}
				for _, g := range doc["groups"].([]any) {
					for _, r := range g.(map[string]any)["rules"].([]any) {
						delete(r.(map[string]any), "annotations")
					}
				}
				stripped, err := yaml.Marshal(doc)
				if err != nil {
					return err
				}
				if len(presetCases) != len(presets.Names()) {
					return fmt.Errorf("%d preset cases for %d presets", len(presetCases), len(presets.Names()))
				}
				for _, c := range presetCases {
					dir := t.TempDir()
					if err := os.WriteFile(filepath.Join(dir, "rules.yml"), stripped, 0o644); err != nil {
						return err
					}
					// A week of history is evaluated every 5 minutes, the rest every minute.
					interval, evalInterval := "1m", "1m"
					if c.preset == "request_rate_anomaly" {
						interval, evalInterval = "10m", "5m"
					}
					start := time.Now()
					body, err := promtoolTestFile(c, interval, evalInterval)
					if err != nil {
						return err
					}
					file := filepath.Join(dir, c.preset+"_test.yml")
					if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
						return err
					}
					out, err := exec.Command(tool, "test", "rules", file).CombinedOutput()
					if err != nil {
						return fmt.Errorf("promtool test rules for %s: %v\n%s\n--- test file\n%s", c.preset, err, out, body)
					}
					t.Logf("promtool test rules %s: %s", c.preset, time.Since(start).Round(time.Millisecond))
				}
				return nil
			},
		}},
	})
}

func TestAccPrometheusRules_badInputsFailAtPlan(t *testing.T) {
	type bad struct{ rule, attr, want string }
	cases := []bad{
		{`preset = "disk"` + "\n" + `service = "a"`, "preset", `value must be one of`},
		{`preset = "cpu"` + "\n" + `promql = "up == 0"` + "\n" + `service = "a"`, "preset", `Invalid Attribute Combination`},
		{`service = "a"`, "rule", `Invalid Attribute Combination`},
		{`name = "X"` + "\n" + `promql = "sum(rate(alfred_tasks_failed_total[5m]) > 0"`, "promql", `PromQL does not parse at 1:\d+`},
		{`name = "X"` + "\n" + `promql = "alfred_tasks_failed_total[5m]"`, "promql", `is a range vector`},
		{`preset = "cpu"` + "\n" + `service = "a"` + "\n" + `duration = "5 minutes"`, "duration", `is not a Prometheus\s+duration`},
		{`preset = "cpu"` + "\n" + `service = "a"` + "\n" + `duration = "2d"`, "duration", `longer than 1d`},
		{`preset = "cpu"` + "\n" + `service = "a"` + "\n" + `threshold = 1.5`, "threshold", `must be between 0.01 and 1\s+\(ratio\)`},
		{`preset = "backup_staleness"` + "\n" + `threshold = 10`, "threshold", `must be between 60 and\s+7776000`},
		{`preset = "task_latency"`, "rule", `set .service. to the agent`},
		{`name = "bad name"` + "\n" + `preset = "failed_logins"`, "name", `Invalid alert name`},
		{`promql = "up == 0"`, "rule", `rule needs a .name.`},
		{`name = "X"` + "\n" + `promql = "up == 0"` + "\n" + `threshold = 3`, "threshold", `Threshold applies to presets only`},
		{`name = "X"` + "\n" + `promql = "up == 0"` + "\n" + `service = "a"`, "service", `Service applies to presets only`},
		{`preset = "failed_logins"` + "\n" + `labels = { severity = "page" }`, "labels", `Reserved label`},
		{`preset = "failed_logins"` + "\n" + `labels = { "team-name" = "x" }`, "labels", `Invalid label name`},
		{`preset = "failed_logins"` + "\n" + `severity = "HIGH"`, "severity", `value must be one of`},
		{`preset = "failed_logins"` + "\n" + `annotations = { summary = "{{ $labels.service " }`, "annotations", `Prometheus refuses the rule`},
		{`preset = "failed_logins"` + "\n" + `runbook_url = "runbooks/failed-logins"`, "runbook_url", `must be an http\(s\) URL`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		// The error is reported at the attribute: Terraform quotes its line of configuration.
		steps = append(steps, resource.TestStep{
			Config:      "data \"alfred_prometheus_rules\" \"x\" {\n  group_name = \"g\"\n  rule {\n" + c.rule + "\n  }\n}\n",
			ExpectError: regexp.MustCompile(`(?s)` + c.want + `.*\d+:\s+` + c.attr + `\b|\d+:\s+` + c.attr + `\b.*` + c.want),
		})
	}
	steps = append(steps,
		resource.TestStep{
			Config:      "data \"alfred_prometheus_rules\" \"x\" {\n  group_name = \"g\"\n  interval = \"often\"\n  rule {\n preset = \"failed_logins\"\n  }\n}\n",
			ExpectError: regexp.MustCompile(`(?s)Invalid evaluation interval.*\d+:\s+interval`),
		},
		resource.TestStep{
			Config: "data \"alfred_prometheus_rules\" \"x\" {\n  group_name = \"g\"\n" +
				"  rule {\n preset = \"task_failures\"\n service = \"a\"\n  }\n  rule {\n preset = \"task_failures\"\n service = \"a\"\n  }\n}\n",
			ExpectError: regexp.MustCompile(`(?s)Duplicate alert name.*rule 0 and rule 1 are both named\s+"AlfredTaskFailures_a"`),
		},
		resource.TestStep{
			Config:      "data \"alfred_prometheus_rules\" \"x\" {\n  group_name = \"g\"\n}\n",
			ExpectError: regexp.MustCompile(`at least 1`),
		},
	)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
}

// TestAccRenderExamples_applyAndPassPromtool: the documented examples render, and the rules example
// passes promtool check rules.
func TestAccRenderExamples_applyAndPassPromtool(t *testing.T) {
	tool := promtool(t)
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "data-sources", name, "data-source.tf"))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	cfg := read("alfred_prometheus_rules") + read("alfred_grafana_dashboard")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: cfg,
			Check: func(st *terraform.State) error {
				f := filepath.Join(t.TempDir(), "alfred.yml")
				if err := os.WriteFile(f, []byte(rulesYAML(st, "agents")), 0o644); err != nil {
					return err
				}
				if out, err := exec.Command(tool, "check", "rules", f).CombinedOutput(); err != nil {
					return fmt.Errorf("promtool check rules: %v\n%s", err, out)
				}
				if js := st.RootModule().Resources["data.alfred_grafana_dashboard.agents"].Primary.Attributes["json"]; !strings.Contains(js, `"uid": "alfred-agents"`) {
					return fmt.Errorf("dashboard json: %.200s", js)
				}
				return nil
			},
		}},
	})
}

// TestAccPrometheusRules_unknownServiceAtPlan: a service known only after apply (another resource's output)
// neither fails validation nor hides the errors of the other rules; once known, the rule renders.
func TestAccPrometheusRules_unknownServiceAtPlan(t *testing.T) {
	cfg := func(threshold string) string {
		return `
resource "terraform_data" "svc" {
  input = "alfred-bot"
}
data "alfred_prometheus_rules" "late" {
  group_name = "late"
  rule {
    preset  = "task_latency"
    service = terraform_data.svc.output
    labels  = { owner = terraform_data.svc.output }
  }
  rule {
    preset    = "cpu"
    service   = "social-intel"
    threshold = ` + threshold + `
  }
}
`
	}
	lat, _ := presets.Get("task_latency")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{Config: cfg("2"), ExpectError: regexp.MustCompile(`must be between 0.01 and 1`)},
			{
				Config: cfg("0.5"),
				Check: func(st *terraform.State) error {
					var r renderedRules
					if err := yaml.Unmarshal([]byte(rulesYAML(st, "late")), &r); err != nil {
						return err
					}
					if len(r.Groups) != 1 || len(r.Groups[0].Rules) != 2 || r.Groups[0].Rules[0].Expr != lat.DefaultExpr("alfred-bot") ||
						r.Groups[0].Rules[0].Labels["owner"] != "alfred-bot" {
						return fmt.Errorf("rendered: %+v", r)
					}
					return nil
				},
			},
		},
	})
}
