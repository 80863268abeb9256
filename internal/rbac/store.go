package rbac

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// store speaks SQL to one database: the adapter between the resources and the alfred_rbac schema.
type store struct {
	pool *pgxpool.Pool

	mu       sync.Mutex
	migrated bool

	verMu sync.Mutex
	ver   int // the schema version last read, valid until verAt+versionTTL
	verAt time.Time
}

// One pool per DSN per provider process. The framework configures the provider again for every Terraform
// command, and in-process tests configure it many times, so the pool lives here rather than in the
// per-configuration client cache, which nothing closes. Idle connections are closed quickly so that pools
// of finished runs do not hold connections.
var (
	storesMu sync.Mutex
	stores   = map[string]*store{}
)

// maxConns bounds each pool: enough for Terraform's parallelism, far below PostgreSQL's connection limit.
const maxConns = 8

// errNotFound is returned when the object to read or change does not exist.
var errNotFound = errors.New("not found")

// ApplyError is an error whose message is already a sentence for the user.
type ApplyError struct{ Msg string }

func (e *ApplyError) Error() string { return e.Msg }

func applyErrorf(format string, a ...any) error { return &ApplyError{Msg: fmt.Sprintf(format, a...)} }

func storeFor(ctx context.Context, dsn string) (*store, error) {
	storesMu.Lock()
	s, ok := stores[dsn]
	if !ok {
		rememberSecrets(dsn)
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			storesMu.Unlock()
			return nil, fmt.Errorf("the postgres DSN could not be parsed: %s. Use a URL such as "+
				"postgres://user:password@host:5432/dbname (percent-encode special characters in the password) "+
				"or key=value pairs such as \"host=db.example.com user=postgres password=... dbname=postgres\"",
				parseProblem(err))
		}
		rememberSecret(cfg.ConnConfig.Password)
		cfg.MaxConns = maxConns
		cfg.MinConns = 0
		cfg.MaxConnIdleTime = 15 * time.Second
		cfg.HealthCheckPeriod = 5 * time.Second
		if cfg.ConnConfig.RuntimeParams == nil {
			cfg.ConnConfig.RuntimeParams = map[string]string{}
		}
		cfg.ConnConfig.RuntimeParams["application_name"] = "terraform-provider-alfred"
		pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
		if err != nil {
			storesMu.Unlock()
			return nil, fmt.Errorf("creating a connection pool: %s", redactErr(err))
		}
		s = &store{pool: pool}
		stores[dsn] = s
	}
	storesMu.Unlock()
	return s, nil
}

// writableStoreFor is storeFor for a create, update or delete: the schema is installed or migrated first.
func writableStoreFor(ctx context.Context, dsn string) (*store, error) {
	s, err := storeFor(ctx, dsn)
	if err != nil {
		return nil, err
	}
	return s, s.ready(ctx)
}

// ready migrates the schema once per process; a failure is retried by the next caller. Only creates,
// updates and deletes call it: a plan never migrates.
func (s *store) ready(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.migrated {
		return nil
	}
	err := s.with(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return migrate(ctx, conn.Conn())
	})
	if err != nil {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && (pgErr.Code == "42501" || pgErr.Code == "25006") {
			return applyErrorf("The DSN's user may read alfred_rbac but not install or migrate it: %s (SQLSTATE %s). "+
				"terraform plan works with read-only credentials; terraform apply needs the apply role: the owner of "+
				"the alfred_rbac schema (on first install, a role that may create schemas in the database; on "+
				"Supabase, the postgres user). See the grants in the alfred_rbac_role documentation.",
				redact(pgErr.Message), pgErr.Code)
		}
		var lw *lockWaitError
		if errors.As(err, &lw) {
			return fmt.Errorf("installing or migrating the alfred_rbac schema: %s", lw.Error())
		}
		return fmt.Errorf("installing or migrating the alfred_rbac schema: %s. The DSN's user needs to be able "+
			"to create a schema and functions in this database (on Supabase, use the postgres user)", redactErr(err))
	}
	s.migrated = true
	s.verMu.Lock()
	s.ver, s.verAt = len(migrations), time.Now()
	s.verMu.Unlock()
	return nil
}

// versionTTL is how long a schema version read by a refresh is reused by the next ones: a plan of hundreds
// of resources asks once, not hundreds of times.
const versionTTL = 3 * time.Second

// notInstalled is the version of a database without the alfred_rbac schema.
const notInstalled = -1

