package qdrant

import (
	"net"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// TestServer is an emulator serving gRPC and REST on loopback ports for the duration of a test.
type TestServer struct {
	Addr    string // host:port of the gRPC API (the first peer)
	RESTURL string // base URL of the REST API
	APIKey  string
	Server  *Server
	Kit     *kit.Kit
}

// StartTestServer starts the emulator on 127.0.0.1 with a gRPC server built from the kit's options and a
// REST server, and stops both when the test ends. opts.Kit defaults to a kit without faults or latency.
func StartTestServer(t testing.TB, opts Options) *TestServer {
	t.Helper()
	if opts.Kit == nil {
		opts.Kit = kit.New(0, 0, 1)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("qdrant emulator: %v", err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("qdrant emulator: %v", err)
	}
	g := grpc.NewServer(opts.Kit.ServerOptions()...)
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	hs := httptest.NewServer(srv.RESTHandler())
	t.Cleanup(func() {
		hs.Close()
		g.Stop()
		_ = srv.Close()
	})
	return &TestServer{Addr: lis.Addr().String(), RESTURL: hs.URL, APIKey: opts.APIKey, Server: srv, Kit: opts.Kit}
}
