package supabase

import (
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{NewReadReplicaResource, NewNetworkSecurityResource}
}

// clientFor returns the provider's one Management API client, built on first use.
func clientFor(data *shared.ProviderData, typeName string, diags *diag.Diagnostics) *Client {
	if data == nil {
		diags.AddError("Provider not configured", "The alfred provider was not configured before "+typeName+
			" was used. This is a bug in the provider; please report it.")
		return nil
	}
	if !shared.Require(data, typeName, shared.BlockSupabase, diags) {
		return nil
	}
	cfg := data.Supabase
	if cfg.AccessToken == "" {
		diags.AddError("Supabase access token is not set",
			typeName+" needs a Management API access token: set the provider's supabase.access_token or SUPABASE_ACCESS_TOKEN.")
		return nil
	}
	c, err := data.Client("supabase", func() (any, func(), error) {
		c := NewClient(cfg.APIURL, cfg.AccessToken, data.Version)
		c.OrgSlug = cfg.OrganizationSlug
		return c, nil, nil
	})
	if err != nil {
		diags.AddError("Cannot build the Supabase Management API client", err.Error())
		return nil
	}
	return c.(*Client)
}
