package supabase_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

// The documentation's examples apply as written against the emulator (only the project ref differs).
func TestAccSupabase_examplesApply(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	var hcl string
	for _, typ := range []string{"alfred_supabase_read_replica", "alfred_supabase_network_security"} {
		b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "resources", typ, "resource.tf"))
		if err != nil {
			t.Fatal(err)
		}
		hcl += strings.ReplaceAll(string(b), `"abcdefghijklmnopqrst"`, `"`+ref+`"`) + "\n"
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{{
			Config: s.provider() + hcl,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("alfred_supabase_read_replica.eu", "status", "ACTIVE_HEALTHY"),
				s.expectNet(true, "198.51.100.17/32,203.0.113.0/24", "2001:db8:1234::/48"),
			),
		}},
	})
}
