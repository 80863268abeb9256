package backuppolicy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/backup"
	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// The runner's secrets travel as environment variables of the Cloud Run job, never as arguments (which
// Cloud Run shows in execution details and alfredctl would print in errors). See the resource description
// for what this means and what production should use instead.
const (
	envDSN       = "ALFRED_POSTGRES_DSN"
	envKeyset    = backup.KeyEnv
	envS3Key     = "AWS_ACCESS_KEY_ID"
	envS3Secret  = "AWS_SECRET_ACCESS_KEY"
	envInsecure  = "ALFRED_GCP_INSECURE"
	managedLabel = "alfred-backup-policy"
)

// policySpec is what a policy asks of its runner, in plain values.
type policySpec struct {
	bucket, prefix string
	sse, kmsKeyID  string
	keepLast       int64
	maxAge         string
	databases      []string
	collections    []string
	service        string // the metric's service label: the policy's name
}

func strList(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

func specOf(ctx context.Context, m *policyModel, diags *diag.Diagnostics) policySpec {
	s := policySpec{bucket: m.Destination.Bucket.ValueString(), prefix: m.Destination.Prefix.ValueString(),
		sse: m.Destination.SSE.ValueString(), kmsKeyID: m.Destination.KMSKeyID.ValueString(),
		keepLast: m.Retention.KeepLast.ValueInt64(), maxAge: m.Retention.MaxAge.ValueString(), service: m.Name.ValueString()}
	if m.Postgres != nil {
		s.databases = strList(ctx, m.Postgres.Databases, diags)
	}
	if m.Qdrant != nil {
		s.collections = strList(ctx, m.Qdrant.Collections, diags)
	}
	return s
}

// args renders `alfredctl backup run` for the spec. The endpoints of the provider's s3 and gcp blocks are
// passed on when they override the defaults (the sandbox); in production they are empty and the runner
// uses AWS S3 (or the endpoint of the s3 block) and Google's Cloud Monitoring.
func (s policySpec) args(data *shared.ProviderData, project, region string) []string {
	a := []string{"backup", "run", "--bucket", s.bucket, "--prefix", s.prefix, "--keep-last", strconv.FormatInt(s.keepLast, 10)}
	if s.maxAge != "" {
		a = append(a, "--max-age", s.maxAge)
	}
	if s.sse != "" {
		a = append(a, "--sse", s.sse)
	}
	if s.kmsKeyID != "" {
		a = append(a, "--sse-kms-key-id", s.kmsKeyID)
	}
	for _, d := range s.databases {
		a = append(a, "--database", d)
	}
	for _, c := range s.collections {
		a = append(a, "--qdrant-collection", c)
	}
	a = append(a, "--record-metric", "--metric-project", project, "--metric-location", region, "--metric-service", s.service)
	if data.S3 != nil && data.S3.Endpoint != "" {
		a = append(a, "--s3-endpoint", data.S3.Endpoint)
	}
	if data.S3 != nil && data.S3.Region != "" {
		a = append(a, "--region", data.S3.Region)
	}
	if data.GCP.MonitoringEndpoint != "" {
		a = append(a, "--metric-endpoint", data.GCP.MonitoringEndpoint)
	}
	return a
}

// parseArgs reads back the spec from a job's arguments; ok is false when they hold anything args would
// not write.
func parseArgs(a []string) (s policySpec, ok bool) {
	if len(a) < 2 || a[0] != "backup" || a[1] != "run" {
		return s, false
	}
	seenRecord := false
	for i := 2; i < len(a); i++ {
		flag := a[i]
		if flag == "--record-metric" {
			seenRecord = true
			continue
		}
		if i+1 >= len(a) {
			return s, false
		}
		v := a[i+1]
		i++
		switch flag {
		case "--bucket":
			s.bucket = v
		case "--prefix":
			s.prefix = v
		case "--keep-last":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return s, false
			}
			s.keepLast = n
		case "--max-age":
			s.maxAge = v
		case "--sse":
			s.sse = v
		case "--sse-kms-key-id":
			s.kmsKeyID = v
		case "--database":
			s.databases = append(s.databases, v)
		case "--qdrant-collection":
			s.collections = append(s.collections, v)
		case "--metric-service":
			s.service = v
		case "--metric-project", "--metric-location", "--s3-endpoint", "--region", "--metric-endpoint":
			// connection settings: compared as a whole by the caller
		default:
			return s, false
		}
	}
	return s, seenRecord
}

