package qdrant

import (
	"encoding/pem"
	"net"
	"net/http/httptest"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
)

// TestServer is an emulator serving gRPC and REST on loopback ports for the duration of a test.
type TestServer struct {
	Addr    string // host:port of the gRPC API (the first peer)
	RESTURL string // base URL of the REST API
	APIKey  string
	Server  *Server
	Kit     *kit.Kit
	// Peers are every peer's own endpoints (the first peer's too, besides Addr/RESTURL): calls there are
	// answered by that peer and refused while it is down.
	Peers []PeerEndpoint
}

// PeerEndpoint is one peer's own gRPC and REST addresses.
type PeerEndpoint struct {
	ID      uint64
	Addr    string // host:port, gRPC
	RESTURL string
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
	ts := &TestServer{Addr: lis.Addr().String(), RESTURL: hs.URL, APIKey: opts.APIKey, Server: srv, Kit: opts.Kit}
	var stops []func()
	for _, id := range srv.PeerIDs() {
		pl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("qdrant emulator: %v", err)
		}
		pg := grpc.NewServer(srv.PeerServerOptions(id)...)
		srv.Register(pg)
		go func() { _ = pg.Serve(pl) }()
		phs := httptest.NewServer(srv.PeerRESTHandler(id))
		stops = append(stops, phs.Close, pg.Stop)
		ts.Peers = append(ts.Peers, PeerEndpoint{ID: id, Addr: pl.Addr().String(), RESTURL: phs.URL})
	}
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
		hs.Close()
		g.Stop()
		_ = srv.Close()
	})
	return ts
}

// TLSTestServer is an emulator serving gRPC and REST over TLS (a self-signed certificate for 127.0.0.1)
// on loopback for the duration of a test.
type TLSTestServer struct {
	Addr    string // host:port of the gRPC API
	RESTURL string // https base URL of the REST API
	CACert  string // PEM of the certificate both serve
	Server  *Server
}

// StartTLSTestServer is StartTestServer over TLS, without per-peer endpoints.
func StartTLSTestServer(t testing.TB, opts Options) *TLSTestServer {
	t.Helper()
	if opts.Kit == nil {
		opts.Kit = kit.New(0, 0, 1)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("qdrant emulator: %v", err)
	}
	rest := httptest.NewTLSServer(srv.RESTHandler())
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("qdrant emulator: %v", err)
	}
	g := grpc.NewServer(append(opts.Kit.ServerOptions(), grpc.Creds(credentials.NewServerTLSFromCert(&rest.TLS.Certificates[0])))...)
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(func() { rest.Close(); g.Stop(); _ = srv.Close() })
	return &TLSTestServer{Addr: lis.Addr().String(), RESTURL: rest.URL, Server: srv,
		CACert: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rest.Certificate().Raw}))}
}
