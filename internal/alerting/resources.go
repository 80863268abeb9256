// Package alerting manages Alfred's alerting on Google Cloud: Cloud Monitoring notification channels
// (alfred_notification_channel) and alert policies with PromQL conditions, either from the preset
// catalogue (internal/shared/presets) or raw PromQL (alfred_alert_policy). Alert policy writes are
// serialised per project inside the provider process, since Cloud Monitoring refuses concurrent edits of
// a project's configuration (ABORTED, "Too many concurrent edits"), and retried with backoff.
package alerting

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{NewNotificationChannelResource, NewAlertPolicyResource, NewLogMetricResource}
}

// DataSources lists the area's data sources for the provider.
func DataSources() []func() datasource.DataSource {
	return nil
}
