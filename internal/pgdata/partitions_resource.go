package pgdata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

var (
	_ resource.ResourceWithConfigure   = (*partitionsResource)(nil)
	_ resource.ResourceWithImportState = (*partitionsResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*partitionsResource)(nil)
)

const partitionsTypeName = "alfred_postgres_partitions"

type partitionsResource struct{ base }

// NewPartitionsResource returns the alfred_postgres_partitions resource.
func NewPartitionsResource() resource.Resource {
	return &partitionsResource{base{typeName: partitionsTypeName}}
}

func (r *partitionsResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_postgres_partitions"
}

func (r *partitionsResource) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.setData(req.ProviderData, &resp.Diagnostics)
}

var partitionAttrTypes = map[string]attr.Type{
	"name": types.StringType,
	"from": types.StringType,
	"to":   types.StringType,
}

type partitionsModel struct {
	ID                  types.String   `tfsdk:"id"`
	Schema              types.String   `tfsdk:"schema"`
	Table               types.String   `tfsdk:"table"`
	Column              types.String   `tfsdk:"column"`
	Interval            types.String   `tfsdk:"interval"`
	Premake             types.Int64    `tfsdk:"premake"`
	Retention           types.String   `tfsdk:"retention"`
	RetentionAction     types.String   `tfsdk:"retention_action"`
	DefaultPartition    types.Bool     `tfsdk:"default_partition"`
	MaintenanceFunction types.String   `tfsdk:"maintenance_function"`
	CronJob             types.String   `tfsdk:"cron_job"`
	Partitions          types.List     `tfsdk:"partitions"`
	Timeouts            timeouts.Value `tfsdk:"timeouts"`
}

func (r *partitionsResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = partitionsSchema()
}

func partitionsSchema() schema.Schema {
	return schema.Schema{
		MarkdownDescription: "Keeps an application's range-partitioned table covered by time partitions: from " +
			"`now - retention` to `premake` intervals after the current one, in `interval` steps (UTC: days start at " +
			"00:00, weeks on Monday, months on the 1st). Partitions whose upper bound is older than `now - retention` " +
			"are detached (kept as tables of their own, with their rows) or dropped (`retention_action`).\n\n" +
			"The table belongs to the application: the provider never creates, converts or drops it, nor drops a " +
			"partition unless `retention_action = \"drop\"`; destroying this resource only stops the maintenance. " +
			"The plan computes the window from the clock, so when time has moved on it shows, in `partitions`, " +
			"which partitions the apply will add and retire; a plan only reads.\n\n" +
			"Apply installs the provider's schema `alfred_pgdata` with the maintenance function " +
			"`alfred_pgdata.maintain_partitions()`, which does the same between applies. When the database has " +
			"the `pg_cron` extension, apply schedules it hourly (job `" + cronJobName + "`); otherwise it warns, " +
			"and any scheduler can run `select alfred_pgdata.maintain_partitions();`. Every DDL statement waits " +
			"at most 2s for a lock, then the transaction is repeated until the timeout.\n\n" +
			"Partitions are named `<table>_pYYYYMMDD` (`day`, `week`) or `<table>_pYYYYMM` (`month`); an " +
			"existing layout with other names is adopted as it is (an interval already covered by any partition " +
			"is never added again). Rows that landed in the default partition are moved into a partition created " +
			"for their range.",
		Blocks: map[string]schema.Block{"timeouts": shared.TimeoutsBlock(context.Background(), timeouts.Opts{
			Create: true, Read: true, Update: true, Delete: true})},
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "`<schema>.<table>`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"schema": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("public"),
				MarkdownDescription: "Schema of the table (default `public`). Partitions are created in it.",
				Validators:          []validator.String{stringvalidator.LengthBetween(1, 63), shared.PostgresNoNUL},
				PlanModifiers:       []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"table": schema.StringAttribute{Required: true,
				MarkdownDescription: "The partitioned table (`PARTITION BY RANGE` on one `timestamp` or `timestamptz` " +
					"column), at most 53 characters so that partition names fit PostgreSQL's 63.",
				Validators:    []validator.String{stringvalidator.LengthBetween(1, maxTableLen), shared.PostgresNoNUL},
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()}},
			"column": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "The partition key column, read from the table. When set, apply checks that the " +
					"table is partitioned by it; it can never change (that would mean a new table).",
				Validators:    []validator.String{stringvalidator.LengthBetween(1, 63), shared.PostgresNoNUL},
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"interval": schema.StringAttribute{Required: true,
				MarkdownDescription: "Width of a partition: `day`, `week` (ISO, from Monday) or `month`. Cannot be " +
					"changed on a table that has partitions (they would overlap).",
				Validators: []validator.String{stringvalidator.OneOf(intervals...)}},
			"premake": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(3),
				MarkdownDescription: "How many intervals after the current one are created ahead (0 to 1000; " +
					"default 3). Keep at least 1 so that rows of the next interval never wait for the maintenance.",
				Validators: []validator.Int64{int64validator.Between(0, 1000)}},
			"retention": schema.StringAttribute{Optional: true,
				MarkdownDescription: "How long partitions are kept: a whole number and a unit (`s`, `m`, `h`, `d`, " +
					"`w`), e.g. `90d`, or a Go duration such as `36h`. A partition is retired once its upper bound is " +
					"older than `now - retention`; partitions are also created back to there. Unset: kept forever.",
				Validators: []validator.String{retentionValidator{}}},
			"retention_action": schema.StringAttribute{Optional: true, Computed: true,
				Default:             stringdefault.StaticString("detach"),
				MarkdownDescription: "`detach` (default: the partition becomes a table of its own, with its rows) or `drop`.",
				Validators:          []validator.String{stringvalidator.OneOf("detach", "drop")}},
			"default_partition": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Whether a default partition (`<table>_default`) catches rows outside every " +
					"partition (default false: such rows are refused). Turning it off detaches it, keeping its rows."},
			"maintenance_function": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The function that maintains every partition set of the database between applies.",
				PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"cron_job": schema.StringAttribute{Computed: true,
				MarkdownDescription: "The pg_cron job that runs the maintenance function, or empty when pg_cron is not " +
					"installed in the database."},
			"partitions": schema.ListNestedAttribute{Computed: true,
				MarkdownDescription: "The table's range partitions, oldest first, with bounds in RFC 3339 (UTC). In a " +
					"plan: the partitions after the apply, planned from the clock.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Computed: true, MarkdownDescription: "The partition's table name."},
					"from": schema.StringAttribute{Computed: true, MarkdownDescription: "Lower bound (inclusive)."},
					"to":   schema.StringAttribute{Computed: true, MarkdownDescription: "Upper bound (exclusive)."},
				}}},
		},
	}
}

