package backuppolicy_test

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// The encryption key and the DSN's password appear in no TF_LOG=TRACE log (the lifecycle test checks the
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
	t.Setenv("TF_LOG", "TRACE")
	t.Setenv("TF_LOG_PATH", logPath)
	t.Setenv("TF_ACC_LOG_PATH", logPath)
	cfg := e.provider() + `
variable "key" {
  type      = string
  sensitive = true
}
variable "dsn" {
  type      = string
  sensitive = true
}
` + regexp.MustCompile(`encryption_key = ".*"`).ReplaceAllString(
		regexp.MustCompile(`dsn       = ".*"`).ReplaceAllString(e.policy("0 3 * * *", 7, ""), "dsn       = var.dsn"), "encryption_key = var.key")
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps:                    []resource.TestStep{{Config: cfg}, {Config: cfg, PlanOnly: true}},
	})
	b, err := os.ReadFile(logPath)
	if err != nil || len(b) == 0 {
		t.Fatalf("no trace log written (%v)", err)
	}
	if !strings.Contains(string(b), "alfred_backup_policy") || !strings.Contains(string(b), "ApplyResourceChange") {
		t.Fatal("the trace log does not hold the provider's calls: this test would prove nothing")
	}
	for what, secret := range map[string]string{"the DSN's password": password, "the keyset's key material": material} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the TRACE log holds %s", what)
		}
	}
}
