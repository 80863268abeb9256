package inventory_test

import (
	"context"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest"
	"github.com/alfred-platform/terraform-provider-alfred/internal/acctest/inventory"
	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/supervisor"
)

func TestMain(m *testing.M) { acctest.Main(m) }

// TestTakeListsWhatWasMadeAndNamesDuplicates makes objects in several areas of a fresh sandbox through
// the official clients and checks that the inventory lists each of them, with nothing skipped, and names
// two alert policies with one display name as duplicates.
func TestTakeListsWhatWasMadeAndNamesDuplicates(t *testing.T) {
	vgw, err := acctest.InstallVersityGW()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := supervisor.Start(context.Background(), supervisor.Config{Dir: t.TempDir(), VersityGWPath: vgw, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sb.Stop)
	env := sb.Env
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	before, err := inventory.Take(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(before.Skipped) != 0 {
		t.Fatalf("the sandbox's environment covers every area, but these were skipped: %v", before.Skipped)
	}
	if d := before.Duplicates(); len(d) != 0 {
		t.Fatalf("a fresh sandbox has duplicates: %v", d)
	}

	// Cloud Monitoring: two policies with one display name (the API names them itself).
	mc, err := monitoring.NewAlertPolicyClient(ctx, option.WithEndpoint(env["ALFRED_GCP_MONITORING_ENDPOINT"]),
		option.WithoutAuthentication(), option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = mc.Close() }()
	for i := 0; i < 2; i++ {
		_, err := mc.CreateAlertPolicy(ctx, &monitoringpb.CreateAlertPolicyRequest{
			Name: "projects/" + env["ALFRED_GCP_PROJECT"],
			AlertPolicy: &monitoringpb.AlertPolicy{
				DisplayName: "twice",
				Combiner:    monitoringpb.AlertPolicy_OR,
				Conditions: []*monitoringpb.AlertPolicy_Condition{{
					DisplayName: "up",
					Condition: &monitoringpb.AlertPolicy_Condition_ConditionPrometheusQueryLanguage{
						ConditionPrometheusQueryLanguage: &monitoringpb.AlertPolicy_Condition_PrometheusQueryLanguageCondition{
							Query: "vector(1) > 0", DisableMetricValidation: true,
						},
					},
				}},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// Qdrant: a collection.
	qc, err := qdrant.NewClient(&qdrant.Config{Host: strings.Split(env["ALFRED_QDRANT_URL"], ":")[0],
		Port: port(t, env["ALFRED_QDRANT_URL"]), APIKey: env["QDRANT_API_KEY"], SkipCompatibilityCheck: true, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = qc.Close() }()
	if err := qc.CreateCollection(ctx, &qdrant.CreateCollection{CollectionName: "inv_docs",
		VectorsConfig: qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine})}); err != nil {
		t.Fatal(err)
	}

	// PostgreSQL: a partitioned table with one partition and a row policy.
	conn, err := pgx.Connect(ctx, env["ALFRED_POSTGRES_DSN"])
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	if _, err := conn.Exec(ctx, `create table inv_events (at timestamptz not null) partition by range (at);
		create table inv_events_2026 partition of inv_events for values from ('2026-01-01') to ('2027-01-01');
		create table inv_notes (id int); alter table inv_notes enable row level security;
		create policy inv_own on inv_notes using (true)`); err != nil {
		t.Fatal(err)
	}

	// S3: an object and an unfinished multipart upload.
	sc := s3.New(s3.Options{Region: env["AWS_REGION"], UsePathStyle: true, BaseEndpoint: aws.String(env["ALFRED_S3_ENDPOINT"]),
		Credentials: credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], "")})
	if _, err := sc.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("inv-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("inv-bucket"), Key: aws.String("a/b"),
		Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("inv-bucket"),
		Key: aws.String("half")}); err != nil {
		t.Fatal(err)
	}

	after, err := inventory.Take(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	added := after.Minus(before)
	got := map[string][]string{}
	for _, it := range added {
		got[it.Kind] = append(got[it.Kind], it.Name)
	}
	if n := len(got[inventory.AlertPolicy]); n != 2 {
		t.Errorf("alert policies added: %d, want 2\n%s", n, inventory.Format(added))
	}
	for kind, want := range map[string]string{
		inventory.QdrantCollection: "inv_docs",
		inventory.Partition:        "public.inv_events_2026",
		inventory.RowPolicy:        "public.inv_notes inv_own",
		inventory.S3Object:         "inv-bucket/a/b",
	} {
		if !slices.Contains(got[kind], want) {
			t.Errorf("%s: want %q among the added items, got %v", kind, want, got[kind])
		}
	}
	if ups := got[inventory.S3Upload]; len(ups) != 1 || !strings.HasPrefix(ups[0], "inv-bucket/half ") {
		t.Errorf("unfinished uploads added: %v, want one of inv-bucket/half", ups)
	}
	dups := after.Duplicates()
	if len(dups) != 1 || !strings.Contains(dups[0], `monitoring.alert_policy "twice" (2 objects)`) {
		t.Errorf("duplicates: %v, want the two policies named twice", dups)
	}
}

func port(t *testing.T, hostport string) int {
	t.Helper()
	_, text, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(text)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
