package alerting_test

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
)

// attempts is shared.DefaultBackoff's: how many times one call is tried.
const attempts = 8

// The create's last attempt is applied but its reply lost (the ones before were refused): the object
// exists. It is found by its alfred_id label and recorded, not left behind for the next apply to refuse
// as unrecorded (or to duplicate). Alert policies and notification channels alike.
func TestAccMonitoring_lastCreateAttemptWithLostReplyIsRecorded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		kind, method, address string
		config                func(*sandbox) string
		names                 func(*sandbox, testing.TB) []string
	}{
		{"policy", createPolicyMethod, "alfred_alert_policy.many.0",
			func(s *sandbox) string { return manyPolicies(s, 1, 0) },
			func(s *sandbox, t testing.TB) (out []string) {
				for _, p := range s.policies(t) {
					out = append(out, p.GetName())
				}
				return out
			}},
		{"channel", createChannelMethod, "alfred_notification_channel.mail",
			func(s *sandbox) string { return s.provider() + mailChannel },
			(*sandbox).channelNames},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t, monitoring.Options{})
			for range attempts - 1 {
				s.kit.FailNext(tc.method, kit.FaultUnavailable)
			}
			s.kit.FailNext(tc.method, kit.FaultLostReply)
			resource.Test(t, resource.TestCase{
				PreCheck:                 func() { acctest.PreCheck(t) },
				ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
				CheckDestroy:             s.checkDestroyed,
				Steps: []resource.TestStep{{
					Config: tc.config(s),
					Check: func(st *terraform.State) error {
						if n := s.kit.Calls()[tc.method]; n != attempts {
							return fmt.Errorf("%d create calls, want %d (the queued faults were not all met)", n, attempts)
						}
						names := tc.names(s, t)
						rs, ok := st.RootModule().Resources[tc.address]
						if len(names) != 1 || !ok || rs.Primary.ID != names[0] {
							return fmt.Errorf("the project holds %v, the state does not record exactly that one", names)
						}
						return nil
					},
				}},
			})
		})
	}
}

// After a create whose reply was lost, the lookup of the metric it made is retried on its own budget: seven
// failed reads in a row do not use up the create's attempts, and the metric is created once.
func TestAccLogMetric_lookupAfterLostCreateHasItsOwnRetries(t *testing.T) {
	t.Parallel()
	sb := newLogSandbox(t)
	const svc = "/google.logging.v2.MetricsServiceV2/"
	sb.Kit.FailNext(svc+"CreateLogMetric", kit.FaultLostReply)
	for range attempts - 1 {
		sb.Kit.FailNext(svc+"GetLogMetric", kit.FaultUnavailable)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             sb.checkDestroyed,
		Steps: []resource.TestStep{{
			Config: sb.provider() + logMetricConfig(filter1, "", svcEx, ""),
			Check: func(*terraform.State) error {
				if f := sb.get(t, fullName).GetFilter(); f != filter1 {
					return fmt.Errorf("filter %q", f)
				}
				if n := sb.Kit.Calls()[svc+"CreateLogMetric"]; n != 1 {
					return fmt.Errorf("%d CreateLogMetric calls: the lost create must be found, not repeated", n)
				}
				return nil
			},
		}},
	})
}