// retentionValidator refuses, at plan time, a retention that is not a positive duration.
type retentionValidator struct{}

func (retentionValidator) Description(context.Context) string {
	return "a positive duration such as 30d, 12w or 720h"
}
func (v retentionValidator) MarkdownDescription(ctx context.Context) string {
	return v.Description(ctx)
}
func (retentionValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := parseRetention(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid retention", "retention: "+err.Error()+".")
	}
}

func partitionsList(ps []partition) types.List {
	vals := make([]attr.Value, 0, len(ps))
	for _, p := range ps {
		vals = append(vals, types.ObjectValueMust(partitionAttrTypes, map[string]attr.Value{
			"name": types.StringValue(p.Name),
			"from": types.StringValue(p.From.UTC().Format(time.RFC3339)),
			"to":   types.StringValue(p.To.UTC().Format(time.RFC3339)),
		}))
	}
	return types.ListValueMust(types.ObjectType{AttrTypes: partitionAttrTypes}, vals)
}

func partitionsFrom(ctx context.Context, l types.List) ([]partition, diag.Diagnostics) {
	var raw []struct {
		Name types.String `tfsdk:"name"`
		From types.String `tfsdk:"from"`
		To   types.String `tfsdk:"to"`
	}
	diags := l.ElementsAs(ctx, &raw, false)
	out := make([]partition, 0, len(raw))
	for _, r := range raw {
		from, err1 := time.Parse(time.RFC3339, r.From.ValueString())
		to, err2 := time.Parse(time.RFC3339, r.To.ValueString())
		if err := errors.Join(err1, err2); err != nil {
			diags.AddError("Malformed partition in state", err.Error())
			continue
		}
		out = append(out, partition{Name: r.Name.ValueString(), From: from.UTC(), To: to.UTC()})
	}
	return out, diags
}

func (m *partitionsModel) retention() time.Duration {
	if m.Retention.IsNull() || m.Retention.IsUnknown() {
		return 0
	}
	d, _ := parseRetention(m.Retention.ValueString())
	return d
}

