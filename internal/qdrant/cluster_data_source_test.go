package qdrant_test

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	sandbox "github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

func TestAccQdrantClusterDataSource_reportsPeersLeaderAndDownPeers(t *testing.T) {
	t.Parallel()
	c := newCluster(t, sandbox.Options{Peers: 4})
	peers := c.Server.PeerIDs()
	cfg := c.provider() + `data "alfred_qdrant_cluster" "q" {}`
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "peers.#", "4"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "version", sandbox.Version),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "status", "enabled"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "raft_leader", strconv.FormatUint(peers[0], 10)),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "peers_down", "0"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "api_key_required", "true"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "tls", "false"),
				),
			},
			{
				PreConfig: func() { _ = c.Server.SetPeerDown(peers[2], true) },
				Config:    cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "peers_down", "1"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "peers.2.up", "false"),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "peers.2.id", fmt.Sprint(peers[2])),
					resource.TestCheckResourceAttr("data.alfred_qdrant_cluster.q", "peers.0.up", "true"),
				),
			},
		},
	})
}

// The data source reads peers from the REST API: without rest_url it says so, naming the setting.
func TestAccQdrantClusterDataSource_needsRESTURL(t *testing.T) {
	t.Setenv("ALFRED_QDRANT_REST_URL", "") // not parallel: the environment must not fill rest_url
	c := newCluster(t, sandbox.Options{})
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { acctest.PreCheck(t) },
		ProtoV6ProviderFactories: acctest.ProtoV6ProviderFactories,
		Steps: []resource.TestStep{{
			Config: fmt.Sprintf(`
provider "alfred" {
  qdrant {
    url     = %q
    api_key = %q
  }
}
data "alfred_qdrant_cluster" "q" {}
`, c.Addr, c.APIKey),
			ExpectError: regexp.MustCompile(`(?s)qdrant\.rest_url or ALFRED_QDRANT_REST_URL`),
		}},
	})
}
