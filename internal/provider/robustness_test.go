package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/big"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Schema robustness (issue 14): every attribute of every resource and data source the provider registers,
// read from the provider's own schemas (GetProviderSchema), gets wrong-but-typed values. Each must give a
// plan-time error that names the attribute, or be accepted on purpose (acceptedOnPurpose, shown in
// docs/guides/schema-robustness.md), and never crash. The provider is driven through its protocol-6
// server as Terraform drives it at plan time: ValidateResourceConfig then PlanResourceChange (a create),
// ValidateDataResourceConfig then ReadDataSource.

// probe is one garbage value written into one attribute, everything else left unset.
type probe struct {
	path  []string // attribute names from the root; nested blocks and nested attributes included
	kind  string   // which garbage
	value tftypes.Value
}

func (p probe) attr() string { return strings.Join(p.path, ".") }

var hugeString = strings.Repeat("a", 70_000)

// garbageStrings are typed but wrong strings. Keys are the kinds the accepted table names.
var garbageStrings = []struct{ kind, value string }{
	{"empty", ""},
	{"blank", "   "},
	{"unicode", "ünïcødé ✗ 名前 🙂"},
	{"huge", hugeString},
	{"negative duration", "-5m"},
	{"nul byte", "a\x00b"},
	{"invalid enum", "NOT_A_VALUE"},
}

var garbageNumbers = []struct {
	kind  string
	value *big.Float
}{
	{"negative", big.NewFloat(-1)},
	{"zero", big.NewFloat(0)},
	{"huge number", big.NewFloat(1e18)},
	{"overflow", new(big.Float).SetMantExp(big.NewFloat(1), 80)},
	{"fraction", big.NewFloat(1.5)},
}

// garbage returns the wrong values of type typ (for an attribute without nested attributes).
func garbage(typ tftypes.Type) []probe {
	var out []probe
	switch {
	case typ.Is(tftypes.String):
		for _, g := range garbageStrings {
			out = append(out, probe{kind: g.kind, value: tftypes.NewValue(typ, g.value)})
		}
	case typ.Is(tftypes.Number):
		for _, g := range garbageNumbers {
			out = append(out, probe{kind: g.kind, value: tftypes.NewValue(typ, g.value)})
		}
	case typ.Is(tftypes.List{}), typ.Is(tftypes.Set{}):
		elem := elementType(typ)
		out = append(out, probe{kind: "empty collection", value: tftypes.NewValue(typ, []tftypes.Value{})})
		for _, g := range garbage(elem) {
			out = append(out, probe{kind: "element " + g.kind, value: tftypes.NewValue(typ, []tftypes.Value{g.value})})
		}
		if typ.Is(tftypes.List{}) && elem.Is(tftypes.String) {
			a := tftypes.NewValue(elem, "a")
			out = append(out, probe{kind: "duplicates", value: tftypes.NewValue(typ, []tftypes.Value{a, a})})
		}
	case typ.Is(tftypes.Map{}):
		elem := typ.(tftypes.Map).ElementType
		out = append(out, probe{kind: "empty collection", value: tftypes.NewValue(typ, map[string]tftypes.Value{})})
		if ok := garbage(elem); len(ok) > 0 {
			for _, k := range []struct{ kind, key string }{{"empty key", ""}, {"unicode key", "ünï ✗"}} {
				out = append(out, probe{kind: k.kind, value: tftypes.NewValue(typ, map[string]tftypes.Value{k.key: sample(elem)})})
			}
			for _, g := range ok {
				out = append(out, probe{kind: "value " + g.kind, value: tftypes.NewValue(typ, map[string]tftypes.Value{"k": g.value})})
			}
		}
	}
	return out
}

func elementType(typ tftypes.Type) tftypes.Type {
	if l, ok := typ.(tftypes.List); ok {
		return l.ElementType
	}
	return typ.(tftypes.Set).ElementType
}

// sample is a plausible value of a primitive type, for map keys under test.
func sample(typ tftypes.Type) tftypes.Value {
	switch {
	case typ.Is(tftypes.String):
		return tftypes.NewValue(typ, "x")
	case typ.Is(tftypes.Number):
		return tftypes.NewValue(typ, big.NewFloat(1))
	case typ.Is(tftypes.Bool):
		return tftypes.NewValue(typ, true)
	}
	return tftypes.NewValue(typ, nil)
}

