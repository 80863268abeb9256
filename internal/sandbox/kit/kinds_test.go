package kit_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// opsServer is a tiny google.longrunning.Operations server: GetOperation is a read, DeleteOperation a
// write whose effect (the deleted names) the test can see.
type opsServer struct {
	longrunningpb.UnimplementedOperationsServer
	mu      sync.Mutex
	reads   int
	deleted []string
}

func (o *opsServer) GetOperation(_ context.Context, req *longrunningpb.GetOperationRequest) (*longrunningpb.Operation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reads++
	return &longrunningpb.Operation{Name: req.GetName(), Done: true}, nil
}

func (o *opsServer) DeleteOperation(_ context.Context, req *longrunningpb.DeleteOperationRequest) (*emptypb.Empty, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.deleted = append(o.deleted, req.GetName())
	return &emptypb.Empty{}, nil
}

func (o *opsServer) effects() (reads int, deleted []string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.reads, append([]string(nil), o.deleted...)
}

// serveOps serves opsServer through the kit's interceptors; the raw generated client does not retry.
func serveOps(t *testing.T, k *kit.Kit) (longrunningpb.OperationsClient, *opsServer) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(k.ServerOptions()...)
	srv := &opsServer{}
	longrunningpb.RegisterOperationsServer(g, srv)
	go func() { _ = g.Serve(l) }()
	t.Cleanup(g.Stop)
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return longrunningpb.NewOperationsClient(conn), srv
}

func only(t *testing.T, kind kit.FaultKind) *kit.Kit {
	t.Helper()
	k := kit.New(0, 0, 1)
	if err := k.SetFaultSettings(kit.FaultSettings{Rate: 1, Seed: 5, Kinds: []kit.FaultKind{kind}}); err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWriteMethodsAreRecognisedByName(t *testing.T) {
	for m, want := range map[string]bool{
		"/google.cloud.run.v2.Services/CreateService":                                true,
		"/google.cloud.run.v2.Services/UpdateService":                                true,
		"/google.cloud.run.v2.Services/DeleteService":                                true,
		"/google.cloud.run.v2.Services/SetIamPolicy":                                 true,
		"/google.cloud.run.v2.Jobs/RunJob":                                           true,
		"/google.cloud.scheduler.v1.CloudScheduler/PauseJob":                         true,
		"/qdrant.Points/Upsert":                                                      true,
		"/google.cloud.run.v2.Services/GetService":                                   false,
		"/google.cloud.run.v2.Services/ListServices":                                 false,
		"/google.cloud.run.v2.Services/GetIamPolicy":                                 false,
		"/google.cloud.run.v2.Services/TestIamPermissions":                           false,
		"/google.longrunning.Operations/WaitOperation":                               false,
		"/qdrant.Points/Search":                                                      false,
		"/qdrant.Collections/CollectionClusterInfo":                                  false,
		"/google.monitoring.v3.NotificationChannelService/VerifyNotificationChannel": true,
	} {
		if got := kit.IsWriteMethod(m); got != want {
			t.Errorf("IsWriteMethod(%s) = %v, want %v", m, got, want)
		}
	}
}

func TestUnavailableRefusesBeforeTheCall(t *testing.T) {
	c, srv := serveOps(t, only(t, kit.FaultUnavailable))
	_, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/a"})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("unavailable on a write: %v", err)
	}
	_, err = c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/a"})
	if status.Code(err) != codes.Unavailable {
		t.Fatalf("unavailable on a read: %v", err)
	}
	if reads, deleted := srv.effects(); reads != 0 || len(deleted) != 0 {
		t.Errorf("a refused call reached the emulator: %d reads, deleted %v", reads, deleted)
	}
}

