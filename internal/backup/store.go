package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// StoreConfig says where backup sets live.
type StoreConfig struct {
	Bucket          string
	Prefix          string // e.g. "alfred/"; sets live under Prefix + set id + "/"
	Endpoint        string // empty: AWS
	Region          string
	AccessKeyID     string
	SecretAccessKey string
	// SSE asks the store to encrypt the objects at rest, on top of the client-side encryption: "" (the
	// bucket's default), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS, with KMSKeyID or the account's default key).
	SSE      string
	KMSKeyID string
}

// Store reads and writes backup sets in one bucket.
type Store struct {
	cfg StoreConfig
	s3  *s3.Client
}

// NewStore builds the S3 client; Check proves the bucket is reachable with these credentials.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("no bucket: pass --bucket")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Prefix != "" && !strings.HasSuffix(cfg.Prefix, "/") {
		cfg.Prefix += "/"
	}
	opts := s3.Options{
		Region:       cfg.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, ""),
		// Bounded retries: an unreachable endpoint must fail in seconds, not minutes.
		RetryMaxAttempts: 3,
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(cfg.Endpoint)
	}
	return &Store{cfg: cfg, s3: s3.New(opts)}, nil
}

// Check fails, with a sentence that says what to fix, when the bucket cannot be reached or written.
func (s *Store) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, err := s.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.cfg.Bucket)})
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	var re interface{ HTTPStatusCode() int }
	switch {
	case errors.As(err, &re) && (re.HTTPStatusCode() == 403 || re.HTTPStatusCode() == 401):
		return fmt.Errorf("the S3 store refused the credentials for bucket %q: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY", s.cfg.Bucket)
	case errors.As(err, &re) && re.HTTPStatusCode() == 404:
		return fmt.Errorf("bucket %q does not exist at %s: create it or fix --bucket", s.cfg.Bucket, s.endpointName())
	case errors.As(err, &apiErr):
		return fmt.Errorf("checking bucket %q at %s: %s", s.cfg.Bucket, s.endpointName(), apiErr.ErrorMessage())
	default:
		return fmt.Errorf("the S3 store at %s is unreachable (%v): check --s3-endpoint / ALFRED_S3_ENDPOINT", s.endpointName(), err)
	}
}

func (s *Store) endpointName() string {
	if s.cfg.Endpoint == "" {
		return "AWS S3"
	}
	return s.cfg.Endpoint
}

func (s *Store) setPrefix(id string) string { return s.cfg.Prefix + id + "/" }

// upload streams r into key with a multipart upload; parts are buffered in memory (PartSize x
// Concurrency), never on disk. On failure the transfer manager aborts the multipart upload; a killed
// process leaves it open, and the next run or prune aborts it.
func (s *Store) upload(ctx context.Context, key string, r io.Reader) error {
	tm := transfermanager.New(s.s3, func(o *transfermanager.Options) {
		o.PartSizeBytes = 8 << 20
		o.Concurrency = 2
	})
	in := &transfermanager.UploadObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key), Body: r,
		ServerSideEncryption: tmtypes.ServerSideEncryption(s.cfg.SSE)}
	if s.cfg.KMSKeyID != "" {
		in.SSEKMSKeyID = aws.String(s.cfg.KMSKeyID)
	}
	_, err := tm.UploadObject(ctx, in)
	return err
}

func (s *Store) open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	return out.Body, nil
}

// putManifest writes m with one PUT (atomic in S3: the manifest exists whole or not at all); halfSent, if
// set, is called once half of the body has gone to the HTTP transport.
func (s *Store) putManifest(ctx context.Context, m *Manifest, halfSent func()) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	var opts []func(*s3.Options)
	if halfSent != nil {
		opts = append(opts, func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				// Finalize, after signing: the only read of the body left is the transport's.
				return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("alfredHalfSent", func(ctx context.Context,
					in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
					if req, ok := in.Request.(*smithyhttp.Request); ok && req.GetStream() != nil {
						r, err := req.SetStream(&halfSentReader{r: req.GetStream(), half: int64(len(b)) / 2, fn: halfSent})
						if err != nil {
							return middleware.FinalizeOutput{}, middleware.Metadata{}, err
						}
						in.Request = r
					}
					return next.HandleFinalize(ctx, in)
				}), middleware.After)
			})
		})
	}
	_, err = s.s3.PutObject(ctx, s.withSSE(&s3.PutObjectInput{
		Bucket: aws.String(s.cfg.Bucket), Key: aws.String(s.setPrefix(m.ID) + manifestName),
		Body: bytes.NewReader(b), ContentType: aws.String("application/json"), ContentLength: aws.Int64(int64(len(b))),
	}), opts...)
	return err
}

