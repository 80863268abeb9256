package rbac_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// The DSN is sensitive: its password must appear in no state and no TF_LOG=TRACE log. The DSN comes from
// ALFRED_POSTGRES_DSN (the test harness logs the configuration's text, so the password cannot be in HCL);
// the test cluster trusts loopback connections, so any password connects.
func TestAccRBAC_dsnPasswordNeverInStateOrTraceLog(t *testing.T) {
	const password = "pw-SENTINEL-never-logged-41c9"
	d := newTestDB(t)
	u, err := url.Parse(d.DSN)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("ALFRED_POSTGRES_DSN", u.String())
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logPath)
	t.Setenv("TF_ACC_LOG_PATH", logPath)

	cfg := `
provider "alfred" {}

resource "alfred_rbac_role" "viewer" {
  name        = "viewer"
  permissions = ["tasks.read"]
}

resource "alfred_rbac_role_assignment" "alice" {
  principal = "` + alice + `"
  role      = alfred_rbac_role.viewer.name
}
`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: func(st *terraform.State) error {
					for addr, r := range st.RootModule().Resources {
						for k, v := range r.Primary.Attributes {
							if strings.Contains(v, password) {
								return fmt.Errorf("%s.%s holds the DSN's password", addr, k)
							}
						}
					}
					return nil
				},
			},
			{ResourceName: "alfred_rbac_role.viewer", ImportState: true, ImportStateVerify: true},
		},
	})
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no TRACE log was written: %v", err)
	}
	log := string(b)
	if !strings.Contains(log, "alfred_rbac_role") || !strings.Contains(log, "tasks.read") {
		t.Fatalf("the TRACE log (%d bytes) does not hold this test's traffic, so it proves nothing", len(b))
	}
	if strings.Contains(log, password) {
		t.Fatal("the TRACE log contains the DSN's password")
	}
}