// unset is block b with nothing written: attributes null, list and set blocks empty, single blocks null.
func unset(b *tfprotov6.SchemaBlock) map[string]tftypes.Value {
	vals := map[string]tftypes.Value{}
	for _, a := range b.Attributes {
		vals[a.Name] = tftypes.NewValue(a.ValueType(), nil)
	}
	for _, nb := range b.BlockTypes {
		switch nb.Nesting {
		case tfprotov6.SchemaNestedBlockNestingModeList, tfprotov6.SchemaNestedBlockNestingModeSet:
			vals[nb.TypeName] = tftypes.NewValue(nb.ValueType(), []tftypes.Value{})
		case tfprotov6.SchemaNestedBlockNestingModeMap:
			vals[nb.TypeName] = tftypes.NewValue(nb.ValueType(), map[string]tftypes.Value{})
		default:
			vals[nb.TypeName] = tftypes.NewValue(nb.ValueType(), nil)
		}
	}
	return vals
}

// fillers are the smallest valid settings of an object (a resource, a data source, a nested block or
// nested attribute, keyed by its path), in JSON: a probe writes its garbage into them, so that what is
// judged is the garbage and not a sibling left unset. Several are alternatives (a preset or raw PromQL);
// a probe is judged by the best of them. An object without fillers starts with nothing written.
var fillers = map[string][]string{
	"alfred_agent_service":                     {`{"name":"bot","image":"example.com/bot:1"}`},
	"alfred_agent_service.liveness_probe":      {`{"http_get":{"path":"/healthz"}}`},
	"alfred_agent_service.startup_probe":       {`{"tcp_socket":{}}`, `{"http_get":{"path":"/healthz"}}`},
	"alfred_agent_service.metrics":             {`{"config_secret":"gmp-config"}`},
	"alfred_agent_service.secret_env":          {`{"secret":"api-key"}`},
	"alfred_agent_service.tracing":             {`{"langsmith_project":"agents","api_key_secret":"langsmith-key"}`},
	"alfred_agent_service.vpc_access":          {`{"network":"default"}`, `{"connector":"projects/p/locations/europe-west1/connectors/c"}`},
	"alfred_alert_policy":                      {`{"display_name":"a","severity":"ERROR"}`},
	"alfred_backup":                            {`{"policy":"projects/p/locations/europe-west1/jobs/nightly"}`},
	"alfred_backup_policy.destination":         {`{"bucket":"backups"}`},
	"alfred_backup_policy.postgres":            {`{"dsn":"postgres://backup@db.internal:5432/postgres","databases":["app"]}`},
	"alfred_backup_policy.retention":           {`{"keep_last":7}`},
	"alfred_backup_policy.runner":              {`{"image":"example.com/tools/alfredctl:1","service_account":"backup@p.iam.gserviceaccount.com"}`},
	"alfred_alert_policy.condition":            {`{"preset":"cpu","service":"bot"}`, `{"promql":"up == 0"}`, `{"preset":"failed_logins"}`},
	"alfred_notification_channel":              {`{"type":"email","display_name":"d","labels":{"email_address":"a@example.com"}}`},
	"alfred_prometheus_rules.rule":             {`{"preset":"cpu","service":"bot"}`, `{"name":"NoTraffic","promql":"up == 0"}`},
	"alfred_prometheus_scrape_config":          {`{"services":[{"name":"bot","uri":"https://bot-abc-ew.a.run.app"}]}`},
	"alfred_prometheus_scrape_config.services": {`{"name":"bot","uri":"https://bot-abc-ew.a.run.app"}`, `{"name":"bot","target":"bot:8080"}`},
	"alfred_qdrant_collection":                 {`{"name":"c","vectors":{"":{"size":4,"distance":"Cosine"}}}`},
	"alfred_qdrant_collection.quantization":    {`{"type":"scalar"}`, `{"type":"product","compression":"x16"}`, `{"type":"binary"}`},
	"alfred_qdrant_collection.vectors":         {`{"size":4,"distance":"Cosine"}`},
}

