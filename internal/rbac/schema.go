package rbac

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The provider's own schema, alfred_rbac, is installed and migrated by the provider itself. Every
// migration runs in one transaction under a transaction-level advisory lock, so any number of provider
// processes (parallel applies, parallel tests) can start at once: one migrates, the others wait and then
// find nothing to do. This is the only place where the RBAC resources run DDL on shared catalogs; the
// role and assignment resources only ever write rows, so a large apply at high parallelism never races on
// catalog tuples ("tuple concurrently updated").

// migrationLockKey is the key of the advisory lock held while migrating; ddlLockKey serialises the table
// policy DDL; inheritsLockKey serialises inheritance changes so that the cycle check sees every edge.
const (
	migrationLockKey = "alfred_rbac.migrate"
	ddlLockKey       = "alfred_rbac.ddl"
	inheritsLockKey  = "alfred_rbac.inherits"
)

// migrations are applied in order; a database records the highest version applied in
// alfred_rbac.schema_migrations. Never edit a released migration: append a new one.
var migrations = []string{
	// 1: roles, permissions, inheritance, assignments, table policy bookkeeping, and the functions.
	`
create table alfred_rbac.roles (
	name        text primary key check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
	description text not null default '',
	created_at  timestamptz not null default now(),
	updated_at  timestamptz not null default now()
);

create table alfred_rbac.role_permissions (
	role       text not null references alfred_rbac.roles (name) on delete cascade,
	permission text not null check (permission ~ '^[a-z][a-z0-9_]{0,62}\.[a-z][a-z0-9_]{0,62}$'),
	primary key (role, permission)
);

-- A role cannot be dropped while another inherits it (on delete restrict): the provider says which.
create table alfred_rbac.role_inherits (
	role     text not null references alfred_rbac.roles (name) on delete cascade,
	inherits text not null references alfred_rbac.roles (name) on delete restrict,
	primary key (role, inherits),
	check (role <> inherits)
);
create index role_inherits_inherits_idx on alfred_rbac.role_inherits (inherits);

-- principal is the JWT sub (a user id) or a service account email.
create table alfred_rbac.assignments (
	principal  text not null check (length(principal) between 1 and 254),
	role       text not null references alfred_rbac.roles (name) on delete restrict,
	created_at timestamptz not null default now(),
	primary key (principal, role)
);
create index assignments_role_idx on alfred_rbac.assignments (role);

-- What each alfred_rbac_table_policy manages, so that Read can tell drift from intent and Delete undoes
-- exactly what Create did. policies holds the deparsed expressions of each created policy.
create table alfred_rbac.table_policies (
	schema_name             text not null,
	table_name              text not null,
	select_permission       text,
	insert_permission       text,
	update_permission       text,
	delete_permission       text,
	owner_column            text,
	rls_enabled_by_provider boolean not null,
	policies                jsonb not null default '{}',
	primary key (schema_name, table_name)
);

-- The caller's JWT subject, or null when the claims are missing or malformed. Never raises.
create function alfred_rbac.current_sub() returns text
language plpgsql stable
set search_path = ''
as $$
declare
	claims jsonb;
begin
	begin
		claims := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
	exception when others then
		return null;
	end;
	if claims is null or jsonb_typeof(claims) <> 'object' or jsonb_typeof(claims -> 'sub') is distinct from 'string' then
		return null;
	end if;
	return nullif(claims ->> 'sub', '');
end
$$;

-- The caller's JWT subject as a uuid, or null when it is missing, malformed or not a uuid.
create function alfred_rbac.current_uid() returns uuid
language plpgsql stable
set search_path = ''
as $$
declare
	s text := alfred_rbac.current_sub();
begin
	if s is null or s !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
		return null;
	end if;
	return s::uuid;
end
$$;

-- True when the caller holds the permission through a live assignment, directly or by inheritance.
-- Role names carried in the token are never consulted. UNION (not UNION ALL) makes the walk cycle-safe.
create function alfred_rbac.authorize(permission text) returns boolean
language plpgsql stable
security definer
set search_path = ''
as $$
declare
	sub text := alfred_rbac.current_sub();
begin
	if sub is null or permission is null then
		return false;
	end if;
	return exists (
		with recursive held (role) as (
			select a.role from alfred_rbac.assignments a where a.principal = sub
			union
			select i.inherits from alfred_rbac.role_inherits i join held h on i.role = h.role
		)
		select 1
		from held h
		join alfred_rbac.role_permissions p on p.role = h.role
		where p.permission = authorize.permission
	);
end
$$;

-- Supabase custom access token hook: sets claims.alfred_roles to the user's assigned roles, sorted.
create function alfred_rbac.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
	roles  jsonb;
	claims jsonb := event -> 'claims';
begin
	select coalesce(jsonb_agg(a.role order by a.role collate "C"), '[]'::jsonb)
	  into roles
	  from alfred_rbac.assignments a
	 where a.principal = event ->> 'user_id';
	if claims is null or jsonb_typeof(claims) <> 'object' then
		claims := '{}'::jsonb;
	end if;
	return jsonb_set(coalesce(event, '{}'::jsonb), '{claims}', claims || jsonb_build_object('alfred_roles', roles));
end
$$;
`,
	// 2: principals by verified email, in-place role renames, principals up to 300 characters.
	`
-- A role renamed in place carries its permissions, inheritance and assignments along (on update cascade),
-- so renaming a role that others inherit is one UPDATE, not a replacement that the inheritance forbids.
alter table alfred_rbac.role_permissions
	drop constraint role_permissions_role_fkey,
	add constraint role_permissions_role_fkey foreign key (role)
		references alfred_rbac.roles (name) on delete cascade on update cascade;
alter table alfred_rbac.role_inherits
	drop constraint role_inherits_role_fkey,
	add constraint role_inherits_role_fkey foreign key (role)
		references alfred_rbac.roles (name) on delete cascade on update cascade,
	drop constraint role_inherits_inherits_fkey,
	add constraint role_inherits_inherits_fkey foreign key (inherits)
		references alfred_rbac.roles (name) on delete restrict on update cascade;
-- principal is a user id (the JWT sub), or user:EMAIL / serviceAccount:EMAIL (the verified email claim).
alter table alfred_rbac.assignments
	drop constraint assignments_role_fkey,
	add constraint assignments_role_fkey foreign key (role)
		references alfred_rbac.roles (name) on delete restrict on update cascade,
	drop constraint assignments_principal_check,
	add constraint assignments_principal_check check (length(principal) between 1 and 300);

-- The verified email of a set of claims, lower-cased, or null: the claim email must be a non-empty string
-- and email_verified must be true (Google-signed ID tokens carry it as a boolean; some issuers as "true").
-- Without email_verified, as in Supabase access tokens, the email is not trusted. Never raises.
create function alfred_rbac.claims_email(claims jsonb) returns text
language sql immutable
set search_path = ''
as $$
	select case
		when jsonb_typeof(claims) = 'object'
			and jsonb_typeof(claims -> 'email') = 'string'
			and (claims -> 'email_verified' = 'true'::jsonb or claims -> 'email_verified' = '"true"'::jsonb)
		then nullif(lower(claims ->> 'email'), '')
	end
$$;

-- The caller's verified email, from request.jwt.claims, or null. Never raises.
create function alfred_rbac.current_email() returns text
language plpgsql stable
set search_path = ''
as $$
declare
	claims jsonb;
begin
	begin
		claims := nullif(current_setting('request.jwt.claims', true), '')::jsonb;
	exception when others then
		return null;
	end;
	return alfred_rbac.claims_email(claims);
end
$$;

-- True when the caller holds the permission through a live assignment, directly or by inheritance: to its
-- user id (the claim sub), or to user:EMAIL / serviceAccount:EMAIL for its verified email claim. A sub that
-- looks like a prefixed principal matches nothing.
create or replace function alfred_rbac.authorize(permission text) returns boolean
language plpgsql stable
security definer
set search_path = ''
as $$
declare
	sub   text := alfred_rbac.current_sub();
	email text := alfred_rbac.current_email();
begin
	if sub ~ '^(user|serviceAccount):' then
		sub := null;
	end if;
	if permission is null or (sub is null and email is null) then
		return false;
	end if;
	return exists (
		with recursive held (role) as (
			select a.role from alfred_rbac.assignments a
			 where a.principal = sub or a.principal = 'user:' || email or a.principal = 'serviceAccount:' || email
			union
			select i.inherits from alfred_rbac.role_inherits i join held h on i.role = h.role
		)
		select 1
		from held h
		join alfred_rbac.role_permissions p on p.role = h.role
		where p.permission = authorize.permission
	);
end
$$;

-- Supabase custom access token hook: sets claims.alfred_roles to the roles assigned to the user id and to
-- the verified email of the claims, sorted.
create or replace function alfred_rbac.custom_access_token_hook(event jsonb) returns jsonb
language plpgsql stable
security definer
set search_path = ''
as $$
declare
	roles  jsonb;
	claims jsonb := event -> 'claims';
	email  text;
begin
	if claims is null or jsonb_typeof(claims) <> 'object' then
		claims := '{}'::jsonb;
	end if;
	email := alfred_rbac.claims_email(claims);
	select coalesce(jsonb_agg(r.role order by r.role collate "C"), '[]'::jsonb)
	  into roles
	  from (select distinct a.role
	          from alfred_rbac.assignments a
	         where a.principal = event ->> 'user_id'
	            or a.principal = 'user:' || email
	            or a.principal = 'serviceAccount:' || email) r;
	return jsonb_set(coalesce(event, '{}'::jsonb), '{claims}', claims || jsonb_build_object('alfred_roles', roles));
end
$$;

grant execute on function alfred_rbac.current_email(), alfred_rbac.claims_email(jsonb) to public;
`,
}

