# The agents dashboard: task rate, failures, latency percentiles, CPU, memory, failed logins, backup age.
data "alfred_grafana_dashboard" "agents" {
  title          = "Alfred agents"
  uid            = "alfred-agents"
  services       = ["alfred-bot", "social-intel"]
  datasource_uid = "managed-prometheus"
  refresh        = "1m"
  time_from      = "now-24h"
}

# For Grafana's file provisioning, or the Grafana provider's grafana_dashboard.config_json.
output "grafana_dashboard" {
  value = data.alfred_grafana_dashboard.agents.json
}