func TestLostReplyAppliesTheWriteThenFails(t *testing.T) {
	c, srv := serveOps(t, only(t, kit.FaultLostReply))
	seen := map[codes.Code]int{}
	for i := 0; i < 20; i++ {
		_, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/x"})
		seen[status.Code(err)]++
	}
	if seen[codes.Unavailable] == 0 || seen[codes.DeadlineExceeded] == 0 || len(seen) != 2 {
		t.Errorf("a lost reply must look like UNAVAILABLE or DEADLINE_EXCEEDED, saw %v", seen)
	}
	if _, deleted := srv.effects(); len(deleted) != 20 {
		t.Errorf("every write whose reply was lost must have been applied: %d of 20", len(deleted))
	}
	// On a read there is nothing to keep: it is refused like unavailable.
	_, err := c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/x"})
	if status.Code(err) != codes.Unavailable {
		t.Errorf("lost_reply on a read: %v", err)
	}
	if reads, _ := srv.effects(); reads != 0 {
		t.Errorf("lost_reply on a read ran the read %d times", reads)
	}
}

func TestConflictRefusesWritesOnly(t *testing.T) {
	c, srv := serveOps(t, only(t, kit.FaultConflict))
	_, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/y"})
	if status.Code(err) != codes.Aborted {
		t.Fatalf("conflict on a write must be ABORTED: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, err := c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/y"}); err != nil {
			t.Fatalf("conflict never applies to a read: %v", err)
		}
	}
	if reads, deleted := srv.effects(); reads != 5 || len(deleted) != 0 {
		t.Errorf("a conflicting write was applied (%v) or reads did not run (%d)", deleted, reads)
	}
}

func TestRateLimitCarriesRetryInfo(t *testing.T) {
	c, srv := serveOps(t, only(t, kit.FaultRateLimit))
	for _, call := range []func() error{
		func() error {
			_, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/z"})
			return err
		},
		func() error {
			_, err := c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/z"})
			return err
		},
	} {
		st := status.Convert(call())
		if st.Code() != codes.ResourceExhausted {
			t.Fatalf("rate_limit must be RESOURCE_EXHAUSTED: %v", st)
		}
		var delay time.Duration
		var reason string
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.RetryInfo:
				delay = d.GetRetryDelay().AsDuration()
			case *errdetails.ErrorInfo:
				reason = d.GetReason()
			}
		}
		if delay != kit.RetryDelay || reason != "RATE_LIMIT_EXCEEDED" {
			t.Errorf("RESOURCE_EXHAUSTED must carry RetryInfo (%v) and ErrorInfo RATE_LIMIT_EXCEEDED (%q): %v", delay, reason, st.Details())
		}
	}
	if reads, deleted := srv.effects(); reads != 0 || len(deleted) != 0 {
		t.Errorf("a rate-limited call reached the emulator: %d reads, deleted %v", reads, deleted)
	}
}

// codesOf makes n writes and n reads alternately and returns their codes.
func codesOf(t *testing.T, k *kit.Kit, n int) (writes, reads []codes.Code) {
	c, _ := serveOps(t, k)
	for i := 0; i < n; i++ {
		_, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/m"})
		writes = append(writes, status.Code(err))
		_, err = c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/m"})
		reads = append(reads, status.Code(err))
	}
	return writes, reads
}

func TestMixedKindsAreSeededAndReproducible(t *testing.T) {
	w1, r1 := codesOf(t, kit.New(0.5, 0, 11), 150)
	w2, r2 := codesOf(t, kit.New(0.5, 0, 11), 150)
	for i := range w1 {
		if w1[i] != w2[i] || r1[i] != r2[i] {
			t.Fatalf("same seed, different outcome at call %d", i)
		}
	}
	ws, rs := map[codes.Code]int{}, map[codes.Code]int{}
	for i := range w1 {
		ws[w1[i]]++
		rs[r1[i]]++
	}
	for _, c := range []codes.Code{codes.OK, codes.Unavailable, codes.DeadlineExceeded, codes.Aborted, codes.ResourceExhausted} {
		if ws[c] == 0 {
			t.Errorf("no kinds given: every kind is mixed into writes, but %v never happened: %v", c, ws)
		}
	}
	if rs[codes.Aborted] != 0 || rs[codes.DeadlineExceeded] != 0 || rs[codes.Unavailable] == 0 || rs[codes.ResourceExhausted] == 0 {
		t.Errorf("reads fail only as unavailable or rate limited: %v", rs)
	}
	if failed := 150 - ws[codes.OK]; failed < 50 || failed > 100 {
		t.Errorf("rate 0.5 failed %d of 150 writes", failed)
	}
	k := kit.New(1, 0, 2)
	codesOf(t, k, 40)
	inj := k.Injected()
	if inj[kit.FaultConflict] == 0 || inj[kit.FaultLostReply] == 0 || inj[kit.FaultRateLimit] == 0 || inj[kit.FaultUnavailable] == 0 ||
		inj[kit.FaultConflict]+inj[kit.FaultLostReply]+inj[kit.FaultRateLimit]+inj[kit.FaultUnavailable] != 80 {
		t.Errorf("injected faults by kind over 80 calls at rate 1: %v", inj)
	}
	k.ResetCalls()
	if len(k.Injected()) != 0 {
		t.Errorf("reset clears the injected counts: %v", k.Injected())
	}
}

