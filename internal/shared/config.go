// Package shared holds what every area of the provider needs: the resolved provider configuration, the
// API clients built from it, and the helpers for timeouts, retries, error mapping and identifiers.
// No area imports another area; they all import this package.
package shared

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/terraform-plugin-framework/diag"
)

// Block names of the provider configuration (DESIGN.md section 3).
const (
	BlockGCP      = "gcp"
	BlockSupabase = "supabase"
	BlockQdrant   = "qdrant"
	BlockPostgres = "postgres"
	BlockS3       = "s3"
)

// BlockEnv lists, per provider block, the environment variables that can stand in for it.
var BlockEnv = map[string][]string{
	BlockGCP: {"ALFRED_GCP_PROJECT", "ALFRED_GCP_REGION", "ALFRED_GCP_RUN_ENDPOINT",
		"ALFRED_GCP_MONITORING_ENDPOINT", "ALFRED_GCP_LOGGING_ENDPOINT", "ALFRED_GCP_SCHEDULER_ENDPOINT", "ALFRED_GCP_PUBSUB_ENDPOINT",
		"ALFRED_GCP_INSECURE"},
	BlockSupabase: {"SUPABASE_ACCESS_TOKEN", "ALFRED_SUPABASE_API_URL", "ALFRED_SUPABASE_ORG_SLUG"},
	BlockQdrant:   {"ALFRED_QDRANT_URL", "ALFRED_QDRANT_REST_URL", "QDRANT_API_KEY", "ALFRED_QDRANT_TLS", "ALFRED_QDRANT_CA_CERT"},
	BlockPostgres: {"ALFRED_POSTGRES_DSN"},
	BlockS3:       {"AWS_REGION", "ALFRED_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"},
}

// GCPConfig is the resolved `gcp` block.
type GCPConfig struct {
	Project            string
	Region             string
	Credentials        string // JSON; empty means Application Default Credentials
	RunEndpoint        string
	MonitoringEndpoint string
	LoggingEndpoint    string
	SchedulerEndpoint  string
	PubSubEndpoint     string
	Insecure           bool
	// ProjectUnknown and RegionUnknown are true while the value is not yet known at plan time (it comes
	// from another resource, e.g. a project created in the same apply).
	ProjectUnknown, RegionUnknown bool
}

// SupabaseConfig is the resolved `supabase` block.
type SupabaseConfig struct {
	AccessToken      string
	APIURL           string
	OrganizationSlug string
}

// QdrantConfig is the resolved `qdrant` block.
type QdrantConfig struct {
	URL     string // host:port of the gRPC API
	RESTURL string // base URL of the REST API (snapshots)
	APIKey  string
	TLS     bool   // gRPC and REST over TLS (system roots unless CACert)
	CACert  string // PEM
	// URLUnknown and RESTURLUnknown are true while url or rest_url is not yet known at plan time (it comes
	// from another resource); Unknown is true while any value of the block is.
	URLUnknown, RESTURLUnknown, Unknown bool
}

// PostgresConfig is the resolved `postgres` block.
type PostgresConfig struct {
	DSN string
	// Unknown is true while the DSN is not yet known at plan time (it comes from another resource).
	Unknown bool
}

// S3Config is the resolved `s3` block.
type S3Config struct {
	Region          string
	Endpoint        string
	AccessKeyID     string
	SecretAccessKey string
	ForcePathStyle  bool
}

// ProviderData is what the provider hands to every resource and data source in Configure. A nil block
// pointer means the block is absent and no environment variable stands in for it.
type ProviderData struct {
	Version  string
	GCP      *GCPConfig
	Supabase *SupabaseConfig
	Qdrant   *QdrantConfig
	Postgres *PostgresConfig
	S3       *S3Config

	mu      sync.Mutex
	clients map[string]any
	closers []func()
}

// Client returns the client cached under key, building it with build the first time. Areas use it so that
// API clients are built once per provider process, and only when a resource needs them.
func (p *ProviderData) Client(key string, build func() (any, func(), error)) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		return c, nil
	}
	c, closer, err := build()
	if err != nil {
		return nil, err
	}
	if p.clients == nil {
		p.clients = map[string]any{}
	}
	p.clients[key] = c
	if closer != nil {
		p.closers = append(p.closers, closer)
	}
	return c, nil
}

// Close releases every client built so far.
func (p *ProviderData) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.closers {
		c()
	}
	p.closers = nil
	p.clients = nil
}

// MissingBlockError is the message a resource gives at plan time when the provider block it needs is absent.
func MissingBlockError(typeName, block string) (summary, detail string) {
	env := append([]string(nil), BlockEnv[block]...)
	sort.Strings(env)
	return fmt.Sprintf("Provider block %q is not configured", block),
		fmt.Sprintf("%s needs the provider's %q block. Add `%s { ... }` to the provider \"alfred\" configuration, "+
			"or set its environment variables: %s.", typeName, block, block, strings.Join(env, ", "))
}

// Require adds a plan-time error to diags when the named block is missing from data, and reports whether
// the block is present. data may be nil when the provider has not been configured yet (validation runs
// before configuration), in which case nothing is reported.
func Require(data *ProviderData, typeName, block string, diags *diag.Diagnostics) bool {
	if data == nil {
		return false
	}
	var present bool
	switch block {
	case BlockGCP:
		present = data.GCP != nil
	case BlockSupabase:
		present = data.Supabase != nil
	case BlockQdrant:
		present = data.Qdrant != nil
	case BlockPostgres:
		present = data.Postgres != nil
	case BlockS3:
		present = data.S3 != nil
	}
	if !present {
		s, d := MissingBlockError(typeName, block)
		diags.AddError(s, d)
	}
	return present
}

// ProviderDataFrom converts the value the framework hands to Configure, reporting a `%T` error for
// anything unexpected instead of panicking.
func ProviderDataFrom(v any, diags *diag.Diagnostics) *ProviderData {
	if v == nil {
		return nil
	}
	d, ok := v.(*ProviderData)
	if !ok {
		diags.AddError("Unexpected provider data",
			fmt.Sprintf("Expected *shared.ProviderData, got %T. This is a bug in the provider; please report it.", v))
		return nil
	}
	return d
}
