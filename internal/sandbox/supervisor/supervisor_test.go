package supervisor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// The variables of DESIGN.md section 5 that sandbox.env must carry.
var contractVars = []string{
	"ALFRED_GCP_PROJECT", "ALFRED_GCP_REGION", "ALFRED_GCP_RUN_ENDPOINT", "ALFRED_GCP_MONITORING_ENDPOINT",
	"ALFRED_GCP_SCHEDULER_ENDPOINT", "ALFRED_GCP_INSECURE", "ALFRED_SUPABASE_API_URL", "SUPABASE_ACCESS_TOKEN",
	"ALFRED_SUPABASE_ORG_SLUG", "ALFRED_SUPABASE_PROJECT_REF", "ALFRED_QDRANT_URL", "ALFRED_QDRANT_REST_URL",
	"QDRANT_API_KEY", "ALFRED_POSTGRES_DSN", "ALFRED_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_REGION", "ALFRED_SANDBOX_DEBUG_URL", "ALFRED_GCP_LOGGING_ENDPOINT", "ALFRED_GCP_PUBSUB_ENDPOINT",
}

func start(t *testing.T, dir string) *supervisor.Sandbox {
	t.Helper()
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: dir, VersityGWPath: vgw, Logf: t.Logf})
	if err != nil {
		t.Fatalf("sandbox start: %v", err)
	}
	return sb
}

func TestSandboxEnvCarriesEveryContractVariable(t *testing.T) {
	dir := t.TempDir()
	sb := start(t, dir)
	defer sb.Stop()
	b, err := os.ReadFile(dir + "/" + supervisor.EnvFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range contractVars {
		if !strings.Contains(string(b), "\n"+v+"=") && !strings.HasPrefix(string(b), v+"=") {
			t.Errorf("sandbox.env lacks %s", v)
		}
	}
	if ref := sb.Env["ALFRED_SUPABASE_PROJECT_REF"]; len(ref) != 20 || strings.Trim(ref, "abcdefghijklmnopqrstuvwxyz") != "" {
		t.Errorf("ALFRED_SUPABASE_PROJECT_REF must be 20 lowercase letters, got %q", ref)
	}
}

func TestSandboxComponentsAnswerAndStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	sb := start(t, dir)
	ctx := context.Background()

	conn, err := pgx.Connect(ctx, sb.Env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatalf("PostgreSQL of the sandbox: %v", err)
	}
	if _, err := conn.Exec(ctx, "create table kept (v text); insert into kept values ('before restart')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	resp, err := http.Get(sb.Env["ALFRED_S3_ENDPOINT"])
	if err != nil {
		t.Fatalf("versitygw of the sandbox: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an unsigned S3 request must be refused, got %d", resp.StatusCode)
	}
	resp, err = http.Get(sb.Env["ALFRED_SANDBOX_DEBUG_URL"] + "/calls")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("debug API: %v %v", err, resp)
	}
	resp.Body.Close()
	env := sb.Env
	sb.Stop()

	sb2 := start(t, dir)
	defer sb2.Stop()
	if sb2.Env["ALFRED_POSTGRES_DSN"] != env["ALFRED_POSTGRES_DSN"] || sb2.Env["SUPABASE_ACCESS_TOKEN"] != env["SUPABASE_ACCESS_TOKEN"] {
		t.Errorf("a restarted sandbox keeps its ports and credentials: %v vs %v", sb2.Env, env)
	}
	conn, err = pgx.Connect(ctx, sb2.Env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "select v from kept").Scan(&v); err != nil || v != "before restart" {
		t.Errorf("PostgreSQL data after restart: %q, %v", v, err)
	}
}

// BenchmarkSandboxUp measures how long the supervisor takes to have every component listening, on a
// fresh directory (initdb included) and on a restart.
func BenchmarkSandboxUp(b *testing.B) {
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		for _, phase := range []string{"fresh", "restart"} {
			t0 := time.Now()
			sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: dir, VersityGWPath: vgw})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(time.Since(t0).Seconds(), phase+"-s")
			sb.Stop()
		}
	}
}