// ModifyPlan plans the partitions from the clock: those of the refreshed state that stay, plus those the
// window adds; it refuses a change of column or interval, which would lose or overlap data.
func (r *partitionsResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	if r.data != nil {
		r.checkBlock(&resp.Diagnostics)
	}
	var plan partitionsModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.MaintenanceFunction.IsUnknown() {
		plan.MaintenanceFunction = types.StringValue(maintenanceFunction)
	}
	if req.State.Raw.IsNull() {
		if job, ok := r.plannedCronJob(ctx); ok {
			plan.CronJob = job
		}
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	var state partitionsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Schema.ValueString() != state.Schema.ValueString() || plan.Table.ValueString() != state.Table.ValueString() {
		return // a replacement: planned as a create
	}
	if !state.Interval.IsNull() && !plan.Interval.IsUnknown() && plan.Interval.ValueString() != state.Interval.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("interval"), "The interval of existing partitions cannot change",
			fmt.Sprintf("%s.%s is partitioned by %s; changing interval to %q would make new partitions overlap the existing "+
				"ones, and replacing them would mean moving every row. The provider refuses rather than risk the data. "+
				"Keep interval = %q; to re-partition, migrate the rows into a new table and point this resource at it.",
				state.Schema.ValueString(), state.Table.ValueString(), state.Interval.ValueString(), plan.Interval.ValueString(),
				state.Interval.ValueString()))
	}
	var cfgColumn types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("column"), &cfgColumn)...)
	if !cfgColumn.IsNull() && !cfgColumn.IsUnknown() && !state.Column.IsNull() && cfgColumn.ValueString() != state.Column.ValueString() {
		resp.Diagnostics.AddAttributeError(path.Root("column"), "The partition column cannot change",
			fmt.Sprintf("%s.%s is partitioned by %q; PostgreSQL cannot change a table's partition key, and the provider "+
				"never recreates the application's table (that would lose its rows). Set column = %q, or leave it unset; "+
				"to partition by another column, create a new table in a migration and point this resource at it.",
				state.Schema.ValueString(), state.Table.ValueString(), state.Column.ValueString(), state.Column.ValueString()))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	if plan.Premake.IsUnknown() || plan.Retention.IsUnknown() || plan.Interval.IsUnknown() || state.Partitions.IsNull() {
		plan.Partitions = types.ListUnknown(types.ObjectType{AttrTypes: partitionAttrTypes})
		resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
		return
	}
	existing, d := partitionsFrom(ctx, state.Partitions)
	resp.Diagnostics.Append(d...)
	if resp.Diagnostics.HasError() {
		return
	}
	now := clock()
	keep, add, retire := window(existing, plan.Table.ValueString(), plan.Interval.ValueString(),
		int(plan.Premake.ValueInt64()), plan.retention(), now)
	if len(add)+len(retire) > 0 {
		tflog.Info(ctx, "partition window moved", map[string]any{"add": names(add), "retire": names(retire),
			"now": now.UTC().Format(time.RFC3339)})
	}
	plan.Partitions = partitionsList(keep)
	// The job is scheduled by every apply when pg_cron is present: a job removed outside Terraform, or pg_cron
	// installed since, shows here.
	plan.CronJob = state.CronJob
	if job, ok := r.plannedCronJob(ctx); ok {
		plan.CronJob = job
	}
	resp.Diagnostics.Append(resp.Plan.Set(ctx, &plan)...)
}

