package cloudrun_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
)

// The sandbox's execution variables reach an alfredctl execution, and the job's own variables win over them.
func TestRunJob_executionEnvFromSandboxUnderJobEnv(t *testing.T) {
	dir := t.TempDir()
	record := filepath.Join(dir, "record")
	bin := filepath.Join(dir, "alfredctl")
	script := "#!/bin/sh\necho \"debug=$ALFRED_SANDBOX_DEBUG_URL greeting=$GREETING\" >> " + record + "\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	ts, c := start(t, cloudrun.Options{AlfredctlPath: bin})
	ts.Server.SetExecutionEnv("ALFRED_SANDBOX_DEBUG_URL=http://127.0.0.1:9", "GREETING=from-sandbox")
	ctx := ctxT(t)
	op, err := c.jobs.CreateJob(ctx, &runpb.CreateJobRequest{Parent: parent, JobId: "env", Job: job("local/alfredctl:latest")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := op.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	rop, err := c.jobs.RunJob(ctx, &runpb.RunJobRequest{Name: parent + "/jobs/env"})
	if err != nil {
		t.Fatal(err)
	}
	if ex, err := rop.Wait(ctx); err != nil || ex.GetSucceededCount() != 1 {
		t.Fatalf("execution: %v %v", ex, err)
	}
	b, _ := os.ReadFile(record)
	if got := strings.TrimSpace(string(b)); got != "debug=http://127.0.0.1:9 greeting=hello" {
		t.Fatalf("the execution saw %q, want the sandbox's debug URL and the job's GREETING", got)
	}
}
