package supervisor

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"

	"google.golang.org/grpc"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/logging"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/monitoring"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/pubsub"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/qdrant"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/scheduler"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supabase"
)

// startEmulators starts each control-plane emulator on its own loopback port and records its variables.
func (s *Sandbox) startEmulators() error {
	for _, start := range []func() error{s.startGCP, s.startSupabase, s.startQdrant} {
		if err := start(); err != nil {
			return err
		}
	}
	return nil
}

func (s *Sandbox) startQdrant() error {
	srv, err := qdrant.New(qdrant.Options{
		Dir: filepath.Join(s.cfg.Dir, "qdrant"), Kit: s.Kit, APIKey: s.id.QdrantAPIKey, Peers: s.cfg.QdrantPeers,
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, srv.Close)
	if err := s.grpcEmulator("qdrant-grpc", "ALFRED_QDRANT_URL", srv.Register); err != nil {
		return err
	}
	rl, err := listen(s.id, "qdrant-rest")
	if err != nil {
		return err
	}
	s.serveHTTP(rl, srv.RESTHandler())
	s.Env["ALFRED_QDRANT_REST_URL"] = "http://" + rl.Addr().String()
	s.Env["QDRANT_API_KEY"] = s.id.QdrantAPIKey

	peer := func(down bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			id, err := strconv.ParseUint(r.PathValue("peer_id"), 10, 64)
			if err == nil {
				err = srv.SetPeerDown(id, down)
			}
			if err != nil {
				kit.WriteJSON(w, http.StatusNotFound, map[string]any{"message": err.Error(), "peers": srv.PeerIDs()})
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	s.debugMux.HandleFunc("POST /qdrant/peers/{peer_id}/down", peer(true))
	s.debugMux.HandleFunc("POST /qdrant/peers/{peer_id}/up", peer(false))
	s.debugMux.HandleFunc("GET /qdrant/peers", func(w http.ResponseWriter, _ *http.Request) {
		kit.WriteJSON(w, http.StatusOK, srv.PeerIDs())
	})
	// Every peer also answers on its own gRPC and REST ports (the addresses above are the first peer's).
	var endpoints []map[string]any
	for i, id := range srv.PeerIDs() {
		gl, err := listen(s.id, fmt.Sprintf("qdrant-peer-%d-grpc", i+1))
		if err != nil {
			return err
		}
		g := grpc.NewServer(srv.PeerServerOptions(id)...)
		srv.Register(g)
		s.serveGRPC(gl, g)
		hl, err := listen(s.id, fmt.Sprintf("qdrant-peer-%d-rest", i+1))
		if err != nil {
			return err
		}
		s.serveHTTP(hl, srv.PeerRESTHandler(id))
		endpoints = append(endpoints, map[string]any{"id": id, "grpc": gl.Addr().String(), "rest": "http://" + hl.Addr().String()})
	}
	s.debugMux.HandleFunc("GET /qdrant/peers/endpoints", func(w http.ResponseWriter, _ *http.Request) {
		kit.WriteJSON(w, http.StatusOK, endpoints)
	})
	return nil
}

func (s *Sandbox) startSupabase() error {
	srv, err := supabase.New(supabase.Options{
		Dir: filepath.Join(s.cfg.Dir, "supabase"), Kit: s.Kit,
		AccessToken: s.id.SupabaseToken, OrgSlug: s.id.SupabaseOrg, ProjectRef: s.id.SupabaseProject,
		DBHost: "127.0.0.1", DBPort: s.id.Ports["postgres"],
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, srv.Close)
	l, err := listen(s.id, "supabase")
	if err != nil {
		return err
	}
	s.serveHTTP(l, srv.Handler())
	// Sandbox convention: replicas set up in these regions end in INIT_READ_REPLICA_FAILED.
	s.debugMux.HandleFunc("POST /supabase/fail-regions", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Regions []string `json:"regions"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			kit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": `body must be {"regions": ["us-east-1", ...]}`})
			return
		}
		if err := srv.SetFailRegions(body.Regions); err != nil {
			kit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// Sandbox convention: a replica reports another documented status (ACTIVE_UNHEALTHY, RESTARTING, ...).
	s.debugMux.HandleFunc("POST /supabase/replicas/{identifier}/status", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Status string `json:"status"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			kit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": `body must be {"status": "RESTARTING"}`})
			return
		}
		if err := srv.SetReplicaStatus(r.PathValue("identifier"), body.Status); err != nil {
			kit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	s.Env["ALFRED_SUPABASE_API_URL"] = "http://" + l.Addr().String()
	s.Env["SUPABASE_ACCESS_TOKEN"] = s.id.SupabaseToken
	s.Env["ALFRED_SUPABASE_ORG_SLUG"] = s.id.SupabaseOrg
	s.Env["ALFRED_SUPABASE_PROJECT_REF"] = s.id.SupabaseProject
	return nil
}

// grpcEmulator serves one gRPC emulator on its own port and records the endpoint under envVar.
func (s *Sandbox) grpcEmulator(name, envVar string, register func(*grpc.Server)) error {
	l, err := listen(s.id, name)
	if err != nil {
		return err
	}
	g := grpc.NewServer(s.Kit.ServerOptions()...)
	register(g)
	s.serveGRPC(l, g)
	s.Env[envVar] = l.Addr().String()
	return nil
}

// startGCP starts Cloud Run (with long-running operations), Cloud Monitoring, Cloud Logging (log-based
// metrics) and Cloud Scheduler, whose
// jobs that target a Cloud Run job's run endpoint run that job in the Cloud Run emulator.
func (s *Sandbox) startGCP() error {
	run, err := cloudrun.New(cloudrun.Options{
		Dir: filepath.Join(s.cfg.Dir, "cloudrun"), Kit: s.Kit, AlfredctlPath: s.cfg.AlfredctlPath,
		Project: s.id.Project, Region: s.id.Region, Seed: s.cfg.Seed,
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, run.Close)
	s.run = run
	if err := s.grpcEmulator("cloudrun", "ALFRED_GCP_RUN_ENDPOINT", run.Register); err != nil {
		return err
	}
	// Project-level IAM grants (Resource Manager is not emulated): Cloud Run's permission checks, such
	// as a scheduled jobs:run call, consult them besides the resources' own policies.
	s.debugMux.HandleFunc("POST /gcp/projects/{project}/iam/grant", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Role   string `json:"role"`
			Member string `json:"member"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			kit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": `body must be {"role": "roles/run.invoker", "member": "serviceAccount:EMAIL"}`})
			return
		}
		if err := run.GrantProjectRole(r.PathValue("project"), body.Role, body.Member); err != nil {
			kit.WriteJSON(w, http.StatusBadRequest, map[string]any{"message": err.Error()})
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mon, err := monitoring.New(monitoring.Options{Dir: filepath.Join(s.cfg.Dir, "monitoring"), Kit: s.Kit})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, mon.Close)
	if err := s.grpcEmulator("monitoring", "ALFRED_GCP_MONITORING_ENDPOINT", mon.Register); err != nil {
		return err
	}
	lg, err := logging.New(logging.Options{Dir: filepath.Join(s.cfg.Dir, "logging"), Kit: s.Kit})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, lg.Close)
	if err := s.grpcEmulator("logging", "ALFRED_GCP_LOGGING_ENDPOINT", lg.Register); err != nil {
		return err
	}
	// Pub/Sub: Google's pstest plus IAM, push delivery with OIDC tokens (keys on GET /pubsub/jwks) and
	// retry backoff. State is in memory (pstest keeps none on disk).
	ps, err := pubsub.New(pubsub.Options{Kit: s.Kit})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, ps.Close)
	ps.DebugRoutes(s.debugMux)
	if err := s.grpcEmulator("pubsub", "ALFRED_GCP_PUBSUB_ENDPOINT", ps.Register); err != nil {
		return err
	}
	// A Cloud Run job target is a call to the jobs:run API authenticated as the OAuth token's service
	// account: Cloud Run checks that the account holds run.jobs.run on the job or the project.
	sched, err := scheduler.New(scheduler.Options{
		Dir: filepath.Join(s.cfg.Dir, "scheduler"), Kit: s.Kit, RunJob: run.RunJobAs,
	})
	if err != nil {
		return err
	}
	s.closers = append(s.closers, sched.Close)
	return s.grpcEmulator("scheduler", "ALFRED_GCP_SCHEDULER_ENDPOINT", sched.Register)
}
