package supervisor

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// supabaseBootstrap makes the sandbox's PostgreSQL look like a Supabase database to the provider and to
// applications: the API roles Supabase creates, and the auth schema's jwt() and uid() helpers that read
// the request.jwt.claims setting PostgREST sets per request. It is idempotent.
const supabaseBootstrap = `
do $$
declare r text;
begin
  foreach r in array array['anon', 'authenticated', 'service_role', 'supabase_auth_admin'] loop
    if not exists (select 1 from pg_roles where rolname = r) then
      execute format('create role %I nologin', r);
    end if;
  end loop;
end $$;
create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;
create or replace function auth.jwt() returns jsonb language sql stable as $f$
  select coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb
$f$;
create or replace function auth.uid() returns uuid language sql stable as $f$
  select nullif(auth.jwt() ->> 'sub', '')::uuid
$f$;
grant usage on schema public to anon, authenticated, service_role;
`

func bootstrapPostgres(ctx context.Context, dsn string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, supabaseBootstrap); err != nil {
		return fmt.Errorf("creating the Supabase roles and auth schema: %w", err)
	}
	return nil
}
