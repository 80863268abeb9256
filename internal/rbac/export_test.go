package rbac

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// InstallSchema installs or migrates alfred_rbac in the database at dsn, as the provider does on first use.
// Tests use it to seed rows before Terraform runs.
func InstallSchema(ctx context.Context, dsn string) error {
	_, err := storeFor(ctx, dsn)
	return err
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
