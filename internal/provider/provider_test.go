package provider

import (
	"context"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

func TestProviderSchemaIsValid(t *testing.T) {
	srv, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("schema diagnostic: %s: %s", d.Summary, d.Detail)
	}
	for _, block := range []string{"gcp", "supabase", "qdrant", "postgres", "s3"} {
		found := false
		for _, b := range resp.Provider.Block.BlockTypes {
			found = found || b.TypeName == block
		}
		if !found {
			t.Errorf("provider schema has no %q block", block)
		}
	}
	sensitive := map[string]bool{}
	for _, b := range resp.Provider.Block.BlockTypes {
		for _, a := range b.Block.Attributes {
			if a.Sensitive {
				sensitive[b.TypeName+"."+a.Name] = true
			}
		}
	}
	for _, want := range []string{"gcp.credentials", "supabase.access_token", "qdrant.api_key", "postgres.dsn", "s3.secret_access_key"} {
		if !sensitive[want] {
			t.Errorf("%s must be sensitive", want)
		}
	}
}

func TestResolveFillsFromEnvironmentAndKeepsAbsentBlocksNil(t *testing.T) {
	for _, vars := range shared.BlockEnv {
		for _, v := range vars {
			t.Setenv(v, "")
		}
	}
	t.Setenv("ALFRED_POSTGRES_DSN", "postgres://u@127.0.0.1:1/db")
	t.Setenv("ALFRED_GCP_INSECURE", "true")
	t.Setenv("ALFRED_GCP_RUN_ENDPOINT", "127.0.0.1:9")
	t.Setenv("ALFRED_GCP_LOGGING_ENDPOINT", "127.0.0.1:10")

	var diags diag.Diagnostics
	data := resolve(providerModel{
		GCP: &gcpModel{Project: types.StringValue("written"), Region: types.StringNull(), Credentials: types.StringNull(),
			RunEndpoint: types.StringNull(), MonitoringEndpoint: types.StringNull(), LoggingEndpoint: types.StringNull(),
			SchedulerEndpoint: types.StringNull(), PubSubEndpoint: types.StringNull(), Insecure: types.BoolNull()},
	}, &diags)
	if diags.HasError() {
		t.Fatalf("valid environment reported errors: %v", diags)
	}
	if data.Postgres == nil || data.Postgres.DSN != "postgres://u@127.0.0.1:1/db" {
		t.Errorf("postgres block from ALFRED_POSTGRES_DSN: got %+v", data.Postgres)
	}
	if data.GCP == nil || data.GCP.Project != "written" || data.GCP.RunEndpoint != "127.0.0.1:9" ||
		data.GCP.LoggingEndpoint != "127.0.0.1:10" || !data.GCP.Insecure {
		t.Errorf("gcp: written value must win and env must fill the rest, got %+v", data.GCP)
	}
	if data.Supabase != nil || data.Qdrant != nil || data.S3 != nil {
		t.Errorf("blocks neither written nor in the environment must be absent: %+v %+v %+v", data.Supabase, data.Qdrant, data.S3)
	}

	t.Setenv("ALFRED_S3_ENDPOINT", "http://127.0.0.1:7070")
	data = resolve(providerModel{}, &diags)
	if data.S3 == nil || !data.S3.ForcePathStyle {
		t.Errorf("an S3 endpoint turns on path-style addressing, got %+v", data.S3)
	}
	if data.Supabase != nil {
		t.Errorf("supabase must stay absent")
	}
}

func TestMissingBlockMessageNamesBlockAndVariables(t *testing.T) {
	summary, detail := shared.MissingBlockError("alfred_rbac_role", shared.BlockPostgres)
	for _, want := range []string{`"postgres"`} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary %q lacks %s", summary, want)
		}
	}
	for _, want := range []string{"alfred_rbac_role", "ALFRED_POSTGRES_DSN", "postgres {"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail %q lacks %s", detail, want)
		}
	}
}

func clearBlockEnv(t *testing.T) {
	for _, vars := range shared.BlockEnv {
		for _, v := range vars {
			t.Setenv(v, "")
		}
	}
	t.Setenv("ALFRED_S3_FORCE_PATH_STYLE", "")
}

