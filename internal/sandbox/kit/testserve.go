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
