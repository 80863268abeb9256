// Package kit is what every sandbox emulator shares: seeded fault and latency injection (faults of four
// kinds: refused, applied with the reply lost, concurrent edit, rate limit), a count of calls
// per method for benchmarks, the debug HTTP API, and JSON state files under the sandbox directory.
package kit

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

// FaultKind is one way a call can fail, as the real world makes them.
type FaultKind string

const (
	// FaultUnavailable refuses the call before it reaches the emulator (gRPC UNAVAILABLE, HTTP 503): the
	// call had no effect.
	FaultUnavailable FaultKind = "unavailable"
	// FaultLostReply lets the call run (a write takes effect) and then loses the reply: the client sees
	// UNAVAILABLE or DEADLINE_EXCEEDED (gRPC), or a 503 or a dropped connection (HTTP). On a read it is the
	// same as FaultUnavailable.
	FaultLostReply FaultKind = "lost_reply"
	// FaultConflict refuses a write before it has any effect as a concurrent edit (gRPC ABORTED, HTTP 409).
	// It never applies to reads.
	FaultConflict FaultKind = "conflict"
	// FaultRateLimit refuses the call before it has any effect as rate limited: gRPC RESOURCE_EXHAUSTED with
	// google.rpc.ErrorInfo, QuotaFailure and RetryInfo details; HTTP 429 with Retry-After and X-RateLimit-*.
	FaultRateLimit FaultKind = "rate_limit"
)

// AllFaultKinds are every kind, in the order the debug API lists them; no kinds means all of them mixed.
var AllFaultKinds = []FaultKind{FaultUnavailable, FaultLostReply, FaultConflict, FaultRateLimit}

// RetryDelay is what a rate-limited reply tells the client to wait (RetryInfo.retry_delay, Retry-After).
const RetryDelay = time.Second

// FaultSettings are the fault injection settings of a kit.
type FaultSettings struct {
	Rate    float64       // fraction of the calls a chosen kind applies to that fail, 0..1
	Latency time.Duration // added to every call
	Seed    uint64        // seeds the draws: the same calls in the same order fail the same way
	Kinds   []FaultKind   // empty: all kinds mixed
}

// Validate reports a setting out of range or an unknown kind.
func (f FaultSettings) Validate() error {
	if f.Rate < 0 || f.Rate > 1 || f.Latency < 0 {
		return fmt.Errorf("rate must be within 0..1 and latency not negative, got rate %v, latency %v", f.Rate, f.Latency)
	}
	for _, kind := range f.Kinds {
		if !slices.Contains(AllFaultKinds, kind) {
			return fmt.Errorf("unknown fault kind %q: kinds are %v", kind, AllFaultKinds)
		}
	}
	return nil
}

// Kit is shared by all emulators of one sandbox.
type Kit struct {
	mu     sync.Mutex
	faults FaultSettings
	rng    *rand.Rand
	calls  map[string]int64
	next   map[string][]FaultKind // faults queued for the next calls of a method (FailNext)
	faulty map[FaultKind]int64    // faults injected, by kind (a lost reply on a read counts as unavailable)
}

// New returns a kit with the given fault rate (0..1) of every kind mixed, added latency and seed.
func New(rate float64, latency time.Duration, seed uint64) *Kit {
	k := &Kit{calls: map[string]int64{}}
	k.SetFaults(rate, latency, seed)
	return k
}

// SetFaults changes the fault rate, latency and seed, with every kind of fault mixed.
func (k *Kit) SetFaults(rate float64, latency time.Duration, seed uint64) {
	_ = k.SetFaultSettings(FaultSettings{Rate: rate, Latency: latency, Seed: seed})
}

// SetFaultSettings replaces the fault settings and restarts the seeded generator. Invalid settings are
// refused and leave the current ones.
func (k *Kit) SetFaultSettings(f FaultSettings) error {
	if err := f.Validate(); err != nil {
		return err
	}
	f.Kinds = slices.Clone(f.Kinds)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults = f
	k.rng = rand.New(rand.NewPCG(f.Seed, f.Seed^0x9e3779b97f4a7c15))
	return nil
}

