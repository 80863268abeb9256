# Database scaling and network security on Supabase (ops guide: "horizontally, using read replicas";
# security plan: data travels encrypted and only from where it should).

variable "supabase_project_ref" {
  description = "Ref of the Supabase project that holds the platform's state (the sandbox seeds alfredsandboxproject)."
  type        = string
  default     = "alfredsandboxproject"
}

# A read replica for analytical reads, in the primary's region.
resource "alfred_supabase_read_replica" "analytics" {
  project_ref = var.supabase_project_ref
  region      = "us-east-1"
}

# Only SSL connections, and only from the agents' networks (in the sandbox: loopback).
resource "alfred_supabase_network_security" "db" {
  project_ref      = var.supabase_project_ref
  ssl_enforcement  = true
  allowed_cidrs    = ["127.0.0.0/8"]
  allowed_cidrs_v6 = ["::1/128"]
}

output "read_replica" {
  value = {
    identifier = alfred_supabase_read_replica.analytics.identifier
    status     = alfred_supabase_read_replica.analytics.status
    endpoint   = "${alfred_supabase_read_replica.analytics.db_host}:${alfred_supabase_read_replica.analytics.db_port}"
  }
}
