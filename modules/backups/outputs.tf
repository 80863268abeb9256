output "policy_id" {
  description = "The policy's id (its Cloud Run job), for `alfred_backup.policy` elsewhere."
  value       = alfred_backup_policy.this.id
}

output "scheduler_job" {
  description = "The Cloud Scheduler job (for `gcloud scheduler jobs run` to run it now)."
  value       = alfred_backup_policy.this.scheduler_job
}

output "last_success" {
  description = "Finish time of the newest complete backup set at the last refresh (null before the first)."
  value       = alfred_backup_policy.this.last_success
}

output "pre_migration_backup" {
  description = "The pre-migration backup (`backup_id`, `bucket`, `prefix`, `sha256`, `created_at`), or null. Make the migration depend on this output."
  value = var.pre_migration == null ? null : {
    backup_id  = alfred_backup.pre_migration[0].backup_id
    bucket     = alfred_backup.pre_migration[0].bucket
    prefix     = alfred_backup.pre_migration[0].prefix
    sha256     = alfred_backup.pre_migration[0].sha256
    created_at = alfred_backup.pre_migration[0].created_at
  }
}