func TestDebugAPIMarksQdrantPeersDownAndUp(t *testing.T) {
	sb := start(t, t.TempDir())
	defer sb.Stop()
	debug := sb.Env["ALFRED_SANDBOX_DEBUG_URL"]
	resp, err := http.Get(debug + "/qdrant/peers")
	if err != nil {
		t.Fatal(err)
	}
	var peers []uint64
	if err := json.NewDecoder(resp.Body).Decode(&peers); err != nil || len(peers) != 3 {
		t.Fatalf("the sandbox runs 3 Qdrant peers by default, got %v (%v)", peers, err)
	}
	resp.Body.Close()
	post := func(path string) int {
		resp, err := http.Post(debug+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(fmt.Sprintf("/qdrant/peers/%d/down", peers[1])); code != http.StatusNoContent {
		t.Errorf("peer down: %d", code)
	}
	sendFailures := func() int {
		req, _ := http.NewRequest("GET", sb.Env["ALFRED_QDRANT_REST_URL"]+"/cluster", nil)
		req.Header.Set("api-key", sb.Env["QDRANT_API_KEY"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Result struct {
				Failures map[string]any `json:"message_send_failures"`
			} `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
			t.Fatalf("cluster info: %d %v", resp.StatusCode, err)
		}
		return len(body.Result.Failures)
	}
	if n := sendFailures(); n != 1 {
		t.Errorf("with one peer down, cluster info must show one unreachable peer, got %d", n)
	}
	// every peer has its own ports: a down peer refuses, an up one answers as itself
	resp, err = http.Get(debug + "/qdrant/peers/endpoints")
	if err != nil {
		t.Fatal(err)
	}
	var endpoints []struct {
		ID   uint64 `json:"id"`
		GRPC string `json:"grpc"`
		REST string `json:"rest"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&endpoints); err != nil || len(endpoints) != 3 || endpoints[1].ID != peers[1] {
		t.Fatalf("peer endpoints %+v (%v)", endpoints, err)
	}
	resp.Body.Close()
	peerCluster := func(rest string) (int, uint64) {
		req, _ := http.NewRequest("GET", rest+"/cluster", nil)
		req.Header.Set("api-key", sb.Env["QDRANT_API_KEY"])
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Result struct {
				PeerID uint64 `json:"peer_id"`
			} `json:"result"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body.Result.PeerID
	}
	if code, _ := peerCluster(endpoints[1].REST); code != http.StatusServiceUnavailable {
		t.Errorf("the down peer's own REST port answered %d", code)
	}
	if code, id := peerCluster(endpoints[2].REST); code != 200 || id != peers[2] {
		t.Errorf("peer %d's own REST port answered %d as peer %d", peers[2], code, id)
	}
	if code := post(fmt.Sprintf("/qdrant/peers/%d/up", peers[1])); code != http.StatusNoContent {
		t.Errorf("peer up: %d", code)
	}
	if n := sendFailures(); n != 0 {
		t.Errorf("with every peer up, no peer is unreachable, got %d", n)
	}
	if code := post("/qdrant/peers/999999/down"); code != http.StatusNotFound {
		t.Errorf("an unknown peer must be 404, got %d", code)
	}
}

func TestDebugAPIMakesSupabaseReplicasFailInChosenRegions(t *testing.T) {
	sb := start(t, t.TempDir())
	defer sb.Stop()
	debug := sb.Env["ALFRED_SANDBOX_DEBUG_URL"]
	resp, err := http.Post(debug+"/supabase/fail-regions", "application/json", strings.NewReader(`{"regions":["mars-1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown region must be refused, got %d", resp.StatusCode)
	}
	resp, err = http.Post(debug+"/supabase/replicas/nosuchreplica/status", "application/json", strings.NewReader(`{"status":"RESTARTING"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("the status of an unknown replica must be refused, got %d", resp.StatusCode)
	}
	resp, err = http.Post(debug+"/supabase/fail-regions", "application/json", strings.NewReader(`{"regions":["ap-south-1"]}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("fail-regions: %d", resp.StatusCode)
	}
	api := sb.Env["ALFRED_SUPABASE_API_URL"]
	do := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, api+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sb.Env["SUPABASE_ACCESS_TOKEN"])
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ref := sb.Env["ALFRED_SUPABASE_PROJECT_REF"]
	setup := do("POST", "/v1/projects/"+ref+"/read-replicas/setup", `{"read_replica_region":"ap-south-1"}`)
	setup.Body.Close()
	if setup.StatusCode != http.StatusCreated {
		t.Fatalf("setup: %d", setup.StatusCode)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp := do("GET", "/v1/organizations/"+sb.Env["ALFRED_SUPABASE_ORG_SLUG"]+"/projects", "")
		var body struct {
			Projects []struct {
				Ref       string `json:"ref"`
				Databases []struct {
					Type   string `json:"type"`
					Status string `json:"status"`
				} `json:"databases"`
			} `json:"projects"`
		}
		err := json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		status := ""
		for _, p := range body.Projects {
			for _, d := range p.Databases {
				if p.Ref == ref && d.Type == "READ_REPLICA" {
					status = d.Status
				}
			}
		}
		if status == "INIT_READ_REPLICA_FAILED" {
			return
		}
		// "": a new replica is listed only after a short delay.
		if (status != "" && status != "INIT_READ_REPLICA") || time.Now().After(deadline) {
			t.Fatalf("a replica in a failing region must go INIT_READ_REPLICA -> INIT_READ_REPLICA_FAILED, got %q", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
