variable "collections" {
  description = <<-EOT
    Qdrant collections by name. `vectors`: name -> `{ size, distance, on_disk }` (the unnamed default vector is
    the key `""`); `shard_number`, `replication_factor` (Active replicas of every shard, on distinct peers),
    `write_consistency_factor`, `payload_indexes` (field -> type), `aliases`, `quantization`, `on_disk_payload`.
    Unset values take Qdrant's defaults. Changing a vector's size or distance, or `shard_number`, replaces the
    collection and its points.
  EOT
  type = map(object({
    vectors = map(object({
      size     = number
      distance = string
      on_disk  = optional(bool)
    }))
    shard_number             = optional(number)
    replication_factor       = optional(number)
    write_consistency_factor = optional(number)
    on_disk_payload          = optional(bool)
    payload_indexes          = optional(map(string), {})
    aliases                  = optional(set(string), [])
    quantization = optional(object({
      type        = string
      quantile    = optional(number)
      compression = optional(string)
      always_ram  = optional(bool)
    }))
  }))
  default = {}

  validation {
    condition     = alltrue([for n in keys(var.collections) : can(regex("^[A-Za-z0-9_.-]{1,255}$", n))])
    error_message = "collections: names are 1 to 255 letters, digits, `_`, `-` or `.`."
  }
  validation {
    condition     = alltrue(flatten([for c in values(var.collections) : [for v in values(c.vectors) : contains(["Cosine", "Euclid", "Dot", "Manhattan"], v.distance)]]))
    error_message = "collections: every vector's distance is Cosine, Euclid, Dot or Manhattan."
  }
  validation {
    condition     = alltrue([for c in values(var.collections) : c.replication_factor == null || c.write_consistency_factor == null || coalesce(c.write_consistency_factor, 1) <= coalesce(c.replication_factor, 1)])
    error_message = "collections: write_consistency_factor cannot exceed replication_factor (a write would wait for replicas that do not exist)."
  }
}

variable "project_ref" {
  description = "Ref of the Supabase project (20 lowercase letters) whose database the read replicas follow and whose network restrictions `network_security` sets. Required with either."
  type        = string
  default     = null

  validation {
    condition     = var.project_ref == null || can(regex("^[a-z]{20}$", var.project_ref))
    error_message = "project_ref: a Supabase project ref is 20 lowercase letters."
  }
}

variable "read_replicas" {
  description = "Supabase read replicas of the project by key, each with its `region` (one of Supabase's regions). Changing the region replaces the replica."
  type = map(object({
    region = string
  }))
  default = {}
}

variable "network_security" {
  description = "Database network security of the project: `ssl_enforcement` (default true here), `allowed_cidrs` and `allowed_cidrs_v6` (default: everywhere, Supabase's default). null leaves the project's settings alone."
  type = object({
    ssl_enforcement  = optional(bool, true)
    allowed_cidrs    = optional(set(string))
    allowed_cidrs_v6 = optional(set(string))
  })
  default = null

  validation {
    condition     = var.network_security == null || alltrue([for c in concat(tolist(coalesce(try(var.network_security.allowed_cidrs, null), toset([]))), tolist(coalesce(try(var.network_security.allowed_cidrs_v6, null), toset([])))) : can(cidrhost(c, 0))])
    error_message = "network_security: allowed_cidrs and allowed_cidrs_v6 hold CIDR ranges, e.g. 203.0.113.0/24 or 2001:db8::/32."
  }
}

variable "partitions" {
  description = "Time partitions of the application's range-partitioned tables, keyed by `schema.table`: `interval` (day, week, month), `premake` (intervals created ahead), `retention` (e.g. `90d`; unset keeps every partition), `retention_action` (detach or drop) and `default_partition`."
  type = map(object({
    interval          = optional(string, "day")
    premake           = optional(number, 7)
    retention         = optional(string)
    retention_action  = optional(string, "detach")
    default_partition = optional(bool, true)
  }))
  default = {}

  validation {
    condition     = alltrue([for k in keys(var.partitions) : length(split(".", k)) == 2])
    error_message = "partitions: keys are `schema.table`, e.g. `public.events`."
  }
  validation {
    condition     = alltrue([for p in values(var.partitions) : contains(["day", "week", "month"], p.interval) && contains(["detach", "drop"], p.retention_action)])
    error_message = "partitions: interval is day, week or month; retention_action is detach or drop."
  }
}
