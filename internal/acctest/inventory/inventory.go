// Package inventory lists everything that exists in the sandbox's control planes, its PostgreSQL and its
// S3 store, through the same official clients and endpoints a user has (the environment of `alfredctl
// sandbox env`). Tests use it to prove that an apply made each object once (no duplicate), that a destroy
// or a crashed run left nothing behind (no orphan), and to compare two runs.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	logging "cloud.google.com/go/logging/apiv2"
	"cloud.google.com/go/logging/apiv2/loggingpb"
	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	psapi "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	scheduler "cloud.google.com/go/scheduler/apiv1"
	"cloud.google.com/go/scheduler/apiv1/schedulerpb"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"

	"github.com/alfred-platform/terraform-provider-alfred/internal/shared"
	"github.com/alfred-platform/terraform-provider-alfred/internal/supabase"
)

// Kinds of objects, one per listing.
const (
	RunService          = "run.service"
	RunJob              = "run.job"
	SchedulerJob        = "scheduler.job"
	AlertPolicy         = "monitoring.alert_policy"
	NotificationChannel = "monitoring.notification_channel"
	LogMetric           = "logging.metric"
	PubSubTopic         = "pubsub.topic"
	PubSubSubscription  = "pubsub.subscription"
	QdrantCollection    = "qdrant.collection"
	QdrantAlias         = "qdrant.alias"
	SupabaseReplica     = "supabase.read_replica"
	RBACRole            = "postgres.rbac_role"
	RBACAssignment      = "postgres.rbac_assignment"
	RBACTablePolicy     = "postgres.rbac_table_policy"
	RowPolicy           = "postgres.row_policy"
	Partition           = "postgres.partition"
	CronJob             = "postgres.cron_job"
	S3Object            = "s3.object"
	S3Upload            = "s3.multipart_upload"
)

// Item is one object. Name is its unique name in its API; Key is what makes two objects "the same thing"
// to a user, for APIs that assign the name themselves (an alert policy's display name, a replica's
// region): two items of one kind with one Key are duplicates.
type Item struct {
	Kind, Name, Key string
}

// Inventory is a listing of every kind it could reach; Skipped names the areas whose environment was
// not set.
type Inventory struct {
	Items   []Item
	Skipped []string
}

