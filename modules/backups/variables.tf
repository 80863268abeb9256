variable "name" {
  description = "Name of the backup policy (its Cloud Run job and scheduler job, and the `service` label of its metric)."
  type        = string
  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$", var.name))
    error_message = "`name` must be lowercase letters, digits and hyphens, start with a letter, not end with a hyphen, at most 63 characters."
  }
}

variable "schedule" {
  description = "Five unix-cron fields, optionally prefixed with `CRON_TZ=Zone/Name `."
  type        = string
  default     = "0 3 * * *"
}

variable "time_zone" {
  description = "tz database zone of `schedule` (null: UTC, or the schedule's CRON_TZ)."
  type        = string
  default     = null
}

variable "keep_last" {
  description = "How many newest good backup sets each run keeps."
  type        = number
  default     = 7
  validation {
    condition     = var.keep_last >= 1 && floor(var.keep_last) == var.keep_last
    error_message = "`keep_last` must be a whole number of at least 1: a policy that keeps nothing is not a backup."
  }
}

variable "max_age" {
  description = "Also delete good sets older than this duration, e.g. `720h` (null: no age limit)."
  type        = string
  default     = null
}

variable "postgres_dsn" {
  description = "DSN of the PostgreSQL cluster, with a role that reads every row."
  type        = string
  sensitive   = true
  default     = null
}

variable "databases" {
  description = "PostgreSQL databases to back up."
  type        = list(string)
  default     = []
}

variable "qdrant_collections" {
  description = "Qdrant collections to back up; the provider's qdrant block (url and rest_url) must then be configured: the runner reaches the cluster with it."
  type        = list(string)
  default     = []
}

variable "bucket" {
  description = "S3 bucket of the backups."
  type        = string
}

variable "prefix" {
  description = "Key prefix of the backup sets, ending in `/`."
  type        = string
  default     = "alfred/"
  validation {
    condition     = endswith(var.prefix, "/") && !startswith(var.prefix, "/")
    error_message = "`prefix` must be relative and end in \"/\", e.g. \"alfred/\"."
  }
}

variable "encryption_key" {
  description = "Tink keyset (JSON) of the backups (`alfredctl backup keygen`)."
  type        = string
  sensitive   = true
}

variable "runner_image" {
  description = "Container image of alfredctl."
  type        = string
}

variable "runner_service_account" {
  description = "Service account the backup job runs as, and whose OAuth token Cloud Scheduler uses."
  type        = string
}

variable "runner_grant_role" {
  description = "Role granted to the runner on the job (one holding run.jobs.run), or `none` when it holds one on the project already."
  type        = string
  default     = "roles/run.invoker"
}

variable "pre_migration" {
  description = "A backup taken at apply before a migration: a change of `triggers` takes a new one. null: none."
  type = object({
    triggers          = map(string)
    retain_on_destroy = optional(bool, true)
  })
  default = null
}