// SchemaVersion reads the version of the alfred_rbac schema (notInstalled when absent) without writing.
func (s *store) SchemaVersion(ctx context.Context) (int, error) {
	s.verMu.Lock()
	if !s.verAt.IsZero() && time.Since(s.verAt) < versionTTL {
		v := s.ver
		s.verMu.Unlock()
		return v, nil
	}
	s.verMu.Unlock()
	v := notInstalled
	err := s.read(ctx, func(tx pgx.Tx) error {
		var installed bool
		if err := tx.QueryRow(ctx, `select pg_catalog.to_regclass('alfred_rbac.schema_migrations') is not null`).Scan(&installed); err != nil {
			return err
		}
		if !installed {
			v = notInstalled
			return nil
		}
		return tx.QueryRow(ctx, `select coalesce(max(version), 0) from alfred_rbac.schema_migrations`).Scan(&v)
	})
	if err != nil {
		return 0, err
	}
	s.verMu.Lock()
	s.ver, s.verAt = v, time.Now()
	s.verMu.Unlock()
	return v, nil
}

// pgBackoff outlasts a PostgreSQL restart (a managed database's minor upgrade or failover takes seconds):
// up to 12 attempts over roughly 20 to 40 seconds.
var pgBackoff = shared.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Attempts: 12}

// connLostError is an error after which the session was gone (the server restarted or ended it, or the
// network dropped it). Whatever the session had not committed was rolled back by the server.
type connLostError struct{ err error }

func (e *connLostError) Error() string { return e.err.Error() }
func (e *connLostError) Unwrap() error { return e.err }

// commitUnknownError is a COMMIT whose outcome is unknown: the connection broke after the COMMIT was sent.
// with never repeats it, as the transaction may have taken effect; settle decides.
type commitUnknownError struct{ err error }

func (e *commitUnknownError) Error() string {
	return "the connection to PostgreSQL broke while committing (" + e.err.Error() + "), so the change may or " +
		"may not have been applied. Run terraform apply again: the refresh shows what the database holds"
}
func (e *commitUnknownError) Unwrap() error { return e.err }

// retryable reports whether repeating the failed work is safe and may succeed: serialization failures and
// deadlocks (the transaction was rolled back), a lock or connection slot that was not available, a server
// that is starting or shutting down, a session that was ended before committing (57P01 admin_shutdown as
// during a restart or pg_terminate_backend, 57P02, class 08 connection exceptions), and a connection that
// could not be established or to which nothing was sent.
func retryable(err error) bool {
	var unknown *commitUnknownError
	if errors.As(err, &unknown) {
		return false
	}
	var lost *connLostError
	if errors.As(err, &lost) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300":
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08")
	}
	var connErr *pgconn.ConnectError
	return errors.As(err, &connErr) || pgconn.SafeToRetry(err)
}

// with runs fn on a pooled connection, repeating it on a new connection when retryable says so. An error
// after which the connection is closed is marked as a lost session. A lock that was not granted within
// lock_timeout (55P03) is waited for again until ctx ends; meanwhile the sessions that block fn are sampled,
// so that the final error names them.
func (s *store) with(ctx context.Context, fn func(context.Context, *pgxpool.Conn) error) error {
	log := &waitLog{start: time.Now()}
	_, bounded := ctx.Deadline()
	others := 0
	again := func(err error) bool {
		if isLockTimeout(err) && bounded {
			return ctx.Err() == nil
		}
		if !retryable(err) {
			return false
		}
		others++
		return others < pgBackoff.Attempts
	}
	b := shared.Backoff{Initial: pgBackoff.Initial, Max: pgBackoff.Max}
	err := shared.Retry(ctx, b, again, func(ctx context.Context) error {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		stop := s.watch(conn.Conn().PgConn().PID(), log)
		err = fn(ctx, conn)
		stop()
		var unknown *commitUnknownError
		if err != nil && ctx.Err() == nil && conn.Conn().IsClosed() && !errors.As(err, &unknown) {
			return &connLostError{err: err}
		}
		return err
	})
	if err != nil && (isLockTimeout(err) || ctx.Err() != nil && len(log.get()) > 0) {
		return &lockWaitError{Waited: time.Since(log.start), Blockers: log.get(), Err: err}
	}
	return err
}

// tx runs fn, an idempotent write (running it twice leaves what running it once does), in a transaction.
// When its COMMIT's outcome is unknown, fn simply runs again.
func (s *store) tx(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.settle(ctx, func() error { return s.txOnce(ctx, fn) }, nil)
}

// txOnce runs fn in a read-committed transaction (the advisory locks below rely on each statement seeing
// what was committed before the lock was granted, whatever the database's default isolation), repeating it
// on serialization failures, deadlocks, lock timeouts and lost sessions. A COMMIT interrupted by a broken
// connection is not repeated here but returned as a commitUnknownError. Every lock wait is bounded by
// lock_timeout.
func (s *store) txOnce(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.with(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if err != nil {
			return err
		}
		if err := setLockTimeout(ctx, tx); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		if err := fn(tx); err != nil {
			_ = tx.Rollback(ctx)
			return err
		}
		// Any failure of the COMMIT but the server's own refusal leaves its outcome unknown. pgx's
		// SafeToRetry cannot tell: when the connection breaks after the COMMIT was sent, the error is pgx's
		// "conn closed", which claims that nothing was sent.
		err = tx.Commit(ctx)
		var pgErr *pgconn.PgError
		if err != nil && !errors.As(err, &pgErr) && ctx.Err() == nil {
			return &commitUnknownError{err: err}
		}
		return err
	})
}

