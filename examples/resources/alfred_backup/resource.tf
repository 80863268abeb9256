variable "schema_version" {
  type    = string
  default = "0042"
}

# A backup taken before each migration: a new schema_version takes a new backup first.
resource "alfred_backup" "pre_migration" {
  policy   = alfred_backup_policy.nightly.id
  triggers = { schema_version = var.schema_version }
}

# Whatever runs the migration depends on the backup, so it never runs without one.
resource "terraform_data" "migration" {
  input      = var.schema_version
  depends_on = [alfred_backup.pre_migration]
}

output "pre_migration_backup" {
  value = {
    backup_id = alfred_backup.pre_migration.backup_id
    bucket    = alfred_backup.pre_migration.bucket
    prefix    = alfred_backup.pre_migration.prefix
  }
}
