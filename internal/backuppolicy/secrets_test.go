package backuppolicy_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// The encryption key, the DSN's password and the provider's Qdrant API key appear in no TF_LOG=TRACE log (the lifecycle test checks the
// job's arguments). They come in through TF_VAR_ variables: the test harness logs the configuration's text.
// Not parallel: it sets the process environment.
func TestAccBackupPolicy_secretsNeverInTraceLog(t *testing.T) {
	e := newEnv(t)
	const password = "pw-SENTINEL-never-logged-7d2e"
	u, err := url.Parse(e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), password)
	var ks struct {
		Key []struct {
			KeyData struct{ Value string } `json:"keyData"`
		} `json:"key"`
	}
	if err := json.Unmarshal([]byte(e.keyset), &ks); err != nil || len(ks.Key) == 0 || ks.Key[0].KeyData.Value == "" {
		t.Fatalf("keyset without key material? %v", err)
	}
	material := ks.Key[0].KeyData.Value
	logPath := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("TF_VAR_key", e.keyset)
	t.Setenv("TF_VAR_dsn", u.String())
	const qdrantKey = "qdrant-SENTINEL-never-logged-41c9"
	t.Setenv("TF_VAR_qdrant_key", qdrantKey)
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logPath)
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	// The provider's Qdrant key reaches the job of a policy with collections (nothing calls Qdrant at apply).
	qdrant := fmt.Sprintf("qdrant {\n    url      = %q\n    rest_url = %q\n    api_key  = var.qdrant_key\n  }", e.sb["ALFRED_QDRANT_URL"], e.sb["ALFRED_QDRANT_REST_URL"])
	cfg := e.providerWith(qdrant) + `
variable "qdrant_key" {
  type      = string
  sensitive = true
}
variable "key" {
  type      = string
  sensitive = true
}
variable "dsn" {
  type      = string
  sensitive = true
}
` + withCollections(regexp.MustCompile(`encryption_key = ".*"`).ReplaceAllString(
		regexp.MustCompile(`dsn       = ".*"`).ReplaceAllString(e.policy("0 3 * * *", 7, ""), "dsn       = var.dsn"), "encryption_key = var.key"), "memories")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{{Config: cfg, Check: func(*terraform.State) error {
			for _, v := range e.job().GetTemplate().GetTemplate().GetContainers()[0].GetEnv() {
				if v.GetName() == "QDRANT_API_KEY" && v.GetValue() == qdrantKey {
					return nil
				}
			}
			return fmt.Errorf("the job does not carry the provider's Qdrant key: the log check below would prove nothing about it")
		}}, {Config: cfg, PlanOnly: true}},
	})
	b, err := os.ReadFile(logPath)
	if err != nil || len(b) == 0 {
		t.Fatalf("no trace log written (%v)", err)
	}
	if !strings.Contains(string(b), "alfred_backup_policy") || !strings.Contains(string(b), "ApplyResourceChange") {
		t.Fatal("the trace log does not hold the provider's calls: this test would prove nothing")
	}
	for what, secret := range map[string]string{"the DSN's password": password, "the keyset's key material": material, "the Qdrant API key": qdrantKey} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the TRACE log holds %s", what)
		}
	}
}