// httpEffects serves a route that records each write it serves.
func httpEffects(t *testing.T, k *kit.Kit) (string, func() int) {
	t.Helper()
	var mu sync.Mutex
	applied := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/things", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		applied++
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /v1/things", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	srv := httptest.NewServer(k.WrapMux(mux))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { mu.Lock(); defer mu.Unlock(); return applied }
}

func TestHTTPLostReplyAppliesTheWrite(t *testing.T) {
	url, applied := httpEffects(t, only(t, kit.FaultLostReply))
	dropped, unavailable := 0, 0
	for i := 0; i < 20; i++ {
		resp, err := http.Post(url+"/v1/things", "application/json", strings.NewReader("{}"))
		if err != nil {
			dropped++ // the connection was closed without a reply
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a lost reply must be a 503 or a dropped connection, got %d", resp.StatusCode)
		}
		unavailable++
	}
	if dropped == 0 || unavailable == 0 {
		t.Errorf("both shapes of a lost reply must occur: %d dropped, %d 503", dropped, unavailable)
	}
	if n := applied(); n != 20 {
		t.Errorf("every POST whose reply was lost must have been applied: %d of 20", n)
	}
}

func TestHTTPConflictIs409OnWritesOnly(t *testing.T) {
	url, applied := httpEffects(t, only(t, kit.FaultConflict))
	resp, err := http.Post(url+"/v1/things", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || applied() != 0 {
		t.Errorf("conflict on a POST: %d, applied %d", resp.StatusCode, applied())
	}
	resp, err = http.Get(url + "/v1/things")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("conflict never applies to a GET: %d", resp.StatusCode)
	}
}

func TestHTTPRateLimitIs429WithHeaders(t *testing.T) {
	url, applied := httpEffects(t, only(t, kit.FaultRateLimit))
	resp, err := http.Post(url+"/v1/things", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" ||
		resp.Header.Get("X-RateLimit-Remaining") != "0" || resp.Header.Get("X-RateLimit-Reset") == "" || applied() != 0 {
		t.Errorf("rate_limit: %d %v, applied %d", resp.StatusCode, resp.Header, applied())
	}
}

func TestDebugAPIPicksKinds(t *testing.T) {
	k := kit.New(0, 0, 1)
	srv := httptest.NewServer(k.DebugMux())
	defer srv.Close()
	post := func(body string) int {
		resp, err := http.Post(srv.URL+"/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(`{"rate":1,"latency_ms":0,"seed":3,"kinds":["conflict"]}`); code != http.StatusNoContent {
		t.Fatalf("POST /faults with kinds: %d", code)
	}
	c, srvOps := serveOps(t, k)
	if _, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/d"}); status.Code(err) != codes.Aborted {
		t.Errorf("kinds [conflict] set through the debug API: a write got %v", err)
	}
	if _, err := c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/d"}); err != nil {
		t.Errorf("kinds [conflict]: a read must pass, got %v", err)
	}
	if reads, deleted := srvOps.effects(); reads != 1 || len(deleted) != 0 {
		t.Errorf("effects: %d reads, deleted %v", reads, deleted)
	}

	resp, err := http.Get(srv.URL + "/faults")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Rate  float64  `json:"rate"`
		Seed  uint64   `json:"seed"`
		Kinds []string `json:"kinds"`
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || got.Rate != 1 || got.Seed != 3 || strings.Join(got.Kinds, ",") != "conflict" {
		t.Errorf("GET /faults: %+v %v", got, err)
	}

	if code := post(`{"rate":0.1,"kinds":["timeout"]}`); code != http.StatusBadRequest {
		t.Errorf("an unknown kind must be refused, got %d", code)
	}
	if f := k.FaultSettings(); f.Rate != 1 || len(f.Kinds) != 1 {
		t.Errorf("a refused POST must leave the settings: %+v", f)
	}
	if code := post(`{"rate":0.2,"seed":4}`); code != http.StatusNoContent {
		t.Fatalf("POST /faults without kinds: %d", code)
	}
	resp, err = http.Get(srv.URL + "/faults")
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || strings.Join(got.Kinds, ",") != "unavailable,lost_reply,conflict,rate_limit" {
		t.Errorf("no kinds means all mixed, GET /faults says %+v %v", got, err)
	}
}