// jobOf builds the Cloud Run job of a fully known policy.
func jobOf(data *shared.ProviderData, m *policyModel, s policySpec) *runpb.Job {
	project, region := m.Runner.Project.ValueString(), m.Runner.Region.ValueString()
	env := []*runpb.EnvVar{
		{Name: envKeyset, Values: &runpb.EnvVar_Value{Value: m.EncryptionKey.ValueString()}},
	}
	if m.Postgres != nil {
		env = append(env, &runpb.EnvVar{Name: envDSN, Values: &runpb.EnvVar_Value{Value: m.Postgres.DSN.ValueString()}})
	}
	if data.S3 != nil && data.S3.AccessKeyID != "" {
		env = append(env, &runpb.EnvVar{Name: envS3Key, Values: &runpb.EnvVar_Value{Value: data.S3.AccessKeyID}},
			&runpb.EnvVar{Name: envS3Secret, Values: &runpb.EnvVar_Value{Value: data.S3.SecretAccessKey}})
	}
	if data.GCP.Insecure {
		env = append(env, &runpb.EnvVar{Name: envInsecure, Values: &runpb.EnvVar_Value{Value: "true"}})
	}
	env = append(env, qdrantEnv(data, s)...)
	return &runpb.Job{
		Name:   jobName(project, region, m.Name.ValueString()),
		Labels: map[string]string{"managed-by": managedLabel},
		Client: "terraform-provider-alfred",
		Template: &runpb.ExecutionTemplate{
			TaskCount: 1,
			Template: &runpb.TaskTemplate{
				Containers:     []*runpb.Container{{Image: m.Runner.Image.ValueString(), Args: s.args(data, project, region), Env: env}},
				ServiceAccount: m.Runner.ServiceAccount.ValueString(),
				Timeout:        taskTimeout,
				// A failed run is not retried by Cloud Run: the next scheduled run, or the scheduler's own
				// retry, tries again, and a half-written set is removed by the next prune.
				Retries: &runpb.TaskTemplate_MaxRetries{MaxRetries: 0},
			},
		},
	}
}

func envValue(c *runpb.Container, name string) (string, bool) {
	for _, e := range c.GetEnv() {
		if e.GetName() == name {
			return e.GetValue(), true
		}
	}
	return "", false
}

// schedulerJobOf builds the Cloud Scheduler job that runs the Cloud Run job with an OAuth token of the
// runner's service account (a Google API target needs an OAuth token, not an OIDC one:
// https://cloud.google.com/scheduler/docs/http-target-auth).
func schedulerJobOf(m *policyModel, cron, zone string) *schedulerpb.Job {
	project, region := m.Runner.Project.ValueString(), m.Runner.Region.ValueString()
	job := jobName(project, region, m.Name.ValueString())
	return &schedulerpb.Job{
		Name:        job, // the same path under the Cloud Scheduler API
		Description: "alfred_backup_policy " + m.Name.ValueString() + ": runs the Cloud Run job " + job,
		Schedule:    cron,
		TimeZone:    zone,
		Target: &schedulerpb.Job_HttpTarget{HttpTarget: &schedulerpb.HttpTarget{
			Uri:        runURI(job),
			HttpMethod: schedulerpb.HttpMethod_POST,
			AuthorizationHeader: &schedulerpb.HttpTarget_OauthToken{OauthToken: &schedulerpb.OAuthToken{
				ServiceAccountEmail: m.Runner.ServiceAccount.ValueString(), Scope: cloudPlatformScope,
			}},
		}},
	}
}

// targetMatches reports whether the scheduler job still runs job with an OAuth token of sa.
func targetMatches(sj *schedulerpb.Job, job, sa string) bool {
	h := sj.GetHttpTarget()
	tok := h.GetOauthToken()
	return h != nil && h.GetUri() == runURI(job) && h.GetHttpMethod() == schedulerpb.HttpMethod_POST && tok != nil &&
		strings.EqualFold(tok.GetServiceAccountEmail(), sa) && (tok.GetScope() == "" || tok.GetScope() == cloudPlatformScope)
}

func listValue(v []string) types.List {
	el := make([]string, len(v))
	copy(el, v)
	l, _ := types.ListValueFrom(context.Background(), types.StringType, el)
	return l
}

func equalArgs(a, b []string) bool { return slices.Equal(a, b) }

func describeDrift(what string) string { return fmt.Sprintf("(%s changed outside Terraform)", what) }
