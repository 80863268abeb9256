package pgdata

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ datasource.DataSourceWithConfigure = (*replicationDataSource)(nil)

const replicationTypeName = "alfred_postgres_replication"

type replicationDataSource struct{ base }

// NewReplicationDataSource returns the alfred_postgres_replication data source.
func NewReplicationDataSource() datasource.DataSource {
	return &replicationDataSource{base{typeName: replicationTypeName}}
}

func (d *replicationDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_postgres_replication"
}

func (d *replicationDataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.setData(req.ProviderData, &resp.Diagnostics)
}

var standbyAttrTypes = map[string]attr.Type{
	"pid":              types.Int64Type,
	"application_name": types.StringType,
	"client_addr":      types.StringType,
	"state":            types.StringType,
	"sync_state":       types.StringType,
	"sent_lsn":         types.StringType,
	"write_lsn":        types.StringType,
	"flush_lsn":        types.StringType,
	"replay_lsn":       types.StringType,
	"write_lag":        types.Float64Type,
	"flush_lag":        types.Float64Type,
	"replay_lag":       types.Float64Type,
	"replay_lag_bytes": types.Int64Type,
	"reply_time":       types.StringType,
}

var slotAttrTypes = map[string]attr.Type{
	"slot_name":      types.StringType,
	"slot_type":      types.StringType,
	"database":       types.StringType,
	"active":         types.BoolType,
	"wal_status":     types.StringType,
	"restart_lsn":    types.StringType,
	"retained_bytes": types.Int64Type,
}

func (d *replicationDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	str := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: desc}
	}
	lag := func(what string) schema.Float64Attribute {
		return schema.Float64Attribute{Computed: true, MarkdownDescription: "Seconds between the primary " +
			"flushing recent WAL locally and the standby reporting that it has " + what + " it (`pg_stat_replication`). " +
			"Null when unknown, and when the standby has caught up and the primary is idle (PostgreSQL clears the " +
			"figure then). While the standby's " + what + " position is stuck and the primary writes, it grows."}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Streaming replication as the primary sees it: each connected standby (WAL sender) " +
			"from `pg_stat_replication`, with its state and lag, and the replication slots from " +
			"`pg_replication_slots`. Connects through the provider's `postgres` block (any database of the " +
			"cluster). The DSN's user needs the `pg_monitor` role (or superuser) to see the standbys' positions " +
			"and lag; without it PostgreSQL hides them and they read as null. Read at every plan: a way to see lag " +
			"and to gate a change on it (e.g. a `precondition`).",
		Attributes: map[string]schema.Attribute{
			"id": str("The primary's system identifier (`pg_control_system()`)."),
			"in_recovery": schema.BoolAttribute{Computed: true, MarkdownDescription: "True when the DSN points " +
				"at a standby rather than a primary (`pg_is_in_recovery()`); a standby lists only cascaded standbys."},
			"current_lsn": str("The server's current WAL position: `pg_current_wal_lsn()` on a primary, the " +
				"last replayed position on a standby."),
			"standbys": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The standbys streaming from this server, ordered by `application_name`.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"pid":              schema.Int64Attribute{Computed: true, MarkdownDescription: "Process id of the WAL sender."},
					"application_name": str("The standby's `application_name` (its `cluster_name`, or `walreceiver`, unless `primary_conninfo` sets one)."),
					"client_addr":      str("The standby's address; empty for a Unix-socket connection."),
					"state":            str("`startup`, `catchup`, `streaming`, `backup` or `stopping`."),
					"sync_state":       str("`async`, `potential`, `sync` or `quorum`."),
					"sent_lsn":         str("Last WAL position sent."),
					"write_lsn":        str("Last WAL position the standby has written."),
					"flush_lsn":        str("Last WAL position the standby has flushed."),
					"replay_lsn":       str("Last WAL position the standby has replayed."),
					"write_lag":        lag("written"),
					"flush_lag":        lag("flushed"),
					"replay_lag":       lag("replayed"),
					"replay_lag_bytes": schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes of WAL " +
						"between the primary's current position and the standby's replay position; null when unknown."},
					"reply_time": str("When the standby last reported its positions (RFC 3339)."),
				}},
			},
			"slots": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The replication slots, ordered by name.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"slot_name":   str("The slot's name."),
					"slot_type":   str("`physical` or `logical`."),
					"database":    str("The database of a logical slot; empty for a physical one."),
					"active":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether a consumer is streaming from the slot now."},
					"wal_status":  str("`reserved`, `extended`, `unreserved` or `lost`; empty when the slot has never reserved WAL."),
					"restart_lsn": str("The oldest WAL position the slot still needs; empty when none."),
					"retained_bytes": schema.Int64Attribute{Computed: true, MarkdownDescription: "Bytes of WAL the " +
						"slot holds back (current position minus `restart_lsn`): what an abandoned slot costs in disk. " +
						"Null when the slot has no `restart_lsn`."},
				}},
			},
		},
	}
}

type replicationModel struct {
	ID         types.String `tfsdk:"id"`
	InRecovery types.Bool   `tfsdk:"in_recovery"`
	CurrentLSN types.String `tfsdk:"current_lsn"`
	Standbys   types.List   `tfsdk:"standbys"`
	Slots      types.List   `tfsdk:"slots"`
}

