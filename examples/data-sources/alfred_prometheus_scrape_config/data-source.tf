# Scrape every agent's /metrics over HTTPS with an identity token of a principal in the agents' invokers.
data "alfred_prometheus_scrape_config" "agents" {
  job_name          = "alfred-agents"
  scrape_interval   = "30s"
  bearer_token_file = "/etc/prometheus/secrets/agent-invoker-token"

  services = [
    { name = alfred_agent_service.alfred_bot.name, uri = alfred_agent_service.alfred_bot.uri },
    { name = "social-intel", uri = "https://social-intel-3f2a9c0d1e-ew.a.run.app", metrics_path = "/internal/metrics" },
  ]
}

# Include it in prometheus.yml (e.g. through a templated file or a ConfigMap).
output "prometheus_scrape_configs" {
  value = data.alfred_prometheus_scrape_config.agents.yaml
}
