package kit_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	pb "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
)

// serveQdrant runs the Qdrant emulator behind the kit (gRPC and REST).
func serveQdrant(t *testing.T, k *kit.Kit) (pb.CollectionsClient, context.Context, string) {
	t.Helper()
	srv, err := qdrant.New(qdrant.Options{Kit: k, APIKey: "key", Peers: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer(k.ServerOptions()...)
	srv.Register(g)
	go func() { _ = g.Serve(l) }()
	rest := httptest.NewServer(srv.RESTHandler())
	t.Cleanup(func() { rest.Close(); g.Stop(); _ = srv.Close() })
	conn, err := grpc.NewClient(l.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pb.NewCollectionsClient(conn), metadata.AppendToOutgoingContext(context.Background(), "api-key", "key"), rest.URL
}

// Qdrant has no concurrent-edit error: conflict faults never apply to it.
func TestQdrantHasNoConflictFaults(t *testing.T) {
	c, ctx, rest := serveQdrant(t, only(t, kit.FaultConflict))
	size := uint64(4)
	_, err := c.Create(ctx, &pb.CreateCollection{CollectionName: "docs", VectorsConfig: &pb.VectorsConfig{Config: &pb.VectorsConfig_Params{
		Params: &pb.VectorParams{Size: size, Distance: pb.Distance_Cosine}}}})
	if err != nil {
		t.Fatalf("conflict faults must not apply to Qdrant writes: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, rest+"/collections/docs/snapshots", nil)
	req.Header.Set("api-key", "key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusConflict {
		t.Errorf("conflict faults must not apply to Qdrant REST writes: %d", resp.StatusCode)
	}
}

// Qdrant's rate limit: RESOURCE_EXHAUSTED with a retry-after trailer (no RetryInfo); REST 429 with
// Retry-After and Qdrant's error envelope, without Supabase's X-RateLimit-* headers.
func TestQdrantRateLimitSpeaksQdrant(t *testing.T) {
	c, ctx, rest := serveQdrant(t, only(t, kit.FaultRateLimit))
	var trailer metadata.MD
	_, err := c.List(ctx, &pb.ListCollectionsRequest{}, grpc.Trailer(&trailer))
	st := status.Convert(err)
	if st.Code() != codes.ResourceExhausted || len(st.Details()) != 0 || !strings.HasPrefix(st.Message(), "Rate limiting exceeded") {
		t.Errorf("Qdrant rate limit: %v %v", st, st.Details())
	}
	if got := trailer.Get("retry-after"); len(got) != 1 || got[0] != "1" {
		t.Errorf("retry-after trailer: %v", trailer)
	}
	req, _ := http.NewRequest(http.MethodGet, rest+"/collections", nil)
	req.Header.Set("api-key", "key")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || resp.Header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("Qdrant REST rate limit: %d %v", resp.StatusCode, resp.Header)
	}
}