// Of returns the items of one kind.
func (inv *Inventory) Of(kind string) []Item {
	var out []Item
	for _, it := range inv.Items {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

// Names returns the names of one kind, sorted.
func (inv *Inventory) Names(kind string) []string {
	var out []string
	for _, it := range inv.Of(kind) {
		out = append(out, it.Name)
	}
	sort.Strings(out)
	return out
}

// Duplicates lists "kind key (n objects)" for every kind and key held by more than one object.
func (inv *Inventory) Duplicates() []string {
	count := map[[2]string]int{}
	for _, it := range inv.Items {
		count[[2]string{it.Kind, it.Key}]++
	}
	var out []string
	for k, n := range count {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s %q (%d objects)", k[0], k[1], n))
		}
	}
	sort.Strings(out)
	return out
}

// Minus returns the items of inv that other does not have (by kind and name): what a run added.
func (inv *Inventory) Minus(other *Inventory) []Item {
	have := map[[2]string]bool{}
	for _, it := range other.Items {
		have[[2]string{it.Kind, it.Name}] = true
	}
	var out []Item
	for _, it := range inv.Items {
		if !have[[2]string{it.Kind, it.Name}] {
			out = append(out, it)
		}
	}
	return out
}

// String lists the items one per line, sorted, for failure messages.
func (inv *Inventory) String() string {
	return Format(inv.Items)
}

// Format lists items one per line, sorted.
func Format(items []Item) string {
	lines := make([]string, 0, len(items))
	for _, it := range items {
		lines = append(lines, it.Kind+" "+it.Name)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Take lists everything reachable with env (the keys of `alfredctl sandbox env`). An area whose variables
// are absent is skipped and named in Skipped; an area that is configured but fails is an error.
func Take(ctx context.Context, env map[string]string) (*Inventory, error) {
	inv := &Inventory{}
	add := func(kind, name, key string) {
		if key == "" {
			key = name
		}
		inv.Items = append(inv.Items, Item{Kind: kind, Name: name, Key: key})
	}
	steps := []struct {
		area string
		need []string
		fn   func(context.Context, map[string]string, func(kind, name, key string)) error
	}{
		{"cloud run", []string{"ALFRED_GCP_PROJECT", "ALFRED_GCP_REGION", "ALFRED_GCP_RUN_ENDPOINT"}, cloudRun},
		{"cloud scheduler", []string{"ALFRED_GCP_PROJECT", "ALFRED_GCP_REGION", "ALFRED_GCP_SCHEDULER_ENDPOINT"}, cloudScheduler},
		{"cloud monitoring", []string{"ALFRED_GCP_PROJECT", "ALFRED_GCP_MONITORING_ENDPOINT"}, cloudMonitoring},
		{"cloud logging", []string{"ALFRED_GCP_PROJECT", "ALFRED_GCP_LOGGING_ENDPOINT"}, cloudLogging},
		{"pub/sub", []string{"ALFRED_GCP_PROJECT", "ALFRED_GCP_PUBSUB_ENDPOINT"}, pubSub},
		{"qdrant", []string{"ALFRED_QDRANT_URL"}, qdrantCollections},
		{"supabase", []string{"ALFRED_SUPABASE_API_URL", "SUPABASE_ACCESS_TOKEN", "ALFRED_SUPABASE_PROJECT_REF"}, supabaseReplicas},
		{"postgres", []string{"ALFRED_POSTGRES_DSN"}, postgres},
		{"s3", []string{"ALFRED_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, s3Objects},
	}
	var errs []error
	for _, s := range steps {
		missing := false
		for _, k := range s.need {
			if env[k] == "" {
				missing = true
			}
		}
		if missing {
			inv.Skipped = append(inv.Skipped, s.area)
			continue
		}
		if err := s.fn(ctx, env, add); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.area, err))
		}
	}
	sort.Slice(inv.Items, func(i, j int) bool {
		if inv.Items[i].Kind != inv.Items[j].Kind {
			return inv.Items[i].Kind < inv.Items[j].Kind
		}
		return inv.Items[i].Name < inv.Items[j].Name
	})
	return inv, errors.Join(errs...)
}

func gcpOptions(env map[string]string, endpointVar string) []option.ClientOption {
	insecure, _ := strconv.ParseBool(env["ALFRED_GCP_INSECURE"])
	cfg := shared.GCPConfig{Insecure: insecure}
	return cfg.ClientOptions(env[endpointVar])
}

// drain walks a google-cloud-go iterator.
func drain[T any](next func() (T, error), visit func(T)) error {
	for {
		v, err := next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		visit(v)
	}
}

func cloudRun(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	opts := gcpOptions(env, "ALFRED_GCP_RUN_ENDPOINT")
	svc, err := run.NewServicesClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = svc.Close() }()
	jobs, err := run.NewJobsClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = jobs.Close() }()
	parent := "projects/" + env["ALFRED_GCP_PROJECT"] + "/locations/" + env["ALFRED_GCP_REGION"]
	if err := drain(svc.ListServices(ctx, &runpb.ListServicesRequest{Parent: parent}).Next,
		func(s *runpb.Service) { add(RunService, s.GetName(), "") }); err != nil {
		return err
	}
	return drain(jobs.ListJobs(ctx, &runpb.ListJobsRequest{Parent: parent}).Next,
		func(j *runpb.Job) { add(RunJob, j.GetName(), "") })
}

func cloudScheduler(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	c, err := scheduler.NewCloudSchedulerClient(ctx, gcpOptions(env, "ALFRED_GCP_SCHEDULER_ENDPOINT")...)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	parent := "projects/" + env["ALFRED_GCP_PROJECT"] + "/locations/" + env["ALFRED_GCP_REGION"]
	return drain(c.ListJobs(ctx, &schedulerpb.ListJobsRequest{Parent: parent}).Next,
		func(j *schedulerpb.Job) { add(SchedulerJob, j.GetName(), "") })
}

func cloudMonitoring(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	opts := gcpOptions(env, "ALFRED_GCP_MONITORING_ENDPOINT")
	ap, err := monitoring.NewAlertPolicyClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = ap.Close() }()
	nc, err := monitoring.NewNotificationChannelClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = nc.Close() }()
	parent := "projects/" + env["ALFRED_GCP_PROJECT"]
	// Cloud Monitoring names policies and channels itself: the display name is what a user means.
	if err := drain(ap.ListAlertPolicies(ctx, &monitoringpb.ListAlertPoliciesRequest{Name: parent}).Next,
		func(p *monitoringpb.AlertPolicy) { add(AlertPolicy, p.GetName(), p.GetDisplayName()) }); err != nil {
		return err
	}
	return drain(nc.ListNotificationChannels(ctx, &monitoringpb.ListNotificationChannelsRequest{Name: parent}).Next,
		func(c *monitoringpb.NotificationChannel) {
			add(NotificationChannel, c.GetName(), c.GetType()+" "+c.GetDisplayName())
		})
}

func cloudLogging(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	c, err := logging.NewMetricsClient(ctx, gcpOptions(env, "ALFRED_GCP_LOGGING_ENDPOINT")...)
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	return drain(c.ListLogMetrics(ctx, &loggingpb.ListLogMetricsRequest{Parent: "projects/" + env["ALFRED_GCP_PROJECT"]}).Next,
		func(m *loggingpb.LogMetric) { add(LogMetric, m.GetName(), "") })
}

