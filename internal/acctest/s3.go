package acctest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/alfred-platform/terraform-provider-alfred/internal/sandbox/localproc"
)

var (
	s3Mu     sync.Mutex
	s3Server *localproc.S3Server
	s3Err    error
)

// S3 returns the test run's versitygw, starting it on first use; Main stops it after the tests.
func S3(t testing.TB) *localproc.S3Server {
	t.Helper()
	s3Mu.Lock()
	defer s3Mu.Unlock()
	if s3Server == nil && s3Err == nil {
		dir, err := os.MkdirTemp("", "alfred-s3-")
		if err != nil {
			s3Err = err
		} else if bin, err := InstallVersityGW(); err != nil {
			s3Err = err
		} else if s3Server, s3Err = localproc.StartS3(bin, dir, 0, "", ""); s3Err == nil {
			addCleanup(func() { s3Server.Stop(); _ = os.RemoveAll(dir) })
		}
	}
	if s3Err != nil {
		t.Fatalf("starting versitygw: %v", s3Err)
	}
	return s3Server
}

// CreateBucket creates bucket in the object store of a sandbox whose environment is env
// (ALFRED_S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), for resources that need a
// bucket to exist, such as alfred_backup_policy.
func CreateBucket(t testing.TB, env map[string]string, bucket string) {
	t.Helper()
	c := s3.New(s3.Options{Region: env["AWS_REGION"], UsePathStyle: true, BaseEndpoint: aws.String(env["ALFRED_S3_ENDPOINT"]),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: env["AWS_ACCESS_KEY_ID"], SecretAccessKey: env["AWS_SECRET_ACCESS_KEY"]}, nil
		})})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
}
