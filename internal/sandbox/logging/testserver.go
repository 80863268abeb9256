package logging

import (
	"testing"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// TestServer is the logging emulator serving gRPC on a loopback port for the duration of a test.
type TestServer = kit.TestServer[*Server]

// StartTestServer starts the emulator on 127.0.0.1:0 with a gRPC server built from the kit's options (so
// faults and call counts apply), and stops it when the test ends. opts.Kit defaults to a kit without
// faults or latency.
func StartTestServer(t testing.TB, opts Options) *TestServer {
	t.Helper()
	return kit.StartTestServer(t, "logging", opts.Kit, func(k *kit.Kit) (*Server, error) {
		opts.Kit = k
		return New(opts)
	})
}
