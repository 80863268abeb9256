package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// What the provider side (alfred_backup_policy, alfred_backup) needs of a store besides the engine's own
// calls: prove that the bucket can be written before a schedule is deployed, read a set's manifest as
// stored, and delete one set.

// writeProbeName is written and deleted under the prefix by CheckWritable; it holds no "/" after the
// prefix, so Sets never takes it for a set.
const writeProbeName = ".alfred-write-check"

// CheckWritable checks that the bucket is reachable (Check), then writes and deletes a small object under
// the prefix, so that a policy is never deployed against a bucket its runs could not write.
func (s *Store) CheckWritable(ctx context.Context) error {
	if err := s.Check(ctx); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	key := s.cfg.Prefix + writeProbeName
	if _, err := s.s3.PutObject(ctx, s.withSSE(&s3.PutObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key),
		Body: bytes.NewReader([]byte("alfred write check\n"))})); err != nil {
		return fmt.Errorf("bucket %q at %s is reachable but refused a write under %q: %w", s.cfg.Bucket, s.endpointName(), s.cfg.Prefix, err)
	}
	if _, err := s.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.cfg.Bucket), Key: aws.String(key)}); err != nil {
		return fmt.Errorf("bucket %q at %s accepted a write but refused to delete it (runs prune old sets): %w", s.cfg.Bucket, s.endpointName(), err)
	}
	return nil
}

// withSSE adds the configured server-side encryption to a PutObject.
func (s *Store) withSSE(in *s3.PutObjectInput) *s3.PutObjectInput {
	in.ServerSideEncryption = types.ServerSideEncryption(s.cfg.SSE)
	if s.cfg.KMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(s.cfg.KMSKeyID)
	}
	return in
}

// ManifestBytes returns set id's manifest as stored (what its sha256 is taken of), and the parsed manifest.
func (s *Store) ManifestBytes(ctx context.Context, id string) ([]byte, *Manifest, error) {
	rc, err := s.open(ctx, s.setPrefix(id)+manifestName)
	if err != nil {
		return nil, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return nil, nil, err
	}
	m, err := s.Manifest(ctx, id)
	return b, m, err
}

// DeleteSet deletes every object of set id, manifest last (so an interrupted delete leaves an incomplete
// set, which prune removes, never a manifest naming missing objects).
func (s *Store) DeleteSet(ctx context.Context, id string) error {
	sets, err := s.Sets(ctx)
	if err != nil {
		return err
	}
	for _, si := range sets {
		if si.ID != id {
			continue
		}
		var data, last []string
		for _, k := range si.Keys {
			if k == s.setPrefix(id)+manifestName {
				last = append(last, k)
			} else {
				data = append(data, k)
			}
		}
		if err := s.deleteKeys(ctx, data); err != nil {
			return err
		}
		return s.deleteKeys(ctx, last)
	}
	return nil
}

// ParseKeyset checks that b holds a Tink keyset (JSON) with a streaming AEAD key, as LoadKey needs; the
// error never includes the keyset.
func ParseKeyset(b []byte) error {
	_, err := parseKey(bytes.NewReader(b), "encryption key")
	return err
}
