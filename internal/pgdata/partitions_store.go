package pgdata

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// querier is what reads need: a pool, a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func qualified(schema, table string) string { return pgx.Identifier{schema, table}.Sanitize() }

// errTableGone is a table that does not exist (any more).
var errTableGone = errors.New("table not found")

// partitionKey is the partition key of a table as PostgreSQL describes it.
type partitionKey struct {
	Column string
	Type   string // format_type of the column
}

// readKey checks that schema.table is range-partitioned by one timestamp or timestamptz column, and
// returns that column; errTableGone when the table does not exist.
func readKey(ctx context.Context, q querier, schema, table string) (partitionKey, error) {
	var exists bool
	var kind string
	if err := q.QueryRow(ctx, `select c.oid is not null, coalesce(c.relkind::text, '')
		from (select to_regclass($1) as oid) r left join pg_catalog.pg_class c on c.oid = r.oid`,
		qualified(schema, table)).Scan(&exists, &kind); err != nil {
		return partitionKey{}, err
	}
	name := schema + "." + table
	if !exists {
		return partitionKey{}, errTableGone
	}
	if kind != "p" {
		return partitionKey{}, fmt.Errorf("%s is not a partitioned table. The table is the application's, and the "+
			"provider never creates, converts or drops it: create it with PARTITION BY RANGE (<timestamp column>) "+
			"in a migration (an existing table can be partitioned by creating a partitioned one and attaching the "+
			"old one as a partition), then apply again", name)
	}
	var strategy string
	var natts int
	var k partitionKey
	if err := q.QueryRow(ctx, `select pt.partstrat::text, pt.partnatts, coalesce(a.attname::text, ''),
			coalesce(pg_catalog.format_type(a.atttypid, a.atttypmod), '')
		from pg_catalog.pg_partitioned_table pt
		left join pg_catalog.pg_attribute a on a.attrelid = pt.partrelid and a.attnum = pt.partattrs[0]
		where pt.partrelid = to_regclass($1)`, qualified(schema, table)).Scan(&strategy, &natts, &k.Column, &k.Type); err != nil {
		return partitionKey{}, err
	}
	if strategy != "r" || natts != 1 || k.Column == "" ||
		(k.Type != "timestamp with time zone" && k.Type != "timestamp without time zone") {
		return partitionKey{}, fmt.Errorf("%s must be partitioned BY RANGE on one timestamp or timestamptz column; "+
			"it is partitioned by %s on %d key(s) (first: %q of type %q)", name,
			map[string]string{"r": "RANGE", "l": "LIST", "h": "HASH"}[strategy], natts, k.Column, k.Type)
	}
	return k, nil
}

// readPartitions lists the table's range partitions with finite bounds (in its own schema), in UTC, and
// the name of its default partition ("" when none). pg_get_expr gets no relation (0): a bound holds only
// constants, and with a relation it would take a lock on it, so that a plan would queue behind the
// application's migration.
func readPartitions(ctx context.Context, q querier, schema, table string) ([]partition, string, error) {
	rows, err := q.Query(ctx, `select c.relname::text, (m[1])::timestamptz at time zone 'UTC', (m[2])::timestamptz at time zone 'UTC'
		from pg_catalog.pg_inherits i
		join pg_catalog.pg_class c on c.oid = i.inhrelid
		join pg_catalog.pg_namespace n on n.oid = c.relnamespace,
		lateral regexp_match(pg_catalog.pg_get_expr(c.relpartbound, 0), $re$^FOR VALUES FROM \('([^']*)'\) TO \('([^']*)'\)$re$) m
		where i.inhparent = to_regclass($1) and n.nspname = $2 and m is not null order by 2`, qualified(schema, table), schema)
	if err != nil {
		return nil, "", err
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (partition, error) {
		var p partition
		err := r.Scan(&p.Name, &p.From, &p.To)
		p.From, p.To = p.From.UTC(), p.To.UTC()
		return p, err
	})
	if err != nil {
		return nil, "", err
	}
	var def string
	err = q.QueryRow(ctx, `select coalesce((select c.relname::text from pg_catalog.pg_inherits i
		join pg_catalog.pg_class c on c.oid = i.inhrelid
		where i.inhparent = to_regclass($1) and pg_catalog.pg_get_expr(c.relpartbound, 0) = 'DEFAULT'), '')`,
		qualified(schema, table)).Scan(&def)
	return ps, def, err
}

// partitionSet is a row of alfred_pgdata.partition_sets: the configuration the maintenance function uses.
type partitionSet struct {
	Column           string
	Interval         string
	Premake          int64
	Retention        *string
	RetentionAction  string
	DefaultPartition bool
}

// readSet returns the table's row in alfred_pgdata.partition_sets, or nil when there is none (or no
// alfred_pgdata schema: a plan never installs it).
func readSet(ctx context.Context, q querier, schema, table string) (*partitionSet, error) {
	var installed bool
	if err := q.QueryRow(ctx, `select to_regclass('alfred_pgdata.partition_sets') is not null`).Scan(&installed); err != nil {
		return nil, err
	}
	if !installed {
		return nil, nil
	}
	var s partitionSet
	err := q.QueryRow(ctx, `select column_name, interval_unit, premake, retention, retention_action, default_partition
		from alfred_pgdata.partition_sets where schema_name = $1 and table_name = $2`, schema, table).
		Scan(&s.Column, &s.Interval, &s.Premake, &s.Retention, &s.RetentionAction, &s.DefaultPartition)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	return &s, err
}

