package render_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/presets"
)

const dashboardConfig = `
data "alfred_grafana_dashboard" "agents" {
  title          = "Alfred agents"
  uid            = "alfred-agents"
  services       = ["alfred-bot", "social-intel", "a.b"]
  datasource_uid = "prom-main"
  refresh        = "30s"
  time_from      = "now-24h"
}

output "dashboard" {
  value = data.alfred_grafana_dashboard.agents.json
}
`

func dashboardJSON(st *terraform.State) string {
	return st.RootModule().Resources["data.alfred_grafana_dashboard.agents"].Primary.Attributes["json"]
}

// panelQuery is a panel's query as Grafana would run it.
type panelQuery struct {
	expr parser.Expr
	raw  string
}

// TestAccGrafanaDashboard_panelsQueryTheCatalogueMetrics loads the JSON with the SDK's own types, checks
// the expected panels are there, every panel query parses with the PromQL parser and selects exactly the
// configured services, and that the output is the same byte for byte when rendered again.
func TestAccGrafanaDashboard_panelsQueryTheCatalogueMetrics(t *testing.T) {
	var first string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: dashboardConfig,
				Check: func(st *terraform.State) error {
					first = dashboardJSON(st)
					return checkDashboard(first)
				},
			},
			{
				// A new provider process renders it again: byte-stable, so plans never show a diff.
				Config: dashboardConfig,
				Check: func(st *terraform.State) error {
					if again := dashboardJSON(st); again != first {
						return fmt.Errorf("the dashboard JSON changed between renders:\n%s\n---\n%s", first, again)
					}
					return nil
				},
			},
		},
	})
}

func checkDashboard(out string) error {
	plugins.RegisterDefaultPlugins()
	var d dashboard.Dashboard //nolint:staticcheck // the classic model is what the data source renders
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		return fmt.Errorf("the SDK cannot load the JSON: %v", err)
	}
	if d.Uid == nil || *d.Uid != "alfred-agents" || d.Title == nil || *d.Title != "Alfred agents" ||
		d.Refresh == nil || *d.Refresh != "30s" || d.Time == nil || d.Time.From != "now-24h" || d.Time.To != "now" {
		return fmt.Errorf("dashboard settings: uid %v title %v refresh %v time %+v", d.Uid, d.Title, d.Refresh, d.Time)
	}
	panels := map[string][]panelQuery{}
	var titles []string
	ids := map[uint32]bool{}
	for _, pr := range d.Panels {
		p := pr.Panel
		if p == nil || p.Title == nil {
			return fmt.Errorf("a row or untitled panel: %+v", pr)
		}
		if p.Id == nil || ids[*p.Id] {
			return fmt.Errorf("panel %q: missing or duplicate id", *p.Title)
		}
		ids[*p.Id] = true
		if p.Datasource == nil || p.Datasource.Uid == nil || *p.Datasource.Uid != "prom-main" || *p.Datasource.Type != "prometheus" {
			return fmt.Errorf("panel %q datasource %+v", *p.Title, p.Datasource)
		}
		titles = append(titles, *p.Title)
		if len(p.Targets) == 0 {
			return fmt.Errorf("panel %q has no query", *p.Title)
		}
		for _, tg := range p.Targets {
			q, ok := tg.(*prometheus.Dataquery)
			if !ok {
				return fmt.Errorf("panel %q: target %T is not a Prometheus query", *p.Title, tg)
			}
			e, err := presets.ParsePromQL(q.Expr)
			if err != nil {
				return fmt.Errorf("panel %q: query %q does not parse: %v", *p.Title, q.Expr, err)
			}
			if err := selectsExactlyTheServices(e); err != nil {
				return fmt.Errorf("panel %q: %s: %v", *p.Title, q.Expr, err)
			}
			panels[*p.Title] = append(panels[*p.Title], panelQuery{e, q.Expr})
		}
	}
	want := []string{"Task processing rate", "Task failures", "Task latency percentiles", "CPU utilisation", "Memory utilisation", "Failed logins", "Backup age"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		return fmt.Errorf("panels %q, want %q", titles, want)
	}
	// The processing rate is rate(alfred_tasks_processed_total[5m]) by service.
	rate := panels["Task processing rate"][0]
	if !callsOver(rate.expr, "rate", presets.MetricTasksProcessed, 5*time.Minute) || !strings.HasPrefix(rate.raw, "sum by (service) (") {
		return fmt.Errorf("processing rate query %s", rate.raw)
	}
	for title, metric := range map[string]string{
		"Task failures": presets.MetricTasksFailed, "Failed logins": presets.MetricFailedLogins,
		"CPU utilisation": presets.MetricRunCPUUtilizations + "_bucket", "Memory utilisation": presets.MetricRunMemoryUtilizations + "_bucket",
		"Backup age": presets.MetricBackupLastSuccess,
	} {
		if !reads(panels[title][0].expr, metric) {
			return fmt.Errorf("panel %s does not read %s: %s", title, metric, panels[title][0].raw)
		}
	}
	// Latency: p50, p95 and p99 of the task duration histogram.
	var qs []string
	for _, q := range panels["Task latency percentiles"] {
		call, ok := q.expr.(*parser.Call)
		if !ok || call.Func.Name != "histogram_quantile" || !reads(q.expr, presets.MetricTaskDuration+"_bucket") {
			return fmt.Errorf("latency query %s", q.raw)
		}
		qs = append(qs, call.Args[0].String())
	}
	if strings.Join(qs, ",") != "0.5,0.95,0.99" {
		return fmt.Errorf("latency quantiles %v", qs)
	}
	return nil
}

