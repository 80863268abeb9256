package pgdata

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared/pgredact"
)

// lockTimeout bounds every lock wait of the provider's DDL (SET LOCAL lock_timeout): DDL on an application
// table queues behind any open transaction that touched it, and every later query queues behind the DDL.
// A statement that times out is rolled back and the transaction repeated until the resource's timeout.
const lockTimeout = 2 * time.Second

var (
	poolsMu sync.Mutex
	pools   = map[string]*pgxpool.Pool{}
)

// poolFor returns the process's pool for dsn. Sessions run with TimeZone UTC and DateStyle ISO, so that
// partition bounds are read and written in one zone whatever the server's defaults.
func poolFor(dsn string) (*pgxpool.Pool, error) {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	if p, ok := pools[dsn]; ok {
		return p, nil
	}
	rememberSecrets(dsn)
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("the postgres DSN could not be parsed: %s. Use a URL such as "+
			"postgres://user:password@host:5432/dbname or key=value pairs", parseProblem(err))
	}
	rememberSecret(cfg.ConnConfig.Password)
	cfg.MaxConns = 4
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 15 * time.Second
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "terraform-provider-alfred"
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	cfg.ConnConfig.RuntimeParams["datestyle"] = "ISO, YMD"
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("creating a connection pool: %s", redactErr(err))
	}
	pools[dsn] = p
	return p, nil
}

// base is what the area's resources and data sources share: the provider data and the way to the database.
type base struct {
	typeName string
	data     *shared.ProviderData
}

func (b *base) setData(v any, diags *diag.Diagnostics) {
	if d := shared.ProviderDataFrom(v, diags); d != nil {
		b.data = d
	}
}

// dsnUnknown reports whether the DSN is not known yet (it comes from a resource still to be created).
func (b *base) dsnUnknown() bool {
	return b.data != nil && b.data.Postgres != nil && b.data.Postgres.Unknown
}

// checkBlock reports a missing postgres block or an empty DSN.
func (b *base) checkBlock(diags *diag.Diagnostics) bool {
	if !shared.Require(b.data, b.typeName, shared.BlockPostgres, diags) {
		return false
	}
	if pg := b.data.Postgres; !pg.Unknown && pg.DSN == "" {
		diags.AddError("The postgres block has no dsn",
			b.typeName+" connects to PostgreSQL through the provider's postgres block, whose dsn is empty. Set "+
				"`dsn` in `postgres { ... }` or the environment variable ALFRED_POSTGRES_DSN.")
		return false
	}
	return true
}

// pool returns the connection pool, without touching the database.
func (b *base) pool(diags *diag.Diagnostics) *pgxpool.Pool {
	if b.data == nil {
		diags.AddError("Provider not configured", "The alfred provider was not configured before "+b.typeName+
			" was used. This is a bug in the provider; please report it.")
		return nil
	}
	if !b.checkBlock(diags) {
		return nil
	}
	if b.dsnUnknown() {
		diags.AddError("The postgres DSN is not known yet", b.typeName+" needs the provider's postgres dsn, "+
			"which depends on a value known only after apply. Apply the resources it comes from first "+
			"(terraform apply -target=...), or set ALFRED_POSTGRES_DSN.")
		return nil
	}
	p, err := poolFor(b.data.Postgres.DSN)
	if err != nil {
		diags.AddError("Cannot use the PostgreSQL database", err.Error())
		return nil
	}
	return p
}

// inTx runs fn in a transaction whose lock waits are bounded by lock_timeout; a transaction that times out
// on a lock is repeated until ctx ends, and the error then says what it waited for.
func inTx(ctx context.Context, p *pgxpool.Pool, what string, fn func(pgx.Tx) error) error {
	start := time.Now()
	for {
		err := pgx.BeginFunc(ctx, p, func(tx pgx.Tx) error {
			lt := lockTimeout
			if dl, ok := ctx.Deadline(); ok {
				if rem := time.Until(dl) - 300*time.Millisecond; rem < lt {
					lt = max(rem, 50*time.Millisecond)
				}
			}
			if _, err := tx.Exec(ctx, `select pg_catalog.set_config('lock_timeout', $1, true)`,
				fmt.Sprintf("%dms", lt.Milliseconds())); err != nil {
				return err
			}
			return fn(tx)
		})
		if err == nil || !isLockTimeout(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("gave up on %s after %s of waiting for a lock (each statement waits at most "+
				"lock_timeout = %s, then the transaction is repeated until the resource's timeout): another "+
				"session holds a lock on the table; end its transaction and apply again, or raise `timeouts` (%s)",
				what, time.Since(start).Round(100*time.Millisecond), lockTimeout, redactErr(err))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// Passwords are masked by the code every area that connects to PostgreSQL shares (internal/shared/pgredact).
func rememberSecret(s string)       { pgredact.RememberPassword(s) }
func rememberSecrets(dsn string)    { pgredact.Remember(dsn) }
func redact(msg string) string      { return pgredact.Redact(msg) }
func redactErr(err error) string    { return pgredact.RedactErr(err) }
func parseProblem(err error) string { return pgredact.ParseProblem(err) }
