variable "name" {
  description = "Service name (lowercase letters, digits and hyphens)."
  type        = string
}

variable "image" {
  description = "Container image URL."
  type        = string
}

variable "args" {
  description = "Container arguments."
  type        = list(string)
  default     = []
}

variable "env" {
  description = "Plain environment variables."
  type        = map(string)
  default     = {}
}

variable "secret_env" {
  description = "Environment variables read from Secret Manager: references only, never values."
  type = map(object({
    secret  = string
    version = optional(string, "latest")
  }))
  default = {}
}

variable "memory" {
  description = "Memory limit, e.g. `1Gi`."
  type        = string
  default     = "1Gi"
}

variable "cpu" {
  description = "CPU limit, e.g. `1` or `2000m`."
  type        = string
  default     = "1"
}

variable "min_instances" {
  description = "Instances kept warm."
  type        = number
  default     = 0
}

variable "max_instances" {
  description = "Autoscaling ceiling."
  type        = number
  default     = 10
}

variable "concurrency" {
  description = "Requests one instance serves at once."
  type        = number
  default     = 40
}

variable "invokers" {
  description = "IAM members that may call the agent. Empty keeps it private."
  type        = set(string)
  default     = []
}

variable "service_account" {
  description = "Service account the agent runs as. Defaults to `<name>@<project>.iam.gserviceaccount.com` when `project` is given, else Cloud Run's default."
  type        = string
  default     = null
}

variable "project" {
  description = "Project ID (default: the provider's)."
  type        = string
  default     = null
}

variable "region" {
  description = "Region (default: the provider's)."
  type        = string
  default     = null
}

variable "labels" {
  description = "Labels; `agent = <name>` is added."
  type        = map(string)
  default     = {}
}

variable "metrics_path" {
  description = "Path of the Prometheus metrics endpoint."
  type        = string
  default     = "/metrics"
}

variable "deletion_protection" {
  description = "Refuse to destroy or replace the service until this has been applied as false (the resource's deletion_protection)."
  type        = bool
  default     = true
}