// A non-boolean ALFRED_GCP_INSECURE used to mean false without a word: a sandbox user who wrote `yes` got
// TLS with Application Default Credentials against a plaintext emulator and an obscure handshake error.
func TestResolveRejectsNonBooleanEnvironmentFlags(t *testing.T) {
	for _, c := range []struct{ env, val, attr string }{
		{"ALFRED_GCP_INSECURE", "garbage", "gcp.insecure"},
		{"ALFRED_GCP_INSECURE", "yes", "gcp.insecure"},
		{"ALFRED_S3_FORCE_PATH_STYLE", "on", "s3.force_path_style"},
	} {
		clearBlockEnv(t)
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv(c.env, c.val)
		var diags diag.Diagnostics
		resolve(providerModel{}, &diags)
		if !diags.HasError() {
			t.Errorf("%s=%s was accepted silently", c.env, c.val)
			continue
		}
		d := diags.Errors()[0]
		wd, ok := d.(diag.DiagnosticWithPath)
		if !ok || wd.Path().String() != c.attr {
			t.Errorf("%s=%s: the error is not attached to %s: %v", c.env, c.val, c.attr, d)
		}
		for _, want := range []string{c.env, c.val, "true or false"} {
			if !strings.Contains(d.Detail(), want) {
				t.Errorf("%s=%s: the message %q does not mention %q", c.env, c.val, d.Detail(), want)
			}
		}
	}
	for _, ok := range []string{"true", "false", "1", "0", "TRUE", " true "} {
		clearBlockEnv(t)
		t.Setenv("ALFRED_GCP_INSECURE", ok)
		var diags diag.Diagnostics
		data := resolve(providerModel{}, &diags)
		if diags.HasError() || data.GCP == nil {
			t.Errorf("ALFRED_GCP_INSECURE=%q must be accepted: %v", ok, diags)
		}
	}
}

// Endpoints from the environment are checked as strictly as written ones: a URL where a URL is expected,
// host:port where a gRPC address is expected; the message names the attribute and the variable, and never
// shows a password written into a URL.
func TestResolveRejectsMalformedEndpointsFromTheEnvironment(t *testing.T) {
	for _, c := range []struct{ env, val, attr, want string }{
		{"ALFRED_SUPABASE_API_URL", "api.supabase.com", "supabase.api_url", "no scheme"},
		{"ALFRED_SUPABASE_API_URL", "ftp://api.supabase.com", "supabase.api_url", "scheme"},
		{"ALFRED_SUPABASE_API_URL", "https://user:hunter2-secret@", "supabase.api_url", "no host"},
		{"ALFRED_S3_ENDPOINT", "127.0.0.1:7070", "s3.endpoint", "http"},
		{"ALFRED_S3_ENDPOINT", "http://127.0.0.1:99999", "s3.endpoint", "port"},
		{"ALFRED_QDRANT_REST_URL", "localhost", "qdrant.rest_url", "scheme"},
		{"ALFRED_QDRANT_URL", "http://127.0.0.1:6334", "qdrant.url", "without http"},
		{"ALFRED_GCP_RUN_ENDPOINT", "https://run.googleapis.com", "gcp.run_endpoint", "without http"},
		{"ALFRED_GCP_MONITORING_ENDPOINT", "127.0.0.1:port", "gcp.monitoring_endpoint", "port"},
		{"ALFRED_GCP_LOGGING_ENDPOINT", "http://127.0.0.1:50052", "gcp.logging_endpoint", "without http"},
	} {
		clearBlockEnv(t)
		t.Setenv(c.env, c.val)
		var diags diag.Diagnostics
		resolve(providerModel{}, &diags)
		if !diags.HasError() {
			t.Errorf("%s=%s was accepted", c.env, c.val)
			continue
		}
		d := diags.Errors()[0]
		if wd, ok := d.(diag.DiagnosticWithPath); !ok || wd.Path().String() != c.attr {
			t.Errorf("%s=%s: the error is not attached to %s: %v", c.env, c.val, c.attr, d)
		}
		if !strings.Contains(d.Detail(), c.env) || !strings.Contains(d.Detail(), c.want) {
			t.Errorf("%s=%s: the message %q does not name the variable and say %q", c.env, c.val, d.Detail(), c.want)
		}
		if strings.Contains(d.Detail(), "hunter2-secret") {
			t.Errorf("the message shows a password: %s", d.Detail())
		}
	}
	for env, ok := range map[string]string{
		"ALFRED_SUPABASE_API_URL":       "http://127.0.0.1:41234",
		"ALFRED_S3_ENDPOINT":            "https://s3.eu-west-1.amazonaws.com",
		"ALFRED_QDRANT_REST_URL":        "http://127.0.0.1:6333/",
		"ALFRED_QDRANT_URL":             "127.0.0.1:6334",
		"ALFRED_GCP_RUN_ENDPOINT":       "europe-west1-run.googleapis.com:443",
		"ALFRED_GCP_SCHEDULER_ENDPOINT": "[::1]:50051",
		"ALFRED_GCP_LOGGING_ENDPOINT":   "logging.googleapis.com:443",
	} {
		clearBlockEnv(t)
		t.Setenv(env, ok)
		var diags diag.Diagnostics
		resolve(providerModel{}, &diags)
		if diags.HasError() {
			t.Errorf("%s=%s must be accepted: %v", env, ok, diags)
		}
	}
}
