package secretscan_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// secrets are distinctive values, fresh for each run, of every secret the provider handles.
type secrets map[string]string

// fresh is prefix and 24 random hex digits: a value that appears nowhere unless it leaks.
func fresh(prefix string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func newSecrets() secrets {
	r := fresh
	return secrets{
		"gcp credentials private key":         r("scangcpkey"),
		"supabase access_token":               "sbp_" + r("scansupa"),
		"qdrant api_key":                      r("scanqdrant"),
		"postgres dsn password":               r("scanpgpw"),
		"s3 secret_access_key":                r("scans3"),
		"slack auth_token (sensitive_labels)": "xoxb-" + r("scanslack"),
		"webhook password (sensitive_labels)": r("scanhook"),
		"pagerduty service_key":               r("scanpd"),
		"backup_policy postgres.dsn password": r("scanbppw"),
	}
}

// fakeServiceAccount is a service-account key JSON holding key; the sandbox (gcp.insecure) never uses it,
// but the provider receives and keeps it like a real one.
func fakeServiceAccount(key string) string {
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "alfred-sandbox", "private_key_id": "0123456789abcdef",
		"private_key":  "-----BEGIN PRIVATE KEY-----\n" + key + "\n-----END PRIVATE KEY-----\n",
		"client_email": "terraform@alfred-sandbox.iam.gserviceaccount.com", "client_id": "100000000000000000001",
		"token_uri": "https://oauth2.googleapis.com/token",
	})
	return string(b)
}

// scanHCL holds every secret of s through variables that are not declared sensitive, so that only the
// provider's schema (Sensitive) keeps them out of plans, show output and unmarked state.
const scanHCL = `
terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
variable "gcp_credentials" {}
variable "supabase_token" {}
variable "qdrant_api_key" {}
variable "postgres_dsn" {}
variable "s3_secret" {}
variable "slack_token" {}
variable "webhook_password" {}
variable "pagerduty_key" {}
variable "project_ref" {}
variable "backup_key" {}
variable "backup_dsn" {}

provider "alfred" {
  gcp {
    credentials = var.gcp_credentials
  }
  supabase {
    access_token = var.supabase_token
  }
  qdrant {
    api_key = var.qdrant_api_key
  }
  postgres {
    dsn = var.postgres_dsn
  }
  s3 {
    secret_access_key = var.s3_secret
  }
}

resource "alfred_agent_service" "bot" {
  name                = "scan-bot"
  image               = "example.com/agents/bot:1"
  deletion_protection = false
  secret_env          = { OPENAI_API_KEY = { secret = "openai-api-key", version = "3" } }
  tracing = {
    langsmith_project = "scan"
    api_key_secret    = "langsmith-api-key"
  }
  invokers = ["serviceAccount:gateway@alfred-sandbox.iam.gserviceaccount.com"]
  metrics  = {}
}

resource "alfred_notification_channel" "slack" {
  type             = "slack"
  display_name     = "scan slack"
  labels           = { channel_name = "#scan" }
  sensitive_labels = { auth_token = var.slack_token }
}

resource "alfred_notification_channel" "hook" {
  type             = "webhook_basicauth"
  display_name     = "scan webhook"
  labels           = { url = "https://hooks.example.com/alfred", username = "alfred" }
  sensitive_labels = { password = var.webhook_password }
}

resource "alfred_notification_channel" "pd" {
  type             = "pagerduty"
  display_name     = "scan pagerduty"
  sensitive_labels = { service_key = var.pagerduty_key }
}

resource "alfred_alert_policy" "bot" {
  display_name          = "scan-bot failures"
  severity              = "ERROR"
  notification_channels = [alfred_notification_channel.slack.id, alfred_notification_channel.hook.id, alfred_notification_channel.pd.id]
  condition {
    preset                    = "task_failures"
    service                   = alfred_agent_service.bot.name
    disable_metric_validation = true
  }
}

resource "alfred_qdrant_collection" "memory" {
  name               = "scan-memory"
  shard_number       = 2
  replication_factor = 2
  vectors            = { "" = { size = 8, distance = "Cosine" } }
}

data "alfred_qdrant_cluster" "this" {}

resource "alfred_supabase_read_replica" "analytics" {
  project_ref = var.project_ref
  region      = "us-east-1"
}

resource "alfred_supabase_network_security" "db" {
  project_ref     = var.project_ref
  ssl_enforcement = true
  allowed_cidrs   = ["127.0.0.0/8"]
}

resource "alfred_rbac_role" "analyst" {
  name        = "scan_analyst"
  permissions = ["scan_results.read"]
}

resource "alfred_rbac_role_assignment" "alice" {
  principal = "6f1c2d4e-0000-4000-8000-000000000001"
  role      = alfred_rbac_role.analyst.name
}

resource "alfred_rbac_table_policy" "results" {
  schema            = "public"
  table             = "scan_results"
  select_permission = "scan_results.read"
}

resource "alfred_postgres_partitions" "events" {
  table    = "scan_events"
  interval = "day"
  premake  = 2
}

data "alfred_postgres_replication" "primary" {}

resource "alfred_backup_policy" "nightly" {
  name           = "scan-nightly"
  schedule       = "0 3 * * *"
  encryption_key = var.backup_key
  retention {
    keep_last = 7
  }
  postgres {
    dsn       = var.backup_dsn
    databases = ["postgres"]
  }
  destination {
    bucket = "` + scanBucket + `"
  }
  runner {
    image           = "example.com/tools/alfredctl:1"
    service_account = "backup-runner@alfred-sandbox.iam.gserviceaccount.com"
  }
}

output "qdrant_peers" { value = length(data.alfred_qdrant_cluster.this.peers) }
output "standbys" { value = length(data.alfred_postgres_replication.primary.standbys) }
`

