package scale_test

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"
)

// apiOf names the API of a sandbox call ("/google.cloud.run.v2.Services/GetService" -> "cloudrun").
func apiOf(call string) string {
	switch {
	case strings.HasPrefix(call, "/google.cloud.run."), strings.HasPrefix(call, "/google.longrunning."):
		return "cloudrun"
	case strings.HasPrefix(call, "/google.monitoring.v3.AlertPolicyService/"):
		return "alert_policy"
	case strings.HasPrefix(call, "/google.monitoring.v3.NotificationChannelService/"):
		return "notification_channel"
	case strings.HasPrefix(call, "/qdrant."), strings.Contains(call, " /collections"), strings.Contains(call, " /cluster"):
		// gRPC, and the REST API (snapshots, cluster info), counted as "METHOD /path"
		return "qdrant"
	}
	return "other"
}

// perResource divides the no-op plan's calls by the resources of the API they went to. RBAC reads go to
// PostgreSQL, which the sandbox's call counts do not see.
func perResource(m mix, calls map[string]int64) (byAPI map[string]float64, total int64) {
	sum := map[string]int64{}
	for c, n := range calls {
		sum[apiOf(c)] += n
		total += n
	}
	byAPI = map[string]float64{}
	for api, n := range map[string]int{"cloudrun": m.Agents, "alert_policy": m.Policies, "notification_channel": m.Channels, "qdrant": m.Collections} {
		if n > 0 {
			byAPI[api] = float64(sum[api]) / float64(n)
		}
	}
	if sum["other"] > 0 {
		byAPI["other"] = float64(sum["other"])
	}
	return byAPI, total
}

func formatCalls(calls map[string]int64) string {
	keys := make([]string, 0, len(calls))
	for k := range calls {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, calls[k]))
	}
	return strings.Join(parts, ", ") // one line: a benchmark's log is cut after ten lines
}

// TestScalePlatformShortAppliesPlansEmptyAndDestroys is the benchmark's cycle at 20 resources, for CI:
// apply, an empty second plan that reads every API it manages, a second apply that changes nothing,
// destroy; and the same for the floor provider. Nothing here is timed.
func TestScalePlatformShortAppliesPlansEmptyAndDestroys(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: the test runs Terraform against the sandbox")
	}
	r := newRig(t, short)
	var calls map[string]int64
	var xacts int64
	r.cycle(t, workDir(t, platformHCL(short)), func() { r.resetCalls(t); xacts = r.pgXacts(t) }, func() {
		calls = r.calls(t)
		xacts = r.pgXacts(t) - xacts - 1
	})
	byAPI, _ := perResource(short, calls)
	t.Logf("no-op plan: %d SQL transactions for %d RBAC resources; calls: %s", xacts, short.Roles+short.Assignments+short.TablePolicies, formatCalls(calls))
	for _, api := range []string{"cloudrun", "alert_policy", "notification_channel", "qdrant"} {
		if byAPI[api] < 1 {
			t.Errorf("the no-op plan must read every %s resource at least once: %.2f calls per resource\n%s", api, byAPI[api], formatCalls(calls))
		}
	}
	if r.peakRSS(r.alfredBin) == 0 {
		t.Error("no VmHWM sample of the alfred provider process: the memory figure of the benchmark would be empty")
	}
	r.cycle(t, workDir(t, floorHCL(short.total())), nil, nil)
	if r.peakRSS(r.floorBin) == 0 {
		t.Error("no VmHWM sample of the floor provider process")
	}
}

