package rbac

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// base is what every RBAC resource shares: the provider data and the way to reach the database.
type base struct {
	typeName string
	data     *shared.ProviderData
}

// Metadata names the resource: the provider's type name, then the part of typeName after "alfred".
func (b *base) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + strings.TrimPrefix(b.typeName, "alfred")
}

// Configure keeps the provider data.
func (b *base) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if d := shared.ProviderDataFrom(req.ProviderData, &resp.Diagnostics); d != nil {
		b.data = d
	}
}

// createStart is how every Create starts: the plan decoded into plan, the database opened (and the schema
// installed or migrated) under the create timeout. s is nil when an error was reported. cancel is never nil.
func (b *base) createStart(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse, plan any,
	t func() timeouts.Value) (_ context.Context, cancel context.CancelFunc, s *store) {
	cancel = func() {}
	resp.Diagnostics.Append(req.Plan.Get(ctx, plan)...)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil
	}
	ctx, cancel = bounded(ctx, timeoutOf(t().Create(ctx, defaultWriteTimeout)), &resp.Diagnostics)
	if s = b.writer(ctx, &resp.Diagnostics); resp.Diagnostics.HasError() {
		return ctx, cancel, nil
	}
	return ctx, cancel, s
}

// deleteStart is how every Delete starts: the prior state decoded into state, the database opened under
// the delete timeout. s is nil when there is nothing more to do: an error was reported, or the database has
// no alfred_rbac schema, so what the resource managed is gone. cancel is never nil.
func (b *base) deleteStart(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse, state any,
	t func() timeouts.Value) (_ context.Context, cancel context.CancelFunc, s *store) {
	cancel = func() {}
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil
	}
	ctx, cancel = bounded(ctx, timeoutOf(t().Delete(ctx, defaultWriteTimeout)), &resp.Diagnostics)
	s, gone := b.deleter(ctx, &resp.Diagnostics)
	if gone || resp.Diagnostics.HasError() {
		return ctx, cancel, nil
	}
	return ctx, cancel, s
}

// readStart is how every Read starts. With the DSN unknown the prior state stays as it is; otherwise the
// prior state is decoded into state and the database opened under the read timeout (t, read once state
// is decoded). s is nil when Read has nothing more to do: an error is reported, or the database has no
// alfred_rbac schema, so nothing it would hold exists and the resource is removed from state. cancel is
// never nil.
func (b *base) readStart(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse, state any,
	t func() timeouts.Value) (_ context.Context, cancel context.CancelFunc, s *store) {
	cancel = func() {}
	if b.keepStateWhileDSNUnknown(ctx) {
		return ctx, cancel, nil
	}
	resp.Diagnostics.Append(req.State.Get(ctx, state)...)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil
	}
	ctx, cancel = bounded(ctx, timeoutOf(t().Read(ctx, defaultReadTimeout)), &resp.Diagnostics)
	s, installed := b.reader(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return ctx, cancel, nil
	}
	if !installed {
		resp.State.RemoveResource(ctx)
		return ctx, cancel, nil
	}
	return ctx, cancel, s
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