// settleAttempts bounds how often a write whose COMMIT outcome stayed unknown runs again.
const settleAttempts = 3

// settle runs write, a transaction of txOnce. When its COMMIT's outcome is unknown (the connection broke
// after the COMMIT was sent), made, when given, reads whether the database now holds what write makes:
// then write took effect and succeeded. Otherwise write runs again: that is safe for an idempotent write
// (made nil), and for a create whose object is not there. A create (which refuses an object that exists)
// needs made: without it, a create that took effect with its reply lost would fail, and the next apply
// would refuse the object this configuration made as one that "already exists".
func (s *store) settle(ctx context.Context, write func() error, made func() (bool, error)) error {
	err := write()
	for i := 1; i < settleAttempts; i++ {
		var unknown *commitUnknownError
		if !errors.As(err, &unknown) {
			return err
		}
		if made != nil {
			ok, rerr := made()
			if rerr != nil {
				return err
			}
			if ok {
				return nil
			}
		}
		err = write()
	}
	return err
}

// read runs fn in a read-only repeatable-read transaction: one snapshot, and nothing it runs can write,
// whatever the DSN's user may do. This is all a refresh (plan, import) ever runs.
func (s *store) read(ctx context.Context, fn func(pgx.Tx) error) error {
	return s.with(ctx, func(ctx context.Context, conn *pgxpool.Conn) error {
		return pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			if err := setLockTimeout(ctx, tx); err != nil {
				return err
			}
			return fn(tx)
		})
	})
}

