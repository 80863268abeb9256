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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
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

var ingressValues = []string{"all", "internal", "internal-and-cloud-load-balancing"}

func agentServiceSchema(ctx context.Context) schema.Schema {
	return schema.Schema{
		MarkdownDescription: "An Alfred agent running as a Cloud Run (v2) service. Apply waits until the new revision " +
			"is ready; a failed rollout is an error quoting the service's terminal condition. A failed create leaves the resource " +
			"tainted in state. After a failed update Cloud Run holds the new template but keeps serving the previous revision: " +
			"the next plans show the serving revision's settings, `terminal_condition` and an update, until an apply makes the " +
			"configured template serve. Destroying or replacing the service requires `deletion_protection = false` first. The service is private unless `invokers` grants `roles/run.invoker`. An update changes only the " +
			"fields this resource manages: what other tools set on the service (other labels and annotations, the description, " +
			"sidecar containers, volumes, VPC access, a traffic split or pin) is kept.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Computed: true, MarkdownDescription: "Full resource name, " +
				"`projects/{project}/locations/{region}/services/{name}`.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
			"name": schema.StringAttribute{Required: true, MarkdownDescription: "Service name: lowercase letters, digits " +
				"and hyphens, starting with a letter, at most 49 characters. Changing it replaces the service.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators: []validator.String{regexValidator(serviceNameRE, "a service name uses lowercase letters, digits "+
					"and hyphens, starts with a letter, does not end with a hyphen and has at most 49 characters")}},
			"project": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Project ID. Defaults " +
				"to the provider's `gcp.project`. Changing it replaces the service.",
				Validators: []validator.String{regexValidator(projectRE, "a project ID has 6 to 30 lowercase letters, digits and hyphens and starts with a letter")}},
			"region": schema.StringAttribute{Optional: true, Computed: true, MarkdownDescription: "Region, e.g. " +
				"`europe-west1`. Defaults to the provider's `gcp.region`. Changing it replaces the service.",
				Validators: []validator.String{regexValidator(regionRE, "a region looks like europe-west1 or us-central1")}},
			"image": schema.StringAttribute{Required: true, MarkdownDescription: "Container image URL.",
				Validators: []validator.String{stringvalidator.LengthAtLeast(1),
					regexValidator(regexp.MustCompile(`^[^\s]+$`), "an image reference has no spaces")}},
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
						Validators: []validator.String{regexValidator(secretRE, "a secret is a name of letters, digits, _ and - (at most 255), or projects/{project}/secrets/{name}")}},
					"version": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("latest"),
						MarkdownDescription: "Secret version: `latest` (default) or a version number.",
						Validators:          []validator.String{regexValidator(versionRE, "a secret version is \"latest\" or a positive number such as \"3\"")}},
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
				Validators:          []validator.String{regexValidator(emailRE, "a service account is an email address, e.g. agent@my-project.iam.gserviceaccount.com")}},
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
				Validators: []validator.Set{setvalidator.ValueStringsAre(regexValidator(memberRE,
					"a principal is allUsers, allAuthenticatedUsers, user:EMAIL, serviceAccount:EMAIL, group:EMAIL or domain:DOMAIN")),
					distinctMembersValidator{}}},
			"labels": schema.MapAttribute{ElementType: types.StringType, Optional: true,
				MarkdownDescription: "Labels on the service. Labels Google adds are not shown and never cause a diff.",
				Validators:          []validator.Map{labelsValidator{}, mapvalidator.SizeAtMost(64)}},
			"metrics": schema.SingleNestedAttribute{Optional: true,
				MarkdownDescription: "Where the agent serves Prometheus metrics. Recorded as the service annotations " +
					"`alfred.dev/metrics-port` and `alfred.dev/metrics-path`, for scrape configuration.",
				Attributes: map[string]schema.Attribute{
					"port": schema.Int64Attribute{Optional: true, MarkdownDescription: "Metrics port; unset means the service port.",
						Validators: []validator.Int64{int64validator.Between(1, 65535)}},
					"path": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString(defaultMetricsPath),
						MarkdownDescription: "Metrics path. Default `/metrics`.",
						Validators:          []validator.String{regexValidator(regexp.MustCompile(`^/[^\s?#]*$`), "a path starts with / and has no spaces, query or fragment")}},
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
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true, Delete: true}),
		},
	}
}
