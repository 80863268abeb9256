package kit_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

func serveHealth(t *testing.T, k *kit.Kit) healthpb.HealthClient {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(k.ServerOptions()...)
	healthpb.RegisterHealthServer(g, health.NewServer())
	go func() { _ = g.Serve(l) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return healthpb.NewHealthClient(conn)
}

// outcomes runs n health checks and returns their codes.
func outcomes(t *testing.T, c healthpb.HealthClient, n int) []codes.Code {
	var out []codes.Code
	for i := 0; i < n; i++ {
		_, err := c.Check(context.Background(), &healthpb.HealthCheckRequest{})
		out = append(out, status.Code(err))
	}
	return out
}

func TestGRPCFaultsAreSeededAndCounted(t *testing.T) {
	a := outcomes(t, serveHealth(t, kit.New(0.5, 0, 7)), 40)
	b := outcomes(t, serveHealth(t, kit.New(0.5, 0, 7)), 40)
	failed := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different outcome at call %d: %v vs %v", i, a[i], b[i])
		}
		switch a[i] {
		case codes.Unavailable, codes.ResourceExhausted:
			failed++
		case codes.OK:
		default:
			t.Fatalf("an injected fault on a read must be UNAVAILABLE or RESOURCE_EXHAUSTED, got %v", a[i])
		}
	}
	if failed < 8 || failed > 32 {
		t.Errorf("rate 0.5 over 40 calls failed %d times", failed)
	}

	k := kit.New(0, 0, 1)
	c := serveHealth(t, k)
	if got := outcomes(t, c, 5); got[4] != codes.OK {
		t.Errorf("rate 0 must never fail: %v", got)
	}
	if n := k.Calls()["/grpc.health.v1.Health/Check"]; n != 5 {
		t.Errorf("calls counted per full method: got %d, want 5 (%v)", n, k.Calls())
	}
	k.ResetCalls()
	if len(k.Calls()) != 0 {
		t.Errorf("reset must clear the counts: %v", k.Calls())
	}
}

func TestLatencyIsAdded(t *testing.T) {
	c := serveHealth(t, kit.New(0, 60*time.Millisecond, 1))
	start := time.Now()
	outcomes(t, c, 3)
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Errorf("3 calls with 60ms latency took %s", d)
	}
}

func TestHTTPFaultsAre503Or429WithHeadersAndCountedByPattern(t *testing.T) {
	k := kit.New(1, 0, 3)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/projects/{ref}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	srv := httptest.NewServer(k.WrapMux(mux))
	defer srv.Close()
	seen := map[int]bool{}
	for i := 0; i < 30; i++ {
		resp, err := http.Get(srv.URL + "/v1/projects/abc")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		seen[resp.StatusCode] = true
		if resp.StatusCode == 429 && (resp.Header.Get("X-RateLimit-Reset") == "" || resp.Header.Get("Retry-After") == "") {
			t.Errorf("a 429 must say when to retry: %v", resp.Header)
		}
	}
	if !seen[503] || !seen[429] || seen[200] {
		t.Errorf("rate 1 must fail every call with 503 or 429 at random, saw %v", seen)
	}
	if n := k.Calls()["GET /v1/projects/{ref}"]; n != 30 {
		t.Errorf("HTTP calls counted by route pattern: %v", k.Calls())
	}
}

func TestDebugAPIChangesFaultsAndReportsCalls(t *testing.T) {
	k := kit.New(0, 0, 1)
	srv := httptest.NewServer(k.DebugMux())
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/faults", "application/json", strings.NewReader(`{"rate":1,"latency_ms":5,"seed":2}`))
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /faults: %v %v", err, resp)
	}
	resp.Body.Close()
	if rate, lat := k.Faults(); rate != 1 || lat != 5*time.Millisecond {
		t.Errorf("faults after POST: %v %v", rate, lat)
	}
	if got := outcomes(t, serveHealth(t, k), 1); got[0] == codes.OK {
		t.Errorf("rate 1 set through the debug API must fail calls: %v", got)
	}
	resp, err = http.Post(srv.URL+"/faults", "application/json", strings.NewReader(`{"rate":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("a rate above 1 must be refused, got %d", resp.StatusCode)
	}
	resp, err = http.Get(srv.URL + "/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var calls map[string]int64
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		t.Fatal(err)
	}
	if calls["/grpc.health.v1.Health/Check"] != 1 {
		t.Errorf("GET /calls: %v", calls)
	}
}