// FaultSettings returns the current settings; Kinds is empty when every kind is mixed.
func (k *Kit) FaultSettings() FaultSettings {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.faults
	f.Kinds = slices.Clone(f.Kinds)
	return f
}

// Faults returns the current rate and latency.
func (k *Kit) Faults() (rate float64, latency time.Duration) {
	f := k.FaultSettings()
	return f.Rate, f.Latency
}

// FailNext makes the next call of method (a full gRPC method, or an HTTP route pattern as counted) fail
// with kind, whatever the rate; calls queue up. For tests that need one fault at one place: a lost reply
// queued this way is DEADLINE_EXCEEDED (gRPC) or a dropped connection (HTTP).
func (k *Kit) FailNext(method string, kind FaultKind) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.next == nil {
		k.next = map[string][]FaultKind{}
	}
	k.next[method] = append(k.next[method], kind)
}

// queued pops the fault queued for method, if any.
func (k *Kit) queued(method string) (fault, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	q := k.next[method]
	if len(q) == 0 {
		return fault{}, false
	}
	k.next[method] = q[1:]
	k.injectedLocked(q[0])
	return fault{kind: q[0], coin: 1}, true
}

func (k *Kit) injectedLocked(kind FaultKind) {
	if k.faulty == nil {
		k.faulty = map[FaultKind]int64{}
	}
	k.faulty[kind]++
}

// Injected returns how many faults of each kind were injected since the kit was made or its calls reset.
func (k *Kit) Injected() map[FaultKind]int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[FaultKind]int64, len(k.faulty))
	for kind, n := range k.faulty {
		out[kind] = n
	}
	return out
}

// Count records one call of method ("/google.cloud.run.v2.Services/GetService" or "GET /v1/projects/{ref}").
func (k *Kit) Count(method string) {
	k.mu.Lock()
	k.calls[method]++
	k.mu.Unlock()
}

// Calls returns a copy of the call counts.
func (k *Kit) Calls() map[string]int64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make(map[string]int64, len(k.calls))
	for m, n := range k.calls {
		out[m] = n
	}
	return out
}

// ResetCalls sets every count to zero, the counts of injected faults too.
func (k *Kit) ResetCalls() {
	k.mu.Lock()
	k.calls = map[string]int64{}
	k.faulty = nil
	k.mu.Unlock()
}

// writePrefixes are the method name prefixes of the calls that change state in the emulated APIs: Cloud
// Run (CreateService, UpdateService, DeleteService, SetIamPolicy, RunJob, CancelExecution), Monitoring
// (CreateTimeSeries, VerifyNotificationChannel, SendNotificationChannelVerificationCode), Scheduler
// (PauseJob, ResumeJob), Qdrant (Create, Update, Delete, Upsert, Overwrite, SetPayload, ClearPayload,
// UpdateAliases, CreateShardKey), longrunning (CancelOperation, DeleteOperation). Reads are Get*, List*,
// TestIamPermissions, WaitOperation, Search, Scroll, Count, CollectionClusterInfo, HealthCheck and the rest.
var writePrefixes = []string{"Create", "Update", "Delete", "Set", "Run", "Patch", "Upsert", "Overwrite",
	"Clear", "Cancel", "Pause", "Resume", "Add", "Remove", "Replace", "Send", "Verify", "Undelete"}