// halfSentReader hands out at most 1 KiB a read (so the transport flushes what it has before the rest is
// read) and calls fn once half has been read.
type halfSentReader struct {
	r    io.Reader
	n    int64
	half int64
	fn   func()
}

func (h *halfSentReader) Read(p []byte) (int, error) {
	if h.fn != nil && h.n >= h.half {
		fn := h.fn
		h.fn = nil
		fn()
	}
	n, err := h.r.Read(p[:min(len(p), 1024)])
	h.n += int64(n)
	return n, err
}

// SetInfo is one set found in the store: Manifest is nil when the set is incomplete.
type SetInfo struct {
	ID       string
	Manifest *Manifest
	Keys     []string
}

// Sets lists every set under the prefix, oldest first; only those with a manifest are good backups.
func (s *Store) Sets(ctx context.Context) ([]SetInfo, error) {
	by := map[string]*SetInfo{}
	p := s3.NewListObjectsV2Paginator(s.s3, &s3.ListObjectsV2Input{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.cfg.Prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing backups in bucket %q: %w", s.cfg.Bucket, err)
		}
		for _, o := range page.Contents {
			rest := strings.TrimPrefix(aws.ToString(o.Key), s.cfg.Prefix)
			id, _, ok := strings.Cut(rest, "/")
			if !ok {
				continue
			}
			si := by[id]
			if si == nil {
				si = &SetInfo{ID: id}
				by[id] = si
			}
			si.Keys = append(si.Keys, aws.ToString(o.Key))
		}
	}
	var out []SetInfo
	for _, si := range by {
		for _, k := range si.Keys {
			if strings.HasSuffix(k, "/"+manifestName) {
				m, err := s.readManifest(ctx, k)
				if err == nil && m.ID == si.ID && m.Format == formatV1 {
					si.Manifest = m
				}
			}
		}
		out = append(out, *si)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *Store) readManifest(ctx context.Context, key string) (*Manifest, error) {
	rc, err := s.open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(rc, 16<<20)).Decode(&m); err != nil {
		return nil, err
	}
	return &m, nil
}

// Manifest returns the manifest of set id, or an error when the set is missing or incomplete.
func (s *Store) Manifest(ctx context.Context, id string) (*Manifest, error) {
	m, err := s.readManifest(ctx, s.setPrefix(id)+manifestName)
	if err != nil {
		return nil, fmt.Errorf("backup set %q has no readable manifest (it is missing or incomplete): %w", id, err)
	}
	return m, nil
}

func (s *Store) deleteKeys(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		var ids []types.ObjectIdentifier
		for _, k := range keys[:n] {
			ids = append(ids, types.ObjectIdentifier{Key: aws.String(k)})
		}
		if _, err := s.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.cfg.Bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		}); err != nil {
			return err
		}
		keys = keys[n:]
	}
	return nil
}

// abortStaleUploads aborts every multipart upload under the prefix that does not belong to set keep.
func (s *Store) abortStaleUploads(ctx context.Context, keep string) (int, error) {
	n := 0
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.cfg.Prefix)}
	for {
		out, err := s.s3.ListMultipartUploads(ctx, in)
		if err != nil {
			return n, fmt.Errorf("listing unfinished uploads: %w", err)
		}
		for _, u := range out.Uploads {
			if keep != "" && strings.HasPrefix(aws.ToString(u.Key), s.setPrefix(keep)) {
				continue
			}
			if _, err := s.s3.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: aws.String(s.cfg.Bucket), Key: u.Key, UploadId: u.UploadId,
			}); err != nil {
				return n, fmt.Errorf("aborting the unfinished upload of %s: %w", aws.ToString(u.Key), err)
			}
			n++
		}
		if !aws.ToBool(out.IsTruncated) {
			return n, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

// PendingUploads counts multipart uploads not yet completed or aborted under the prefix.
func (s *Store) PendingUploads(ctx context.Context) (int, error) {
	out, err := s.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(s.cfg.Bucket), Prefix: aws.String(s.cfg.Prefix)})
	if err != nil {
		return 0, err
	}
	return len(out.Uploads), nil
}