// selectsExactlyTheServices: every selector's service matcher matches the configured services and no other.
func selectsExactlyTheServices(e parser.Expr) error {
	var err error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		var m *labels.Matcher
		for _, lm := range vs.LabelMatchers {
			if lm.Name == presets.ServiceLabel || lm.Name == presets.RunServiceLabel {
				m = lm
			}
		}
		if m == nil {
			err = fmt.Errorf("%s has no service matcher", vs)
			return err
		}
		for v, want := range map[string]bool{"alfred-bot": true, "social-intel": true, "a.b": true, "axb": false, "alfred-bot2": false, "": false} {
			if m.Matches(v) != want {
				err = fmt.Errorf("matcher %s matches %q: %v", m, v, !want)
			}
		}
		return nil
	})
	return err
}

func reads(e parser.Expr, metric string) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		if vs, ok := n.(*parser.VectorSelector); ok && vs.Name == metric {
			found = true
		}
		return nil
	})
	return found
}

func callsOver(e parser.Expr, fn, metric string, rng time.Duration) bool {
	found := false
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		c, ok := n.(*parser.Call)
		if !ok || c.Func.Name != fn || len(c.Args) != 1 {
			return nil
		}
		if ms, ok := c.Args[0].(*parser.MatrixSelector); ok && ms.Range == rng && ms.VectorSelector.(*parser.VectorSelector).Name == metric {
			found = true
		}
		return nil
	})
	return found
}

func TestAccGrafanaDashboard_badInputsFailAtPlan(t *testing.T) {
	base := map[string]string{
		"title": `"Alfred"`, "uid": `"alfred"`, "services": `["alfred-bot"]`, "datasource_uid": `"prom"`,
	}
	cases := []struct{ attr, value, want string }{
		{"uid", `"alfred agents!"`, `must be 1 to 40 letters, digits, - or _`},
		{"uid", `"` + strings.Repeat("a", 41) + `"`, `must be 1 to 40 letters`},
		{"title", `""`, `string length must be at least 1`},
		{"services", `[]`, `list must contain at least 1 elements`},
		{"services", `["alfred-bot", "alfred-bot"]`, `contains duplicate values of`},
		{"services", `["alfred-bot", ""]`, `string length must be at least 1`},
		{"services", `["alfred-bot", null]`, `null value`},
		{"datasource_uid", `"prom main"`, `must be a data source uid`},
		{"refresh", `"often"`, `must be a number and a unit`},
		{"time_from", `"yesterday"`, `must be a Grafana time such as now-6h`},
		{"time_to", `"now+1h"`, `must be a Grafana time such as now`},
	}
	var steps []resource.TestStep
	for _, c := range cases {
		var b strings.Builder
		b.WriteString("data \"alfred_grafana_dashboard\" \"x\" {\n")
		for _, k := range []string{"title", "uid", "services", "datasource_uid", "refresh", "time_from", "time_to"} {
			v, ok := base[k]
			if k == c.attr {
				v, ok = c.value, true
			}
			if ok {
				fmt.Fprintf(&b, "  %s = %s\n", k, v)
			}
		}
		b.WriteString("}\n")
		steps = append(steps, resource.TestStep{
			Config:      b.String(),
			ExpectError: regexp.MustCompile(`(?s)\d+:\s+` + c.attr + `\s+=.*` + c.want),
		})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
}
