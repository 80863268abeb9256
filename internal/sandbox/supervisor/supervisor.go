// Package supervisor runs the whole local sandbox in one process: the private PostgreSQL cluster,
// versitygw as the S3 store, and every control-plane emulator on loopback, plus the debug API. It writes
// sandbox.env (DESIGN.md section 5) once everything listens, and keeps all state under one directory so
// that `up` after `down` brings it back.
package supervisor

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/cloudrun"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/kit"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

// Config is what `alfredctl sandbox up` passes to the supervisor.
type Config struct {
	Dir           string
	Latency       time.Duration
	FaultRate     float64
	FaultKinds    []kit.FaultKind // the kinds drawn at FaultRate; empty: all mixed
	Seed          uint64
	QdrantPeers   int
	AlfredctlPath string // binary that Cloud Run job executions of alfredctl images run
	VersityGWPath string
	Logf          func(format string, args ...any)
}

// Identity is generated once per sandbox directory and kept, so credentials and ports survive a restart.
type Identity struct {
	Project         string         `json:"project"`
	Region          string         `json:"region"`
	SupabaseToken   string         `json:"supabase_token"`
	SupabaseOrg     string         `json:"supabase_org"`
	SupabaseProject string         `json:"supabase_project"`
	QdrantAPIKey    string         `json:"qdrant_api_key"`
	S3AccessKey     string         `json:"s3_access_key"`
	S3SecretKey     string         `json:"s3_secret_key"`
	Ports           map[string]int `json:"ports"`
}