// bases returns the starting values of the object at prefix: its fillers, or nothing written.
func bases(t *testing.T, prefix string, typ tftypes.Type, unsetVals map[string]tftypes.Value) []map[string]tftypes.Value {
	alts := fillers[prefix]
	if len(alts) == 0 {
		return []map[string]tftypes.Value{unsetVals}
	}
	attrTypes := typ.(tftypes.Object).AttributeTypes
	var out []map[string]tftypes.Value
	for _, alt := range alts {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal([]byte(alt), &raw); err != nil {
			t.Fatalf("filler of %s: %v", prefix, err)
		}
		vals := maps.Clone(unsetVals)
		for k, r := range raw {
			v, err := tftypes.ValueFromJSONWithOpts(r, attrTypes[k], tftypes.ValueFromJSONOpts{})
			if err != nil {
				t.Fatalf("filler of %s.%s: %v", prefix, k, err)
			}
			vals[k] = v
		}
		out = append(out, vals)
	}
	return out
}

// probesOfBlock returns every probe of block b (at prefix), each a whole value of b.
func probesOfBlock(t *testing.T, b *tfprotov6.SchemaBlock, prefix string) []probe {
	var out []probe
	for _, base := range bases(t, prefix, b.ValueType(), unset(b)) {
		with := func(name string, v tftypes.Value) tftypes.Value {
			vals := maps.Clone(base)
			vals[name] = v
			return tftypes.NewValue(b.ValueType(), vals)
		}
		for _, a := range b.Attributes {
			if a.Computed && !a.Optional && !a.Required {
				continue // Terraform refuses a value for it before the provider sees one
			}
			for _, g := range probesOfAttribute(t, a, prefix+"."+a.Name) {
				out = append(out, probe{path: append([]string{a.Name}, g.path...), kind: g.kind, value: with(a.Name, g.value)})
			}
		}
		for _, nb := range b.BlockTypes {
			wrap := func(v ...tftypes.Value) tftypes.Value {
				switch nb.Nesting {
				case tfprotov6.SchemaNestedBlockNestingModeList, tfprotov6.SchemaNestedBlockNestingModeSet:
					return tftypes.NewValue(nb.ValueType(), v)
				case tfprotov6.SchemaNestedBlockNestingModeMap:
					m := map[string]tftypes.Value{}
					for i, e := range v {
						m[fmt.Sprint("k", i)] = e
					}
					return tftypes.NewValue(nb.ValueType(), m)
				}
				return v[0]
			}
			for _, ip := range probesOfBlock(t, nb.Block, prefix+"."+nb.TypeName) {
				out = append(out, probe{path: append([]string{nb.TypeName}, ip.path...), kind: ip.kind, value: with(nb.TypeName, wrap(ip.value))})
			}
			if nb.Nesting == tfprotov6.SchemaNestedBlockNestingModeList || nb.Nesting == tfprotov6.SchemaNestedBlockNestingModeSet {
				empty := tftypes.NewValue(nb.Block.ValueType(), unset(nb.Block))
				out = append(out, probe{path: []string{nb.TypeName}, kind: "two empty blocks", value: with(nb.TypeName, wrap(empty, empty))})
			}
		}
	}
	return out
}