func pubSub(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	opts := gcpOptions(env, "ALFRED_GCP_PUBSUB_ENDPOINT")
	pub, err := psapi.NewTopicAdminClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = pub.Close() }()
	sub, err := psapi.NewSubscriptionAdminClient(ctx, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Close() }()
	project := "projects/" + env["ALFRED_GCP_PROJECT"]
	if err := drain(pub.ListTopics(ctx, &pubsubpb.ListTopicsRequest{Project: project}).Next,
		func(t *pubsubpb.Topic) { add(PubSubTopic, t.GetName(), "") }); err != nil {
		return err
	}
	return drain(sub.ListSubscriptions(ctx, &pubsubpb.ListSubscriptionsRequest{Project: project}).Next,
		func(s *pubsubpb.Subscription) { add(PubSubSubscription, s.GetName(), "") })
}

func qdrantCollections(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	host, portText, err := net.SplitHostPort(env["ALFRED_QDRANT_URL"])
	if err != nil {
		return fmt.Errorf("ALFRED_QDRANT_URL: %w", err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return fmt.Errorf("ALFRED_QDRANT_URL: %w", err)
	}
	tls, _ := strconv.ParseBool(env["ALFRED_QDRANT_TLS"])
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: port, APIKey: env["QDRANT_API_KEY"], UseTLS: tls,
		SkipCompatibilityCheck: true, PoolSize: 1})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	names, err := c.ListCollections(ctx)
	if err != nil {
		return err
	}
	for _, n := range names {
		add(QdrantCollection, n, "")
	}
	aliases, err := c.ListAliases(ctx)
	if err != nil {
		return err
	}
	for _, a := range aliases {
		add(QdrantAlias, a.GetAliasName(), "")
	}
	return nil
}

func supabaseReplicas(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	c := supabase.NewClient(env["ALFRED_SUPABASE_API_URL"], env["SUPABASE_ACCESS_TOKEN"], "inventory")
	ref := env["ALFRED_SUPABASE_PROJECT_REF"]
	dbs, err := c.Replicas(ctx, ref)
	if err != nil {
		return err
	}
	for _, d := range dbs {
		// Supabase names replicas itself; a second replica in one region is what a user would call a
		// duplicate of the first.
		add(SupabaseReplica, ref+"/"+d.Identifier, ref+" "+d.Region)
	}
	return nil
}

func postgres(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	conn, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var hasRBAC, hasCron bool
	if err := conn.QueryRow(ctx, `select to_regclass('alfred_rbac.roles') is not null,
		to_regclass('cron.job') is not null`).Scan(&hasRBAC, &hasCron); err != nil {
		return err
	}
	queries := []struct{ kind, sql string }{
		// Child partitions of every partitioned table, outside the system schemas.
		{Partition, `select format('%s.%s', n.nspname, c.relname) from pg_inherits i
			join pg_partitioned_table p on p.partrelid = i.inhparent
			join pg_class c on c.oid = i.inhrelid join pg_namespace n on n.oid = c.relnamespace`},
		{RowPolicy, `select format('%s.%s %s', schemaname, tablename, policyname) from pg_policies`},
	}
	if hasRBAC {
		queries = append(queries,
			struct{ kind, sql string }{RBACRole, `select name from alfred_rbac.roles`},
			struct{ kind, sql string }{RBACAssignment, `select principal || ' ' || role from alfred_rbac.assignments`},
			struct{ kind, sql string }{RBACTablePolicy, `select format('%s.%s', schema_name, table_name) from alfred_rbac.table_policies`},
		)
	}
	if hasCron {
		queries = append(queries, struct{ kind, sql string }{CronJob, `select coalesce(jobname, jobid::text) from cron.job`})
	}
	for _, q := range queries {
		rows, err := conn.Query(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("%s: %w", q.kind, err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("%s: %w", q.kind, err)
		}
		for _, n := range names {
			add(q.kind, n, "")
		}
	}
	return nil
}

func s3Objects(ctx context.Context, env map[string]string, add func(kind, name, key string)) error {
	region := env["AWS_REGION"]
	if region == "" {
		region = "us-east-1"
	}
	c := s3.New(s3.Options{
		Region: region, UsePathStyle: true, BaseEndpoint: aws.String(env["ALFRED_S3_ENDPOINT"]),
		Credentials: credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
	})
	buckets, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		return err
	}
	for _, b := range buckets.Buckets {
		bucket := aws.ToString(b.Name)
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: b.Name})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Errorf("bucket %s: %w", bucket, err)
			}
			for _, o := range page.Contents {
				add(S3Object, bucket+"/"+aws.ToString(o.Key), "")
			}
		}
		ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b.Name})
		if err != nil {
			return fmt.Errorf("bucket %s: %w", bucket, err)
		}
		for _, u := range ups.Uploads {
			add(S3Upload, bucket+"/"+aws.ToString(u.Key)+" "+aws.ToString(u.UploadId), "")
		}
	}
	return nil
}
