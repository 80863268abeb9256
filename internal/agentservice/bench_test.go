package agentservice_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

func bench50HCL(addr string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
provider "alfred" {
  gcp {
    project      = "p"
    region       = "europe-west1"
    run_endpoint = %q
    insecure     = true
  }
}
resource "alfred_agent_service" "agent" {
  count         = 50
  deletion_protection = false
  name          = "agent-${count.index}"
  image         = "example.com/agent:v1"
  memory        = "1Gi"
  max_instances = 10
  env           = { INDEX = tostring(count.index), LOG_LEVEL = "info" }
  secret_env    = { API_KEY = { secret = "api-key" } }
  invokers      = ["serviceAccount:gateway@p.iam.gserviceaccount.com"]
  labels        = { team = "agents" }
}
`, addr)
	return b.String()
}

// BenchmarkAgentService50 applies 50 agent services with the real provider binary (dev_overrides) and
// Terraform's default parallelism (10) against the Cloud Run emulator with 50 ms added to every call and
// rollouts of 300-800 ms, then runs a no-op `terraform plan` and counts the API calls it made.
//
//	TF_ACC=1 go test ./internal/agentservice/ -run '^$' -bench BenchmarkAgentService50 -benchtime 1x -timeout 30m
func BenchmarkAgentService50(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1: the benchmark runs Terraform")
	}
	cli := acctest.NewCLI(b)
	dir := b.TempDir()
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		k := kit.New(0, 50*time.Millisecond, 1)
		ts := cloudrun.StartTestServer(b, cloudrun.Options{Kit: k})
		work := filepath.Join(dir, fmt.Sprintf("run%d", i))
		if err := os.MkdirAll(work, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(bench50HCL(ts.Addr)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		cli.Run(b, work, []int{0}, "apply", "-auto-approve", "-input=false")
		apply := time.Since(start)
		k.ResetCalls()
		start = time.Now()
		cli.Run(b, work, []int{0}, "plan", "-input=false", "-detailed-exitcode") // 2 (changes) fails the benchmark
		plan := time.Since(start)
		b.StopTimer()
		calls := k.Calls()
		var total int64
		for _, n := range calls {
			total += n
		}
		b.ReportMetric(apply.Seconds(), "apply-s")
		b.ReportMetric(plan.Seconds(), "noop-plan-s")
		b.ReportMetric(float64(total)/50, "noop-calls/resource")
		b.ReportMetric(float64(calls["/google.cloud.run.v2.Services/GetService"])/50, "GetService/resource")
		b.ReportMetric(float64(calls["/google.cloud.run.v2.Services/GetIamPolicy"])/50, "GetIamPolicy/resource")
		b.Logf("no-op plan calls: %v", calls)
		cli.Run(b, work, []int{0}, "destroy", "-auto-approve", "-input=false")
	}
}