// grantsSQL runs after the migrations on every first connection of a provider process (under the same
// lock): it is idempotent, and Supabase's roles may appear after the schema was first installed.
const grantsSQL = `
do $$
declare
	r text;
begin
	revoke all on all tables in schema alfred_rbac from public;
	grant usage on schema alfred_rbac to public;
	grant execute on function alfred_rbac.authorize(text), alfred_rbac.current_sub(), alfred_rbac.current_uid() to public;
	revoke execute on function alfred_rbac.custom_access_token_hook(jsonb) from public;
	foreach r in array array['anon', 'authenticated', 'service_role'] loop
		if exists (select from pg_catalog.pg_roles where rolname = r) then
			execute format('revoke all on all tables in schema alfred_rbac from %I', r);
			execute format('revoke execute on function alfred_rbac.custom_access_token_hook(jsonb) from %I', r);
		end if;
	end loop;
	if exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
		grant usage on schema alfred_rbac to supabase_auth_admin;
		grant execute on function alfred_rbac.custom_access_token_hook(jsonb) to supabase_auth_admin;
	end if;
end
$$`

// migrate brings the alfred_rbac schema up to date.
func migrate(ctx context.Context, conn *pgx.Conn) error { return migrateTo(ctx, conn, len(migrations)) }

// migrateTo brings the alfred_rbac schema up to version target (tests install older versions with it).
func migrateTo(ctx context.Context, conn *pgx.Conn, target int) error {
	// Read committed, whatever the database's default_transaction_isolation: under repeatable read or
	// serializable the snapshot would be taken by the lock statement itself, before the lock is granted, so a
	// process that waited would not see the schema the first one just installed and would install it again.
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := setLockTimeout(ctx, tx); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtextextended($1, 0))`, migrationLockKey); err != nil {
		return fmt.Errorf("taking the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `create schema if not exists alfred_rbac;
		create table if not exists alfred_rbac.schema_migrations (
			version    integer primary key,
			applied_at timestamptz not null default now()
		)`); err != nil {
		return fmt.Errorf("creating schema alfred_rbac: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `select coalesce(max(version), 0) from alfred_rbac.schema_migrations`).Scan(&current); err != nil {
		return err
	}
	if current > len(migrations) {
		return fmt.Errorf("the database's alfred_rbac schema is at version %d, newer than this provider knows "+
			"(%d): upgrade the provider", current, len(migrations))
	}
	for v := current + 1; v <= target; v++ {
		if _, err := tx.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("applying alfred_rbac migration %d: %w", v, err)
		}
		if _, err := tx.Exec(ctx, `insert into alfred_rbac.schema_migrations (version) values ($1)`, v); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(ctx, grantsSQL); err != nil {
		return fmt.Errorf("granting access to alfred_rbac functions: %w", err)
	}
	return tx.Commit(ctx)
}