// scanBucket is the sandbox's bucket of alfred_backup_policy's sets.
const scanBucket = "scan-backups"

// startSandbox starts a sandbox whose identity holds s's Supabase token, Qdrant key and S3 secret key, and
// returns its environment with the PostgreSQL DSN carrying s's password (the sandbox's cluster trusts
// loopback, so any password is accepted, and the provider still has to keep it secret).
func startSandbox(t *testing.T, s secrets) map[string]string {
	t.Helper()
	dir := t.TempDir()
	id := supervisor.Identity{
		Project: "alfred-sandbox", Region: "europe-west1", SupabaseOrg: "alfred-sandbox", SupabaseProject: "alfredsandboxproject",
		SupabaseToken: s["supabase access_token"], QdrantAPIKey: s["qdrant api_key"],
		S3AccessKey: "scanaccess", S3SecretKey: s["s3 secret_access_key"],
	}
	b, _ := json.Marshal(id)
	if err := os.WriteFile(filepath.Join(dir, supervisor.IdentityFile), b, 0o600); err != nil {
		t.Fatal(err)
	}
	sb := acctest.StartSandbox(t, supervisor.Config{Dir: dir})
	env := map[string]string{}
	for k, v := range sb.Env {
		env[k] = v
	}
	u, err := url.Parse(env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	for _, ddl := range []string{
		`create table public.scan_results (id bigint primary key, owner_id uuid)`,
		`create table public.scan_events (id bigint, created_at timestamptz not null) partition by range (created_at)`,
	} {
		if _, err := db.Exec(ctx, ddl); err != nil {
			t.Fatal(err)
		}
	}
	acctest.CreateBucket(t, env, scanBucket)
	// alfred_backup_policy's DSN carries a password of its own, so that a leak says which DSN leaked.
	bu := *u
	bu.User = url.UserPassword(u.User.Username(), s["backup_policy postgres.dsn password"])
	env[backupDSNEnv] = bu.String()
	u.User = url.UserPassword(u.User.Username(), s["postgres dsn password"])
	env["ALFRED_POSTGRES_DSN"] = u.String()
	return env
}

// backupDSNEnv is the key of startSandbox's environment that holds alfred_backup_policy's DSN (not a
// variable anything reads: the DSN reaches Terraform only through TF_VAR_backup_dsn).
const backupDSNEnv = "SCAN_BACKUP_POLICY_DSN"

// withKeyset adds a fresh Tink keyset to s for alfred_backup_policy's encryption_key: it returns the
// keyset's JSON, and s holds its key material, the part that must never show.
func withKeyset(t *testing.T, s secrets) string {
	t.Helper()
	ks, err := backup.NewKeyset()
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Key []struct {
			KeyData struct{ Value string } `json:"keyData"`
		} `json:"key"`
	}
	if err := json.Unmarshal(ks, &parsed); err != nil || len(parsed.Key) == 0 || len(parsed.Key[0].KeyData.Value) < 32 {
		t.Fatalf("keyset without key material? %v", err)
	}
	s["backup_policy encryption_key (key material)"] = parsed.Key[0].KeyData.Value
	return string(ks)
}

// scan is a sandbox holding s's secrets, a Terraform working directory whose variables carry them, and
// the output and TRACE log of every command run through run.
type scan struct {
	s       secrets
	env     map[string]string
	cli     *acctest.CLI
	dir     string
	logDir  string
	outputs map[string]string
}

