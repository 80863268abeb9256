package rbac

import (
	"context"
	"errors"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// base is what every RBAC resource shares: the provider data and the way to reach the database.
type base struct {
	typeName string
	data     *shared.ProviderData
}

func (b *base) configure(req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		b.data = d
	}
}

// checkPlan reports, at plan time, a missing postgres block or an empty DSN.
func (b *base) checkPlan(diags *diag.Diagnostics) {
	if !shared.Require(b.data, b.typeName, shared.BlockPostgres, diags) {
		return
	}
	if pg := b.data.Postgres; !pg.Unknown && pg.DSN == "" {
		diags.AddError("The postgres block has no dsn",
			b.typeName+" connects to PostgreSQL through the provider's postgres block, whose dsn is empty. Set "+
				"`dsn` in `postgres { ... }` or the environment variable ALFRED_POSTGRES_DSN, e.g. "+
				"postgres://user:password@host:5432/postgres.")
	}
}

// dsnUnknown reports whether the DSN is not known yet: it comes from a resource that is still to be
// created or changed, so this is a plan, and there is nowhere to connect to.
func (b *base) dsnUnknown() bool {
	return b.data != nil && b.data.Postgres != nil && b.data.Postgres.Unknown
}

// keepStateWhileDSNUnknown is called first by Read: with the DSN unknown it leaves the prior state as it
// is (the framework hands Read the prior state as its result) rather than connecting to libpq's defaults.
func (b *base) keepStateWhileDSNUnknown(ctx context.Context) bool {
	if !b.dsnUnknown() {
		return false
	}
	tflog.Info(ctx, "postgres dsn is unknown until apply; keeping the prior state of "+b.typeName)
	return true
}

// store returns the database adapter, installing or migrating alfred_rbac on first use.
func (b *base) store(ctx context.Context, diags *diag.Diagnostics) *store {
	if b.data == nil {
		diags.AddError("Provider not configured", "The alfred provider was not configured before "+b.typeName+
			" was used. This is a bug in the provider; please report it.")
		return nil
	}
	b.checkPlan(diags)
	if diags.HasError() {
		return nil
	}
	if b.dsnUnknown() {
		diags.AddError("The postgres DSN is not known yet",
			b.typeName+" needs the provider's postgres dsn, which depends on a value that is only known after "+
				"apply. Apply the resources the DSN comes from first (terraform apply -target=...), or set "+
				"ALFRED_POSTGRES_DSN.")
		return nil
	}
	s, err := storeFor(ctx, b.data.Postgres.DSN)
	if err != nil {
		diags.AddError("Cannot use the PostgreSQL database", err.Error())
		return nil
	}
	return s
}

func isNotFound(err error) bool { return errors.Is(err, errNotFound) }
