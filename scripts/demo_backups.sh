#!/usr/bin/env bash
# The backup step of make demo: a backup policy for the platform's database (modules/backups) whose Cloud
# Run job runs alfredctl, one backup taken by it (an alfred_backup: the policy's job run once, as Cloud
# Scheduler would), and `alfredctl backup verify` of that backup. Expects the sandbox's environment
# (sandbox.env), alfredctl and terraform on PATH, TF_CLI_CONFIG_FILE with the provider's dev_overrides, and
# the plugin directory for `terraform init` as $1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
plugins=$1
work=$root/.alfred/demo-backups
bucket=alfred-demo-backups
mkdir -p "$work"
cd "$work"

# The bucket (versitygw answers 409 when it exists: fine on a second run).
code=$(curl -sS -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:${AWS_REGION}:s3" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
  --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -X PUT "$ALFRED_S3_ENDPOINT/$bucket")
case $code in 200 | 409) ;; *) echo "demo: creating bucket $bucket: HTTP $code" >&2; exit 1 ;; esac
[ -f backup.keyset.json ] || alfredctl backup keygen --out backup.keyset.json

cat > main.tf <<TF
terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
provider "alfred" {}

variable "dsn" {
  type      = string
  sensitive = true
}

module "backups" {
  source                 = "$root/modules/backups"
  name                   = "platform-nightly"
  schedule               = "CRON_TZ=Europe/Berlin 0 3 * * *"
  postgres_dsn           = var.dsn
  databases              = ["postgres"]
  bucket                 = "$bucket"
  encryption_key         = file("backup.keyset.json")
  runner_image           = "local/alfredctl:demo"
  runner_service_account = "backup-runner@${ALFRED_GCP_PROJECT}.iam.gserviceaccount.com"
  pre_migration          = { triggers = { demo = "1" } }
}

output "backup_id" { value = module.backups.pre_migration_backup.backup_id }
output "prefix" { value = module.backups.pre_migration_backup.prefix }
TF
rm -f .terraform.lock.hcl
terraform init -input=false -no-color -plugin-dir="$plugins" >/dev/null
TF_VAR_dsn=$ALFRED_POSTGRES_DSN terraform apply -auto-approve -input=false -no-color >/dev/null
id=$(terraform output -raw backup_id)
prefix=$(terraform output -raw prefix)
echo "  policy platform-nightly deployed (Cloud Run job + Cloud Scheduler job); backup $id taken under s3://$bucket/$prefix"
ALFRED_BACKUP_KEYSET_FILE=$work/backup.keyset.json alfredctl backup verify "$id" --bucket "$bucket" --prefix "$prefix"
