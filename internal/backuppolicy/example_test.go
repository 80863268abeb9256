package backuppolicy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

// The documented examples of both resources apply against the sandbox as written (the keyset file's
// content inlined), the backup lands in the policy's bucket, and a second plan is empty.
func TestAccBackupExamples_apply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.bucket, e.name = "alfred-example-backups", "alfred-nightly"
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	e.exec(e.dsn, "create database alfred")
	e.exec(e.dsn, "create database tasks")
	var cfg string
	for _, f := range []string{"alfred_backup_policy/resource.tf", "alfred_backup/resource.tf"} {
		b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "examples", "resources", f))
		if err != nil {
			t.Fatal(err)
		}
		cfg += string(b) + "\n"
	}
	cfg = strings.NewReplacer(`file("backup.keyset.json")`, "var.example_key", `"alfred-backups"`, fmt.Sprintf("%q", e.bucket)).Replace(cfg) + `
variable "example_key" {
  type      = string
  sensitive = true
}
`
	vars := config.Variables{"backup_dsn": config.StringVariable(e.dsn), "example_key": config.StringVariable(e.keyset)}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{Config: e.provider() + cfg, ConfigVariables: vars, Check: func(s *terraform.State) error {
				_, err := e.set(s, "alfred_backup.pre_migration")
				return err
			}},
			{Config: e.provider() + cfg, ConfigVariables: vars, PlanOnly: true},
		},
	})
}
