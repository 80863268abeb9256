package modules_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// The data and observability modules refuse bad input at plan time with a message that names the input,
// before any API call.
func TestDataAndObservabilityModulesRejectBadInputAtPlanTime(t *testing.T) {
	env := sandboxEnv(t)
	cli := acctest.NewCLI(t)
	calls := func() map[string]int {
		resp, err := http.Get(env["ALFRED_SANDBOX_DEBUG_URL"] + "/calls")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out := map[string]int{}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	vec := `vectors = { "" = { size = 4, distance = "Cosine" } }`
	cases := []struct{ name, module, args, want string }{
		{"distance", "data", `collections = { c = { vectors = { "" = { size = 4, distance = "cosine" } } } }`,
			"collections: every vector's distance is Cosine, Euclid, Dot or Manhattan"},
		{"collection name", "data", `collections = { "a b" = { ` + vec + ` } }`, "collections: names are 1 to 255 letters"},
		{"write consistency", "data", `collections = { c = { ` + vec + `, replication_factor = 1, write_consistency_factor = 2 } }`,
			"write_consistency_factor cannot exceed replication_factor"},
		{"project ref", "data", `project_ref = "Alfred"`, "project_ref: a Supabase project ref is 20 lowercase letters"},
		{"replica without project", "data", `read_replicas = { r = { region = "us-east-1" } }`, "read_replicas needs project_ref"},
		{"cidr", "data", `project_ref = "abcdefghijklmnopqrst"
  network_security = { allowed_cidrs = ["10.0.0.0/33"] }`, "network_security: allowed_cidrs and allowed_cidrs_v6 hold CIDR ranges"},
		{"partition key", "data", `partitions = { events = {} }`, "partitions: keys are `schema.table`"},
		{"partition interval", "data", `partitions = { "public.events" = { interval = "hour" } }`, "partitions: interval is day, week or month"},
		{"severity", "observability", `alert_policies = { severity = "HIGH" }`, "alert_policies.severity must be CRITICAL, ERROR or WARNING"},
		{"seven presets", "observability", `alert_policies = { presets = ["task_failures", "task_latency", "cpu", "memory", "failed_logins", "request_rate_anomaly", "backup_staleness"] }`,
			"alert_policies.presets: one to six distinct presets"},
		{"unknown preset", "observability", `alert_policies = { presets = ["disk"] }`, "presets of the catalogue"},
		{"unknown threshold", "observability", `alert_policies = { thresholds = { latency = 3 } }`, "the keys of alert_policies.thresholds are presets of the catalogue"},
		{"channel type", "observability", `channels = { x = { type = "sms" } }`, "channels: type must be one of email, slack"},
		{"service name", "observability", `services = ["Alfred_Bot"]`, "services: each name is a Cloud Run service name"},
		{"failed logins metric", "observability", `services = ["alfred-bot"]
  alert_policies = { presets = ["failed_logins"], failed_logins_log_metric = "auth/failed" }`,
			"alert_policies.failed_logins_log_metric must be a key of log_metrics; got auth/failed"},
		{"dashboard uid", "observability", `dashboard = { uid = "alfred agents" }`, "dashboard.uid: up to 40 letters"},
	}
	before := calls()
	// One working directory per module, initialised once: only the module's arguments change between cases.
	dirs := map[string]string{}
	inited := map[string]bool{}
	for _, m := range []string{"data", "observability"} {
		dirs[m] = t.TempDir()
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			main := header + fmt.Sprintf(`
module "m" {
  source = "MODULES/%s"
  %s
}
`, tc.module, tc.args)
			dir := dirs[tc.module]
			writeMain(t, dir, main)
			if !inited[tc.module] {
				cli.Init(t, dir)
				inited[tc.module] = true
			}
			_, out := cli.Run(t, dir, []int{1}, "plan", "-input=false", "-no-color")
			if !strings.Contains(strings.Join(strings.Fields(out), " "), tc.want) {
				t.Errorf("plan must fail saying %q:\n%s", tc.want, out)
			}
		})
	}
	if after := calls(); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused plan must call no API: calls went from %v to %v", before, after)
	}
}
