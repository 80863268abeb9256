# Nightly backups of the platform's databases at 03:00 Berlin time, kept for 14 runs and at most 30 days.
resource "alfred_backup_policy" "nightly" {
  name           = "alfred-nightly"
  schedule       = "CRON_TZ=Europe/Berlin 0 3 * * *"
  encryption_key = file("backup.keyset.json") # alfredctl backup keygen --out backup.keyset.json

  retention {
    keep_last = 14
    max_age   = "720h"
  }

  postgres {
    dsn       = var.backup_dsn # a role that reads every row (superuser or BYPASSRLS)
    databases = ["alfred", "tasks"]
  }

  destination {
    bucket = "alfred-backups"
    prefix = "prod/"
  }

  runner {
    image           = "europe-docker.pkg.dev/alfred-prod/tools/alfredctl:1.4.0"
    service_account = "backup-runner@alfred-prod.iam.gserviceaccount.com"
  }
}

variable "backup_dsn" {
  type      = string
  sensitive = true
}

# Page when the newest backup is older than 26 hours.
resource "alfred_alert_policy" "backups" {
  display_name = "alfred backups"
  severity     = "CRITICAL"
  condition {
    preset  = "backup_staleness"
    service = alfred_backup_policy.nightly.name
    # Cloud Monitoring refuses PromQL on a metric never written: the first run writes it.
    disable_metric_validation = true
  }
}
