package alerting

import "github.com/hashicorp/terraform-plugin-framework/resource"

// LogMetricResources lists alfred_log_metric for the provider. When the package's Resources() (owned with
// the alert policy and notification channel resources) exists, NewLogMetricResource belongs in it and this
// file can go.
func LogMetricResources() []func() resource.Resource {
	return []func() resource.Resource{NewLogMetricResource}
}