func lock(ctx context.Context, tx pgx.Tx, key string) error {
	_, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended($1, 0))`, key)
	return err
}

// describe turns a database error into a sentence: what was being done, to what, and what PostgreSQL said.
func describe(action, target string, err error) string {
	var ae *ApplyError
	if errors.As(err, &ae) {
		return ae.Msg
	}
	var lw *lockWaitError
	if errors.As(err, &lw) {
		return fmt.Sprintf("Could not %s %s: %s.", action, target, lw.Error())
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		hint := ""
		switch pgErr.Code {
		case "42501", "25006":
			hint = " The DSN's user lacks the privilege: terraform plan needs only the plan role's read grants, " +
				"but apply needs the apply role (the owner of alfred_rbac and of the governed tables; on Supabase, " +
				"the postgres user). See the grants in the alfred_rbac_role documentation."
		case "23505":
			hint = " It already exists: import it with `terraform import`, or remove the other definition."
		case "57014":
			hint = " The statement was cancelled (timeout or interrupt); try again."
		}
		return fmt.Sprintf("Could not %s %s: %s (SQLSTATE %s).%s", action, target, pgErr.Message, pgErr.Code, hint)
	}
	return fmt.Sprintf("Could not %s %s: %s.", action, target, redactErr(err))
}

// ---- roles ----

// Role is a row of alfred_rbac.roles with its permissions and inherited roles, both sorted.
type Role struct {
	Name        string
	Description string
	Permissions []string
	Inherits    []string
}

func checkRole(r Role) error {
	if p := RoleNameProblem(r.Name); p != "" {
		return applyErrorf("The role name %q is not valid: %s. %s", r.Name, p, roleNameRule)
	}
	for _, p := range r.Permissions {
		if why := PermissionProblem(p); why != "" {
			return applyErrorf("The permission %q of role %q is not valid: %s. %s", p, r.Name, why, permissionRule)
		}
	}
	for _, i := range r.Inherits {
		if why := RoleNameProblem(i); why != "" {
			return applyErrorf("The inherited role name %q is not valid: %s. %s", i, why, roleNameRule)
		}
		if i == r.Name {
			return applyErrorf("Role %q cannot inherit itself: remove %q from inherits.", r.Name, i)
		}
	}
	return nil
}

// CreateRole inserts the role; it fails when a role of that name exists or an inherited role does not.
func (s *store) CreateRole(ctx context.Context, r Role) error {
	if err := checkRole(r); err != nil {
		return err
	}
	return s.settle(ctx, func() error { return s.createRole(ctx, r) }, func() (bool, error) {
		got, err := s.GetRole(ctx, r.Name)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && got.Description == r.Description && slices.Equal(got.Permissions, nonNil(r.Permissions)) &&
			slices.Equal(got.Inherits, nonNil(r.Inherits)), err
	})
}

func (s *store) createRole(ctx context.Context, r Role) error {
	return s.txOnce(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `insert into alfred_rbac.roles (name, description) values ($1, $2)
			on conflict (name) do nothing`, r.Name, r.Description)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return applyErrorf("Role %q already exists in alfred_rbac.roles. If it should be managed by this "+
				"configuration, import it: `terraform import <address> %s`; otherwise choose another name.", r.Name, r.Name)
		}
		return writeRoleChildren(ctx, tx, r)
	})
}

// writeRoleChildren makes the role's permissions and inherited roles exactly r's, touching only the rows
// that differ, and refuses unknown inherited roles and cycles.
func writeRoleChildren(ctx context.Context, tx pgx.Tx, r Role) error {
	perms := nonNil(r.Permissions)
	if _, err := tx.Exec(ctx, `delete from alfred_rbac.role_permissions where role = $1 and not (permission = any($2))`,
		r.Name, perms); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `insert into alfred_rbac.role_permissions (role, permission)
		select $1, p from unnest($2::text[]) p on conflict do nothing`, r.Name, perms); err != nil {
		return err
	}
	inh := nonNil(r.Inherits)
	if _, err := tx.Exec(ctx, `delete from alfred_rbac.role_inherits where role = $1 and not (inherits = any($2))`,
		r.Name, inh); err != nil {
		return err
	}
	if len(inh) == 0 {
		return nil
	}
	var missing []string
	if err := tx.QueryRow(ctx, `select coalesce(array_agg(n order by n), '{}') from unnest($1::text[]) n
		where not exists (select from alfred_rbac.roles r where r.name = n)`, inh).Scan(&missing); err != nil {
		return err
	}
	if len(missing) > 0 {
		return applyErrorf("Role %q inherits %s, which does not exist. Create the inherited role first: refer to "+
			"it as alfred_rbac_role.<name>.name rather than a literal string, so that Terraform creates it before %q.",
			r.Name, quoteList(missing), r.Name)
	}
	tag, err := tx.Exec(ctx, `insert into alfred_rbac.role_inherits (role, inherits)
		select $1, i from unnest($2::text[]) i on conflict do nothing`, r.Name, inh)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return nil // no new edge, so no new cycle
	}
	var cycle string
	err = tx.QueryRow(ctx, `
		with recursive walk (role, path, cyc) as (
			select i.inherits, array[$1::text, i.inherits], i.inherits = $1
			from alfred_rbac.role_inherits i where i.role = $1
			union all
			select i.inherits, w.path || i.inherits, i.inherits = any(w.path)
			from walk w join alfred_rbac.role_inherits i on i.role = w.role
			where not w.cyc
		)
		select array_to_string(path, ' -> ') from walk where cyc and role = $1 limit 1`, r.Name).Scan(&cycle)
	if err == nil {
		return applyErrorf("Role %q cannot inherit %s: the inheritance would form a cycle (%s). Remove one of "+
			"these inherits so that inheritance stays a hierarchy.", r.Name, quoteList(inh), cycle)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	return err
}

// GetRole reads a role; errNotFound when it does not exist.
func (s *store) GetRole(ctx context.Context, name string) (*Role, error) {
	r := &Role{Name: name}
	err := s.read(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			select r.description,
				coalesce((select array_agg(p.permission order by p.permission collate "C")
					from alfred_rbac.role_permissions p where p.role = r.name), '{}'),
				coalesce((select array_agg(i.inherits order by i.inherits collate "C")
					from alfred_rbac.role_inherits i where i.role = r.name), '{}')
			from alfred_rbac.roles r where r.name = $1`, name).Scan(&r.Description, &r.Permissions, &r.Inherits)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	return r, err
}

// UpdateRole changes a role in place, renaming it from oldName when r.Name differs: the rename follows
// into permissions, inheritance and assignments (on update cascade), so the roles that inherit it and its
// assignments keep pointing at it. errNotFound when the role is gone.
func (s *store) UpdateRole(ctx context.Context, oldName string, r Role) error {
	if err := checkRole(r); err != nil {
		return err
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		// Serialise inheritance changes so the cycle check sees every committed edge.
		if err := lock(ctx, tx, inheritsLockKey); err != nil {
			return err
		}
		if oldName != "" && oldName != r.Name {
			var taken bool
			if err := tx.QueryRow(ctx, `select exists (select from alfred_rbac.roles where name = $1)
				and exists (select from alfred_rbac.roles where name = $2)`, r.Name, oldName).Scan(&taken); err != nil {
				return err
			}
			if taken {
				return applyErrorf("Role %q cannot be renamed to %q: a role named %q already exists. Choose another "+
					"name, or remove the other role first.", oldName, r.Name, r.Name)
			}
			// When oldName is gone already (an earlier apply renamed it), the update below finds r.Name.
			if _, err := tx.Exec(ctx, `update alfred_rbac.roles set name = $2, updated_at = now() where name = $1`,
				oldName, r.Name); err != nil {
				return err
			}
		}
		tag, err := tx.Exec(ctx, `update alfred_rbac.roles set description = $2, updated_at = now()
			where name = $1`, r.Name, r.Description)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return errNotFound
		}
		return writeRoleChildren(ctx, tx, r)
	})
}

