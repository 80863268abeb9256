// Package kit is what every sandbox emulator shares: seeded fault and latency injection, a count of calls
// per method for benchmarks, the debug HTTP API, and JSON state files under the sandbox directory.
package kit

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Kit is shared by all emulators of one sandbox.
type Kit struct {
	mu      sync.Mutex
	rate    float64
	latency time.Duration
	rng     *rand.Rand
	calls   map[string]int64
}

// New returns a kit with the given fault rate (0..1), added latency and seed.
func New(rate float64, latency time.Duration, seed uint64) *Kit {
	k := &Kit{calls: map[string]int64{}}
	k.SetFaults(rate, latency, seed)
	return k
}

// SetFaults changes the fault rate, latency and seed.
func (k *Kit) SetFaults(rate float64, latency time.Duration, seed uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.rate, k.latency = rate, latency
	k.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Faults returns the current settings.
func (k *Kit) Faults() (rate float64, latency time.Duration) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.rate, k.latency
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

// ResetCalls sets every count to zero.
func (k *Kit) ResetCalls() {
	k.mu.Lock()
	k.calls = map[string]int64{}
	k.mu.Unlock()
}

// Fault is the outcome of one draw: whether the call fails, and with which kind of failure (0 or 1; HTTP
// uses it to choose between 503 and 429).
type Fault struct {
	Fail bool
	Kind int
}

// draw sleeps the configured latency, then draws whether the call fails. Faults are injected before the
// call reaches the emulator, so a failed call had no effect, like a request that never arrived.
func (k *Kit) draw(ctx context.Context) Fault {
	k.mu.Lock()
	lat, rate := k.latency, k.rate
	var f Fault
	if rate > 0 && k.rng.Float64() < rate {
		f = Fault{Fail: true, Kind: k.rng.IntN(2)}
	}
	k.mu.Unlock()
	if lat > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(lat):
		}
	}
	return f
}

// UnaryInterceptor counts, delays and fails (UNAVAILABLE) unary gRPC calls.
func (k *Kit) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		k.Count(info.FullMethod)
		if f := k.draw(ctx); f.Fail {
			return nil, status.Error(codes.Unavailable, "sandbox: injected fault (the service is unavailable, retry)")
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor does the same for streaming calls.
func (k *Kit) StreamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		k.Count(info.FullMethod)
		if f := k.draw(ss.Context()); f.Fail {
			return status.Error(codes.Unavailable, "sandbox: injected fault (the service is unavailable, retry)")
		}
		return handler(srv, ss)
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

// WrapMux counts calls by the route pattern of mux ("POST /v1/projects/{ref}/read-replicas/setup"),
// delays them and fails some with 503 or 429 (with Retry-After and X-RateLimit-* headers).
func (k *Kit) WrapMux(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pattern := mux.Handler(r)
		if pattern == "" {
			pattern = r.Method + " (unmatched)"
		}
		k.Count(pattern)
		if f := k.draw(r.Context()); f.Fail {
			if f.Kind == 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"message":"sandbox: injected fault (service unavailable)"}`, http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-RateLimit-Limit", "120")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", "1") // seconds until the window resets, as Supabase documents
			http.Error(w, `{"message":"sandbox: injected fault (rate limited)"}`, http.StatusTooManyRequests)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// DebugMux serves the debug API: GET /calls, POST /calls/reset, POST /faults. The supervisor adds
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
		rate, lat := k.Faults()
		WriteJSON(w, http.StatusOK, map[string]any{"rate": rate, "latency_ms": lat.Milliseconds()})
	})
	mux.HandleFunc("POST /faults", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Rate      float64 `json:"rate"`
			LatencyMS int64   `json:"latency_ms"`
			Seed      uint64  `json:"seed"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Rate < 0 || body.Rate > 1 || body.LatencyMS < 0 {
			http.Error(w, `{"message":"body must be {\"rate\":0..1,\"latency_ms\":>=0,\"seed\":N}"}`, http.StatusBadRequest)
			return
		}
		k.SetFaults(body.Rate, time.Duration(body.LatencyMS)*time.Millisecond, body.Seed)
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