func newScan(t *testing.T, hcl string) *scan {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("set TF_ACC=1: the test runs Terraform against the sandbox")
	}
	t.Parallel() // each scan has a sandbox of its own
	sc := &scan{s: newSecrets(), cli: acctest.NewCLI(t), dir: t.TempDir(), logDir: t.TempDir(), outputs: map[string]string{}}
	s := sc.s
	keyset := withKeyset(t, s)
	sc.env = startSandbox(t, s)
	env := sc.env
	if err := os.WriteFile(filepath.Join(sc.dir, "main.tf"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"gcp_credentials": fakeServiceAccount(s["gcp credentials private key"]), "supabase_token": s["supabase access_token"],
		"qdrant_api_key": s["qdrant api_key"], "postgres_dsn": env["ALFRED_POSTGRES_DSN"], "s3_secret": s["s3 secret_access_key"],
		"slack_token": s["slack auth_token (sensitive_labels)"], "webhook_password": s["webhook password (sensitive_labels)"],
		"pagerduty_key": s["pagerduty service_key"], "project_ref": env["ALFRED_SUPABASE_PROJECT_REF"],
		"backup_key": keyset, "backup_dsn": env[backupDSNEnv],
	}
	// The endpoints come from the sandbox's environment; the secrets only from the configuration.
	for k, v := range env {
		switch k {
		case "SUPABASE_ACCESS_TOKEN", "QDRANT_API_KEY", "AWS_SECRET_ACCESS_KEY", "ALFRED_POSTGRES_DSN", backupDSNEnv:
			continue
		}
		sc.cli.Env = append(sc.cli.Env, k+"="+v)
	}
	for k, v := range vars {
		sc.cli.Env = append(sc.cli.Env, "TF_VAR_"+k+"="+v)
	}
	return sc
}

// run runs terraform args with TF_LOG=TRACE into name.log and keeps its output under name.
func (sc *scan) run(t *testing.T, name string, okCodes []int, args ...string) string {
	t.Helper()
	c := *sc.cli
	c.Env = append(append([]string(nil), sc.cli.Env...), "TF_LOG=TRACE", "TF_LOG_PATH="+filepath.Join(sc.logDir, name+".log"))
	_, out := c.Run(t, sc.dir, okCodes, append(args, "-no-color")...)
	sc.outputs[name] = out
	return out
}

// texts is every log and every output but the JSON documents, which hold values by design (their marks
// are checked by checkMarked).
func (sc *scan) texts(t *testing.T) map[string]string {
	t.Helper()
	texts := map[string]string{}
	for name, out := range sc.outputs {
		b, err := os.ReadFile(filepath.Join(sc.logDir, name+".log"))
		if err != nil {
			t.Fatal(err)
		}
		texts[name+".log"] = string(b)
		if !strings.HasSuffix(name, "json") {
			texts["terraform "+name] = out
		}
	}
	return texts
}

// TestSecretScanTraceLogPlanShowAndStateKeepEverySecret applies and destroys a configuration that holds
// every secret the provider handles with TF_LOG=TRACE, and asserts that no secret value appears in the
// log, in the output of plan, apply, show and destroy, or in state without a sensitive mark.
func TestSecretScanTraceLogPlanShowAndStateKeepEverySecret(t *testing.T) {
	sc := newScan(t, scanHCL)
	run := func(name string, args ...string) string { t.Helper(); return sc.run(t, name, []int{0}, args...) }
	dir, cli := sc.dir, sc.cli
	run("plan", "plan", "-input=false", "-out=tfplan")
	run("show-plan", "show", "tfplan")
	run("apply", "apply", "-input=false", "tfplan")
	if _, out := cli.Run(t, dir, []int{0, 2}, "plan", "-detailed-exitcode", "-input=false", "-no-color"); !strings.Contains(out, "No changes.") {
		t.Fatalf("the second plan must be empty:\n%s", out)
	}
	run("show", "show")
	stateJSON := run("show-json", "show", "-json")
	planJSON := run("show-plan-json", "show", "-json", "tfplan")
	run("destroy", "destroy", "-input=false", "-auto-approve")

	// The log must be a TRACE log of both Terraform and the provider, or the scan proves nothing.
	texts := sc.texts(t)
	if l := texts["apply.log"]; !strings.Contains(l, "[TRACE]") || !strings.Contains(l, "provider.terraform-provider-alfred") ||
		!strings.Contains(l, "alfred_rbac_role") {
		t.Fatalf("apply.log is not a TRACE log with the provider's own lines (%d bytes)", len(l))
	}
	// The backup policy's secrets must have reached the provider (state holds them, marked), or the scan
	// proves nothing about them.
	for _, what := range []string{"backup_policy encryption_key (key material)", "backup_policy postgres.dsn password"} {
		if !strings.Contains(stateJSON, sc.s[what]) {
			t.Errorf("the state does not hold the %s: alfred_backup_policy was not applied with it", what)
		}
	}
	scanTexts(t, sc.s, texts)
	checkMarked(t, sc.s, stateJSON, "state")
	checkMarked(t, sc.s, planJSON, "plan")
}

