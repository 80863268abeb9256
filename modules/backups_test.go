package modules_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
)

// The backups module applies a policy and a pre-migration backup (taken by the policy's Cloud Run job,
// which really runs alfredctl), plans empty afterwards, refuses bad input at plan time, and destroys the
// jobs while the backup stays in the bucket.
func TestBackupsModuleAppliesAPolicyAndAPreMigrationBackup(t *testing.T) {
	env := acctest.Sandbox(t).Env
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	if _, err := db.Exec(ctx, `create database modbackups`); err != nil {
		t.Fatal(err)
	}
	st3 := s3.New(s3.Options{Region: env["AWS_REGION"], UsePathStyle: true, BaseEndpoint: aws.String(env["ALFRED_S3_ENDPOINT"]),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"]}, nil
		})})
	if _, err := st3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("module-backups")}); err != nil {
		t.Fatal(err)
	}
	ks, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}

	cli := acctest.NewCLI(t)
	main := func(keepLast string) string {
		return header + `
variable "key" {
  type      = string
  sensitive = true
}
variable "dsn" {
  type      = string
  sensitive = true
}
module "backups" {
  source                 = "MODULES/backups"
  name                   = "module-nightly"
  keep_last              = ` + keepLast + `
  postgres_dsn           = var.dsn
  databases              = ["modbackups"]
  bucket                 = "module-backups"
  encryption_key         = var.key
  runner_image           = "example.com/tools/alfredctl:1"
  runner_service_account = "module-runner@p.iam.gserviceaccount.com"
  pre_migration          = { triggers = { migration = "0001" } }
}
output "pre" { value = module.backups.pre_migration_backup.backup_id }
output "prefix" { value = module.backups.pre_migration_backup.prefix }
`
	}
	dir := workDir(t, main("0"))
	t.Setenv("TF_VAR_key", string(ks))
	t.Setenv("TF_VAR_dsn", env["ALFRED_POSTGRES_DSN"])
	cli.Init(t, dir)
	if _, out := cli.Run(t, dir, []int{1}, "plan", "-input=false", "-no-color"); !strings.Contains(out, "keep_last") || !strings.Contains(out, "at least 1") {
		t.Fatalf("keep_last = 0 must be refused at plan time by the module:\n%s", out)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte(strings.ReplaceAll(main("3"), "MODULES", mustRel(t, dir))), 0o644); err != nil {
		t.Fatal(err)
	}
	cli.Run(t, dir, []int{0}, "apply", "-auto-approve", "-input=false", "-no-color")
	if code, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color"); code != 0 {
		t.Fatalf("the second plan must be empty:\n%s", out)
	}
	_, id := cli.Run(t, dir, []int{0}, "output", "-raw", "pre")
	_, prefix := cli.Run(t, dir, []int{0}, "output", "-raw", "prefix")
	store, err := backup.NewStore(backup.StoreConfig{Bucket: "module-backups", Prefix: prefix, Endpoint: env["ALFRED_S3_ENDPOINT"], Region: env["AWS_REGION"],
		AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Manifest(ctx, id); err != nil {
		t.Fatalf("the pre-migration backup %s is not in the bucket: %v", id, err)
	}
	cli.Run(t, dir, []int{0}, "destroy", "-auto-approve", "-input=false", "-no-color")
	if _, err := store.Manifest(ctx, id); err != nil {
		t.Fatalf("destroy must keep the pre-migration backup (retain_on_destroy defaults to true): %v", err)
	}
}

func mustRel(t *testing.T, dir string) string {
	t.Helper()
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, root)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}
