package agentservice_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"google.golang.org/api/iterator"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// TestAccAgentService_convergesUnderEachFaultKind applies three services with invokers, changes their
// image and invokers, and destroys them, while the Cloud Run emulator fails 30% of the calls with one kind
// of fault at a time (then all kinds mixed): refused before the call, applied with the reply lost,
// concurrent edit (ABORTED, on writes), rate limited with RetryInfo. After each apply, with faults off,
// the official client must find exactly the configured services, each written once per change (its
// generation counts the changes: a write repeated after a lost reply would show), with exactly the
// configured invokers; the next plan (with faults on again) must be empty, and destroy must leave nothing.
func TestAccAgentService_convergesUnderEachFaultKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		kinds []kit.FaultKind
	}{
		{"unavailable", []kit.FaultKind{kit.FaultUnavailable}},
		{"lost_reply", []kit.FaultKind{kit.FaultLostReply}},
		{"conflict", []kit.FaultKind{kit.FaultConflict}},
		{"rate_limit", []kit.FaultKind{kit.FaultRateLimit}},
		{"mixed", nil},
	} {
		t.Run(tc.name, func(t *testing.T) { convergesUnder(t, tc.kinds) })
	}
}

const convServices = 3

func convergesUnder(t *testing.T, kinds []kit.FaultKind) {
	s := newSandbox(t, 50*time.Millisecond)
	on := func() {
		if err := s.Kit.SetFaultSettings(kit.FaultSettings{Rate: 0.3, Seed: 7, Kinds: kinds}); err != nil {
			t.Fatal(err)
		}
	}
	off := func() { s.Kit.SetFaults(0, 0, 1) }
	hcl := func(image, extraInvoker string) string {
		return s.provider() + fmt.Sprintf(`
resource "alfred_agent_service" "conv" {
  count    = %d
  name     = "conv-${count.index}"
  image    = %q
  invokers = ["serviceAccount:gw-${count.index}@p.iam.gserviceaccount.com"%s]

  deletion_protection = false
}
`, convServices, image, extraInvoker)
	}
	// expect checks the API against the configuration, with faults off, then turns them on again for the
	// plan that must be empty and for what follows.
	expect := func(image string, generation int64, extraInvoker string) resource.TestCheckFunc {
		return func(*terraform.State) error {
			off()
			defer on()
			ctx := context.Background()
			var names []string
			it := s.client.ListServices(ctx, &runpb.ListServicesRequest{Parent: "projects/p/locations/europe-west1"})
			for {
				svc, err := it.Next()
				if err == iterator.Done {
					break
				}
				if err != nil {
					return fmt.Errorf("ListServices: %w", err)
				}
				names = append(names, svc.GetName())
				if img := svc.GetTemplate().GetContainers()[0].GetImage(); img != image {
					return fmt.Errorf("%s runs %s, want %s", svc.GetName(), img, image)
				}
				if svc.GetGeneration() != generation || svc.GetReconciling() {
					return fmt.Errorf("%s is at generation %d (reconciling %v), want %d: a change was written more than once",
						svc.GetName(), svc.GetGeneration(), svc.GetReconciling(), generation)
				}
				inv, err := s.invokers(svc.GetName())
				if err != nil {
					return err
				}
				i := strings.TrimPrefix(svc.GetName(), name("p", "europe-west1", "conv-"))
				want := []string{fmt.Sprintf("serviceAccount:gw-%s@p.iam.gserviceaccount.com", i)}
				if extraInvoker != "" {
					want = append(want, extraInvoker)
				}
				sort.Strings(inv)
				sort.Strings(want)
				if strings.Join(inv, ",") != strings.Join(want, ",") {
					return fmt.Errorf("%s has invokers %v, want %v", svc.GetName(), inv, want)
				}
			}
			sort.Strings(names)
			var want []string
			for i := 0; i < convServices; i++ {
				want = append(want, name("p", "europe-west1", fmt.Sprintf("conv-%d", i)))
			}
			if strings.Join(names, ",") != strings.Join(want, ",") {
				return fmt.Errorf("services in the API: %v, want exactly %v", names, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy: func(*terraform.State) error {
			off()
			it := s.client.ListServices(context.Background(), &runpb.ListServicesRequest{Parent: "projects/p/locations/-"})
			svc, err := it.Next()
			if err != iterator.Done {
				return fmt.Errorf("after destroy the API still lists %v (err %v)", svc.GetName(), err)
			}
			// The test means something only if the faults happened.
			inj := s.Kit.Injected()
			t.Logf("faults injected: %v", inj)
			for _, kind := range kinds {
				if inj[kind] == 0 {
					return fmt.Errorf("no %s fault was injected: %v", kind, inj)
				}
			}
			if len(inj) == 0 {
				return fmt.Errorf("no fault was injected")
			}
			return nil
		},
		Steps: []resource.TestStep{
			{
				PreConfig: on,
				Config:    hcl("example.com/conv:v1", ""),
				Check:     expect("example.com/conv:v1", 1, ""),
			},
			{
				PreConfig: on,
				Config:    hcl("example.com/conv:v2", `, "group:ops@example.com"`),
				Check:     expect("example.com/conv:v2", 2, "group:ops@example.com"),
			},
		},
	})
}