// IsWriteMethod reports whether a full gRPC method ("/google.cloud.run.v2.Services/UpdateService")
// changes state: its name starts with one of the write verbs above.
func IsWriteMethod(fullMethod string) bool {
	name := fullMethod[strings.LastIndex(fullMethod, "/")+1:]
	for _, p := range writePrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// IsWriteRequest reports whether an HTTP request changes state: every method but GET, HEAD and OPTIONS.
func IsWriteRequest(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// fault is the outcome of one draw: the kind of failure ("" for none), and a coin that picks between the
// two shapes a kind takes (UNAVAILABLE or DEADLINE_EXCEEDED, 503 or a dropped connection).
type fault struct {
	kind FaultKind
	coin int
}

// draw sleeps the configured latency, then draws whether a call fails and how. Only the kinds that apply
// to the call are drawn from: conflict applies to writes of an API that has concurrent-edit errors
// (conflicts), and lost_reply on a read is unavailable
// (a read has no effect to keep). One number is drawn per call whatever its kind, so that with the same
// seed the same sequence of calls fails at the same places.
func (k *Kit) draw(ctx context.Context, method string, write, conflicts bool) fault {
	if f, ok := k.queued(method); ok {
		return f
	}
	k.mu.Lock()
	f := k.faults
	var out fault
	if f.Rate > 0 && k.rng.Float64() < f.Rate {
		kinds := f.Kinds
		if len(kinds) == 0 {
			kinds = AllFaultKinds
		}
		var applicable []FaultKind
		for _, kind := range kinds {
			if kind == FaultConflict && !(write && conflicts) {
				continue
			}
			applicable = append(applicable, kind)
		}
		if len(applicable) > 0 {
			out = fault{kind: applicable[k.rng.IntN(len(applicable))], coin: k.rng.IntN(2)}
			if out.kind == FaultLostReply && !write {
				out.kind = FaultUnavailable
			}
			k.injectedLocked(out.kind)
		}
	}
	k.mu.Unlock()
	if f.Latency > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(f.Latency):
		}
	}
	return out
}

// isQdrant reports whether a full gRPC method belongs to Qdrant's API ("/qdrant.Points/Upsert"), whose
// errors differ from Google's: no ABORTED for concurrent edits (collection changes go through Raft
// consensus), and a rate limit is RESOURCE_EXHAUSTED with a `retry-after` trailer in seconds rather than a
// google.rpc.RetryInfo detail (Qdrant's `impl From<StorageError> for tonic::Status`,
// src/tonic/api/... / lib/storage/src/content_manager/conversions.rs).
func isQdrant(fullMethod string) bool { return strings.HasPrefix(fullMethod, "/qdrant.") }

// retryAfterSeconds is RetryDelay in whole seconds, rounded up as Qdrant and Retry-After need.
var retryAfterSeconds = strconv.Itoa(int((RetryDelay + time.Second - 1) / time.Second))

// grpcError is the error the client sees for a fault drawn before or after the call of method; trailer
// sets a trailer of the reply (Qdrant's retry-after).
func grpcError(f fault, method string, trailer func(metadata.MD)) error {
	if isQdrant(method) {
		switch f.kind {
		case FaultRateLimit:
			trailer(metadata.Pairs("retry-after", retryAfterSeconds))
			return status.Error(codes.ResourceExhausted, "Rate limiting exceeded: sandbox: injected fault, retry after "+retryAfterSeconds+"s")
		case FaultLostReply, FaultUnavailable:
			// Google's and Qdrant's shapes agree below.
		}
	}
	switch f.kind {
	case FaultConflict:
		return status.Error(codes.Aborted, "sandbox: injected fault: the resource was changed concurrently (ABORTED); read it again and retry")
	case FaultRateLimit:
		st := status.New(codes.ResourceExhausted, "sandbox: injected fault: quota exceeded for quota metric 'Requests' and limit 'Requests per minute' (RESOURCE_EXHAUSTED)")
		if d, err := st.WithDetails(
			&errdetails.ErrorInfo{Reason: "RATE_LIMIT_EXCEEDED", Domain: "googleapis.com",
				Metadata: map[string]string{"quota_metric": "sandbox/requests", "quota_limit": "RequestsPerMinute"}},
			&errdetails.QuotaFailure{Violations: []*errdetails.QuotaFailure_Violation{{Subject: "sandbox",
				Description: "requests per minute"}}},
			&errdetails.RetryInfo{RetryDelay: durationpb.New(RetryDelay)},
		); err == nil {
			st = d
		}
		return st.Err()
	case FaultLostReply:
		if f.coin == 1 {
			return status.Error(codes.DeadlineExceeded, "sandbox: injected fault: the call was applied but its reply was lost (DEADLINE_EXCEEDED)")
		}
		return status.Error(codes.Unavailable, "sandbox: injected fault: the call was applied but its reply was lost (UNAVAILABLE)")
	}
	return status.Error(codes.Unavailable, "sandbox: injected fault (the service is unavailable, retry)")
}

