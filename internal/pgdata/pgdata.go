// Package pgdata manages how an application's data is laid out and replicated in PostgreSQL: the time
// partitions of its tables (alfred_postgres_partitions) and the state of its streaming standbys
// (data source alfred_postgres_replication), over pgx.
package pgdata

import (
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/resource"
)

// Resources lists the area's resources for the provider.
func Resources() []func() resource.Resource {
	return []func() resource.Resource{NewPartitionsResource}
}

// DataSources lists the area's data sources for the provider.
func DataSources() []func() datasource.DataSource {
	return []func() datasource.DataSource{NewReplicationDataSource}
}
