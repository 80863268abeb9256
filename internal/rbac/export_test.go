package rbac

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// InstallSchema installs or migrates alfred_rbac in the database at dsn, as the provider does on first use.
// Tests use it to seed rows before Terraform runs.
func InstallSchema(ctx context.Context, dsn string) error {
	_, err := writableStoreFor(ctx, dsn)
	return err
}

// InstallSchemaVersion installs alfred_rbac up to version (an older provider's schema) on a connection of
// its own, bypassing the per-process store cache.
func InstallSchemaVersion(ctx context.Context, dsn string, version int) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return migrateTo(ctx, conn, version)
}

// MigrateOnNewConnection runs the migration on a connection of its own, as a separate provider process
// would, bypassing the per-process store cache.
func MigrateOnNewConnection(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	return migrate(ctx, conn)
}

// MigrationCount is the number of migrations this provider knows.
func MigrationCount() int { return len(migrations) }

// RunTx runs fn in a transaction of the provider's store for dsn, with the store's retries.
func RunTx(ctx context.Context, dsn string, fn func(pgx.Tx) error) error {
	s, err := storeFor(ctx, dsn)
	if err != nil {
		return err
	}
	return s.tx(ctx, fn)
}

// RoleDescription reads a role through the store, with the store's retries.
func RoleDescription(ctx context.Context, dsn, name string) (string, error) {
	s, err := storeFor(ctx, dsn)
	if err != nil {
		return "", err
	}
	r, err := s.GetRole(ctx, name)
	if err != nil {
		return "", err
	}
	return r.Description, nil
}

// PlanDiagnostics is what a refresh of an RBAC resource reports about the database's alfred_rbac schema
// before it reads anything: installed is false when there is no schema at all.
func PlanDiagnostics(ctx context.Context, dsn string) (installed bool, diags diag.Diagnostics) {
	b := &base{typeName: roleTypeName, data: &shared.ProviderData{Postgres: &shared.PostgresConfig{DSN: dsn}}}
	_, installed = b.reader(ctx, &diags)
	return installed, diags
}
