# An alert policy is imported by its full name...
terraform import alfred_alert_policy.alfred_bot projects/alfred-prod/alertPolicies/1234567890123456789

# ...or by project/id. Conditions are read back as raw PromQL (the API keeps only the rendered query); a
# configuration with presets then plans one update that rewrites the same queries.
terraform import alfred_alert_policy.alfred_bot alfred-prod/1234567890123456789
