package agentservice

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
)

// Documented Cloud Run defaults, which the schema shows as defaults.
const (
	defaultPort         = 8080
	defaultCPU          = "1000m"
	defaultMemory       = "512Mi"
	defaultMaxInstances = 100
	defaultConcurrency  = 80
	defaultTimeout      = "300s"
	defaultMetricsPath  = "/metrics"
	invokerRole         = "roles/run.invoker"
	// Annotations under which the metrics endpoint is recorded on the service. Cloud Run serves one port;
	// these tell scrapers (and alfred_prometheus_scrape_config) where the agent exposes /metrics.
	annotationMetricsPort = "alfred.dev/metrics-port"
	annotationMetricsPath = "alfred.dev/metrics-path"
)

const (
	secretMsg  = "must be a secret name of letters, digits, _ and - (at most 255), or projects/{project}/secrets/{name}"
	versionMsg = `must be "latest" or a positive number such as "3"`
)

var ingressValues = []string{"all", "internal", "internal-and-cloud-load-balancing"}

func agentServiceSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		MarkdownDescription: "An Alfred agent running as a Cloud Run (v2) service. Apply waits until the new revision " +
			"is ready; a failed rollout is an error quoting the service's terminal condition. A failed create leaves the resource " +
			"tainted in state. After a failed update Cloud Run holds the new template but keeps serving the previous revision: " +
			"the next plans show the serving revision's settings, `terminal_condition` and an update, until an apply makes the " +
			"configured template serve. Destroying or replacing the service requires `deletion_protection = false` first. The service is private unless `invokers` grants `roles/run.invoker`. An update changes only the " +
			"fields this resource manages: what other tools set on the service (other labels and annotations, the description, " +
			"their sidecar containers and volumes, a traffic split or pin) is kept. VPC access is this resource's: `vpc_access` " +
			"unset means none.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Full resource name, " +
				"`projects/{project}/locations/{region}/services/{name}`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Service name: lowercase letters, digits " +
				"and hyphens, starting with a letter, at most 49 characters. Changing it replaces the service.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{stringvalidator.RegexMatches(serviceNameRE, "must use lowercase letters, digits "+
					"and hyphens, start with a letter, not end with a hyphen and have at most 49 characters")}},
			"project": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project ID. Defaults " +
				"to the provider's `gcp.project`. Changing it replaces the service.",
				Validators: []validator.String{shared.ProjectID()}},
			"region": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Region, e.g. " +
				"`europe-west1`. Defaults to the provider's `gcp.region`. Changing it replaces the service.",
				Validators: []validator.String{shared.Region()}},
			"image": schema.StringAttribute{Required: true, MarkdownDescription: "Container image reference: " +
				"`[registry/]path[:tag][@digest]` with a lowercase path, e.g. `europe-docker.pkg.dev/project/repo/agent:1.2`.",
				Validators: []validator.String{shared.ImageReference()}},
			"command": schema.ListAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Entrypoint, replacing the image's ENTRYPOINT.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)}},
			"args": schema.ListAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Arguments, replacing the image's CMD.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)}},
			"port": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(defaultPort),
				MarkdownDescription: "Port the container listens on (Cloud Run passes it as PORT). Default 8080.",
				Validators:          []validator.Int64{int64validator.Between(1, 65535)}},
			"env": schema.MapAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Plain environment variables. Put secrets in `secret_env`.",
				Validators:          []validator.Map{envKeysValidator{}}},
			"secret_env": schema.MapNestedAttribute{Optional: true,
				MarkdownDescription: "Environment variables read from Secret Manager at start-up. Only the reference " +
					"(secret and version) is sent to Cloud Run and kept in state; the provider never reads the value.",
				Validators: []validator.Map{envKeysValidator{}},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"secret": schema.StringAttribute{Required: true, MarkdownDescription: "Secret name, or " +
						"`projects/{project}/secrets/{name}`.",
						Validators: []validator.String{stringvalidator.RegexMatches(secretRE, secretMsg)}},
					"version": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("latest"),
						MarkdownDescription: "Secret version: `latest` (default) or a version number.",
						Validators:          []validator.String{stringvalidator.RegexMatches(versionRE, versionMsg)}},
				}}},
			"cpu": schema.StringAttribute{CustomType: quantityType{}, Optional: true, Computed: true,
				Default: stringdefault.StaticString(defaultCPU), PlanModifiers: []planmodifier.String{keepEquivalentState(quantityType{})},
				MarkdownDescription: "CPU limit: `1`, `2`, `4`, `6`, `8` (or `1000m`...), or 0.08–1 with `concurrency = 1`. " +
					"Default `1000m`, which Cloud Run fills in when unset. `1` and `1000m` are the same value: a change of spelling " +
					"alone is not a change.",
				Validators: []validator.String{cpuValidator()}},
			"memory": schema.StringAttribute{CustomType: quantityType{}, Optional: true, Computed: true,
				Default: stringdefault.StaticString(defaultMemory), PlanModifiers: []planmodifier.String{keepEquivalentState(quantityType{})},
				MarkdownDescription: "Memory limit, 128Mi to 32Gi. Default `512Mi`. `1Gi` and `1024Mi` are the same value: " +
					"a change of spelling alone is not a change.",
				Validators: []validator.String{memoryValidator()}},
			"min_instances": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				MarkdownDescription: "Instances kept warm. Default 0.",
				Validators:          []validator.Int64{int64validator.Between(0, 1000)}},
			"max_instances": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(defaultMaxInstances),
				MarkdownDescription: "Upper bound of autoscaling. Default 100.",
				Validators:          []validator.Int64{int64validator.Between(1, 1000)}},
			"concurrency": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(defaultConcurrency),
				MarkdownDescription: "Concurrent requests per instance, 1 to 1000. Default 80.",
				Validators:          []validator.Int64{int64validator.Between(1, 1000)}},
			"timeout": schema.StringAttribute{CustomType: durationType{}, Optional: true, Computed: true,
				Default: stringdefault.StaticString(defaultTimeout), PlanModifiers: []planmodifier.String{keepEquivalentState(durationType{})},
				MarkdownDescription: "Request timeout, 1s to 3600s. Default `300s`. `5m` and `300s` are the same value: " +
					"a change of spelling alone is not a change.",
				Validators: []validator.String{timeoutValidator()}},
			"service_account": schema.StringAttribute{Optional: true, Computed: true,
				MarkdownDescription: "Service account email the agent runs as. Defaults to the project's Compute Engine default service account.",
				Validators:          []validator.String{stringvalidator.RegexMatches(emailRE, "must be a service account's email address, e.g. agent@my-project.iam.gserviceaccount.com")}},
			"ingress": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("all"),
				MarkdownDescription: "Who can reach the service over the network: `all` (default), `internal` or `internal-and-cloud-load-balancing`.",
				Validators:          []validator.String{stringvalidator.OneOf(ingressValues...)}},
			"invokers": schema.SetAttribute{ElementType: types.StringType, Optional: true, Computed: true,
				Default: setdefault.StaticValue(types.SetValueMust(types.StringType, []attr.Value{})),
				MarkdownDescription: "Principals granted `roles/run.invoker` on the service, e.g. `serviceAccount:bot@p.iam.gserviceaccount.com`. " +
					"Empty (the default) keeps the service private: callers need a token of a principal holding the role. " +
					"`allUsers` makes it public and is never added implicitly. This attribute owns the whole unconditional " +
					"`roles/run.invoker` binding of the service: members granted that role by other means (another IAM member or " +
					"binding resource, the console) are removed on the next apply, so do not mix it with separate IAM resources for " +
					"this role; bindings of other roles and conditional bindings are kept. Emails compare as Google compares them, " +
					"case-insensitively (IAM returns them lower-cased): `user:Alice@Example.com` and `user:alice@example.com` are " +
					"the same member, and the spelling written in the configuration is kept.",
				PlanModifiers: []planmodifier.Set{keepEquivalentMembers()},
				Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.RegexMatches(memberRE,
					"must be allUsers, allAuthenticatedUsers, user:EMAIL, serviceAccount:EMAIL, group:EMAIL or domain:DOMAIN")),
					distinctMembersValidator{}}},
			"labels": schema.MapAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Labels on the service. Labels Google adds are not shown and never cause a diff.",
				Validators:          []validator.Map{labelsValidator{}, mapvalidator.SizeAtMost(64)}},
			"metrics": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Prometheus metrics of the agent, written to Cloud Monitoring by Google's Managed Service for " +
					"Prometheus sidecar for Cloud Run. Cloud Run routes each request to one instance and exposes one port, so a " +
					"Prometheus outside cannot scrape every instance through the service URL; with `metrics` set, the service runs " +
					"the sidecar (container `" + sidecarName + "`, started after the agent container), which scrapes the agent inside each " +
					"instance and writes to Cloud Monitoring, where PromQL alert policies read. Google recommends `cpu_idle = false` " +
					"with it, so that scrapes are not throttled between requests. The endpoint is also recorded as the service " +
					"annotations `alfred.dev/metrics-port` and `alfred.dev/metrics-path`.",
				Attributes: map[string]schema.Attribute{
					"port": schema.Int64Attribute{Optional: true, MarkdownDescription: "Metrics port inside the instance; unset means the service port.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"path": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultMetricsPath),
						MarkdownDescription: "Metrics path. Default `/metrics`.",
						Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^/[^\s?#]*$`), "must start with / and have no spaces, query or fragment")}},
					"sidecar_image": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultSidecarImage),
						MarkdownDescription: "Image of the sidecar. Default `" + defaultSidecarImage + "`.",
						Validators:          []validator.String{shared.ImageReference()}},
					"config_secret": schema.StringAttribute{Optional: true,
						MarkdownDescription: "Secret Manager secret holding a `RunMonitoring` configuration, mounted as " +
							"`" + sidecarConfigDir + "/" + sidecarConfigFile + "` in the sidecar. Without it the sidecar scrapes port 8080 at `/metrics` " +
							"every 30 s, so it is required when the metrics port (or the service port, when `port` is unset) is not 8080 " +
							"or the path is not `/metrics`.",
						Validators: []validator.String{stringvalidator.RegexMatches(secretRE, secretMsg)}},
				}},
			"cpu_idle": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether CPU is allocated only while requests are served (`true`, Cloud Run's default). `false` keeps " +
					"CPU always allocated (instance-based billing), for agents that work between requests, e.g. consuming a queue."},
			"startup_cpu_boost": schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(false),
				MarkdownDescription: "Boost CPU while an instance starts, to shorten cold starts. Default `false`, as in the API."},
			"startup_probe":  probeSchema(true),
			"liveness_probe": probeSchema(false),
			"vpc_access": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Egress into a VPC network: Direct VPC egress (`network` and/or `subnetwork`) or a Serverless VPC " +
					"Access `connector`, not both. Unset means no VPC access.",
				Attributes: map[string]schema.Attribute{
					"network": schema.StringAttribute{Optional: true, MarkdownDescription: "VPC network (name or `projects/{project}/global/networks/{name}`) for Direct VPC egress. When only `subnetwork` is set, Cloud Run looks the network up.",
						Validators: []validator.String{stringvalidator.RegexMatches(networkRE, "must be a network name or projects/{project}/global/networks/{name}"),
							stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("connector"))}},
					"subnetwork": schema.StringAttribute{Optional: true, MarkdownDescription: "Subnetwork (name or `projects/{project}/regions/{region}/subnetworks/{name}`) for Direct VPC egress.",
						Validators: []validator.String{stringvalidator.RegexMatches(subnetworkRE, "must be a subnetwork name or projects/{project}/regions/{region}/subnetworks/{name}"),
							stringvalidator.ConflictsWith(path.MatchRelative().AtParent().AtName("connector"))}},
					"connector": schema.StringAttribute{Optional: true, MarkdownDescription: "Serverless VPC Access connector, `projects/{project}/locations/{region}/connectors/{name}`.",
						Validators: []validator.String{stringvalidator.RegexMatches(connectorRE, "must be projects/{project}/locations/{region}/connectors/{name}"),
							stringvalidator.AtLeastOneOf(path.MatchRelative().AtParent().AtName("network"), path.MatchRelative().AtParent().AtName("subnetwork"))}},
					"egress": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultEgress),
						MarkdownDescription: "`private-ranges-only` (default, as in the API) sends only private ranges through the VPC; `all-traffic` sends everything.",
						Validators:          []validator.String{stringvalidator.OneOf("all-traffic", "private-ranges-only")}},
				}},
			"execution_environment": schema.StringAttribute{Optional: true,
				MarkdownDescription: "`gen1` or `gen2` (which needs at least 512Mi of memory). Unset lets Cloud Run choose.",
				Validators:          []validator.String{stringvalidator.OneOf("gen1", "gen2")}},
			"secret_volumes": schema.MapNestedAttribute{Optional: true,
				MarkdownDescription: "Secret Manager secrets mounted as files, keyed by the absolute mount path (a directory; not `/dev`, " +
					"`/proc`, `/sys` or below them). Each mount holds one file, `path`, with the secret's `version`. Only references are sent and kept.",
				Validators: []validator.Map{mapvalidator.KeysAre(stringvalidator.RegexMatches(regexp.MustCompile(`^/[^\s:]*[^/\s:]$`),
					"must be an absolute directory path without a trailing slash"), mountPathValidator{})},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"secret": schema.StringAttribute{Required: true, MarkdownDescription: "Secret name, or `projects/{project}/secrets/{name}`.",
						Validators: []validator.String{stringvalidator.RegexMatches(secretRE, secretMsg)}},
					"version": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("latest"),
						MarkdownDescription: "Secret version: `latest` (default) or a version number.",
						Validators:          []validator.String{stringvalidator.RegexMatches(versionRE, versionMsg)}},
					"path": schema.StringAttribute{Required: true, MarkdownDescription: "File name under the mount path, e.g. `key.json`.",
						Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`),
							"must be a relative file path of letters, digits, ., _ and - (no part starting with .)")}},
				}}},
			"tracing": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "LangSmith tracing, rendered as the environment variables LangSmith's SDKs read: `LANGSMITH_TRACING=true`, " +
					"`LANGSMITH_PROJECT`, `LANGSMITH_ENDPOINT` (when set) and `LANGSMITH_API_KEY` from Secret Manager (version `latest`). " +
					"These names, and `LANGSMITH_TRACING_V2` and `LANGCHAIN_TRACING_V2` (which the SDKs read first), may then not " +
					"appear in `env` or `secret_env`. The older `LANGCHAIN_*` names are not set: the SDKs prefer the `LANGSMITH_*` ones.",
				Attributes: map[string]schema.Attribute{
					"langsmith_project": schema.StringAttribute{Required: true, MarkdownDescription: "LangSmith project the traces go to.",
						Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
					"langsmith_endpoint": schema.StringAttribute{Optional: true, MarkdownDescription: "API URL, e.g. `https://eu.api.smith.langchain.com` " +
						"for the EU region or a self-hosted instance. Unset means the SDK's default (US).",
						Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^https?://[^\s/]+(/[^\s]*[^\s/])?$`),
							"must be an http(s) URL without a trailing slash")}},
					"api_key_secret": schema.StringAttribute{Required: true, MarkdownDescription: "Secret Manager secret holding the LangSmith API key.",
						Validators: []validator.String{stringvalidator.RegexMatches(secretRE, secretMsg)}},
				}},
			"uri": schema.StringAttribute{Computed: true, MarkdownDescription: "The service's `run.app` URL.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"latest_ready_revision": schema.StringAttribute{Computed: true,
				MarkdownDescription: "Full resource name of the latest ready revision, " +
					"`projects/{project}/locations/{region}/services/{name}/revisions/{revision}`, as the Cloud Run API returns it; " +
					"changes whenever the container configuration changes. It serves all traffic unless the traffic was split or " +
					"pinned outside Terraform, which apply keeps. After a failed rollout it still names the revision that serves."},
			"latest_created_revision": latestCreatedRevisionAttribute(),
			"terminal_condition":      terminalConditionAttribute(),
			"deletion_protection":     deletionProtectionAttribute(),
		},
		Blocks: map[string]schema.Block{
			"timeouts": shared.TimeoutsBlock(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
