# Network security is imported by the project ref.
terraform import alfred_supabase_network_security.db abcdefghijklmnopqrst
