package kit

import (
	"net"
	"testing"

	"google.golang.org/grpc"
)

// ServeForTest serves an emulator's gRPC services (register adds them) on a loopback port, with the kit's
// server options so that faults, latency and call counts apply, until the test ends; then it stops the
// server and calls closeFn. It returns the host:port the emulator listens on.
func (k *Kit) ServeForTest(t testing.TB, register func(*grpc.Server), closeFn func() error) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sandbox emulator: %v", err)
	}
	g := grpc.NewServer(k.ServerOptions()...)
	register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(func() {
		g.Stop()
		_ = closeFn()
	})
	return lis.Addr().String()
}

// Emulator is a gRPC emulator of the sandbox: it registers its services on a server and closes (writing
// its state) when the server stops.
type Emulator interface {
	Register(*grpc.Server)
	Close() error
}

// TestServer is an emulator serving gRPC on a loopback port for the duration of a test.
type TestServer[S Emulator] struct {
	Addr   string // host:port
	Server S
	Kit    *Kit
}

// StartTestServer builds an emulator with build, given k (a kit without faults or latency when k is nil),
// and serves it as ServeForTest does, on 127.0.0.1:0 until the test ends. name says which emulator failed
// to build.
func StartTestServer[S Emulator](t testing.TB, name string, k *Kit, build func(*Kit) (S, error)) *TestServer[S] {
	t.Helper()
	if k == nil {
		k = New(0, 0, 1)
	}
	srv, err := build(k)
	if err != nil {
		t.Fatalf("%s emulator: %v", name, err)
	}
	addr := k.ServeForTest(t, srv.Register, srv.Close)
	return &TestServer[S]{Addr: addr, Server: srv, Kit: k}
}
