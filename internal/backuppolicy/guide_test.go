package backuppolicy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
)

var fenceRE = regexp.MustCompile("(?s)```(terraform|shell)\n(.*?)```")

// guide returns the rollback walkthrough's Terraform configuration and its alfredctl commands, in order.
func guide(t *testing.T) (hcl string, commands []string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(acctest.RepoRoot(), "templates", "guides", "rollback.md.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range fenceRE.FindAllStringSubmatch(string(b), -1) {
		if m[1] == "terraform" {
			hcl += m[2]
			continue
		}
		for _, line := range strings.Split(m[2], "\n") {
			if strings.HasPrefix(line, "alfredctl ") {
				commands = append(commands, line)
			}
		}
	}
	if hcl == "" || len(commands) != 2 {
		t.Fatalf("the guide should hold a terraform block and two alfredctl commands, found %d", len(commands))
	}
	return hcl, commands
}

// The documented rollback: a backup before the migration, a bad migration, a restore beside the database,
// then over it.
func TestAccRollbackGuide_followsTheWalkthrough(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	hcl, commands := guide(t)
	// The guide's names: bucket alfred-backups, database app, policy app-nightly.
	e.bucket, e.db, e.name = "alfred-backups", "app", "app-nightly"
	if _, err := e.s3.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(e.bucket)}); err != nil {
		t.Fatal(err)
	}
	e.exec(e.dsn, "create database app")
	e.exec(e.dbDSN("app"), "create table items (id int primary key, name text not null); insert into items select i, 'item '||i from generate_series(1,3) i")
	vars := func(migration string) config.Variables {
		return config.Variables{"migration": config.StringVariable(migration), "postgres_dsn": config.StringVariable(e.dsn),
			"encryption_key": config.StringVariable(e.keyset)}
	}
	var before string
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		CheckDestroy:             e.checkDestroyed,
		Steps: []resource.TestStep{
			{
				Config: e.provider() + hcl, ConfigVariables: vars("0001"),
				Check: func(s *terraform.State) error {
					before = s.RootModule().Outputs["backup_id"].Value.(string)
					return nil
				},
			},
			{
				// Step 2 of the guide: a new migration takes a new backup first.
				Config: e.provider() + hcl, ConfigVariables: vars("0002"),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("alfred_backup.pre_migration", plancheck.ResourceActionReplace),
				}},
				Check: func(s *terraform.State) error {
					out := func(k string) string { return s.RootModule().Outputs[k].Value.(string) }
					if out("backup_id") == before {
						return fmt.Errorf("the new migration took no new backup")
					}
					// Step 3: the migration goes wrong.
					e.exec(e.dbDSN("app"), "delete from items where id > 1")
					// Steps 4 and 5, as written.
					for i, cmd := range commands {
						cmd = strings.NewReplacer("BACKUP_ID", out("backup_id"), "BUCKET", out("bucket"), "PREFIX", out("prefix")).Replace(cmd)
						args := strings.Fields(cmd)[1:]
						if o, err := e.alfredctl(args...); err != nil {
							return fmt.Errorf("%s: %v\n%s", cmd, err, o)
						}
						db := "app_restored"
						if i == 1 {
							db = "app"
						}
						if n := e.count(db, "items"); n != 3 {
							return fmt.Errorf("after %q, %s holds %d rows of items, want 3", cmd, db, n)
						}
					}
					return nil
				},
			},
		},
	})
}
