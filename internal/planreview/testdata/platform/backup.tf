# Nightly backups of the platform's database; the scenarios shorten the retention, weaken the server-side
# encryption, rename the policy (a replacement) and remove this file (a deletion). The test creates the bucket and passes a fresh keyset
# and the sandbox's DSN.
variable "backup_key" {
  type      = string
  sensitive = true
}

variable "backup_dsn" {
  type      = string
  sensitive = true
}

resource "alfred_backup_policy" "nightly" {
  name           = "nightly"
  schedule       = "0 3 * * *"
  encryption_key = var.backup_key
  retention {
    keep_last = 14
    max_age   = "720h"
  }
  postgres {
    dsn       = var.backup_dsn
    databases = ["postgres"]
  }
  destination {
    bucket     = "platform-backups"
    sse        = "aws:kms"
    kms_key_id = "alias/platform-backups"
  }
  runner {
    image           = "example.com/tools/alfredctl:1"
    service_account = "backup-runner@p.iam.gserviceaccount.com"
  }
}