// plannedCronJob is what cron_job will be after an apply: the job's name when the database has pg_cron.
// It reads the database (a plan may read); ok is false when it cannot tell.
func (r *partitionsResource) plannedCronJob(ctx context.Context) (types.String, bool) {
	if r.data == nil || r.data.Postgres == nil || r.data.Postgres.Unknown || r.data.Postgres.DSN == "" {
		return types.String{}, false
	}
	p, err := poolFor(r.data.Postgres.DSN)
	if err != nil {
		return types.String{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, hasCron, err := cronJob(ctx, p)
	if err != nil {
		tflog.Warn(ctx, "cannot tell whether pg_cron is installed", map[string]any{"error": redactErr(err)})
		return types.String{}, false
	}
	if hasCron {
		return types.StringValue(cronJobName), true
	}
	return types.StringValue(""), true
}

func names(ps []partition) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	return out
}

func (r *partitionsResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	r.write(ctx, req.Plan, false, &resp.State, &resp.Diagnostics)
}

func (r *partitionsResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	r.write(ctx, req.Plan, true, &resp.State, &resp.Diagnostics)
}

// write is Create and Update: it applies the plan and records the result in state. Until the partition
// set is committed nothing has changed, and the state stays what it was (none for a create, the prior
// state for an update: the framework's default); once it is, the resource is recorded at once, with what is not read yet null, so that a failure after
// that (pg_cron, the read-back) leaves it in state, tainted, rather than a set that no state knows of
// and that the maintenance function keeps running.
func (r *partitionsResource) write(ctx context.Context, planned tfsdk.Plan, update bool, state *tfsdk.State, diags *diag.Diagnostics) {
	var plan partitionsModel
	diags.Append(planned.Get(ctx, &plan)...)
	if diags.HasError() {
		return
	}
	timeout := timeouts.Value.Create
	if update {
		timeout = timeouts.Value.Update
	}
	ctx, cancel, p := r.begin(ctx, plan.Timeouts, timeout, 5*time.Minute, diags)
	defer cancel()
	if p == nil {
		return
	}
	var want []partition // nil on create: the window at the clock
	if update && !plan.Partitions.IsUnknown() && !plan.Partitions.IsNull() {
		var d diag.Diagnostics
		want, d = partitionsFrom(ctx, plan.Partitions)
		diags.Append(d...)
		if want == nil {
			want = []partition{}
		}
	}
	committed := func() {
		written := plan
		written.ID = types.StringValue(written.Schema.ValueString() + "." + written.Table.ValueString())
		shared.NullUnknowns(ctx, &written)
		diags.Append(state.Set(ctx, &written)...)
	}
	r.apply(ctx, p, &plan, want, committed, diags)
	if diags.HasError() {
		return
	}
	diags.Append(state.Set(ctx, &plan)...)
}

// begin bounds ctx by the operation's timeout (def unless set) and returns the pool; p is nil when the
// operation must stop, and cancel is always to be called.
func (r *partitionsResource) begin(ctx context.Context, tv timeouts.Value,
	timeout func(timeouts.Value, context.Context, time.Duration) (time.Duration, diag.Diagnostics), def time.Duration,
	diags *diag.Diagnostics) (_ context.Context, cancel context.CancelFunc, p *pgxpool.Pool) {
	t, d := timeout(tv, ctx, def)
	diags.Append(d...)
	ctx, cancel = context.WithTimeout(ctx, t)
	return ctx, cancel, r.pool(diags)
}

// apply makes the database what m says, calls committed once the partition set is committed, then reads
// the database back into m.
func (r *partitionsResource) apply(ctx context.Context, p *pgxpool.Pool, m *partitionsModel, planned []partition, committed func(),
	diags *diag.Diagnostics) {
	schemaName, table := m.Schema.ValueString(), m.Table.ValueString()
	set := partitionSet{Column: m.Column.ValueString(), Interval: m.Interval.ValueString(), Premake: m.Premake.ValueInt64(),
		Retention: m.Retention.ValueStringPointer(), RetentionAction: m.RetentionAction.ValueString(),
		DefaultPartition: m.DefaultPartition.ValueBool()}
	if m.Column.IsUnknown() {
		set.Column = ""
	}
	target := schemaName + "." + table
	err := inTx(ctx, p, "the partitions of "+target, func(tx pgx.Tx) error {
		return applySet(ctx, tx, schemaName, table, set, m.retention(), planned, clock())
	})
	if err != nil {
		diags.AddError("Cannot maintain the partitions of "+target, redactErr(err))
		return
	}
	committed()
	job, hasCron, err := cronJob(ctx, p)
	switch {
	case err != nil:
		diags.AddError("Cannot read pg_cron's jobs", redactErr(err))
		return
	case hasCron && job == "":
		if _, err := p.Exec(ctx, `select cron.schedule($1, $2, $3)`, cronJobName, cronSchedule,
			"select "+maintenanceFunction+"()"); err != nil {
			diags.AddError("Cannot schedule the maintenance function with pg_cron", fmt.Sprintf("cron.schedule(%q, %q, ...) "+
				"failed: %s. The partitions are in place; run `select %s();` from another scheduler, or grant the apply "+
				"role USAGE on schema cron.", cronJobName, cronSchedule, redactErr(err), maintenanceFunction))
			return
		}
	case !hasCron:
		diags.AddWarning("pg_cron is not installed: partitions are maintained only by terraform apply",
			fmt.Sprintf("The database has no pg_cron extension, so nothing adds %s's next partitions or retires old ones "+
				"between applies. Install it (`create extension pg_cron;` in the database named by cron.database_name; on "+
				"Supabase: Database > Extensions > pg_cron) and apply again to schedule %s() hourly, or call "+
				"`select %s();` from any scheduler.", target, maintenanceFunction, maintenanceFunction))
	}
	r.read(ctx, p, m, diags)
}

// read fills m from the database; false when the table is gone.
func (r *partitionsResource) read(ctx context.Context, q querier, m *partitionsModel, diags *diag.Diagnostics) bool {
	schemaName, table := m.Schema.ValueString(), m.Table.ValueString()
	key, err := readKey(ctx, q, schemaName, table)
	if errors.Is(err, errTableGone) {
		return false
	}
	if err != nil {
		diags.AddError("Cannot read the partitions of "+schemaName+"."+table, redactErr(err))
		return false
	}
	ps, def, err := readPartitions(ctx, q, schemaName, table)
	if err != nil {
		diags.AddError("Cannot read the partitions of "+schemaName+"."+table, redactErr(err))
		return false
	}
	set, err := readSet(ctx, q, schemaName, table)
	if err != nil {
		diags.AddError("Cannot read alfred_pgdata.partition_sets", redactErr(err))
		return false
	}
	job, _, err := cronJob(ctx, q)
	if err != nil {
		diags.AddError("Cannot read pg_cron's jobs", redactErr(err))
		return false
	}
	m.ID = types.StringValue(schemaName + "." + table)
	m.Column = types.StringValue(key.Column)
	m.Partitions = partitionsList(ps)
	m.DefaultPartition = types.BoolValue(def != "")
	m.CronJob = types.StringValue(job)
	m.MaintenanceFunction = types.StringValue(maintenanceFunction)
	if set != nil {
		m.Interval = types.StringValue(set.Interval)
		m.Premake = types.Int64Value(set.Premake)
		m.Retention = types.StringPointerValue(set.Retention)
		m.RetentionAction = types.StringValue(set.RetentionAction)
	} else if m.Interval.IsNull() || m.Interval.IsUnknown() {
		// An import of a layout the provider does not manage yet: the interval is what its partitions are.
		if unit, ok := inferInterval(ps); ok {
			m.Interval = types.StringValue(unit)
		} else {
			diags.AddError("Cannot tell the interval of "+schemaName+"."+table,
				"Its range partitions are not all whole UTC days, ISO weeks or months (or it has none), so the import "+
					"cannot tell the interval. Import a table whose partitions are, or let terraform apply create them.")
			return false
		}
	}
	return true
}

func (r *partitionsResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var m partitionsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if r.dsnUnknown() {
		return // keep the prior state: there is nowhere to read from until apply
	}
	ctx, cancel, p := r.begin(ctx, m.Timeouts, timeouts.Value.Read, 2*time.Minute, &resp.Diagnostics)
	defer cancel()
	if p == nil {
		return
	}
	if !r.read(ctx, p, &m, &resp.Diagnostics) {
		if !resp.Diagnostics.HasError() {
			resp.State.RemoveResource(ctx)
		}
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

func (r *partitionsResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m partitionsModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, p := r.begin(ctx, m.Timeouts, timeouts.Value.Delete, 5*time.Minute, &resp.Diagnostics)
	defer cancel()
	if p == nil {
		return
	}
	// The partitions and their rows are the application's: only the maintenance of this set stops.
	err := inTx(ctx, p, "the partition set of "+m.ID.ValueString(), func(tx pgx.Tx) error {
		var installed bool
		if err := tx.QueryRow(ctx, `select to_regclass('alfred_pgdata.partition_sets') is not null`).Scan(&installed); err != nil || !installed {
			return err
		}
		if _, err := tx.Exec(ctx, `delete from alfred_pgdata.partition_sets where schema_name = $1 and table_name = $2`,
			m.Schema.ValueString(), m.Table.ValueString()); err != nil {
			return err
		}
		var left bool
		if err := tx.QueryRow(ctx, `select exists (select from alfred_pgdata.partition_sets)`).Scan(&left); err != nil {
			return err
		}
		if job, _, err := cronJob(ctx, tx); err != nil || job == "" || left {
			return err
		}
		_, err := tx.Exec(ctx, `select cron.unschedule($1)`, cronJobName)
		return err
	})
	if err != nil {
		resp.Diagnostics.AddError("Cannot remove the partition set of "+m.ID.ValueString(), redactErr(err))
	}
}

// ImportState takes `<schema>.<table>`, or `<table>` in schema public.
func (r *partitionsResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	schemaName, table, ok := strings.Cut(req.ID, ".")
	if !ok {
		schemaName, table = "public", req.ID
	}
	if schemaName == "" || table == "" || strings.Contains(table, ".") {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not <schema>.<table> or <table>, e.g. "+
			"public.events.", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("schema"), schemaName)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("table"), table)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), schemaName+"."+table)...)
}
