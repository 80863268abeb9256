package qdrant_test

import (
	"encoding/pem"
	"fmt"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// Over TLS, the provider verifies the cluster's certificate against ca_cert: with the right CA it works
// (and the data source reports tls = true), without it (system roots, which do not know this CA) the
// handshake fails.
func TestAccQdrantProvider_tlsWithCACert(t *testing.T) {
	t.Parallel()
	srv, err := sandbox.New(sandbox.Options{APIKey: testKey, Kit: kit.New(0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rest := httptest.NewTLSServer(srv.RESTHandler())
	t.Cleanup(rest.Close)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(grpc.Creds(credentials.NewServerTLSFromCert(&rest.TLS.Certificates[0])))
	srv.Register(g)
	go func() { _ = g.Serve(lis) }()
	t.Cleanup(func() { g.Stop(); _ = srv.Close() })
	ca := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rest.Certificate().Raw}))
	cfg := func(tlsAttrs string) string {
		return fmt.Sprintf(`
provider "alfred" {
  qdrant {
    url      = %q
    rest_url = %q
    api_key  = %q
    %s
  }
}
data "alfred_qdrant_cluster" "q" {}
resource "alfred_qdrant_collection" "c" {
  name    = "secure"
  vectors = { "" = { size = 4, distance = "Dot" } }
}
`, lis.Addr().String(), rest.URL, testKey, tlsAttrs)
	}
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config:      cfg("tls = true"),
				ExpectError: regexpMust(`certificate signed by unknown authority|x509`),
			},
			{
				Config: cfg("ca_cert = <<EOT\n" + strings.TrimSpace(ca) + "\nEOT"),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "tls", "true"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "api_key_required", "true"),
					resource.TestCheckResourceAttr("alfred_qdrant_collection.c", "status", "green"),
				),
			},
		},
	})
}

func regexpMust(s string) *regexp.Regexp { return regexp.MustCompile(s) }