// BenchmarkScalePlatform500 applies a platform of 500 resources (agents, notification channels, alert
// policies, Qdrant collections, RBAC roles, assignments and table policies) against one sandbox at 0 ms and
// 50 ms added latency, with Terraform 1.5.7 at -parallelism=10, and the same number of resources of the
// floor provider (internal/scale/floor, whose Read does nothing). It reports wall times, their ratio to the
// floor, API calls per resource on the no-op plan, and the providers' peak RSS.
//
//	TF_ACC=1 TF_ACC_TERRAFORM_PATH=$PWD/bin/terraform go test ./internal/scale/ -run '^$' \
//	  -bench BenchmarkScalePlatform500 -benchtime 1x -timeout 60m
//
// ALFRED_SCALE_LATENCIES_MS (default "0,50") picks the latencies; ALFRED_SCALE_ONLY (agents, policies,
// collections, rbac) keeps one part of the platform, to split the figures by type.
func BenchmarkScalePlatform500(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1: the benchmark runs Terraform")
	}
	latencies := []time.Duration{0, 50 * time.Millisecond}
	if s := os.Getenv("ALFRED_SCALE_LATENCIES_MS"); s != "" {
		latencies = nil
		for _, f := range strings.Split(s, ",") {
			var ms int
			if _, err := fmt.Sscan(f, &ms); err != nil {
				b.Fatalf("ALFRED_SCALE_LATENCIES_MS=%q: %v", s, err)
			}
			latencies = append(latencies, time.Duration(ms)*time.Millisecond)
		}
	}
	m := full
	if part := os.Getenv("ALFRED_SCALE_ONLY"); part != "" {
		var ok bool
		if m, ok = full.only(part); !ok {
			b.Fatalf("ALFRED_SCALE_ONLY=%q: want agents, policies, collections or rbac", part)
		}
	}
	n := float64(m.total())
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		r := newRig(b, m)
		floorDir, dir := workDir(b, floorHCL(m.total())), workDir(b, platformHCL(m))
		for _, lat := range latencies {
			// The floor runs right before each alfred cycle, so that both see about the same load on a
			// shared machine; the ratios are to that run.
			floor := r.cycle(b, floorDir, nil, nil)
			r.setLatency(b, lat)
			suffix := fmt.Sprintf("/%dms", lat.Milliseconds())
			var calls map[string]int64
			var xacts int64
			t := r.cycle(b, dir, func() { r.resetCalls(b); xacts = r.pgXacts(b) }, func() {
				calls = r.calls(b)
				xacts = r.pgXacts(b) - xacts - 1 // less the reading of the count before the plan
			})
			if rbac := m.Roles + m.Assignments + m.TablePolicies; rbac > 0 {
				b.ReportMetric(float64(xacts)/float64(rbac), "noop-sql-xacts/rbac"+suffix)
			}
			r.setLatency(b, 0)
			report := func(suffix string, t timings) {
				b.ReportMetric(t.apply.Seconds(), "apply-s"+suffix)
				b.ReportMetric(t.noopPlan.Seconds(), "noop-plan-s"+suffix)
				b.ReportMetric(t.noopApply.Seconds(), "noop-apply-s"+suffix)
				b.ReportMetric(t.destroy.Seconds(), "destroy-s"+suffix)
			}
			report("/floor"+suffix, floor)
			report(suffix, t)
			b.ReportMetric(t.apply.Seconds()/floor.apply.Seconds(), "apply-x-floor"+suffix)
			b.ReportMetric(t.noopPlan.Seconds()/floor.noopPlan.Seconds(), "noop-plan-x-floor"+suffix)
			b.ReportMetric(t.noopApply.Seconds()/floor.noopApply.Seconds(), "noop-apply-x-floor"+suffix)
			byAPI, total := perResource(m, calls)
			b.ReportMetric(float64(total)/n, "noop-calls/resource"+suffix)
			for api, v := range byAPI {
				b.ReportMetric(v, "noop-calls/"+api+suffix)
			}
			b.Logf("floor (%d floor_item): apply %v, no-op plan %v, no-op apply %v, destroy %v", m.total(), floor.apply, floor.noopPlan, floor.noopApply, floor.destroy)
			b.Logf("alfred at %v latency (%d resources): apply %v (%.1fx floor), no-op plan %v (%.1fx), no-op apply %v (%.1fx), destroy %v; no-op plan: %d SQL transactions, calls (%d, %.2f per resource): %s",
				lat, m.total(), t.apply, t.apply.Seconds()/floor.apply.Seconds(), t.noopPlan, t.noopPlan.Seconds()/floor.noopPlan.Seconds(),
				t.noopApply, t.noopApply.Seconds()/floor.noopApply.Seconds(), t.destroy, xacts, total, float64(total)/n, formatCalls(calls))
		}
		b.ReportMetric(float64(r.peakRSS(r.alfredBin))/(1<<20), "alfred-peak-rss-MiB")
		b.ReportMetric(float64(r.peakRSS(r.floorBin))/(1<<20), "floor-peak-rss-MiB")
	}
}