// open returns the database adapter without touching the database.
func (b *base) open(ctx context.Context, diags *diag.Diagnostics) *store {
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

// writer returns the database adapter for a create, update or delete, installing or migrating alfred_rbac
// first: the only place where the schema is ever changed.
func (b *base) writer(ctx context.Context, diags *diag.Diagnostics) *store {
	s := b.open(ctx, diags)
	if s == nil {
		return nil
	}
	if err := s.ready(ctx); err != nil {
		diags.AddError("Cannot install or migrate the alfred_rbac schema", err.Error())
		return nil
	}
	return s
}

// reader returns the database adapter for a refresh (plan, import), which only reads: it never migrates,
// and works with the plan role's read-only grants. installed is false when the database has no alfred_rbac
// schema at all, so nothing the resource manages exists. A schema older than the provider is read as it is,
// with a warning that says what the next apply will migrate.
func (b *base) reader(ctx context.Context, diags *diag.Diagnostics) (s *store, installed bool) {
	s = b.open(ctx, diags)
	if s == nil {
		return nil, false
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		diags.AddError("Cannot read the alfred_rbac schema", describe("read the version of", "the alfred_rbac schema", err)+
			" A plan needs only the plan role's grants: USAGE on schema alfred_rbac and SELECT on its tables.")
		return nil, false
	}
	want := len(migrations)
	switch {
	case v == notInstalled:
		diags.AddWarning("The alfred_rbac schema is not installed",
			fmt.Sprintf("This database has no alfred_rbac schema, so nothing %s manages exists in it. This plan read "+
				"that and changed nothing; terraform apply installs the schema (v0 to v%d) before it creates "+
				"anything.", b.typeName, want))
		return s, false
	case v > want:
		diags.AddError("The alfred_rbac schema is newer than this provider",
			fmt.Sprintf("The database's alfred_rbac schema is at version %d; this provider knows versions up to "+
				"%d. Upgrade the provider (a newer one has already migrated this database).", v, want))
		return nil, false
	case v < want:
		diags.AddWarning("The alfred_rbac schema is older than this provider",
			fmt.Sprintf("The database's alfred_rbac schema is at version %d; this provider uses version %d. This "+
				"plan read it as it is and changed nothing. The next terraform apply that creates, updates or deletes "+
				"an alfred_rbac resource will migrate it from v%d to v%d, with the apply role (see the grants in "+
				"the alfred_rbac_role documentation); table policies of the old version show as needing an update, "+
				"which does that.", v, want, v, want))
	}
	return s, true
}

// Default timeouts of the RBAC resources: long enough to wait out a short migration of the application,
// short enough that an apply behind a forgotten open transaction fails with its name instead of hanging.
const (
	defaultWriteTimeout = 5 * time.Minute
	defaultReadTimeout  = 2 * time.Minute
)

// timeoutsBlock is the `timeouts` block every RBAC resource has.
func timeoutsBlock() schema.Block {
	write := func(op string) string {
		return "How long " + op + " may take, waiting for locks included (a duration such as `30s` or `10m`; " +
			"default 5m). Every statement waits at most 2s for a lock, then the transaction is repeated until this " +
			"timeout; the error then names the session that held the lock."
	}
	return shared.TimeoutsBlock(context.Background(), timeouts.Opts{Create: true, Read: true, Update: true, Delete: true,
		CreateDescription: write("a create"),
		UpdateDescription: write("an update"),
		DeleteDescription: write("a delete"),
		ReadDescription: "How long a refresh (plan, import) may take, waiting for locks included (a duration such " +
			"as `30s`; default 2m).",
	})
}

// timeout is a duration read from the timeouts block, with the diagnostics of reading it.
type timeout struct {
	d     time.Duration
	diags diag.Diagnostics
}

func timeoutOf(d time.Duration, diags diag.Diagnostics) timeout { return timeout{d, diags} }

// bounded returns ctx limited to t, reporting a malformed duration in into.
func bounded(ctx context.Context, t timeout, into *diag.Diagnostics) (context.Context, context.CancelFunc) {
	into.Append(t.diags...)
	return context.WithTimeout(ctx, t.d)
}

// deleter returns the database adapter for a delete; gone is true when the database has no alfred_rbac
// schema, so there is nothing to delete and nothing is installed.
func (b *base) deleter(ctx context.Context, diags *diag.Diagnostics) (s *store, gone bool) {
	s = b.open(ctx, diags)
	if s == nil {
		return nil, false
	}
	if v, err := s.SchemaVersion(ctx); err == nil && v == notInstalled {
		return nil, true
	}
	if err := s.ready(ctx); err != nil {
		diags.AddError("Cannot install or migrate the alfred_rbac schema", err.Error())
		return nil, false
	}
	return s, false
}

func isNotFound(err error) bool { return errors.Is(err, errNotFound) }