// scanTexts fails t for every secret of s found in one of texts (name -> text).
func scanTexts(t *testing.T, s secrets, texts map[string]string) {
	t.Helper()
	for what, secret := range s {
		for name, text := range texts {
			if i := strings.Index(text, secret); i >= 0 {
				t.Errorf("%s leaks in %s:\n%s", what, name, around(text, i))
			}
		}
	}
}

func around(text string, i int) string {
	from, to := max(0, i-300), min(len(text), i+300)
	return text[from:to]
}

// checkMarked asserts that every value of the state or plan JSON (terraform show -json) that holds a
// secret is marked sensitive: in state by the resource's sensitive_values, in a plan by each change's
// after_sensitive, and that no secret sits in an unmarked output. A plan's planned_values are not checked:
// Terraform fills their sensitive_values from value marks only, never from the provider's schema
// (hashicorp/terraform#34323, "explained"), while after_sensitive carries both (#28523); plan
// consumers such as alfredctl plan review read resource_changes.
func checkMarked(t *testing.T, s secrets, doc, what string) {
	t.Helper()
	var v struct {
		Values          *jsonValues `json:"values"`
		PlannedValues   *jsonValues `json:"planned_values"`
		ResourceChanges []struct {
			Address string `json:"address"`
			Change  struct {
				After          any `json:"after"`
				AfterSensitive any `json:"after_sensitive"`
			} `json:"change"`
		} `json:"resource_changes"`
	}
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		t.Fatalf("%s JSON: %v", what, err)
	}
	var leaks []string
	seen := 0
	if vals := v.Values; vals != nil {
		for name, o := range vals.Outputs {
			leaks = append(leaks, unmarked(s, o.Value, o.Sensitive, "output."+name)...)
		}
		for _, r := range vals.RootModule.Resources {
			seen++
			leaks = append(leaks, unmarked(s, r.Values, r.SensitiveValues, r.Address)...)
		}
	}
	for _, rc := range v.ResourceChanges {
		seen++
		leaks = append(leaks, unmarked(s, rc.Change.After, rc.Change.AfterSensitive, rc.Address+" (change)")...)
	}
	if seen == 0 {
		t.Fatalf("the %s JSON holds no resource: nothing was checked", what)
	}
	sort.Strings(leaks)
	if len(leaks) > 0 && os.Getenv("ALFRED_SECRETSCAN_KEEP") != "" {
		_ = os.WriteFile(os.Getenv("ALFRED_SECRETSCAN_KEEP")+"."+what+".json", []byte(doc), 0o600)
	}
	for _, l := range leaks {
		t.Errorf("%s: %s", what, l)
	}
}

type jsonValues struct {
	Outputs map[string]struct {
		Value     any  `json:"value"`
		Sensitive bool `json:"sensitive"`
	} `json:"outputs"`
	RootModule struct {
		Resources []struct {
			Address         string `json:"address"`
			Values          any    `json:"values"`
			SensitiveValues any    `json:"sensitive_values"`
		} `json:"resources"`
	} `json:"root_module"`
}

// unmarked walks a value and its sensitivity mirror (true, or an object/array of the value's shape) and
// returns the paths of strings holding a secret that no mark covers.
func unmarked(s secrets, v, mark any, path string) []string {
	if m, ok := mark.(bool); ok && m {
		return nil
	}
	switch x := v.(type) {
	case string:
		var out []string
		for what, secret := range s {
			if strings.Contains(x, secret) {
				out = append(out, fmt.Sprintf("%s holds the %s without a sensitive mark", path, what))
			}
		}
		return out
	case map[string]any:
		marks, _ := mark.(map[string]any)
		var out []string
		for k, e := range x {
			out = append(out, unmarked(s, e, marks[k], path+"."+k)...)
		}
		return out
	case []any:
		marks, _ := mark.([]any)
		var out []string
		for i, e := range x {
			var m any
			if i < len(marks) {
				m = marks[i]
			}
			out = append(out, unmarked(s, e, m, fmt.Sprintf("%s[%d]", path, i))...)
		}
		return out
	}
	return nil
}