// DeleteRole removes a role and its permissions; a missing role is success. It refuses while the role is
// still inherited or assigned, saying by whom.
func (s *store) DeleteRole(ctx context.Context, name string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		var heirs, principals []string
		if err := tx.QueryRow(ctx, `select
			coalesce((select array_agg(role order by role) from alfred_rbac.role_inherits where inherits = $1), '{}'),
			coalesce((select array_agg(principal order by principal) from (select principal from alfred_rbac.assignments
				where role = $1 order by principal limit 5) a), '{}')`, name).Scan(&heirs, &principals); err != nil {
			return err
		}
		if len(heirs) > 0 {
			return applyErrorf("Role %q cannot be deleted while %s inherit it. Remove %q from their inherits "+
				"first (referring to roles as alfred_rbac_role.<name>.name lets Terraform order this itself).",
				name, quoteList(heirs), name)
		}
		if len(principals) > 0 {
			return applyErrorf("Role %q cannot be deleted while it is assigned (to %s, ...). Remove those "+
				"alfred_rbac_role_assignment resources first.", name, quoteList(principals))
		}
		_, err := tx.Exec(ctx, `delete from alfred_rbac.roles where name = $1`, name)
		return err
	})
}

// ---- assignments ----

// CreateAssignment assigns role to principal.
func (s *store) CreateAssignment(ctx context.Context, principal, role string) error {
	if p := PrincipalProblem(principal); p != "" {
		return applyErrorf("The principal %q is not valid: %s. %s", principal, p, principalRule)
	}
	if p := RoleNameProblem(role); p != "" {
		return applyErrorf("The role name %q is not valid: %s. %s", role, p, roleNameRule)
	}
	return s.settle(ctx, func() error { return s.createAssignment(ctx, principal, role) }, func() (bool, error) {
		return s.AssignmentExists(ctx, principal, role)
	})
}

func (s *store) createAssignment(ctx context.Context, principal, role string) error {
	return s.txOnce(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `select exists (select from alfred_rbac.roles where name = $1)`, role).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return applyErrorf("Role %q does not exist, so it cannot be assigned to %q. Create it with an "+
				"alfred_rbac_role resource and refer to it as alfred_rbac_role.<name>.name so Terraform creates it first.",
				role, principal)
		}
		tag, err := tx.Exec(ctx, `insert into alfred_rbac.assignments (principal, role) values ($1, $2)
			on conflict do nothing`, principal, role)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return applyErrorf("Role %q is already assigned to %q. Import the assignment instead: "+
				"`terraform import <address> %s/%s`.", role, principal, principal, role)
		}
		return nil
	})
}

// AssignmentExists reports whether the assignment is present.
func (s *store) AssignmentExists(ctx context.Context, principal, role string) (bool, error) {
	var ok bool
	err := s.read(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `select exists (select from alfred_rbac.assignments
			where principal = $1 and role = $2)`, principal, role).Scan(&ok)
	})
	return ok, err
}

// MoveAssignment changes the role assigned to principal from oldRole to role in one transaction. When the
// old assignment is gone and the new one exists, a rename of the role already moved it (on update cascade).
func (s *store) MoveAssignment(ctx context.Context, principal, oldRole, role string) error {
	if p := RoleNameProblem(role); p != "" {
		return applyErrorf("The role name %q is not valid: %s. %s", role, p, roleNameRule)
	}
	return s.tx(ctx, func(tx pgx.Tx) error {
		var hadOld, hasNew, roleExists bool
		if err := tx.QueryRow(ctx, `select
				exists (select from alfred_rbac.assignments where principal = $1 and role = $2),
				exists (select from alfred_rbac.assignments where principal = $1 and role = $3),
				exists (select from alfred_rbac.roles where name = $3)`, principal, oldRole, role).Scan(&hadOld, &hasNew, &roleExists); err != nil {
			return err
		}
		switch {
		case !roleExists:
			return applyErrorf("Role %q does not exist, so it cannot be assigned to %q. Create it with an "+
				"alfred_rbac_role resource and refer to it as alfred_rbac_role.<name>.name so Terraform creates it first.",
				role, principal)
		case hadOld && hasNew:
			return applyErrorf("Role %q is already assigned to %q by another definition. Remove that one, or "+
				"remove this assignment instead of changing its role.", role, principal)
		case hasNew:
			return nil
		}
		if _, err := tx.Exec(ctx, `delete from alfred_rbac.assignments where principal = $1 and role = $2`, principal, oldRole); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `insert into alfred_rbac.assignments (principal, role) values ($1, $2)`, principal, role)
		return err
	})
}

// DeleteAssignment removes the assignment; a missing one is success.
func (s *store) DeleteAssignment(ctx context.Context, principal, role string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `delete from alfred_rbac.assignments where principal = $1 and role = $2`, principal, role)
		return err
	})
}

