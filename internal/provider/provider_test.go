package provider

import (
	"context"
	"strings"
	"testing"

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

	data := resolve(providerModel{
		GCP: &gcpModel{Project: types.StringValue("written"), Region: types.StringNull(), Credentials: types.StringNull(),
			RunEndpoint: types.StringNull(), MonitoringEndpoint: types.StringNull(), SchedulerEndpoint: types.StringNull(),
			Insecure: types.BoolNull()},
	})
	if data.Postgres == nil || data.Postgres.DSN != "postgres://u@127.0.0.1:1/db" {
		t.Errorf("postgres block from ALFRED_POSTGRES_DSN: got %+v", data.Postgres)
	}
	if data.GCP == nil || data.GCP.Project != "written" || data.GCP.RunEndpoint != "127.0.0.1:9" || !data.GCP.Insecure {
		t.Errorf("gcp: written value must win and env must fill the rest, got %+v", data.GCP)
	}
	if data.Supabase != nil || data.Qdrant != nil || data.S3 != nil {
		t.Errorf("blocks neither written nor in the environment must be absent: %+v %+v %+v", data.Supabase, data.Qdrant, data.S3)
	}

	t.Setenv("ALFRED_S3_ENDPOINT", "http://127.0.0.1:7070")
	data = resolve(providerModel{})
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