// probesOfAttribute returns the probes of one attribute (at prefix), as values of that attribute; path
// is below it.
func probesOfAttribute(t *testing.T, a *tfprotov6.SchemaAttribute, prefix string) []probe {
	if a.NestedType == nil {
		return garbage(a.ValueType())
	}
	obj := a.NestedType
	objType := obj.ValueType()
	if l, ok := objType.(tftypes.List); ok {
		objType = l.ElementType
	} else if s, ok := objType.(tftypes.Set); ok {
		objType = s.ElementType
	} else if m, ok := objType.(tftypes.Map); ok {
		objType = m.ElementType
	}
	wrap := func(v tftypes.Value) tftypes.Value {
		switch obj.Nesting {
		case tfprotov6.SchemaObjectNestingModeList, tfprotov6.SchemaObjectNestingModeSet:
			return tftypes.NewValue(a.ValueType(), []tftypes.Value{v})
		case tfprotov6.SchemaObjectNestingModeMap:
			return tftypes.NewValue(a.ValueType(), map[string]tftypes.Value{"k": v})
		}
		return v
	}
	unsetVals := map[string]tftypes.Value{}
	for _, o := range obj.Attributes {
		unsetVals[o.Name] = tftypes.NewValue(o.ValueType(), nil)
	}
	var out []probe
	for _, base := range bases(t, prefix, objType, unsetVals) {
		for _, ia := range obj.Attributes {
			if ia.Computed && !ia.Optional && !ia.Required {
				continue
			}
			for _, g := range probesOfAttribute(t, ia, prefix+"."+ia.Name) {
				vals := maps.Clone(base)
				vals[ia.Name] = g.value
				out = append(out, probe{path: append([]string{ia.Name}, g.path...), kind: g.kind, value: wrap(tftypes.NewValue(objType, vals))})
			}
		}
		switch obj.Nesting {
		case tfprotov6.SchemaObjectNestingModeMap:
			for _, k := range []struct{ kind, key string }{{"empty key", ""}, {"unicode key", "ünï ✗"}} {
				out = append(out, probe{kind: k.kind, value: tftypes.NewValue(a.ValueType(),
					map[string]tftypes.Value{k.key: tftypes.NewValue(objType, base)})})
			}
		}
	}
	switch obj.Nesting {
	case tfprotov6.SchemaObjectNestingModeList, tfprotov6.SchemaObjectNestingModeSet:
		out = append(out, probe{kind: "empty collection", value: tftypes.NewValue(a.ValueType(), []tftypes.Value{})})
	case tfprotov6.SchemaObjectNestingModeMap:
		out = append(out, probe{kind: "empty collection", value: tftypes.NewValue(a.ValueType(), map[string]tftypes.Value{})})
	}
	return out
}

// names renders a diagnostic's attribute path as its attribute names (keys and indexes dropped).
func names(p *tftypes.AttributePath) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, s := range p.Steps() {
		if n, ok := s.(tftypes.AttributeName); ok {
			out = append(out, string(n))
		}
	}
	return out
}

// outcome of one probe.
type outcome struct {
	named     bool     // an error names the attribute (or the attribute that holds it)
	elsewhere []string // errors the garbage caused that name something else, or nothing
}

// judge compares the diagnostics of a probe with those of the configuration with nothing written.
func judge(p probe, diags, baseline []*tfprotov6.Diagnostic) outcome {
	var o outcome
	for _, d := range diags {
		if d.Severity != tfprotov6.DiagnosticSeverityError {
			continue
		}
		if slices.ContainsFunc(baseline, func(b *tfprotov6.Diagnostic) bool { return diagKey(b) == diagKey(d) }) {
			continue // an error of the configuration before the garbage, not of the garbage
		}
		if missingBlock[d.Summary] {
			continue // the garbage passed every check made without the API; the rest needs the provider block
		}
		n := names(d.Attribute)
		if len(n) > 0 && (isPrefix(n, p.path) || isPrefix(p.path, n)) {
			o.named = true
			continue
		}
		o.elsewhere = append(o.elsewhere, fmt.Sprintf("%v: %s: %s", n, d.Summary, d.Detail))
	}
	return o
}

// missingBlock holds the summaries of the error a resource gives, after every check it can make offline,
// when the provider block it needs is absent (the test configures none).
var missingBlock = func() map[string]bool {
	m := map[string]bool{}
	for block := range shared.BlockEnv {
		summary, _ := shared.MissingBlockError("", block)
		m[summary] = true
	}
	return m
}()

func diagKey(d *tfprotov6.Diagnostic) string {
	return strings.Join(names(d.Attribute), ".") + "|" + d.Summary + "|" + d.Detail
}

func (o outcome) rank() int {
	switch {
	case o.named:
		return 2
	case len(o.elsewhere) == 0:
		return 1
	}
	return 0
}

func isPrefix(prefix, of []string) bool {
	return len(prefix) <= len(of) && slices.Equal(prefix, of[:len(prefix)])
}

// accepted is one line of the table of values accepted on purpose.
type accepted struct {
	typ, attr string
	kinds     []string // garbage kinds accepted
	why       string
}

func (a accepted) covers(typ string, p probe) bool {
	return a.typ == typ && a.attr == p.attr() && slices.Contains(a.kinds, p.kind)
}

