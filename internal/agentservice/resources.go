// Package agentservice manages Alfred agents as Cloud Run v2 services: resource alfred_agent_service, with
// its invokers kept in the service's IAM policy (roles/run.invoker).
package agentservice

import "github.com/hashicorp/terraform-plugin-framework/resource"

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{NewAgentServiceResource}
}