// errorsHCL makes the provider fail, at plan, with each secret it holds: a DSN to a closed port, a DSN that
// does not parse, and a Qdrant API key that the cluster refuses.
const errorsHCL = `
terraform {
  required_providers {
    alfred = { source = "alfred-platform/alfred" }
  }
}
variable "pg_closed" {}
variable "pg_malformed" {}
variable "qdrant_refused" {}
variable "supabase_refused" {}
variable "project_ref" {}
variable "gcp_unusable" {}

provider "alfred" {
  qdrant {
    api_key = var.qdrant_refused
  }
  supabase {
    access_token = var.supabase_refused
  }
}
provider "alfred" {
  alias = "closed"
  postgres {
    dsn = var.pg_closed
  }
}
provider "alfred" {
  alias = "badkey"
  gcp {
    credentials = var.gcp_unusable
    insecure    = false
  }
}
provider "alfred" {
  alias = "malformed"
  postgres {
    dsn = var.pg_malformed
  }
}
`

const errorsPlanHCL = errorsHCL + `
data "alfred_postgres_replication" "closed" {
  provider = alfred.closed
}
data "alfred_postgres_replication" "malformed" {
  provider = alfred.malformed
}
data "alfred_qdrant_cluster" "refused" {}
`

// errorsApplyHCL fails at apply: Supabase refuses the token, PostgreSQL cannot be reached, the service
// account key cannot sign.
const errorsApplyHCL = errorsHCL + `
resource "alfred_notification_channel" "badkey" {
  provider     = alfred.badkey
  type         = "email"
  display_name = "scan"
  labels       = { email_address = "scan@example.com" }
}
resource "alfred_supabase_network_security" "db" {
  project_ref     = var.project_ref
  ssl_enforcement = true
  allowed_cidrs   = ["127.0.0.0/8"]
}
resource "alfred_rbac_role" "r" {
  provider    = alfred.closed
  name        = "scan_refused"
  permissions = ["scan.read"]
}
`

// TestSecretScanErrorsNeverEchoSecrets makes the provider fail with every kind of refused or unusable
// secret (a DSN to a closed port, a DSN that does not parse, a Qdrant key and a Supabase token that the
// sandbox refuses, a service-account key that cannot sign), at plan and at apply, with TF_LOG=TRACE: the errors must say what failed without the
// secret, in the output and in the log.
func TestSecretScanErrorsNeverEchoSecrets(t *testing.T) {
	sc := newScan(t, errorsPlanHCL)
	bad := secrets{
		"postgres password (closed port)":   fresh("scanpgclosed"),
		"postgres password (malformed DSN)": fresh("scanpgbad"),
		"qdrant api_key (refused)":          fresh("scanqdrantno"),
		"supabase access_token (refused)":   "sbp_" + fresh("scansupano"),
		"gcp credentials (unusable key)":    fresh("scangcpbad"),
	}
	sc.cli.Env = append(sc.cli.Env,
		"TF_VAR_pg_closed=postgres://alfred:"+bad["postgres password (closed port)"]+"@127.0.0.1:1/postgres?sslmode=disable",
		"TF_VAR_pg_malformed=postgres://alfred:"+bad["postgres password (malformed DSN)"]+"@127.0.0.1:notaport/postgres",
		"TF_VAR_qdrant_refused="+bad["qdrant api_key (refused)"],
		"TF_VAR_supabase_refused="+bad["supabase access_token (refused)"],
		"TF_VAR_gcp_unusable="+fakeServiceAccount(bad["gcp credentials (unusable key)"]))
	plan := sc.run(t, "plan", []int{1}, "plan", "-input=false")
	if err := os.WriteFile(filepath.Join(sc.dir, "main.tf"), []byte(errorsApplyHCL), 0o644); err != nil {
		t.Fatal(err)
	}
	apply := sc.run(t, "apply", []int{1}, "apply", "-input=false", "-auto-approve")
	t.Logf("plan:\n%s\napply:\n%s", plan, apply)
	// Each failure must have happened, or its secret was never put to the test.
	flat := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for out, wants := range map[string][]string{
		flat(plan):  {`data.alfred_postgres_replication.closed`, `data.alfred_postgres_replication.malformed`, `data.alfred_qdrant_cluster.refused`},
		flat(apply): {`alfred_supabase_network_security.db`, `alfred_rbac_role.r`, `alfred_notification_channel.badkey`},
	} {
		for _, want := range wants {
			if !strings.Contains(out, "with "+want) {
				t.Errorf("no error reported for %s:\n%s", want, out)
			}
		}
	}
	for k, v := range sc.s {
		bad[k] = v
	}
	scanTexts(t, bad, sc.texts(t))
}
