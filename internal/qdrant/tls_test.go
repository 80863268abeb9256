package qdrant_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// Over TLS, the provider verifies the cluster's certificate against ca_cert: with the right CA it works
// (and the data source reports tls = true), without it (system roots, which do not know this CA) the
// handshake fails.
func TestAccQdrantProvider_tlsWithCACert(t *testing.T) {
	t.Parallel()
	ts := sandbox.StartTLSTestServer(t, sandbox.Options{APIKey: testKey})
	ca := ts.CACert
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
`, ts.Addr, ts.RESTURL, testKey, tlsAttrs)
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