// UnaryInterceptor counts, delays and fails unary gRPC calls with the drawn kind of fault.
func (k *Kit) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		k.Count(info.FullMethod)
		f := k.draw(ctx, info.FullMethod, IsWriteMethod(info.FullMethod), !isQdrant(info.FullMethod))
		switch f.kind {
		case "":
			return handler(ctx, req)
		case FaultLostReply:
			// The write takes effect whatever the client sees; its outcome is what is lost.
			_, _ = handler(ctx, req)
		}
		return nil, grpcError(f, info.FullMethod, func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) })
	}
}

// StreamInterceptor does the same for streaming calls, except that a lost reply fails the call before
// it runs (part of a stream's replies may already have reached the client, so the effect is not
// well-defined).
func (k *Kit) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		k.Count(info.FullMethod)
		f := k.draw(ss.Context(), info.FullMethod, IsWriteMethod(info.FullMethod), !isQdrant(info.FullMethod))
		switch f.kind {
		case "":
			return handler(srv, ss)
		case FaultLostReply:
			f.kind = FaultUnavailable
		}
		return grpcError(f, info.FullMethod, ss.SetTrailer)
	}
}

// ServerOptions are the options every emulator's gRPC server is built with.
func (k *Kit) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(k.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(k.StreamInterceptor()),
		grpc.MaxRecvMsgSize(64 << 20),
	}
}

// discardWriter takes a response that is never sent (the reply that was lost).
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

type httpDialect int

const (
	dialectSupabase httpDialect = iota
	dialectQdrant
)

// WrapMux wraps the Supabase Management API: it counts calls by the route pattern of mux ("POST
// /v1/projects/{ref}/read-replicas/setup"), delays them and fails some with the drawn kind of fault: 503
// (unavailable), 409 (conflict, writes only), 429 with Retry-After and X-RateLimit-* (rate_limit), or,
// for lost_reply on a write, the request is served and then answered with a 503 or the connection is
// dropped.
func (k *Kit) WrapMux(mux *http.ServeMux) http.Handler { return k.wrapMux(mux, dialectSupabase) }

// WrapQdrantREST does the same for Qdrant's REST API, in Qdrant's shapes: a 429 carries Retry-After only
// and the body is Qdrant's error envelope; there is no conflict (Qdrant has no concurrent-edit error).
func (k *Kit) WrapQdrantREST(mux *http.ServeMux) http.Handler { return k.wrapMux(mux, dialectQdrant) }

