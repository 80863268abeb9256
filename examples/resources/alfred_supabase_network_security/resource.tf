# Only the office and the agents' NAT may reach Postgres and its pooler, and only over SSL.
resource "alfred_supabase_network_security" "db" {
  project_ref      = "abcdefghijklmnopqrst"
  ssl_enforcement  = true
  allowed_cidrs    = ["203.0.113.0/24", "198.51.100.17/32"]
  allowed_cidrs_v6 = ["2001:db8:1234::/48"]
}
