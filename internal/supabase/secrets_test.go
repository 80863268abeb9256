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

// The access token never reaches a TF_LOG=TRACE log of plan, apply, refresh and destroy, although the
// log holds the provider's Management API traffic. Serial: it sets environment variables.
func TestAccSupabase_accessTokenNeverLogged(t *testing.T) {
	s := newSandbox(t, sbx.Options{RemoveAfter: -1})
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logPath)
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	// As in a pipeline: the token comes from the environment (a token written in the configuration is in
	// the configuration, which the test harness itself logs).
	t.Setenv("SUPABASE_ACCESS_TOKEN", token)
	provider := "provider \"alfred\" {\n  supabase {\n    api_url = \"" + s.URL + "\"\n  }\n}\n"
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             s.checkNoReplicas,
		Steps: []resource.TestStep{
			{Config: provider + strings.TrimPrefix(replicaHCL(s, "eu-west-3", ""), s.provider()) + "resource \"alfred_supabase_network_security\" \"db\" {\n  project_ref = \"" + ref + "\"\n}\n"},
		},
	})
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("no TRACE log was written: %v", err)
	}
	log := string(b)
	if !strings.Contains(log, "/read-replicas/setup") || !strings.Contains(log, "Supabase Management API request") {
		t.Fatalf("the TRACE log (%d bytes) does not hold the provider's Management API traffic", len(b))
	}
	if i := strings.Index(log, token[8:]); i >= 0 {
		t.Logf("context: %s", log[max(0, i-700):min(len(log), i+100)])
		t.Fatal("the TRACE log contains the access token")
	}
}

// Without the supabase block (nor its environment variables) both resources fail at plan time, naming the
// block and the variables. Serial: it clears environment variables.
func TestAccSupabase_missingProviderBlockIsReportedAtPlan(t *testing.T) {
	for _, e := range []string{"SUPABASE_ACCESS_TOKEN", "ALFRED_SUPABASE_API_URL", "ALFRED_SUPABASE_ORG_SLUG"} {
		t.Setenv(e, "")
	}
	var steps []resource.TestStep
	for _, body := range []string{
		"resource \"alfred_supabase_read_replica\" \"r\" {\n  project_ref = \"" + ref + "\"\n  region = \"eu-west-1\"\n}\n",
		"resource \"alfred_supabase_network_security\" \"n\" {\n  project_ref = \"" + ref + "\"\n}\n",
	} {
		steps = append(steps, resource.TestStep{
			Config: "provider \"alfred\" {}\n" + body, PlanOnly: true,
			ExpectError: words(`Provider block "supabase" is not configured`),
		})
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps:                    steps,
	})
}
