package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// qdrantFlags is the Qdrant connection of `alfredctl backup`, from the provider's environment contract
// (ALFRED_QDRANT_URL, ALFRED_QDRANT_REST_URL, QDRANT_API_KEY, ALFRED_QDRANT_TLS, ALFRED_QDRANT_CA_CERT).
// The API key is read from the environment only, never from a flag (flags show in process lists).
type qdrantFlags struct {
	collections []string
	url, rest   string
	peers       []string
}

const peerURLsEnv = "ALFRED_QDRANT_PEER_REST_URLS"

func (q *qdrantFlags) register(pf *pflag.FlagSet) {
	pf.StringVar(&q.url, "qdrant-url", os.Getenv("ALFRED_QDRANT_URL"), "Qdrant gRPC host:port (env ALFRED_QDRANT_URL); the API key comes from QDRANT_API_KEY")
	pf.StringVar(&q.rest, "qdrant-rest-url", os.Getenv("ALFRED_QDRANT_REST_URL"), "Qdrant REST base URL of one peer (env ALFRED_QDRANT_REST_URL)")
	var def []string
	if v := os.Getenv(peerURLsEnv); v != "" {
		def = strings.Split(v, ",")
	}
	pf.StringSliceVar(&q.peers, "qdrant-peer-url", def, "REST base URL of a Qdrant peer, ID=URL (repeatable; env "+peerURLsEnv+
		", comma-separated); unnamed peers are reached at their cluster URI's host with the port of --qdrant-rest-url")
}

// parsePeerURLs reads ID=URL pairs.
func parsePeerURLs(pairs []string) (map[uint64]string, error) {
	out := map[uint64]string{}
	for _, p := range pairs {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		id, u, ok := strings.Cut(p, "=")
		n, err := strconv.ParseUint(strings.TrimSpace(id), 10, 64)
		if !ok || err != nil || !strings.Contains(u, "://") {
			return nil, fmt.Errorf("--qdrant-peer-url / %s: %q is not PEER_ID=http(s)://host:port", peerURLsEnv, p)
		}
		out[n] = strings.TrimSpace(u)
	}
	return out, nil
}

// config builds the engine's Qdrant connection. Against the sandbox (ALFRED_SANDBOX_DEBUG_URL set) and
// without named peers, each peer's REST URL is read from the sandbox's debug API, whose peer URIs are
// not reachable addresses.
func (q *qdrantFlags) config(ctx context.Context) (*backup.Qdrant, error) {
	peers, err := parsePeerURLs(q.peers)
	if err != nil {
		return nil, err
	}
	if dbg := os.Getenv("ALFRED_SANDBOX_DEBUG_URL"); dbg != "" && len(peers) == 0 && q.url != "" {
		peers = sandboxPeerURLs(ctx, dbg)
	}
	tls, _ := strconv.ParseBool(os.Getenv("ALFRED_QDRANT_TLS"))
	return &backup.Qdrant{QdrantConfig: shared.QdrantConfig{URL: q.url, RESTURL: q.rest, APIKey: os.Getenv("QDRANT_API_KEY"), TLS: tls,
		CACert: os.Getenv("ALFRED_QDRANT_CA_CERT")}, PeerRESTURLs: peers}, nil
}

// sandboxPeerURLs asks the sandbox's debug API for every peer's REST URL; nil when it cannot.
func sandboxPeerURLs(ctx context.Context, debugURL string) map[uint64]string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(debugURL, "/")+"/qdrant/peers/endpoints", nil)
	if err != nil {
		return nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var eps []struct {
		ID   uint64 `json:"id"`
		REST string `json:"rest"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&eps) != nil {
		return nil
	}
	out := map[uint64]string{}
	for _, e := range eps {
		out[e.ID] = e.REST
	}
	return out
}
