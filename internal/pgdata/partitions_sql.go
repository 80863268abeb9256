package pgdata

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// maintenanceFunction is what pg_cron (or any scheduler) calls between applies.
const maintenanceFunction = "alfred_pgdata.maintain_partitions"

// cronJobName is the pg_cron job that calls the maintenance function: one per database, for every set.
const cronJobName = "alfred_pgdata_maintain_partitions"

// installSQL creates or updates the provider's alfred_pgdata schema: the table of partition sets (the
// configuration the maintenance function works from) and the functions that add, retire and maintain
// partitions. It runs only at apply, under an advisory lock, and is idempotent.
//
// The window logic of maintain_partitions is the one of window() in partitions_window.go: the provider
// plans with the Go one and pg_cron runs this one; TestAccPartitions_maintenanceFunctionMatchesPlan holds
// them together.
const installSQL = `
select pg_advisory_xact_lock(hashtext('alfred_pgdata.install'));
create schema if not exists alfred_pgdata;
create table if not exists alfred_pgdata.partition_sets (
	schema_name       text not null,
	table_name        text not null,
	column_name       text not null,
	interval_unit     text not null check (interval_unit in ('day', 'week', 'month')),
	premake           integer not null check (premake >= 0),
	retention         text,
	retention_seconds bigint check (retention_seconds > 0),
	retention_action  text not null check (retention_action in ('detach', 'drop')),
	default_partition boolean not null,
	primary key (schema_name, table_name)
);

-- The range partitions of a table with finite bounds, in UTC (the bound text is rendered and read in UTC).
create or replace function alfred_pgdata.partitions_of(p_schema text, p_table text)
returns table (name text, lo timestamp, hi timestamp)
language sql stable set timezone = 'UTC' set datestyle = 'ISO, YMD' as $fn$
	select c.relname::text, (m[1])::timestamptz at time zone 'UTC', (m[2])::timestamptz at time zone 'UTC'
	from pg_catalog.pg_inherits i
	join pg_catalog.pg_class c on c.oid = i.inhrelid
	join pg_catalog.pg_namespace n on n.oid = c.relnamespace,
	lateral regexp_match(pg_catalog.pg_get_expr(c.relpartbound, 0), $re$^FOR VALUES FROM \('([^']*)'\) TO \('([^']*)'\)$re$) m
	where i.inhparent = format('%I.%I', p_schema, p_table)::regclass and n.nspname = p_schema and m is not null
	order by 2
$fn$;

-- The default partition of a table, or null.
create or replace function alfred_pgdata.default_partition_of(p_schema text, p_table text)
returns regclass language sql stable as $fn$
	select i.inhrelid::regclass from pg_catalog.pg_inherits i join pg_catalog.pg_class c on c.oid = i.inhrelid
	where i.inhparent = format('%I.%I', p_schema, p_table)::regclass
	and pg_catalog.pg_get_expr(c.relpartbound, 0) = 'DEFAULT'
$fn$;

-- Adds the partition [p_lo, p_hi) named p_name. Rows of that range that landed in the default partition
-- are moved into it (PostgreSQL refuses the partition otherwise), in the same transaction.
create or replace function alfred_pgdata.add_partition(p_schema text, p_table text, p_name text, p_lo timestamp, p_hi timestamp)
returns void language plpgsql set timezone = 'UTC' set datestyle = 'ISO, YMD' as $fn$
declare
	parent regclass := format('%I.%I', p_schema, p_table)::regclass;
	col text;
	typ regtype;
	lo_lit text := to_char(p_lo, 'YYYY-MM-DD HH24:MI:SS');
	hi_lit text := to_char(p_hi, 'YYYY-MM-DD HH24:MI:SS');
	def regclass := alfred_pgdata.default_partition_of(p_schema, p_table);
	stray boolean := false;
begin
	select a.attname, a.atttypid::regtype into col, typ
	from pg_catalog.pg_partitioned_table pt
	join pg_catalog.pg_attribute a on a.attrelid = pt.partrelid and a.attnum = pt.partattrs[0]
	where pt.partrelid = parent;
	if typ = 'timestamp with time zone'::regtype then
		lo_lit := lo_lit || '+00';
		hi_lit := hi_lit || '+00';
	end if;
	if def is not null then
		execute format('select exists (select from %s where %I >= %L and %I < %L)', def, col, lo_lit, col, hi_lit) into stray;
	end if;
	if stray then
		execute format('alter table %s detach partition %s', parent, def);
	end if;
	execute format('create table %I.%I partition of %s for values from (%L) to (%L)', p_schema, p_name, parent, lo_lit, hi_lit);
	if stray then
		execute format('with moved as (delete from %s where %I >= %L and %I < %L returning *) insert into %s select * from moved',
			def, col, lo_lit, col, hi_lit, parent);
		execute format('alter table %s attach partition %s default', parent, def);
	end if;
end
$fn$;

-- Retires a partition: detached (it stays as a table of its own, with its rows) or dropped.
create or replace function alfred_pgdata.retire_partition(p_schema text, p_table text, p_name text, p_action text)
returns void language plpgsql as $fn$
begin
	if p_action = 'drop' then
		execute format('drop table %I.%I', p_schema, p_name);
	else
		execute format('alter table %I.%I detach partition %I.%I', p_schema, p_table, p_schema, p_name);
	end if;
end
$fn$;

-- Makes <table>_default the default partition: re-attached when a table of that name exists (it was
-- detached), created otherwise.
create or replace function alfred_pgdata.ensure_default_partition(p_schema text, p_table text)
returns void language plpgsql as $fn$
begin
	if to_regclass(format('%I.%I', p_schema, p_table || '_default')) is null then
		execute format('create table %I.%I partition of %I.%I default', p_schema, p_table || '_default', p_schema, p_table);
	else
		execute format('alter table %I.%I attach partition %I.%I default', p_schema, p_table, p_schema, p_table || '_default');
	end if;
end
$fn$;

-- Keeps every partition set (or the one named) covered from at - retention to premake intervals after
-- at, as terraform apply does; returns what it did. pg_cron calls it with no arguments.
create or replace function alfred_pgdata.maintain_partitions(p_schema text default null, p_table text default null,
	p_at timestamptz default now())
returns setof text language plpgsql set timezone = 'UTC' set datestyle = 'ISO, YMD' as $fn$
declare
	s record;
	p record;
	unit_step interval;
	at_utc timestamp := p_at at time zone 'UTC';
	v_cutoff timestamp;
	v_lo timestamp;
	v_last timestamp;
	nm text;
begin
	for s in select * from alfred_pgdata.partition_sets
		where (p_schema is null or schema_name = p_schema) and (p_table is null or table_name = p_table)
		order by schema_name, table_name
	loop
		if to_regclass(format('%I.%I', s.schema_name, s.table_name)) is null then
			continue;
		end if;
		perform pg_advisory_xact_lock(hashtext('alfred_pgdata:' || s.schema_name || '.' || s.table_name));
		unit_step := ('1 ' || s.interval_unit)::interval;
		v_lo := date_trunc(s.interval_unit, at_utc);
		v_cutoff := null;
		if s.retention_seconds is not null then
			v_cutoff := at_utc - make_interval(secs => s.retention_seconds);
			v_lo := date_trunc(s.interval_unit, v_cutoff);
			for p in select x.name from alfred_pgdata.partitions_of(s.schema_name, s.table_name) x where x.hi <= v_cutoff loop
				perform alfred_pgdata.retire_partition(s.schema_name, s.table_name, p.name, s.retention_action);
				return next format('%s %I.%I', case s.retention_action when 'drop' then 'dropped' else 'detached' end,
					s.schema_name, p.name);
			end loop;
		end if;
		v_last := date_trunc(s.interval_unit, at_utc) + s.premake * unit_step;
		while v_lo <= v_last loop
			if not exists (select from alfred_pgdata.partitions_of(s.schema_name, s.table_name) x
					where x.hi > v_lo and x.lo < v_lo + unit_step) then
				nm := s.table_name || '_p' || to_char(v_lo, case s.interval_unit when 'month' then 'YYYYMM' else 'YYYYMMDD' end);
				perform alfred_pgdata.add_partition(s.schema_name, s.table_name, nm, v_lo, v_lo + unit_step);
				return next format('created %I.%I', s.schema_name, nm);
			end if;
			v_lo := v_lo + unit_step;
		end loop;
		if s.default_partition and alfred_pgdata.default_partition_of(s.schema_name, s.table_name) is null then
			perform alfred_pgdata.ensure_default_partition(s.schema_name, s.table_name);
			return next format('attached %I.%I', s.schema_name, s.table_name || '_default');
		end if;
	end loop;
end
$fn$;
`

// install creates or updates the alfred_pgdata schema in tx.
func install(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, installSQL)
	return err
}