func (d *replicationDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	p := d.pool(&resp.Diagnostics)
	if p == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	m, err := readReplication(ctx, p)
	if err != nil {
		resp.Diagnostics.AddError("Cannot read the replication state",
			fmt.Sprintf("Reading pg_stat_replication and pg_replication_slots failed: %s", redactErr(err)))
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

func readReplication(ctx context.Context, p *pgxpool.Pool) (*replicationModel, error) {
	var m replicationModel
	var sysid int64
	var inRec bool
	var cur *string
	if err := p.QueryRow(ctx, `select (pg_control_system()).system_identifier, pg_is_in_recovery(),
			(case when pg_is_in_recovery() then pg_last_wal_replay_lsn() else pg_current_wal_lsn() end)::text`).
		Scan(&sysid, &inRec, &cur); err != nil {
		return nil, err
	}
	m.ID = types.StringValue(fmt.Sprint(sysid))
	m.InRecovery = types.BoolValue(inRec)
	m.CurrentLSN = types.StringPointerValue(cur)

	rows, err := p.Query(ctx, `with cur as (select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()
			else pg_current_wal_lsn() end as lsn)
		select pid, coalesce(application_name, ''), coalesce(host(client_addr), ''), coalesce(state, ''),
			coalesce(sync_state, ''), sent_lsn::text, write_lsn::text, flush_lsn::text, replay_lsn::text,
			extract(epoch from write_lag)::float8, extract(epoch from flush_lag)::float8,
			extract(epoch from replay_lag)::float8, pg_wal_lsn_diff(cur.lsn, replay_lsn)::bigint,
			to_char(reply_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
		from pg_stat_replication, cur order by application_name, pid`)
	if err != nil {
		return nil, err
	}
	var standbys []attr.Value
	for rows.Next() {
		var pid int64
		var app, addr, state, sync string
		var sent, write, flush, replay, reply *string
		var wl, fl, rl *float64
		var lagBytes *int64
		if err := rows.Scan(&pid, &app, &addr, &state, &sync, &sent, &write, &flush, &replay, &wl, &fl, &rl,
			&lagBytes, &reply); err != nil {
			rows.Close()
			return nil, err
		}
		obj, diags := types.ObjectValue(standbyAttrTypes, map[string]attr.Value{
			"pid": types.Int64Value(pid), "application_name": types.StringValue(app),
			"client_addr": types.StringValue(addr), "state": types.StringValue(state),
			"sync_state": types.StringValue(sync), "sent_lsn": types.StringPointerValue(sent),
			"write_lsn": types.StringPointerValue(write), "flush_lsn": types.StringPointerValue(flush),
			"replay_lsn": types.StringPointerValue(replay), "write_lag": types.Float64PointerValue(wl),
			"flush_lag": types.Float64PointerValue(fl), "replay_lag": types.Float64PointerValue(rl),
			"replay_lag_bytes": types.Int64PointerValue(lagBytes), "reply_time": types.StringPointerValue(reply),
		})
		if diags.HasError() {
			rows.Close()
			return nil, fmt.Errorf("building a standby object: %v", diags)
		}
		standbys = append(standbys, obj)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}

	rows, err = p.Query(ctx, `with cur as (select case when pg_is_in_recovery() then pg_last_wal_replay_lsn()
			else pg_current_wal_lsn() end as lsn)
		select slot_name::text, slot_type, coalesce(database::text, ''), active, coalesce(wal_status, ''),
			coalesce(restart_lsn::text, ''), pg_wal_lsn_diff(cur.lsn, restart_lsn)::bigint
		from pg_replication_slots, cur order by slot_name`)
	if err != nil {
		return nil, err
	}
	var slots []attr.Value
	for rows.Next() {
		var name, typ, db, walStatus, restart string
		var active bool
		var retained *int64
		if err := rows.Scan(&name, &typ, &db, &active, &walStatus, &restart, &retained); err != nil {
			rows.Close()
			return nil, err
		}
		obj, diags := types.ObjectValue(slotAttrTypes, map[string]attr.Value{
			"slot_name": types.StringValue(name), "slot_type": types.StringValue(typ),
			"database": types.StringValue(db), "active": types.BoolValue(active),
			"wal_status": types.StringValue(walStatus), "restart_lsn": types.StringValue(restart),
			"retained_bytes": types.Int64PointerValue(retained),
		})
		if diags.HasError() {
			rows.Close()
			return nil, fmt.Errorf("building a slot object: %v", diags)
		}
		slots = append(slots, obj)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sl, diags := types.ListValue(types.ObjectType{AttrTypes: standbyAttrTypes}, standbys)
	if diags.HasError() {
		return nil, fmt.Errorf("%v", diags)
	}
	m.Standbys = sl
	sl, diags = types.ListValue(types.ObjectType{AttrTypes: slotAttrTypes}, slots)
	if diags.HasError() {
		return nil, fmt.Errorf("%v", diags)
	}
	m.Slots = sl
	return &m, nil
}
