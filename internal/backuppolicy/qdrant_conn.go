package backuppolicy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// The Qdrant connection a run of a policy with collections needs: the provider's qdrant block, under the
// environment variables of its contract, which `alfredctl backup` reads. Like the keyset and the DSN, the
// API key is a plain environment variable of the job, never an argument (see the resource description).
const (
	envQdrantURL    = "ALFRED_QDRANT_URL"
	envQdrantREST   = "ALFRED_QDRANT_REST_URL"
	envQdrantKey    = "QDRANT_API_KEY"
	envQdrantTLS    = "ALFRED_QDRANT_TLS"
	envQdrantCACert = "ALFRED_QDRANT_CA_CERT"
)

var qdrantEnvNames = []string{envQdrantURL, envQdrantREST, envQdrantKey, envQdrantTLS, envQdrantCACert}

// qdrantEnv is the runner's Qdrant environment for the spec: none without collections (a Postgres-only
// job carries no Qdrant secret) or without the provider's qdrant block (ModifyPlan refuses that).
func qdrantEnv(data *shared.ProviderData, s policySpec) []*runpb.EnvVar {
	q := data.Qdrant
	if len(s.collections) == 0 || q == nil {
		return nil
	}
	var env []*runpb.EnvVar
	add := func(name, v string) {
		if v != "" {
			env = append(env, &runpb.EnvVar{Name: name, Values: &runpb.EnvVar_Value{Value: v}})
		}
	}
	add(envQdrantURL, q.URL)
	add(envQdrantREST, q.RESTURL)
	add(envQdrantKey, q.APIKey)
	if q.TLS {
		add(envQdrantTLS, strconv.FormatBool(q.TLS))
	}
	add(envQdrantCACert, q.CACert)
	return env
}

// privQdrantEnv is the private-state key of the digest of the Qdrant environment the provider last wrote
// into the job (envDigest): a refresh compares the job with what was written, not with the provider's
// current qdrant block, so a connection changed in the provider (a rotated key) is planned as an update of
// the job, not shown as a change made outside Terraform.
const privQdrantEnv = "qdrant_env"

// envDigest maps each Qdrant variable of env to a digest of its value, salted with the job's name (a
// private state holds no secret, and no digest that is the same in two jobs).
func envDigest(job string, env []*runpb.EnvVar) map[string]string {
	out := map[string]string{}
	for _, e := range env {
		if slices.Contains(qdrantEnvNames, e.GetName()) {
			h := sha256.Sum256([]byte(job + "\x00" + e.GetName() + "\x00" + e.GetValue()))
			out[e.GetName()] = hex.EncodeToString(h[:8])
		}
	}
	return out
}

// qdrantUnknown reports whether the provider's qdrant block holds a value not known yet (plan time).
func qdrantUnknown(data *shared.ProviderData) bool { return data.Qdrant != nil && data.Qdrant.Unknown }

// qdrantEnvAttrs names the provider attribute behind each Qdrant variable of the job.
var qdrantEnvAttrs = map[string]string{envQdrantURL: "url", envQdrantREST: "rest_url", envQdrantKey: "api_key",
	envQdrantTLS: "tls", envQdrantCACert: "ca_cert"}

// changedQdrantAttrs lists, sorted, the provider qdrant attributes whose variables differ between two digests.
func changedQdrantAttrs(a, b map[string]string) []string {
	var out []string
	for _, name := range qdrantEnvNames {
		if a[name] != b[name] {
			out = append(out, "qdrant."+qdrantEnvAttrs[name])
		}
	}
	sort.Strings(out)
	return out
}

// qdrantEnvMatches reports whether the container's Qdrant environment is the one qdrantEnv writes for the
// spec: a connection changed outside Terraform, or a provider whose qdrant block changed, shows in the plan.
func qdrantEnvMatches(data *shared.ProviderData, s policySpec, c *runpb.Container) bool {
	want := map[string]string{}
	for _, e := range qdrantEnv(data, s) {
		want[e.GetName()] = e.GetValue()
	}
	for _, name := range qdrantEnvNames {
		got, has := envValue(c, name)
		if w, ok := want[name]; has != ok || got != w {
			return false
		}
	}
	return true
}

// requireQdrant refuses at plan time a policy with collections whose provider has no Qdrant cluster to
// back them up from: every scheduled run would fail with "no Qdrant cluster configured".
func requireQdrant(ctx context.Context, plan tfsdk.Plan, data *shared.ProviderData, diags *diag.Diagnostics) {
	var q *qdrantModel
	p := path.Root("qdrant")
	diags.Append(plan.GetAttribute(ctx, p, &q)...)
	if q == nil || q.Collections.IsNull() || data == nil {
		return
	}
	at := p.AtName("collections")
	if data.Qdrant == nil {
		summary, detail := shared.MissingBlockError(policyType, shared.BlockQdrant)
		diags.AddAttributeError(at, summary, detail+" The backup runner reaches the collections' cluster with it.")
		return
	}
	// A value not known yet (it comes from another resource) is checked when the plan is made again at
	// apply, with every value known.
	var missing []string
	if data.Qdrant.URL == "" && !data.Qdrant.URLUnknown {
		missing = append(missing, "qdrant.url ("+envQdrantURL+")")
	}
	if data.Qdrant.RESTURL == "" && !data.Qdrant.RESTURLUnknown {
		missing = append(missing, "qdrant.rest_url ("+envQdrantREST+")")
	}
	if len(missing) > 0 {
		diags.AddAttributeError(at, "Incomplete provider qdrant block",
			fmt.Sprintf("%s backs up collections through the gRPC API and the REST snapshots of the provider's Qdrant cluster: set the provider's %s.", policyType, strings.Join(missing, " and ")))
	}
}
