// Package render holds data sources that render configuration for tools around the platform, starting
// with Prometheus scrape configuration for agent services.
package render

import "github.com/hashicorp/terraform-plugin-framework/datasource"

// DataSources lists the area's data sources for the provider.
func DataSources() []func() datasource.DataSource {
	return []func() datasource.DataSource{NewPrometheusScrapeConfigDataSource, NewPrometheusRulesDataSource, NewGrafanaDashboardDataSource}
}