// ---- table policies ----

// Commands a table policy can govern, in the order policies are written.
var commands = []string{"select", "insert", "update", "delete"}

// TablePolicy is what an alfred_rbac_table_policy manages. Permissions maps a command to its permission;
// a command without one has no policy.
type TablePolicy struct {
	Schema      string
	Table       string
	Permissions map[string]string
	OwnerColumn string
}

type policyExpr struct {
	Qual       *string `json:"qual"`
	WithCheck  *string `json:"with_check"`
	Permissive string  `json:"permissive,omitempty"` // PERMISSIVE or RESTRICTIVE, as pg_policies shows it
}

// Each governed command has two policies with the same expression. alfred_rbac_<command> is RESTRICTIVE:
// every row must pass it, whatever other policies the application adds, so a permissive policy added outside
// Terraform (even `using (true)`) cannot widen access. PostgreSQL grants nothing through restrictive
// policies alone, so alfred_rbac_<command>_permit is the PERMISSIVE policy that lets through what authorize()
// allows. Versions before 0.2 created one permissive alfred_rbac_<command>; Read shows such a table as
// needing an update.
func policyName(cmd string) string { return "alfred_rbac_" + cmd }

func permitName(cmd string) string { return "alfred_rbac_" + cmd + "_permit" }

// policyKeys are the keys of the policies of cmd in the map currentPolicies returns, with their kinds.
func policyKeys(cmd string) map[string]string {
	return map[string]string{cmd: "RESTRICTIVE", cmd + "_permit": "PERMISSIVE"}
}

func (p TablePolicy) target() string { return p.Schema + "." + p.Table }

func checkTablePolicy(p TablePolicy) error {
	for what, v := range map[string]string{"schema": p.Schema, "table": p.Table} {
		if why := IdentProblem(v); why != "" {
			return applyErrorf("The %s name %q is not valid: %s. %s", what, v, why, identRule)
		}
	}
	if why := reservedSchemaProblem(p.Schema); why != "" {
		return applyErrorf("Table policies cannot be placed in schema %q: %s.", p.Schema, why)
	}
	if p.OwnerColumn != "" {
		if why := IdentProblem(p.OwnerColumn); why != "" {
			return applyErrorf("The owner_column %q is not valid: %s. %s", p.OwnerColumn, why, identRule)
		}
	}
	n := 0
	for _, cmd := range commands {
		perm, ok := p.Permissions[cmd]
		if !ok {
			continue
		}
		n++
		if why := PermissionProblem(perm); why != "" {
			return applyErrorf("The %s_permission %q is not valid: %s. %s", cmd, perm, why, permissionRule)
		}
	}
	if n == 0 {
		return applyErrorf("The table policy on %s sets no permission: set at least one of select_permission, "+
			"insert_permission, update_permission, delete_permission.", p.target())
	}
	return nil
}

// ApplyTablePolicy enables row-level security on the table (recording whether it had to) and makes the
// alfred_rbac_<command> policies exactly those p asks for. create says whether this is a new resource, in
// which case a table already managed by another resource is an error.
func (s *store) ApplyTablePolicy(ctx context.Context, p TablePolicy, create bool) error {
	if err := checkTablePolicy(p); err != nil {
		return err
	}
	if !create {
		return s.settle(ctx, func() error { return s.applyTablePolicy(ctx, p, false) }, nil)
	}
	return s.settle(ctx, func() error { return s.applyTablePolicy(ctx, p, true) }, func() (bool, error) {
		got, err := s.GetTablePolicy(ctx, p.Schema, p.Table)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil && got.OwnerColumn == p.OwnerColumn && maps.Equal(got.Permissions, p.Permissions), err
	})
}

