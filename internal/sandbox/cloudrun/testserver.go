package cloudrun

import (
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// TestServer is an emulator serving gRPC on a loopback port for the duration of a test.
type TestServer struct {
	Addr   string // host:port
	Server *Server
	Kit    *kit.Kit
}

// StartTestServer starts the emulator on 127.0.0.1:0 with a gRPC server built from the kit's options, and
// stops it when the test ends. opts.Kit defaults to a kit without faults or latency.
func StartTestServer(t testing.TB, opts Options) *TestServer {
	t.Helper()
	if opts.Kit == nil {
		opts.Kit = kit.New(0, 0, 1)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("cloudrun emulator: %v", err)
	}
	addr := opts.Kit.ServeForTest(t, srv.Register, srv.Close)
	return &TestServer{Addr: addr, Server: srv, Kit: opts.Kit}
}
