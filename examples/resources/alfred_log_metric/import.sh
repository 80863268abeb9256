# A log metric is imported by its full name...
terraform import alfred_log_metric.failed_logins projects/alfred-prod/metrics/auth/failed_logins

# ...or by project/name.
terraform import alfred_log_metric.failed_logins alfred-prod/auth/failed_logins