func (s *store) applyTablePolicy(ctx context.Context, p TablePolicy, create bool) error {
	table := pgx.Identifier{p.Schema, p.Table}.Sanitize()
	return s.txOnce(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, ddlLockKey); err != nil {
			return err
		}
		var oid uint32
		var rls bool
		err := tx.QueryRow(ctx, `select c.oid, c.relrowsecurity from pg_catalog.pg_class c
			join pg_catalog.pg_namespace n on n.oid = c.relnamespace
			where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p')`, p.Schema, p.Table).Scan(&oid, &rls)
		if errors.Is(err, pgx.ErrNoRows) {
			return applyErrorf("Table %s does not exist. Tables belong to the application: create it (with its "+
				"migrations) before applying this policy, or correct schema/table.", p.target())
		}
		if err != nil {
			return err
		}
		var ownerFn string
		if p.OwnerColumn != "" {
			var typ string
			err := tx.QueryRow(ctx, `select t.typname from pg_catalog.pg_attribute a
				join pg_catalog.pg_type t on t.oid = a.atttypid
				where a.attrelid = $1 and a.attname = $2 and a.attnum > 0 and not a.attisdropped`, oid, p.OwnerColumn).Scan(&typ)
			if errors.Is(err, pgx.ErrNoRows) {
				return applyErrorf("Table %s has no column %q, so it cannot be the owner_column. Name the column "+
					"that holds the owner's user id (the JWT sub), or remove owner_column.", p.target(), p.OwnerColumn)
			}
			if err != nil {
				return err
			}
			switch typ {
			case "uuid":
				ownerFn = "alfred_rbac.current_uid()"
			case "text", "varchar", "bpchar", "citext":
				ownerFn = "alfred_rbac.current_sub()"
			default:
				return applyErrorf("Column %q of %s has type %s; an owner_column must be uuid or text holding the "+
					"owner's user id (the JWT sub).", p.OwnerColumn, p.target(), typ)
			}
		}
		var rec struct {
			exists  bool
			rlsByUs bool
			raw     []byte
		}
		err = tx.QueryRow(ctx, `select rls_enabled_by_provider, policies from alfred_rbac.table_policies
			where schema_name = $1 and table_name = $2 for update`, p.Schema, p.Table).Scan(&rec.rlsByUs, &rec.raw)
		switch {
		case err == nil:
			rec.exists = true
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		// A record none of whose policies is on the table any more outlived what it described: the table was
		// dropped and recreated (Read then dropped the resource from the state) or every policy was dropped.
		// Nothing governs the table, so a new resource takes it over.
		if create && rec.exists {
			live, err := currentPolicies(ctx, tx, p.Schema, p.Table)
			if err != nil {
				return err
			}
			var recorded map[string]policyExpr
			if err := json.Unmarshal(rec.raw, &recorded); err != nil {
				return err
			}
			governed := false
			for cmd, want := range recorded {
				got, ok := live[cmd]
				governed = governed || ok && eqPtr(want.Qual, got.Qual) && eqPtr(want.WithCheck, got.WithCheck)
			}
			rec.exists = governed
		}
		if create && rec.exists {
			return applyErrorf("Table %s is already governed by another alfred_rbac_table_policy. Keep one "+
				"resource per table; to manage it from here, import it: `terraform import <address> %s`.",
				p.target(), p.target())
		}
		rlsByUs := rec.rlsByUs
		if !rls {
			if _, err := tx.Exec(ctx, `alter table `+table+` enable row level security`); err != nil {
				return err
			}
			rlsByUs = true
		}
		for _, cmd := range commands {
			name := pgx.Identifier{policyName(cmd)}.Sanitize()
			permit := pgx.Identifier{permitName(cmd)}.Sanitize()
			if _, err := tx.Exec(ctx, `drop policy if exists `+name+` on `+table); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `drop policy if exists `+permit+` on `+table); err != nil {
				return err
			}
			perm, ok := p.Permissions[cmd]
			if !ok {
				continue
			}
			expr, err := policyExpression(perm, p.OwnerColumn, ownerFn)
			if err != nil {
				return err
			}
			var clause string
			switch cmd {
			case "select", "delete":
				clause = `using (` + expr + `)`
			case "insert":
				clause = `with check (` + expr + `)`
			case "update":
				clause = `using (` + expr + `) with check (` + expr + `)`
			}
			if _, err := tx.Exec(ctx, `create policy `+name+` on `+table+` as restrictive for `+cmd+
				` to public `+clause); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `create policy `+permit+` on `+table+` as permissive for `+cmd+
				` to public `+clause); err != nil {
				return err
			}
		}
		exprs, err := currentPolicies(ctx, tx, p.Schema, p.Table)
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(exprs)
		_, err = tx.Exec(ctx, `insert into alfred_rbac.table_policies as t (schema_name, table_name, select_permission,
				insert_permission, update_permission, delete_permission, owner_column, rls_enabled_by_provider, policies)
			values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			on conflict (schema_name, table_name) do update set select_permission = excluded.select_permission,
				insert_permission = excluded.insert_permission, update_permission = excluded.update_permission,
				delete_permission = excluded.delete_permission, owner_column = excluded.owner_column,
				rls_enabled_by_provider = excluded.rls_enabled_by_provider, policies = excluded.policies`,
			p.Schema, p.Table, nullable(p.Permissions["select"]), nullable(p.Permissions["insert"]),
			nullable(p.Permissions["update"]), nullable(p.Permissions["delete"]), nullable(p.OwnerColumn), rlsByUs, raw)
		return err
	})
}