func TestSchemaRobustness_everyAttributeRefusesGarbageByNameOrIsAcceptedOnPurpose(t *testing.T) {
	for _, vars := range shared.BlockEnv {
		for _, v := range vars {
			t.Setenv(v, "") // no block from the environment: resources needing one say so, the same with or without garbage
		}
	}
	ctx := context.Background()
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	schemas, err := srv.GetProviderSchema(ctx, &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := tfprotov6.NewDynamicValue(schemas.Provider.ValueType(), tftypes.NewValue(schemas.Provider.ValueType(), unset(schemas.Provider.Block)))
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := srv.ConfigureProvider(ctx, &tfprotov6.ConfigureProviderRequest{Config: &cfg, TerraformVersion: "1.5.7"}); err != nil || len(resp.Diagnostics) > 0 {
		t.Fatalf("configure: %v %v", err, resp)
	}

	var report []string
	stats := map[string]int{}
	seen := map[string]bool{} // accepted on purpose, and found so
	run := func(typ string, schema *tfprotov6.Schema, rpc func(v tftypes.Value) []*tfprotov6.Diagnostic) {
		// Errors of the configuration before the garbage (nothing written, or the fillers: a provider block
		// left out) are not the garbage's.
		baseline := rpc(tftypes.NewValue(schema.ValueType(), unset(schema.Block)))
		for _, b := range bases(t, typ, schema.ValueType(), unset(schema.Block)) {
			baseline = append(baseline, rpc(tftypes.NewValue(schema.ValueType(), b))...)
		}
		// A probe with several fillers is judged by its best: named, else accepted, else unhelpful.
		best := map[string]outcome{}
		var order []probe
		for _, p := range probesOfBlock(t, schema.Block, typ) {
			key := p.attr() + "|" + p.kind
			o := judge(p, rpc(p.value), baseline)
			prev, seen := best[key]
			if !seen {
				order = append(order, p)
			}
			if !seen || o.rank() > prev.rank() {
				best[key] = o
			}
		}
		for _, p := range order {
			o := best[p.attr()+"|"+p.kind]
			isAccepted := slices.ContainsFunc(acceptedOnPurpose, func(a accepted) bool { return a.covers(typ, p) })
			switch {
			case o.named:
				stats["named"]++
			case len(o.elsewhere) > 0:
				stats["unhelpful"]++
				report = append(report, fmt.Sprintf("UNHELPFUL %s.%s (%s): %s", typ, p.attr(), p.kind, strings.Join(o.elsewhere, "; ")))
			case isAccepted:
				stats["accepted"]++
				seen[typ+"|"+p.attr()+"|"+p.kind] = true
			default:
				stats["silent"]++
				report = append(report, fmt.Sprintf("SILENT %s.%s (%s)", typ, p.attr(), p.kind))
			}
		}
	}
	dyn := func(schema *tfprotov6.Schema, v tftypes.Value) *tfprotov6.DynamicValue {
		d, err := tfprotov6.NewDynamicValue(schema.ValueType(), v)
		if err != nil {
			t.Fatal(err)
		}
		return &d
	}
	for _, typ := range slices.Sorted(maps.Keys(schemas.ResourceSchemas)) {
		schema := schemas.ResourceSchemas[typ]
		run(typ, schema, func(v tftypes.Value) []*tfprotov6.Diagnostic {
			vr, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: typ, Config: dyn(schema, v)})
			if err != nil {
				t.Fatalf("%s: validate: %v", typ, err)
			}
			if hasError(vr.Diagnostics) {
				return vr.Diagnostics
			}
			pr, err := srv.PlanResourceChange(ctx, &tfprotov6.PlanResourceChangeRequest{TypeName: typ, Config: dyn(schema, v),
				ProposedNewState: dyn(schema, v), PriorState: dyn(schema, tftypes.NewValue(schema.ValueType(), nil))})
			if err != nil {
				t.Fatalf("%s: plan: %v", typ, err)
			}
			return append(vr.Diagnostics, pr.Diagnostics...)
		})
	}
	for _, typ := range slices.Sorted(maps.Keys(schemas.DataSourceSchemas)) {
		schema := schemas.DataSourceSchemas[typ]
		run(typ, schema, func(v tftypes.Value) []*tfprotov6.Diagnostic {
			vr, err := srv.ValidateDataResourceConfig(ctx, &tfprotov6.ValidateDataResourceConfigRequest{TypeName: typ, Config: dyn(schema, v)})
			if err != nil {
				t.Fatalf("%s: validate: %v", typ, err)
			}
			if hasError(vr.Diagnostics) {
				return vr.Diagnostics
			}
			rr, err := srv.ReadDataSource(ctx, &tfprotov6.ReadDataSourceRequest{TypeName: typ, Config: dyn(schema, v)})
			if err != nil {
				t.Fatalf("%s: read: %v", typ, err)
			}
			return append(vr.Diagnostics, rr.Diagnostics...)
		})
	}
	t.Logf("probes: %v", stats)
	for _, r := range report {
		t.Error(r)
	}
	for _, a := range acceptedOnPurpose {
		for _, k := range a.kinds {
			if !seen[a.typ+"|"+a.attr+"|"+k] {
				t.Errorf("acceptedOnPurpose says %s.%s accepts %q, but it is refused (or no longer exists): remove it", a.typ, a.attr, k)
			}
		}
	}
}

