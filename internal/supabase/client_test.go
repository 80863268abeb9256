package supabase_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sbx "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
	"github.com/alfred-platform/terraform-provider-alfred/internal/supabase"
)

func fastClient(url string) *supabase.Client {
	c := supabase.NewClient(url, token, "test")
	c.Initial, c.Max, c.Poll, c.Settle = 10*time.Millisecond, 50*time.Millisecond, 50*time.Millisecond, time.Second
	return c
}

// Reads wait as long as the 429 asks through X-RateLimit-Reset (seconds until the window resets), even
// without Retry-After, and send the bearer token and a User-Agent.
func TestClient_readsHonourXRateLimitResetAndSendAuth(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	var ua, auth atomic.Value
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua.Store(r.Header.Get("User-Agent"))
		auth.Store(r.Header.Get("Authorization"))
		if n.Add(1) <= 2 {
			w.Header().Set("X-RateLimit-Limit", "120")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "1")
			http.Error(w, `{"message":"Too many requests"}`, http.StatusTooManyRequests)
			return
		}
		_, _ = w.Write([]byte(`{"currentConfig":{"database":true},"appliedSuccessfully":true}`))
	}))
	defer hs.Close()
	start := time.Now()
	on, err := fastClient(hs.URL).SSLEnforcement(context.Background(), ref)
	if err != nil || !on {
		t.Fatalf("SSLEnforcement = %v, %v", on, err)
	}
	if d := time.Since(start); d < 1900*time.Millisecond {
		t.Fatalf("two 429s with X-RateLimit-Reset: 1 were retried after %s, want at least 2s", d)
	}
	if n.Load() != 3 {
		t.Fatalf("%d requests, want 3", n.Load())
	}
	if ua.Load() != "terraform-provider-alfred/test" || auth.Load() != "Bearer "+token {
		t.Fatalf("User-Agent %q, Authorization %q", ua.Load(), auth.Load())
	}
}

// Retry-After is honoured too, and a read gives up when its context ends instead of waiting it out.
func TestClient_readsHonourRetryAfterWithinTheContext(t *testing.T) {
	t.Parallel()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		http.Error(w, `{"message":"unavailable"}`, http.StatusServiceUnavailable)
	}))
	defer hs.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fastClient(hs.URL).SSLEnforcement(ctx, ref)
	if err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("took %s: the context's deadline was not honoured", d)
	}
}

// A setup refused before it ran (503 without effect) is looked for in the listing for Settle, then sent
// again: one replica, two setups.
func TestClient_setupRefusedBeforeRunningIsSentAgainAfterLooking(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{})
	const setup = "POST /v1/projects/{ref}/read-replicas/setup"
	s.Kit.FailNext(setup, kit.FaultUnavailable)
	id, err := fastClient(s.URL).SetupReplica(context.Background(), ref, "us-east-1", true)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Kit.Calls()[setup]; n != 2 {
		t.Fatalf("%d setups, want 2", n)
	}
	if rs := s.mustReplicas(); len(rs) != 1 || rs[0].Identifier != id {
		t.Fatalf("listed %+v, got %s", rs, id)
	}
}

// A setup whose reply was lost is found by listing and never sent twice.
func TestClient_setupWithLostReplyIsFoundNotRepeated(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{ListDelay: 400 * time.Millisecond})
	const setup = "POST /v1/projects/{ref}/read-replicas/setup"
	s.Kit.FailNext(setup, kit.FaultLostReply)
	id, err := fastClient(s.URL).SetupReplica(context.Background(), ref, "us-east-2", true)
	if err != nil {
		t.Fatal(err)
	}
	if n := s.Kit.Calls()[setup]; n != 1 {
		t.Fatalf("%d setups, want 1", n)
	}
	if rs := s.mustReplicas(); len(rs) != 1 || rs[0].Identifier != id {
		t.Fatalf("listed %+v, got %s", rs, id)
	}
}

// Two setups in one project at once each get their own replica (setups are serialised per project).
func TestClient_concurrentSetupsAreToldApart(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{ListDelay: 200 * time.Millisecond})
	c := fastClient(s.URL)
	ids := make(chan string, 2)
	for range 2 {
		go func() {
			id, err := c.SetupReplica(context.Background(), ref, "eu-west-1", true)
			if err != nil {
				t.Error(err)
			}
			ids <- id
		}()
	}
	a, b := <-ids, <-ids
	if a == "" || a == b {
		t.Fatalf("identifiers %q and %q", a, b)
	}
}

// A refused setup (400) is not repeated; a removal whose reply was lost is not repeated either.
func TestClient_refusedSetupAndLostRemovalAreNotRepeated(t *testing.T) {
	t.Parallel()
	s := newSandbox(t, sbx.Options{MaxReplicas: 1, RemoveAfter: 300 * time.Millisecond})
	c := fastClient(s.URL)
	id, err := c.SetupReplica(context.Background(), ref, "eu-west-1", true)
	if err != nil {
		t.Fatal(err)
	}
	const setup = "POST /v1/projects/{ref}/read-replicas/setup"
	if _, err := c.SetupReplica(context.Background(), ref, "eu-west-2", true); supabase.StatusOf(err) != 400 {
		t.Fatalf("second setup: %v", err)
	}
	if n := s.Kit.Calls()[setup]; n != 2 {
		t.Fatalf("%d setups, want 2", n)
	}
	const remove = "POST /v1/projects/{ref}/read-replicas/remove"
	s.Kit.FailNext(remove, kit.FaultLostReply)
	if err := c.RemoveReplica(context.Background(), ref, id); err != nil {
		t.Fatal(err)
	}
	if n := s.Kit.Calls()[remove]; n != 1 {
		t.Fatalf("%d removals, want 1", n)
	}
	if rs := s.mustReplicas(); len(rs) != 1 || rs[0].Status != "GOING_DOWN" {
		t.Fatalf("listed %+v", rs)
	}
}