// policyExpression is the USING / WITH CHECK expression of a policy. The permission is the one value that
// must be embedded in DDL (CREATE POLICY takes no parameters): it has matched permissionRe, and is quoted
// as a literal besides. The owner column goes through identifier quoting.
func policyExpression(perm, ownerColumn, ownerFn string) (string, error) {
	if why := PermissionProblem(perm); why != "" {
		return "", applyErrorf("The permission %q is not valid: %s.", perm, why)
	}
	lit, err := quoteLiteral(perm)
	if err != nil {
		return "", err
	}
	expr := `(select alfred_rbac.authorize(` + lit + `))`
	if ownerColumn != "" {
		expr += ` and ` + pgx.Identifier{ownerColumn}.Sanitize() + ` = (select ` + ownerFn + `)`
	}
	return expr, nil
}

func currentPolicies(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, schema, table string) (map[string]policyExpr, error) {
	rows, err := q.Query(ctx, `select policyname, qual, with_check, permissive from pg_catalog.pg_policies
		where schemaname = $1 and tablename = $2 and policyname like 'alfred\_rbac\_%'`, schema, table)
	if err != nil {
		return nil, err
	}
	out := map[string]policyExpr{}
	for rows.Next() {
		var name string
		var e policyExpr
		if err := rows.Scan(&name, &e.Qual, &e.WithCheck, &e.Permissive); err != nil {
			return nil, err
		}
		out[strings.TrimPrefix(name, "alfred_rbac_")] = e
	}
	return out, rows.Err()
}

// GetTablePolicy reads what the database enforces for the table. A command whose policy was dropped or
// altered outside Terraform, or every command when row-level security was disabled, comes back without a
// permission, so the plan shows it and the next apply restores it. errNotFound when the provider does not
// manage the table or the table is gone.
func (s *store) GetTablePolicy(ctx context.Context, schema, table string) (*TablePolicy, error) {
	var out *TablePolicy
	err := s.read(ctx, func(tx pgx.Tx) error {
		out = nil
		return func() error {
			var perms [4]*string
			var owner *string
			var raw []byte
			err := tx.QueryRow(ctx, `select select_permission, insert_permission, update_permission, delete_permission,
				owner_column, policies from alfred_rbac.table_policies where schema_name = $1 and table_name = $2`,
				schema, table).Scan(&perms[0], &perms[1], &perms[2], &perms[3], &owner, &raw)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil
			}
			if err != nil {
				return err
			}
			var rls *bool
			if err := tx.QueryRow(ctx, `select (select c.relrowsecurity from pg_catalog.pg_class c
				join pg_catalog.pg_namespace n on n.oid = c.relnamespace
				where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p'))`, schema, table).Scan(&rls); err != nil {
				return err
			}
			if rls == nil {
				return nil // the application dropped the table
			}
			var recorded map[string]policyExpr
			if err := json.Unmarshal(raw, &recorded); err != nil {
				return err
			}
			live, err := currentPolicies(ctx, tx, schema, table)
			if err != nil {
				return err
			}
			p := &TablePolicy{Schema: schema, Table: table, Permissions: map[string]string{}}
			if owner != nil {
				p.OwnerColumn = *owner
			}
			for i, cmd := range commands {
				if perms[i] == nil || !*rls {
					continue
				}
				// Both policies must be there, of the right kind, with the expressions the provider wrote.
				intact := true
				for key, kind := range policyKeys(cmd) {
					want, ok1 := recorded[key]
					got, ok2 := live[key]
					intact = intact && ok1 && ok2 && got.Permissive == kind && eqPtr(want.Qual, got.Qual) &&
						eqPtr(want.WithCheck, got.WithCheck)
				}
				if intact {
					p.Permissions[cmd] = *perms[i]
				}
			}
			out = p
			return nil
		}()
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, errNotFound
	}
	return out, nil
}

// DeleteTablePolicy drops the provider's policies and, when the provider enabled it, row-level security.
// It never touches the table's rows. A table that is gone, or a record that is gone, is success.
func (s *store) DeleteTablePolicy(ctx context.Context, schema, table string) error {
	return s.tx(ctx, func(tx pgx.Tx) error {
		if err := lock(ctx, tx, ddlLockKey); err != nil {
			return err
		}
		var rlsByUs bool
		err := tx.QueryRow(ctx, `delete from alfred_rbac.table_policies where schema_name = $1 and table_name = $2
			returning rls_enabled_by_provider`, schema, table).Scan(&rlsByUs)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `select exists (select from pg_catalog.pg_class c
			join pg_catalog.pg_namespace n on n.oid = c.relnamespace
			where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p'))`, schema, table).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return nil
		}
		t := pgx.Identifier{schema, table}.Sanitize()
		for _, cmd := range commands {
			for _, name := range []string{policyName(cmd), permitName(cmd)} {
				if _, err := tx.Exec(ctx, `drop policy if exists `+pgx.Identifier{name}.Sanitize()+` on `+t); err != nil {
					return err
				}
			}
		}
		if rlsByUs {
			if _, err := tx.Exec(ctx, `alter table `+t+` disable row level security`); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- helpers ----

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	out := slices.Clone(s)
	sort.Strings(out)
	return out
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func eqPtr(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
