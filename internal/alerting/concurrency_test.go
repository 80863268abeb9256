package alerting_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

const (
	createPolicyMethod  = "/google.monitoring.v3.AlertPolicyService/CreateAlertPolicy"
	createChannelMethod = "/google.monitoring.v3.NotificationChannelService/CreateNotificationChannel"
)

// mailChannel is one email notification channel, alfred_notification_channel.mail.
const mailChannel = `
resource "alfred_notification_channel" "mail" {
  type         = "email"
  display_name = "mail"
  labels       = { email_address = "oncall@example.com" }
}
`

func manyPolicies(s *sandbox, n int, threshold int) string {
	return s.provider() + fmt.Sprintf(`
resource "alfred_alert_policy" "many" {
  count        = %d
  display_name = "policy-${count.index}"
  severity     = "WARNING"
  condition {
    preset                    = "task_failures"
    service                   = "agent-${count.index}"
    threshold                 = %d
    disable_metric_validation = true
  }
}
`, n, threshold)
}

func countPolicies(s *sandbox, t testing.TB, want int) resourceCheck {
	return func(*terraform.State) error {
		if got := len(s.policies(t)); got != want {
			return fmt.Errorf("%d policies in the project, want %d (a retried create was duplicated, or one is missing)", got, want)
		}
		return nil
	}
}

// 20 policies applied, updated and destroyed at Terraform's default parallelism of 10, against an API that
// refuses more than one concurrent edit per project and injects 409 ABORTED "concurrent edit" faults and
// lost replies on a third of the calls: no error, and exactly 20 policies.
func TestAccAlertPolicy_twentyInParallelWithConflictsInjected(t *testing.T) {
	s := newSandbox(t, monitoring.Options{MaxConcurrentPolicyWrites: 1, PolicyWriteLatency: 5 * time.Millisecond})
	if err := s.kit.SetFaultSettings(kit.FaultSettings{Rate: 0.3, Seed: 7, Kinds: []kit.FaultKind{kit.FaultConflict, kit.FaultLostReply}}); err != nil {
		t.Fatal(err)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: manyPolicies(s, 20, 0), Check: countPolicies(s, t, 20)},
			{Config: manyPolicies(s, 20, 3), Check: countPolicies(s, t, 20)},
		},
	})
	inj := s.kit.Injected()
	if inj[kit.FaultConflict] == 0 || inj[kit.FaultLostReply] == 0 {
		t.Fatalf("the test injected no conflict or no lost reply (%v), so it proves nothing", inj)
	}
}

// Without faults, the provider's per-project lock means the API never answers "Too many concurrent
// edits": 20 creates at parallelism 10 make exactly 20 CreateAlertPolicy calls (a refused one would be
// retried, making more).
func TestAccAlertPolicy_writesSerialisedPerProject(t *testing.T) {
	s := newSandbox(t, monitoring.Options{MaxConcurrentPolicyWrites: 1, PolicyWriteLatency: 20 * time.Millisecond})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: manyPolicies(s, 20, 0),
			Check: func(*terraform.State) error {
				if n := s.kit.Calls()[createPolicyMethod]; n != 20 {
					return fmt.Errorf("%d CreateAlertPolicy calls for 20 policies: writes were not serialised", n)
				}
				return nil
			},
		}},
	})
}

// A create whose reply is lost (the server created the policy) is found by its alfred_id label, not
// created twice.
func TestAccAlertPolicy_lostCreateReplyIsNotDuplicated(t *testing.T) {
	s := newSandbox(t, monitoring.Options{})
	s.kit.FailNext(createPolicyMethod, kit.FaultLostReply)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: manyPolicies(s, 1, 0),
			Check: resource.ComposeAggregateTestCheckFunc(countPolicies(s, t, 1), func(*terraform.State) error {
				if n := s.kit.Calls()[createPolicyMethod]; n != 1 {
					return fmt.Errorf("%d CreateAlertPolicy calls: the lost reply should have been found by lookup, not retried", n)
				}
				return nil
			}),
		}},
	})
}

// BenchmarkAlertPolicies20 applies 20 alert policies with the real provider binary at Terraform's default
// parallelism (10), against an emulator that admits one policy write per project at a time (each in flight
// 20 ms) and refuses a fifth of the writes with 409 ABORTED; then a no-op plan and a destroy.
//
//	TF_ACC=1 go test ./internal/alerting/ -run '^$' -bench BenchmarkAlertPolicies20 -benchtime 1x
func BenchmarkAlertPolicies20(b *testing.B) {
	if os.Getenv("TF_ACC") == "" {
		b.Skip("set TF_ACC=1: the benchmark runs Terraform")
	}
	cli := acctest.NewCLI(b)
	dir := b.TempDir()
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		s := newSandbox(b, monitoring.Options{MaxConcurrentPolicyWrites: 1, PolicyWriteLatency: 20 * time.Millisecond})
		if err := s.kit.SetFaultSettings(kit.FaultSettings{Rate: 0.2, Seed: uint64(i + 1), Kinds: []kit.FaultKind{kit.FaultConflict}}); err != nil {
			b.Fatal(err)
		}
		work := filepath.Join(dir, fmt.Sprintf("run%d", i))
		if err := os.MkdirAll(work, 0o755); err != nil {
			b.Fatal(err)
		}
		hcl := "terraform {\n  required_providers {\n    alfred = { source = \"alfred-platform/alfred\" }\n  }\n}\n" + manyPolicies(s, 20, 0)
		if err := os.WriteFile(filepath.Join(work, "main.tf"), []byte(hcl), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		cli.Run(b, work, []int{0}, "apply", "-auto-approve", "-input=false", "-parallelism=10")
		apply := time.Since(start)
		b.StopTimer()
		if n := len(s.policies(b)); n != 20 {
			b.Fatalf("%d policies after apply, want 20", n)
		}
		cli.Run(b, work, []int{0}, "plan", "-input=false", "-detailed-exitcode") // 2 (changes) fails the benchmark
		b.ReportMetric(apply.Seconds(), "apply-s")
		b.ReportMetric(float64(s.kit.Calls()[createPolicyMethod]), "CreateAlertPolicy-calls")
		b.ReportMetric(float64(s.kit.Injected()[kit.FaultConflict]), "409s-injected")
		cli.Run(b, work, []int{0}, "destroy", "-auto-approve", "-input=false")
	}
}

// The same for a notification channel: the lost create is found by its alfred_id label.
func TestAccNotificationChannel_lostCreateReplyIsNotDuplicated(t *testing.T) {
	const method = createChannelMethod
	s := newSandbox(t, monitoring.Options{})
	s.kit.FailNext(method, kit.FaultLostReply)
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: s.provider() + mailChannel,
			Check: func(*terraform.State) error {
				if n := len(s.channelNames(t)); n != 1 || s.kit.Calls()[method] != 1 {
					return fmt.Errorf("%d channels after %d create calls: a lost create must be found, not repeated", n, s.kit.Calls()[method])
				}
				return nil
			},
		}},
	})
}