func hasError(diags []*tfprotov6.Diagnostic) bool {
	return slices.ContainsFunc(diags, func(d *tfprotov6.Diagnostic) bool { return d.Severity == tfprotov6.DiagnosticSeverityError })
}

// acceptedMarkdown renders acceptedOnPurpose as the table of docs/guides/schema-robustness.md.
func acceptedMarkdown() string {
	var b strings.Builder
	b.WriteString("| resource or data source | attribute | accepted | why |\n|---|---|---|---|\n")
	for _, a := range acceptedOnPurpose {
		fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s |\n", a.typ, a.attr, strings.Join(a.kinds, ", "), a.why)
	}
	return b.String()
}

func TestSchemaRobustness_acceptedTableIsTheDocs(t *testing.T) {
	for _, f := range []string{"../../templates/guides/schema-robustness.md.tmpl", "../../docs/guides/schema-robustness.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), acceptedMarkdown()) {
			t.Errorf("%s does not hold acceptedOnPurpose; paste this in (and run tfplugindocs generate):\n%s", f, acceptedMarkdown())
		}
	}
}

// Why values are accepted on purpose.
const (
	whyFree      = "free text, sent as written: the API limits only its length"
	whyEnv       = "passed to the container unchanged: the process decides what it means"
	whyEmpty     = "an empty collection is the same as none"
	whyLabels    = "a label value may be empty and use lowercase letters, digits, `_` and `-` (Google Cloud label rules)"
	whySecret    = "a valid Secret Manager secret ID (letters, digits, `-`, `_`); whether it exists is Cloud Run's check at deploy"
	whyZero      = "0 is a documented value (no warm instance, no delay, no premade partition)"
	whyThreshold = "no documented maximum below the API's int32 field (refused above it)"
	whyQdrant0   = "0 is documented by Qdrant: m = 0 disables the HNSW graph, indexing_threshold = 0 disables indexing, default_segment_number = 0 means automatic, a deleted_threshold or full_scan_threshold of 0 is a valid bound"
	whyQdrantBig = "a u64 field of Qdrant's API without a documented maximum"
	whyPgIdent   = "a legal PostgreSQL identifier once quoted (pgx.Identifier); a table or column that does not exist fails the apply with a message that says so"
	whyPromQL    = "valid PromQL (a bare metric name or a number); whether the metric exists is checked against Cloud Monitoring at plan unless disable_metric_validation, which needs the provider's gcp block"
	whyLogFilter = "valid Logging query language (free text is a global text search)"
	whyPubSub    = "a Pub/Sub filter: checked by Pub/Sub when the subscription is created (no offline grammar is documented)"
	whyName      = "allowed by the API's naming rules"
	whyRender    = "rendered into YAML or JSON with escaping; its meaning is Prometheus' or Grafana's"
	whyPath      = "a file on the Prometheus host, which the provider cannot see"
	whyVectors   = "the key `\"\"` is the unnamed default vector"
	whyPgDB      = "a legal PostgreSQL database name once quoted; one that does not exist fails the backup run with a message that says so"
	whyTriggers  = "arbitrary values on purpose (e.g. a migration's version): they are only kept in state and compared, a change takes a new backup; nothing sends them to an API"
)