func (k *Kit) wrapMux(mux *http.ServeMux, d httpDialect) http.Handler {
	retryAfter := retryAfterSeconds
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			pattern = r.Method + " (unmatched)"
		}
		k.Count(pattern)
		f := k.draw(r.Context(), pattern, IsWriteRequest(r), d == dialectSupabase)
		switch f.kind {
		case "":
			mux.ServeHTTP(w, r)
		case FaultUnavailable:
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, `{"message":"sandbox: injected fault (service unavailable)"}`, http.StatusServiceUnavailable)
		case FaultConflict:
			http.Error(w, `{"message":"sandbox: injected fault (conflict: the resource was changed concurrently)"}`, http.StatusConflict)
		case FaultRateLimit:
			w.Header().Set("Retry-After", retryAfter)
			if d == dialectQdrant {
				WriteJSON(w, http.StatusTooManyRequests, map[string]any{
					"status": map[string]string{"error": "Rate limiting exceeded: sandbox: injected fault, retry after " + retryAfter + "s"}, "time": 0})
				return
			}
			w.Header().Set("X-RateLimit-Limit", "120")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", retryAfter) // seconds until the window resets, as Supabase documents
			http.Error(w, `{"message":"sandbox: injected fault (rate limited)"}`, http.StatusTooManyRequests)
		case FaultLostReply:
			mux.ServeHTTP(&discardWriter{h: http.Header{}}, r)
			if f.coin == 1 {
				panic(http.ErrAbortHandler) // the server closes the connection without a reply
			}
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, `{"message":"sandbox: injected fault (service unavailable; the request may have been applied)"}`, http.StatusServiceUnavailable)
		}
	})
}

// faultsJSON is the body of GET and POST /faults.
type faultsJSON struct {
	Rate      float64     `json:"rate"`
	LatencyMS int64       `json:"latency_ms"`
	Seed      uint64      `json:"seed"`
	Kinds     []FaultKind `json:"kinds"`
}

// DebugMux serves the debug API: GET /calls, POST /calls/reset, GET and POST /faults, GET /faults/injected. The supervisor adds
// routes of its own (Qdrant peers) to the returned mux.
func (k *Kit) DebugMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /calls", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, k.Calls())
	})
	mux.HandleFunc("POST /calls/reset", func(w http.ResponseWriter, _ *http.Request) {
		k.ResetCalls()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /faults", func(w http.ResponseWriter, _ *http.Request) {
		f := k.FaultSettings()
		kinds := f.Kinds
		if len(kinds) == 0 {
			kinds = AllFaultKinds
		}
		WriteJSON(w, http.StatusOK, faultsJSON{Rate: f.Rate, LatencyMS: f.Latency.Milliseconds(), Seed: f.Seed, Kinds: kinds})
	})
	// What tests derive retries from: every injected fault fails one call, which a client that converged
	// must have sent again. Zeroed with the call counts (POST /calls/reset).
	mux.HandleFunc("GET /faults/injected", func(w http.ResponseWriter, _ *http.Request) {
		inj := k.Injected()
		out := make(map[FaultKind]int64, len(AllFaultKinds))
		for _, kind := range AllFaultKinds {
			out[kind] = inj[kind]
		}
		WriteJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var body faultsJSON
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		err := dec.Decode(&body)
		if err == nil {
			err = k.SetFaultSettings(FaultSettings{Rate: body.Rate, Latency: time.Duration(body.LatencyMS) * time.Millisecond,
				Seed: body.Seed, Kinds: body.Kinds})
		}
		if err != nil {
			WriteJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf(
				`body must be {"rate":0..1,"latency_ms":>=0,"seed":N,"kinds":[%s]} (no kinds: all mixed): %v`,
				`"unavailable","lost_reply","conflict","rate_limit"`, err)})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// WriteJSON writes v as a JSON response.
func WriteJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Store keeps an emulator's state as one JSON file, written atomically after each change, so that
// `sandbox up` after `sandbox down` brings the state back. A Store with an empty path keeps nothing.
type Store struct {
	mu   sync.Mutex
	path string
}

// NewStore returns a store for file name under dir ("" dir: memory only, for tests).
func NewStore(dir, name string) *Store {
	if dir == "" {
		return &Store{}
	}
	return &Store{path: filepath.Join(dir, name)}
}

// Load reads the state into v; a missing file leaves v as it is.
func (s *Store) Load(v any) error {
	if s.path == "" {
		return nil
	}
	b, err := os.ReadFile(s.path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// Save writes v atomically (temporary file + rename).
func (s *Store) Save(v any) error {
	if s.path == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o755); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}
