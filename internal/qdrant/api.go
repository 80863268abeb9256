package qdrant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	pb "github.com/qdrant/go-client/qdrant"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// api is what the resources use: the gRPC client of qdrant/go-client and, when rest_url is configured,
// the REST API for cluster status (peers), which Qdrant's gRPC API does not expose.
type api struct {
	client  *pb.Client
	restURL string
	apiKey  string
	http    *http.Client
}

// clientFor builds (once per provider process) the client of the configured cluster.
func clientFor(data *shared.ProviderData) (*api, error) {
	c, err := data.Client("qdrant", func() (any, func(), error) {
		cfg := data.Qdrant
		host, portStr, err := net.SplitHostPort(cfg.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("qdrant url %q is not host:port: %w", cfg.URL, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, nil, fmt.Errorf("qdrant url %q: bad port: %w", cfg.URL, err)
		}
		tlsCfg, err := cfg.TLSConfig()
		if err != nil {
			return nil, nil, err
		}
		qc, err := pb.NewClient(&pb.Config{Host: host, Port: port, APIKey: cfg.APIKey, UseTLS: tlsCfg != nil,
			TLSConfig: tlsCfg, PoolSize: 1, SkipCompatibilityCheck: true})
		if err != nil {
			return nil, nil, fmt.Errorf("connect to Qdrant at %s: %w", cfg.URL, err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if tlsCfg != nil {
			tr.TLSClientConfig = tlsCfg.Clone()
		}
		a := &api{client: qc, restURL: strings.TrimRight(cfg.RESTURL, "/"), apiKey: cfg.APIKey,
			http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
		return a, func() { _ = qc.Close() }, nil
	})
	if err != nil {
		return nil, err
	}
	return c.(*api), nil
}

// clusterPeer is one peer of GET /cluster.
type clusterPeer struct {
	ID   string
	URI  string
	Down bool // it appears in message_send_failures
}

type clusterStatus struct {
	Status   string
	PeerID   string
	Leader   string
	Role     string
	Term     int64
	Commit   int64
	Peers    []clusterPeer
	Failures map[string]string
}

// cluster reads GET /cluster (Qdrant's REST cluster status). ok is false when no rest_url is configured.
func (a *api) cluster(ctx context.Context) (st *clusterStatus, ok bool, err error) {
	if a.restURL == "" {
		return nil, false, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.restURL+"/cluster", nil)
	if err != nil {
		return nil, true, err
	}
	if a.apiKey != "" {
		req.Header.Set("api-key", a.apiKey)
	}
	var body struct {
		Result struct {
			Status string      `json:"status"`
			PeerID json.Number `json:"peer_id"`
			Peers  map[string]struct {
				URI string `json:"uri"`
			} `json:"peers"`
			RaftInfo struct {
				Term   int64       `json:"term"`
				Commit int64       `json:"commit"`
				Leader json.Number `json:"leader"`
				Role   string      `json:"role"`
			} `json:"raft_info"`
			Failures map[string]struct {
				LatestError string `json:"latest_error"`
			} `json:"message_send_failures"`
		} `json:"result"`
	}
	err = shared.Retry(ctx, shared.DefaultBackoff, func(err error) bool { return strings.Contains(err.Error(), "(retryable)") },
		func(ctx context.Context) error {
			resp, err := a.http.Do(req.Clone(ctx))
			if err != nil {
				return fmt.Errorf("GET %s/cluster: %w (retryable)", a.restURL, err)
			}
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
				return fmt.Errorf("GET %s/cluster: HTTP %d (retryable)", a.restURL, resp.StatusCode)
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("GET %s/cluster: HTTP %d", a.restURL, resp.StatusCode)
			}
			dec := json.NewDecoder(resp.Body)
			dec.UseNumber()
			return dec.Decode(&body)
		})
	if err != nil {
		return nil, true, err
	}
	r := body.Result
	st = &clusterStatus{Status: r.Status, PeerID: r.PeerID.String(), Leader: r.RaftInfo.Leader.String(),
		Role: r.RaftInfo.Role, Term: r.RaftInfo.Term, Commit: r.RaftInfo.Commit, Failures: map[string]string{}}
	for uri, f := range r.Failures {
		st.Failures[uri] = f.LatestError
	}
	for id, p := range r.Peers {
		_, down := r.Failures[p.URI]
		st.Peers = append(st.Peers, clusterPeer{ID: id, URI: p.URI, Down: down})
	}
	sort.Slice(st.Peers, func(i, j int) bool { return st.Peers[i].ID < st.Peers[j].ID })
	return st, true, nil
}

// retry runs a call that is safe to repeat, retrying UNAVAILABLE, DEADLINE_EXCEEDED and rate limits.
// go-client turns Qdrant's RESOURCE_EXHAUSTED into a QdrantResourceExhaustedError carrying the server's
// retry-after (seconds), which is waited before the next attempt.
func retry(ctx context.Context, fn func(context.Context) error) error {
	return shared.Retry(ctx, shared.DefaultBackoff, retryable, func(ctx context.Context) error {
		err := fn(ctx)
		var re *pb.QdrantResourceExhaustedError
		if errors.As(err, &re) && re.RetryAfterS > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(time.Duration(re.RetryAfterS) * time.Second):
			}
		}
		return err
	})
}

func retryable(err error) bool {
	var re *pb.QdrantResourceExhaustedError
	return errors.As(err, &re) || shared.RetryableGRPC(err)
}

// keyRequired reports whether the cluster refuses a REST call that carries no API key (401/403).
func (a *api) keyRequired(ctx context.Context) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.restURL+"/collections", nil)
	if err != nil {
		return false, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return false, fmt.Errorf("GET %s/collections: %w", a.restURL, err)
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden, nil
}

// transportWarning says, for a configuration that sends the API key in clear text to a host that is not
// on loopback, or that has no API key at all, what is at risk; "" when TLS protects the key.
func transportWarning(cfg *shared.QdrantConfig) string {
	if cfg == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(cfg.URL)
	if err != nil {
		return ""
	}
	loopback := host == "localhost"
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	tlsOn := cfg.TLS || cfg.CACert != ""
	switch {
	case cfg.APIKey == "" && !loopback:
		return fmt.Sprintf("No API key is configured for the Qdrant cluster at %s: unless the cluster is reachable only from a "+
			"trusted network, anyone who reaches it can read and delete every collection. Set qdrant.api_key (QDRANT_API_KEY).", cfg.URL)
	case cfg.APIKey != "" && !tlsOn && !loopback:
		return fmt.Sprintf("The Qdrant API key is sent in clear text to %s: set qdrant.tls = true (ALFRED_QDRANT_TLS), with "+
			"qdrant.ca_cert when the cluster's certificate is not signed by a system root.", cfg.URL)
	}
	return ""
}
