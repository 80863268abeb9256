# A read replica is imported by <project_ref>/<identifier> (the identifier as the Management API lists it)...
terraform import alfred_supabase_read_replica.eu abcdefghijklmnopqrst/abcdefghijklmnopqrst-rr-eu-central-1-xyzab

# ...or by the identifier alone: the provider finds its project among those the token can see.
terraform import alfred_supabase_read_replica.eu abcdefghijklmnopqrst-rr-eu-central-1-xyzab
