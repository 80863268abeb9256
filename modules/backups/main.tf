locals {
  nothing_to_back_up = length(var.databases) == 0 && length(var.qdrant_collections) == 0
}

resource "alfred_backup_policy" "this" {
  name           = var.name
  schedule       = var.schedule
  time_zone      = var.time_zone
  encryption_key = var.encryption_key

  retention {
    keep_last = var.keep_last
    max_age   = var.max_age
  }

  dynamic "postgres" {
    for_each = length(var.databases) > 0 ? [1] : []
    content {
      dsn       = var.postgres_dsn
      databases = var.databases
    }
  }

  dynamic "qdrant" {
    for_each = length(var.qdrant_collections) > 0 ? [1] : []
    content {
      collections = var.qdrant_collections
    }
  }

  destination {
    bucket = var.bucket
    prefix = var.prefix
  }

  runner {
    image           = var.runner_image
    service_account = var.runner_service_account
    grant_role      = var.runner_grant_role
  }

  lifecycle {
    precondition {
      condition     = !local.nothing_to_back_up
      error_message = "Name at least one database (`databases`) or Qdrant collection (`qdrant_collections`)."
    }
    precondition {
      condition     = length(var.databases) == 0 || var.postgres_dsn != null
      error_message = "`databases` needs `postgres_dsn`."
    }
  }
}

resource "alfred_backup" "pre_migration" {
  count             = var.pre_migration == null ? 0 : 1
  policy            = alfred_backup_policy.this.id
  triggers          = var.pre_migration.triggers
  retain_on_destroy = var.pre_migration.retain_on_destroy
}