// cronJob returns the name of the pg_cron job that runs the maintenance function in this database, ""
// when there is none, and whether pg_cron is installed at all.
func cronJob(ctx context.Context, q querier) (job string, hasCron bool, err error) {
	if err = q.QueryRow(ctx, `select exists (select from pg_catalog.pg_extension where extname = 'pg_cron')`).
		Scan(&hasCron); err != nil || !hasCron {
		return "", hasCron, err
	}
	err = q.QueryRow(ctx, `select coalesce((select jobname::text from cron.job where jobname = $1 limit 1), '')`,
		cronJobName).Scan(&job)
	return job, true, err
}

// cronSchedule is when pg_cron runs the maintenance function: hourly, so that a partition is added within
// the hour its interval's premake window opens.
const cronSchedule = "7 * * * *"

// applySet makes the table's partitions what planned says (or, when planned is nil, what the window at
// now says), and records the set for the maintenance function, in one transaction.
func applySet(ctx context.Context, tx pgx.Tx, schema, table string, set partitionSet, retention time.Duration,
	planned []partition, now time.Time) error {
	if err := install(ctx, tx); err != nil {
		return fmt.Errorf("installing the alfred_pgdata schema: %w", err)
	}
	if _, err := tx.Exec(ctx, `select pg_advisory_xact_lock(hashtext('alfred_pgdata:' || $1 || '.' || $2))`, schema, table); err != nil {
		return err
	}
	key, err := readKey(ctx, tx, schema, table)
	if errors.Is(err, errTableGone) {
		return fmt.Errorf("table %s.%s does not exist. The table is the application's: the provider never creates "+
			"it. Create it (PARTITION BY RANGE (<timestamp column>)) in a migration first", schema, table)
	}
	if err != nil {
		return err
	}
	if set.Column != "" && set.Column != key.Column {
		return fmt.Errorf("column is %q, but %s.%s is partitioned by %q. A table's partition key cannot change; set "+
			"column = %q or leave it unset", set.Column, schema, table, key.Column, key.Column)
	}
	var retSecs *int64
	if retention > 0 {
		s := int64(retention / time.Second)
		retSecs = &s
	}
	if _, err := tx.Exec(ctx, `insert into alfred_pgdata.partition_sets as s (schema_name, table_name, column_name,
			interval_unit, premake, retention, retention_seconds, retention_action, default_partition)
		values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		on conflict (schema_name, table_name) do update set column_name = excluded.column_name,
			interval_unit = excluded.interval_unit, premake = excluded.premake, retention = excluded.retention,
			retention_seconds = excluded.retention_seconds, retention_action = excluded.retention_action,
			default_partition = excluded.default_partition`,
		schema, table, key.Column, set.Interval, set.Premake, set.Retention, retSecs, set.RetentionAction,
		set.DefaultPartition); err != nil {
		return err
	}
	existing, def, err := readPartitions(ctx, tx, schema, table)
	if err != nil {
		return err
	}
	var add, retire []partition
	if planned == nil {
		_, add, retire = window(existing, table, set.Interval, int(set.Premake), retention, now)
	} else {
		want := map[string]bool{}
		have := map[string]bool{}
		for _, p := range existing {
			have[p.Name] = true
		}
		for _, p := range planned {
			want[p.Name] = true
			if !have[p.Name] {
				add = append(add, p)
			}
		}
		for _, p := range existing {
			if !want[p.Name] {
				retire = append(retire, p)
			}
		}
	}
	for _, p := range retire {
		if _, err := tx.Exec(ctx, `select alfred_pgdata.retire_partition($1, $2, $3, $4)`, schema, table, p.Name,
			set.RetentionAction); err != nil {
			return fmt.Errorf("retiring (%s) partition %s: %w", set.RetentionAction, p.Name, err)
		}
	}
	for _, p := range add {
		if _, err := tx.Exec(ctx, `select alfred_pgdata.add_partition($1, $2, $3, $4, $5)`, schema, table, p.Name,
			p.From, p.To); err != nil {
			return fmt.Errorf("adding partition %s [%s, %s): %w", p.Name, p.From.Format(time.RFC3339),
				p.To.Format(time.RFC3339), err)
		}
	}
	switch {
	case set.DefaultPartition && def == "":
		if _, err := tx.Exec(ctx, `select alfred_pgdata.ensure_default_partition($1, $2)`, schema, table); err != nil {
			return fmt.Errorf("adding the default partition %s_default: %w", table, err)
		}
	case !set.DefaultPartition && def != "":
		// Detached, not dropped: its rows are the application's.
		if _, err := tx.Exec(ctx, fmt.Sprintf(`alter table %s detach partition %s`, qualified(schema, table),
			qualified(schema, def))); err != nil {
			return fmt.Errorf("detaching the default partition %s: %w", def, err)
		}
	}
	return nil
}
