package qdrant

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Every peer of a Qdrant cluster serves the whole API on its own gRPC and REST ports; what a call answers
// depends on the peer: CollectionClusterInfo lists that peer's local shards, GET /cluster gives its
// peer_id and role, snapshots are written to and listed from that node's disk and hold only the shards
// it has. The emulator's Register/RESTHandler serve the first peer (never refused, as before); the
// endpoints built with PeerServerOptions/PeerRESTHandler serve one given peer and refuse calls while it
// is down, as a stopped node would.

type selfKey struct{}

// self is the peer answering the call: the peer of a per-peer endpoint, else the first peer. The peer
// list is fixed after New, so no lock is needed.
func (s *Server) self(ctx context.Context) uint64 {
	if id, ok := ctx.Value(selfKey{}).(uint64); ok {
		return id
	}
	return s.peers[0].ID
}

func (s *Server) peerDown(id uint64) (down, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peer(id)
	if p == nil {
		return false, false
	}
	return p.Down, true
}

// PeerServerOptions are the gRPC server options of peer id's own endpoint: the kit's (faults, call
// counts), then an interceptor that marks each call as answered by that peer and refuses it with
// UNAVAILABLE while the peer is down. Register the services with Register as for the first peer.
func (s *Server) PeerServerOptions(id uint64) []grpc.ServerOption {
	unary := func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		down, known := s.peerDown(id)
		if !known {
			return nil, status.Errorf(codes.Internal, "sandbox: no peer %d", id)
		}
		if down {
			return nil, status.Errorf(codes.Unavailable, "peer %d is down", id)
		}
		return h(context.WithValue(ctx, selfKey{}, id), req)
	}
	stream := func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
		if down, _ := s.peerDown(id); down {
			return status.Errorf(codes.Unavailable, "peer %d is down", id)
		}
		return h(srv, &peerStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), selfKey{}, id)})
	}
	return append(s.kit.ServerOptions(), grpc.ChainUnaryInterceptor(unary), grpc.ChainStreamInterceptor(stream))
}

type peerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (p *peerStream) Context() context.Context { return p.ctx }

// PeerRESTHandler serves the REST API as peer id; while the peer is down it answers 503, as a proxy in
// front of a stopped node would (a client connecting directly gets a refused connection).
func (s *Server) PeerRESTHandler(id uint64) http.Handler {
	h := s.RESTHandler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		down, known := s.peerDown(id)
		if !known {
			http.Error(w, fmt.Sprintf("sandbox: no peer %d", id), http.StatusNotFound)
			return
		}
		if down {
			http.Error(w, fmt.Sprintf("peer %d is down", id), http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), selfKey{}, id)))
	})
}

// SetPeerPartitioned cuts a peer off from the others (or reconnects it) without the consensus noticing:
// unlike SetPeerDown its replicas keep their state, so a write that needs the peer's replicas meets
// Qdrant's update rule (see replicateWrite): with enough other replicas for write_consistency_factor the
// unreachable ones are deactivated (Dead); without, the write fails.
func (s *Server) SetPeerPartitioned(peerID uint64, partitioned bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.peer(peerID)
	if p == nil {
		return fmt.Errorf("no peer %d", peerID)
	}
	s.advance()
	p.Partitioned = partitioned
	return s.save()
}

// localPoints are the points of the shards the answering peer holds a replica of: a node's snapshot
// holds only its local shards (Qdrant's snapshot of a collection archives the node's local shards).
func (s *Server) localPoints(ctx context.Context, c *collection) []json.RawMessage {
	self := s.self(ctx)
	ids := make([]uint32, len(c.shards))
	local := map[uint32]bool{}
	for i, sh := range c.shards {
		ids[i] = sh.ID
		for _, r := range sh.Replicas {
			if r.Peer == self {
				local[sh.ID] = true
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var out []json.RawMessage
	for _, k := range sortedKeys(c.points) {
		if len(ids) > 0 && local[shardOfKey(ids, k)] {
			out = append(out, marshal(c.points[k]))
		}
	}
	return out
}
