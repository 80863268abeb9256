package rbac

import "context"

// InstallSchema installs or migrates alfred_rbac in the database at dsn, as the provider does on first use.
// Tests use it to seed rows before Terraform runs.
func InstallSchema(ctx context.Context, dsn string) error {
	_, err := storeFor(ctx, dsn)
	return err
}