// acceptedOnPurpose: the garbage each attribute accepts, and why. docs/guides/schema-robustness.md shows
// it; the test fails when a row is missing or no longer true.
var acceptedOnPurpose = []accepted{
	{"alfred_agent_service", "args", []string{"element empty", "element blank", "element unicode", "element huge", "element negative duration", "element nul byte", "element invalid enum", "duplicates"}, whyEnv},
	{"alfred_agent_service", "command", []string{"element empty", "element blank", "element unicode", "element huge", "element negative duration", "element nul byte", "element invalid enum", "duplicates"}, whyEnv},
	{"alfred_agent_service", "env", []string{"empty collection", "value empty", "value blank", "value unicode", "value huge", "value negative duration", "value nul byte", "value invalid enum"}, whyEnv},
	{"alfred_agent_service", "invokers", []string{"empty collection"}, whyEmpty},
	{"alfred_agent_service", "labels", []string{"empty collection", "value empty", "value negative duration"}, whyLabels},
	{"alfred_agent_service", "liveness_probe.http_get.http_headers", []string{"empty collection", "value empty", "value blank", "value unicode", "value huge", "value negative duration", "value nul byte", "value invalid enum"}, whyEnv},
	{"alfred_agent_service", "liveness_probe.initial_delay_seconds", []string{"zero"}, whyZero},
	{"alfred_agent_service", "metrics.config_secret", []string{"negative duration", "invalid enum"}, whySecret},
	{"alfred_agent_service", "min_instances", []string{"zero"}, whyZero},
	{"alfred_agent_service", "secret_env.secret", []string{"negative duration", "invalid enum"}, whySecret},
	{"alfred_agent_service", "secret_env", []string{"empty collection"}, whyEmpty},
	{"alfred_agent_service", "secret_volumes", []string{"empty collection"}, whyEmpty},
	{"alfred_agent_service", "startup_probe.initial_delay_seconds", []string{"zero"}, whyZero},
	{"alfred_agent_service", "tracing.api_key_secret", []string{"negative duration", "invalid enum"}, whySecret},
	{"alfred_agent_service", "tracing.langsmith_project", []string{"blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_backup_policy", "postgres.databases", []string{"element blank", "element unicode", "element negative duration", "element invalid enum"}, whyPgDB},
	{"alfred_backup_policy", "qdrant.collections", []string{"element negative duration", "element invalid enum"}, whyName},
	{"alfred_backup", "triggers", []string{"empty collection", "empty key", "unicode key", "value empty", "value blank", "value unicode", "value huge", "value negative duration", "value nul byte", "value invalid enum"}, whyTriggers},
	{"alfred_alert_policy", "display_name", []string{"blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_alert_policy", "documentation", []string{"empty", "blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_alert_policy", "documentation_subject", []string{"empty", "blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_alert_policy", "notification_channels", []string{"empty collection"}, whyEmpty},
	{"alfred_alert_policy", "user_labels", []string{"empty collection", "value empty", "value negative duration"}, whyLabels},
	{"alfred_alert_policy", "condition.display_name", []string{"blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_alert_policy", "condition.promql", []string{"huge", "negative duration", "invalid enum"}, whyPromQL},
	{"alfred_log_metric", "description", []string{"empty", "blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_log_metric", "filter", []string{"unicode", "negative duration", "nul byte", "invalid enum"}, whyLogFilter},
	{"alfred_log_metric", "label_extractors", []string{"empty collection"}, whyEmpty},
	{"alfred_log_metric", "labels", []string{"empty collection"}, whyEmpty},
	{"alfred_log_metric", "name", []string{"negative duration", "invalid enum"}, whyName},
	{"alfred_notification_channel", "description", []string{"empty", "blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_notification_channel", "display_name", []string{"blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_notification_channel", "sensitive_labels", []string{"empty collection"}, whyEmpty},
	{"alfred_notification_channel", "user_labels", []string{"empty collection", "value empty", "value negative duration"}, whyLabels},
	{"alfred_postgres_partitions", "column", []string{"blank", "unicode", "negative duration", "invalid enum"}, whyPgIdent},
	{"alfred_postgres_partitions", "premake", []string{"zero"}, whyZero},
	{"alfred_postgres_partitions", "schema", []string{"blank", "unicode", "negative duration", "invalid enum"}, whyPgIdent},
	{"alfred_postgres_partitions", "table", []string{"blank", "unicode", "negative duration", "invalid enum"}, whyPgIdent},
	{"alfred_qdrant_collection", "aliases", []string{"empty collection", "element negative duration", "element invalid enum"}, whyName},
	{"alfred_qdrant_collection", "hnsw.full_scan_threshold", []string{"zero", "huge number"}, whyQdrantBig},
	{"alfred_qdrant_collection", "hnsw.m", []string{"zero"}, whyQdrant0},
	{"alfred_qdrant_collection", "name", []string{"negative duration", "invalid enum"}, whyName},
	{"alfred_qdrant_collection", "optimizers.default_segment_number", []string{"zero", "huge number"}, whyQdrantBig},
	{"alfred_qdrant_collection", "optimizers.deleted_threshold", []string{"zero"}, whyQdrant0},
	{"alfred_qdrant_collection", "optimizers.flush_interval_sec", []string{"huge number"}, whyQdrantBig},
	{"alfred_qdrant_collection", "optimizers.indexing_threshold", []string{"zero", "huge number"}, whyQdrantBig},
	{"alfred_qdrant_collection", "optimizers.vacuum_min_vector_number", []string{"huge number"}, whyQdrantBig},
	{"alfred_qdrant_collection", "payload_indexes", []string{"empty collection"}, whyEmpty},
	{"alfred_qdrant_collection", "vectors", []string{"empty key"}, whyVectors},
	{"alfred_rbac_role", "description", []string{"empty", "blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyFree},
	{"alfred_rbac_role", "inherits", []string{"empty collection"}, whyEmpty},
	{"alfred_rbac_role", "permissions", []string{"empty collection"}, whyEmpty},
	{"alfred_supabase_network_security", "allowed_cidrs", []string{"empty collection"}, whyEmpty},
	{"alfred_supabase_network_security", "allowed_cidrs_v6", []string{"empty collection"}, whyEmpty},
	{"alfred_task_queue", "filter", []string{"empty", "blank", "unicode", "negative duration", "nul byte", "invalid enum"}, whyPubSub},
	{"alfred_task_queue", "name", []string{"invalid enum"}, whyName},
	{"alfred_grafana_dashboard", "datasource_uid", []string{"negative duration", "invalid enum"}, whyRender},
	{"alfred_grafana_dashboard", "services", []string{"element blank", "element unicode", "element huge", "element negative duration", "element nul byte", "element invalid enum"}, whyRender},
	{"alfred_grafana_dashboard", "tags", []string{"empty collection", "element empty", "element blank", "element unicode", "element huge", "element negative duration", "element nul byte", "element invalid enum", "duplicates"}, whyRender},
	{"alfred_grafana_dashboard", "title", []string{"blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyRender},
	{"alfred_grafana_dashboard", "uid", []string{"negative duration", "invalid enum"}, whyRender},
	{"alfred_prometheus_rules", "group_name", []string{"blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyRender},
	{"alfred_prometheus_rules", "rule.annotations", []string{"empty collection", "value empty", "value blank", "value unicode", "value huge", "value negative duration", "value nul byte", "value invalid enum"}, whyRender},
	{"alfred_prometheus_rules", "rule.labels", []string{"empty collection", "value empty", "value blank", "value unicode", "value huge", "value negative duration", "value nul byte", "value invalid enum"}, whyRender},
	{"alfred_prometheus_rules", "rule.name", []string{"huge", "invalid enum"}, whyRender},
	{"alfred_prometheus_rules", "rule.promql", []string{"huge", "negative duration", "invalid enum"}, whyPromQL},
	{"alfred_prometheus_scrape_config", "bearer_token_file", []string{"blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyPath},
	{"alfred_prometheus_scrape_config", "job_name", []string{"huge", "invalid enum"}, whyRender},
	{"alfred_prometheus_scrape_config", "services.name", []string{"blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyRender},
	{"alfred_prometheus_scrape_config", "services.target", []string{"huge", "negative duration"}, whyRender},
	{"alfred_prometheus_scrape_config", "tls.ca_file", []string{"empty", "blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyPath},
	{"alfred_prometheus_scrape_config", "tls.cert_file", []string{"empty", "blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyPath},
	{"alfred_prometheus_scrape_config", "tls.key_file", []string{"empty", "blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyPath},
	{"alfred_prometheus_scrape_config", "tls.server_name", []string{"empty", "blank", "unicode", "huge", "negative duration", "nul byte", "invalid enum"}, whyRender},
}