// Files under the sandbox directory.
const (
	EnvFile      = "sandbox.env"
	PIDFile      = "sandbox.pid"
	ReadyFile    = "ready"
	IdentityFile = "identity.json"
	LogFile      = "sandbox.log"
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func loadIdentity(dir string) (*Identity, error) {
	id := &Identity{}
	b, err := os.ReadFile(filepath.Join(dir, IdentityFile))
	switch {
	case err == nil:
		if err := json.Unmarshal(b, id); err != nil {
			return nil, fmt.Errorf("reading %s: %w", IdentityFile, err)
		}
	case !os.IsNotExist(err):
		return nil, err
	default:
		*id = Identity{
			Project: "alfred-sandbox", Region: "europe-west1",
			SupabaseToken: "sbp_" + randHex(20), SupabaseOrg: "alfred-sandbox",
			SupabaseProject: "alfredsandboxproject", // 20 lowercase letters, like a real project ref
			QdrantAPIKey:    randHex(16), S3AccessKey: "alfred" + randHex(4), S3SecretKey: randHex(20),
		}
	}
	if id.Ports == nil {
		id.Ports = map[string]int{}
	}
	return id, nil
}

// listen binds the port the component had last time when it is still free, else a new one.
func listen(id *Identity, name string) (net.Listener, error) {
	if p := id.Ports[name]; p != 0 {
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p)); err == nil {
			return l, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	id.Ports[name] = l.Addr().(*net.TCPAddr).Port
	return l, nil
}

// Sandbox is a running sandbox.
type Sandbox struct {
	cfg      Config
	id       *Identity
	Kit      *kit.Kit
	Env      map[string]string
	pg       *localproc.PostgresCluster
	s3       *localproc.S3Server
	grpcs    []*grpc.Server
	https    []*http.Server
	closers  []func() error
	debugMux *http.ServeMux
	run      *cloudrun.Server
}

// Start brings the sandbox up and returns once every component listens.
func Start(ctx context.Context, cfg Config) (_ *Sandbox, err error) {
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.QdrantPeers <= 0 {
		cfg.QdrantPeers = 3
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	id, err := loadIdentity(cfg.Dir)
	if err != nil {
		return nil, err
	}
	k := kit.New(0, 0, cfg.Seed)
	if err := k.SetFaultSettings(kit.FaultSettings{Rate: cfg.FaultRate, Latency: cfg.Latency, Seed: cfg.Seed, Kinds: cfg.FaultKinds}); err != nil {
		return nil, err
	}
	s := &Sandbox{cfg: cfg, id: id, Kit: k, Env: map[string]string{}}
	// PostgreSQL and versitygw start in the background; on a failure or an interruption, each start that
	// was launched is waited for before everything is stopped, so that nothing is left running.
	var launched []chan error
	defer func() {
		if err != nil {
			for _, done := range launched {
				for range done { // until the start ends (its error is reported or superseded)
				}
			}
			s.Stop()
		}
	}()
	launch := func(start func() error) chan error {
		done := make(chan error, 1)
		launched = append(launched, done)
		go func() {
			err := start()
			done <- err
			close(done)
		}()
		return done
	}

	// The ports PostgreSQL and versitygw bind themselves stay held until every emulator has its own, so
	// that no emulator is handed one of them in between.
	pgL, err := listen(id, "postgres")
	if err != nil {
		return nil, err
	}
	s3L, err := listen(id, "s3")
	if err != nil {
		_ = pgL.Close()
		return nil, err
	}
	s.debugMux = s.Kit.DebugMux()
	err = s.startEmulators()
	var dl net.Listener
	if err == nil {
		if dl, err = listen(id, "debug"); err == nil {
			s.serveHTTP(dl, s.debugMux)
		}
	}
	pgPort, s3Port := pgL.Addr().(*net.TCPAddr).Port, s3L.Addr().(*net.TCPAddr).Port
	_, _ = pgL.Close(), s3L.Close()
	if err != nil {
		return nil, err
	}
	pgDone := launch(func() error {
		pg, err := localproc.StartPostgres(filepath.Join(cfg.Dir, "postgres"), pgPort)
		s.pg = pg
		return err
	})
	s3Done := launch(func() error {
		if cfg.VersityGWPath == "" {
			return errors.New("versitygw binary not found: run `make tools` or put versitygw on PATH")
		}
		srv, err := localproc.StartS3(cfg.VersityGWPath, filepath.Join(cfg.Dir, "s3"), s3Port, id.S3AccessKey, id.S3SecretKey)
		s.s3 = srv
		return err
	})
	wait := func(done chan error, what string) error {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("starting %s: %w", what, err)
			}
			return nil
		case <-ctx.Done():
			return fmt.Errorf("start-up interrupted while starting %s: %w", what, ctx.Err())
		}
	}
	if err := wait(pgDone, "PostgreSQL"); err != nil {
		return nil, err
	}
	if err := bootstrapPostgres(ctx, s.pg.DSN("postgres")); err != nil {
		return nil, err
	}
	if err := wait(s3Done, "versitygw"); err != nil {
		return nil, err
	}

	s.Env["ALFRED_GCP_PROJECT"] = id.Project
	s.Env["ALFRED_GCP_REGION"] = id.Region
	s.Env["ALFRED_GCP_INSECURE"] = "true"
	s.Env["ALFRED_POSTGRES_DSN"] = s.pg.DSN("postgres")
	s.Env["ALFRED_S3_ENDPOINT"] = s.s3.Endpoint
	s.Env["AWS_ACCESS_KEY_ID"] = id.S3AccessKey
	s.Env["AWS_SECRET_ACCESS_KEY"] = id.S3SecretKey
	s.Env["AWS_REGION"] = s.s3.Region
	s.Env["ALFRED_SANDBOX_DEBUG_URL"] = "http://" + dl.Addr().String()
	// Cloud Run job executions run on this host: alfredctl reaches the emulated Qdrant peers through the
	// debug API, as a run in Google Cloud reaches real peers at their cluster URIs.
	s.run.SetExecutionEnv("ALFRED_SANDBOX_DEBUG_URL=" + s.Env["ALFRED_SANDBOX_DEBUG_URL"])

	b, _ := json.MarshalIndent(id, "", "  ")
	if err := os.WriteFile(filepath.Join(cfg.Dir, IdentityFile), b, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(cfg.Dir, EnvFile), []byte(s.EnvText()), 0o600); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sandbox) serveGRPC(l net.Listener, g *grpc.Server) {
	s.grpcs = append(s.grpcs, g)
	go func() { _ = g.Serve(l) }()
}

func (s *Sandbox) serveHTTP(l net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.https = append(s.https, srv)
	go func() { _ = srv.Serve(l) }()
}

// EnvText renders the environment as shell KEY=value lines, sorted, values quoted for the shell.
func (s *Sandbox) EnvText() string {
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s='%s'\n", k, strings.ReplaceAll(s.Env[k], "'", `'\''`))
	}
	return b.String()
}

// Stop stops every component, emulators first so that their state is flushed.
func (s *Sandbox) Stop() {
	for _, g := range s.grpcs {
		g.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, h := range s.https {
		_ = h.Shutdown(ctx)
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			s.cfg.Logf("closing an emulator: %v", err)
		}
	}
	if s.s3 != nil {
		s.s3.Stop()
	}
	if s.pg != nil {
		if err := s.pg.Stop(); err != nil {
			s.cfg.Logf("%v", err)
		}
	}
}