func TestFailNextFailsExactlyTheQueuedCalls(t *testing.T) {
	k := kit.New(0, 0, 1)
	c, srv := serveOps(t, k)
	k.FailNext("/google.longrunning.Operations/DeleteOperation", kit.FaultLostReply)
	k.FailNext("/google.longrunning.Operations/DeleteOperation", kit.FaultConflict)
	var got []codes.Code
	for i := 0; i < 3; i++ {
		_, err := c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/q"})
		got = append(got, status.Code(err))
	}
	if got[0] != codes.DeadlineExceeded || got[1] != codes.Aborted || got[2] != codes.OK {
		t.Errorf("queued lost_reply, conflict, then nothing: %v", got)
	}
	if _, deleted := srv.effects(); len(deleted) != 2 {
		t.Errorf("the lost reply and the last call applied, the conflict did not: %v", deleted)
	}
	if _, err := c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/q"}); err != nil {
		t.Errorf("a fault queued for one method leaves the others: %v", err)
	}
}

// GET /faults/injected reports the faults injected by kind, every kind listed, and POST /calls/reset
// zeroes them: what the fault runs derive their retry counts from.
func TestDebugAPIReportsInjectedFaultsByKind(t *testing.T) {
	k := kit.New(0, 0, 1)
	srv := httptest.NewServer(k.DebugMux())
	defer srv.Close()
	injected := func() map[string]int64 {
		t.Helper()
		resp, err := http.Get(srv.URL + "/faults/injected")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]int64
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /faults/injected: %d %v", resp.StatusCode, err)
		}
		return got
	}
	if got := injected(); len(got) != 4 || got["unavailable"] != 0 || got["lost_reply"] != 0 || got["conflict"] != 0 || got["rate_limit"] != 0 {
		t.Errorf("before any call every kind is listed at 0: %v", got)
	}
	c, _ := serveOps(t, k)
	k.FailNext("/google.longrunning.Operations/DeleteOperation", kit.FaultLostReply)
	k.FailNext("/google.longrunning.Operations/DeleteOperation", kit.FaultConflict)
	k.FailNext("/google.longrunning.Operations/GetOperation", kit.FaultRateLimit)
	for range 2 {
		_, _ = c.DeleteOperation(context.Background(), &longrunningpb.DeleteOperationRequest{Name: "operations/x"})
	}
	_, _ = c.GetOperation(context.Background(), &longrunningpb.GetOperationRequest{Name: "operations/x"})
	if got := injected(); got["lost_reply"] != 1 || got["conflict"] != 1 || got["rate_limit"] != 1 || got["unavailable"] != 0 {
		t.Errorf("one lost reply, one conflict, one rate limit were injected: %v", got)
	}
	resp, err := http.Post(srv.URL+"/calls/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := injected(); got["lost_reply"]+got["conflict"]+got["rate_limit"]+got["unavailable"] != 0 {
		t.Errorf("POST /calls/reset zeroes the injected counts: %v", got)
	}
}
